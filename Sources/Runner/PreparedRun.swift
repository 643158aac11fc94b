import Foundation
import Data
import Lens
import Linalg
import Nets

/// A validated run, ready to start: data loaded, model and optimizer built, data-dependent
/// checks done. Nothing has touched the database yet, so a refusal here stores nothing.
public final class PreparedRun {
    public let config: TrainConfig
    public let split: DataSplit
    public let model: MLP
    public let optimizerSpec: OptimizerSpec
    let trainX: Matrix, trainY: Matrix, testX: Matrix, testY: Matrix
    let evalTrain: [Int], reference: [Int], testRows: [Int]

    /// Loads the data and checks everything that depends on it (batch size, evaluation sizes,
    /// the smoother's memory), each failure naming its config key.
    public init(_ config: TrainConfig) throws {
        self.config = config
        do {
            split = try DataFactory.load(config.data, seed: config.seed)
        } catch let error as DataError {
            throw ConfigError("data: \(error)")
        }
        let n = split.train.count, c = split.train.targetDimension
        guard n > 0 else { throw ConfigError("data: the training set is empty") }
        let o = config.optimizer
        if o.batchSize > n {
            throw ConfigError("optimizer.batch_size: \(o.batchSize) is larger than the training set (\(n) examples)")
        }
        if config.loss == .crossEntropy && c < 2 {
            throw ConfigError("loss: cross_entropy needs C ≥ 2 outputs; this data has \(c) (use data.target: onehot, or loss: mse)")
        }
        let lens = config.lens
        if lens.evalTrain > n { throw ConfigError("lens.eval_train: \(lens.evalTrain) is larger than the training set (\(n))") }
        if lens.evalTest > split.test.count { throw ConfigError("lens.eval_test: \(lens.evalTest) is larger than the test set (\(split.test.count))") }

        let spec = MLPSpec(inputDimension: split.train.dimension, hidden: config.model.hidden, outputDimension: c,
                           activation: config.model.activation, bias: config.model.bias,
                           initialization: config.model.initialization, initScale: config.model.initScale,
                           parameterization: config.model.parameterization)
        model = MLP(spec)
        let schedule: ScheduleSpec
        switch o.schedule {
        case "step": schedule = .step(every: o.stepSize, factor: Float(o.gamma))
        case "cosine": schedule = .cosine(floor: Float(o.minLR))
        default: schedule = .constant
        }
        optimizerSpec = OptimizerSpec(kind: OptimizerSpec.Kind(rawValue: o.kind)!, lr: o.lr, momentum: Float(o.momentum),
                                          nesterov: o.nesterov, dampening: Float(o.dampening), weightDecay: Float(o.weightDecay),
                                          beta1: Float(o.beta1), beta2: Float(o.beta2), eps: Float(o.eps), schedule: schedule,
                                          warmupSteps: o.warmupSteps, totalSteps: config.steps, clipNorm: o.clipNorm.map(Float.init))
        do { try optimizerSpec.validate() } catch { throw ConfigError("\(error)") }

        trainX = Matrix(rows: n, cols: split.train.dimension, values: split.train.features)
        trainY = Matrix(rows: n, cols: c, values: split.train.targets)
        // Evaluation subsets are seeded and fixed for the run; their dataset rows are stored.
        var rng = RandomSource(seed: config.seed, stream: .evaluation)
        let trainOrder = rng.permutation(n)
        evalTrain = lens.evalTrain == 0 ? Array(0..<n) : Array(trainOrder.prefix(lens.evalTrain)).sorted()
        reference = Array(trainOrder.prefix(min(lens.options.referenceSize, n))).sorted()
        let testCount = split.test.count
        testRows = lens.evalTest == 0 ? Array(0..<testCount) : Array(rng.permutation(testCount).prefix(lens.evalTest)).sorted()
        let fullTestX = Matrix(rows: testCount, cols: split.test.dimension, values: split.test.features)
        let fullTestY = Matrix(rows: testCount, cols: c, values: split.test.targets)
        testX = Matrix(rows: testRows.count, cols: split.test.dimension)
        testY = Matrix(rows: testRows.count, cols: c)
        fullTestX.gatherRows(testRows, into: testX)
        fullTestY.gatherRows(testRows, into: testY)

        let engine = SmootherEngineChoice(mode: lens.options.smoother, plainGradientDescent: optimizerSpec.isPlainGradientDescent,
                                          trainCount: n, outputs: c, probes: lens.options.probes)
        let memory = engine.memoryBytes(trainCount: n, testCount: testRows.count, outputs: c, parameters: model.parameterCount,
                                        batch: o.batchSize, optimizerStateCount: optimizerSpec.sensitivityStateCount(parameterCount: model.parameterCount))
        if memory > lens.options.memoryBudgetBytes {
            let mb = { (x: Double) in String(format: "%.0f MB", x / 1_048_576) }
            throw ConfigError("lens.smoother: exact mode needs about \(mb(memory)), over lens.memory_budget_mb (\(mb(lens.options.memoryBudgetBytes))); use lens.smoother: probes (memory O(probes·(P + n·C))) or raise the budget")
        }
    }

    /// The learner of this run at θ_0, with a fresh optimizer and minibatch order.
    public func makeLearner() throws -> MLPLearner {
        try MLPLearner(model: model, loss: config.loss, optimizer: optimizerSpec, trainX: trainX, trainY: trainY,
                       batchSize: config.optimizer.batchSize, seed: config.seed)
    }

    public var problem: LensProblem {
        LensProblem(trainX: trainX, trainY: trainY, testX: testX, testY: testY, evalTrain: evalTrain,
                    reference: reference, classification: split.train.classCount != nil)
    }
}
