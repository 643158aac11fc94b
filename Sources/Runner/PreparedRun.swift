import Foundation
import Boost
import Data
import Learning
import Lens
import Linalg
import Nets

/// A validated run, ready to start: data loaded, model and optimizer built, data-dependent
/// checks done. Nothing has touched the database yet, so a refusal here stores nothing.
public final class PreparedRun {
    public let config: TrainConfig
    public let split: DataSplit
    /// The network of an MLP run; nil for boosted trees (`config.model.trees`).
    public let model: MLP?
    public let optimizerSpec: OptimizerSpec
    let trainX: Matrix, trainY: Matrix, testX: Matrix, testY: Matrix
    let evalTrain: [Int], reference: [Int], testRows: [Int]

    /// Loads the data and checks everything that depends on it (batch size, evaluation sizes,
    /// the memory the run needs, the smoother's share of it), each failure naming its config key.
    public init(_ given: TrainConfig) throws {
        var config = given
        do {
            split = try DataFactory.load(config.data, seed: config.seed)
        } catch let error as DataError {
            throw ConfigError(error, source: config.data.source)
        }
        let n = split.train.count, c = split.train.targetDimension, testCount = split.test.count
        guard n > 0 else { throw ConfigError("data: the training set is empty") }
        // Test metrics over no points would be stored as 0.0, which reads like a result.
        guard testCount > 0 else { throw ConfigError("data: the test split is empty; \(Self.emptyTestAdvice(config.data))") }
        let o = config.optimizer
        let trees = config.model.trees
        if trees != nil, c != 1 {
            throw ConfigError("model.kind: gbt fits one output (C = 1) and this data has C = \(c) (\(Self.oneOutputAdvice(config.data))); or use model.kind: mlp")
        }
        if trees == nil && o.batchSize > n {
            throw ConfigError("optimizer.batch_size: \(o.batchSize) is larger than the training set (\(n) examples)")
        }
        if config.loss == .crossEntropy && c < 2 {
            throw ConfigError("loss: cross_entropy needs C ≥ 2 outputs; this data has \(c) (use data.target: onehot, or loss: mse)")
        }
        if config.lens.evalTrain > n { throw ConfigError("lens.eval_train: \(config.lens.evalTrain) is larger than the training set (\(n))") }
        if config.lens.evalTest > testCount { throw ConfigError("lens.eval_test: \(config.lens.evalTest) is larger than the test set (\(testCount))") }
        if config.lens.options.referenceSize > n {
            guard config.lens.referenceIsDefault else {
                throw ConfigError("lens.reference: \(config.lens.options.referenceSize) is larger than the training set (\(n))")
            }
            // The default (256) was nobody's choice: R is the whole training set, and the stored
            // config says so.
            config.lens.options.referenceSize = n
            config.resolved = try TrainConfig.setting(config.resolved, path: ["lens", "reference"], to: .int(n))
        }
        // grad_msc's window defaults to one epoch (lens.md §7), the paper's t′ → t′ + 390 on CIFAR-10.
        if trees == nil && config.lens.gradMSCWindowIsEpoch {
            let epoch = (n + o.batchSize - 1) / o.batchSize
            config.lens.options.gradMSCWindow = epoch
            config.resolved = try TrainConfig.setting(config.resolved, path: ["lens", "grad_msc_window"], to: .int(epoch))
            config.lens.gradMSCWindowIsEpoch = false
        }
        // Which columns standardization left unscaled depends on the training data, so it is
        // known only now; the stored config records it (resolve drops it when read back).
        config.resolved = try TrainConfig.setting(config.resolved, path: ["data", DataFactory.unscaledColumnsKey],
                                                  to: .list(split.unscaledColumns.map { .int($0) }))
        try RunDefaults.resolve(&config, trainCount: n, testCount: testCount, outputs: c, inputDimension: split.train.dimension)
        // A child's first state is θ_{t′}, and its grad_change reference is captured there: the
        // lens records only states that are multiples of lens.every (lens.md §0, §7).
        if let spawn = config.spawn, spawn.step % config.lens.options.every != 0 {
            throw ConfigError("spawn.step: \(spawn.step) is not a recorded state of the lens (lens.every: \(config.lens.options.every)); use a multiple of lens.every")
        }
        self.config = config
        let lens = config.lens

        let evalTestCount = lens.evalTest == 0 ? testCount : lens.evalTest
        if let trees = config.model.trees {
            model = nil
            optimizerSpec = o.spec
            try Self.checkTreeMemory(trees, config: config, trainCount: n, testCount: evalTestCount,
                                     features: split.train.dimension)
        } else {
            (model, optimizerSpec) = try Self.buildNetwork(config, trainCount: n, testCount: evalTestCount,
                                                           outputs: c, features: split.train.dimension)
        }

        trainX = Matrix(rows: n, cols: split.train.dimension, values: split.train.features)
        trainY = Matrix(rows: n, cols: c, values: split.train.targets)
        // split: exact gives every distinct value a two-byte bin index: refused before any file is written.
        if config.model.trees?.split == .exact, let problem = FeatureBins.exactProblem(trainX) { throw ConfigError(problem) }
        // Evaluation subsets are seeded and fixed for the run; their dataset rows are stored.
        var rng = RandomSource(seed: config.seed, stream: .evaluation)
        let trainOrder = rng.permutation(n)
        evalTrain = lens.evalTrain == 0 ? Array(0..<n) : Array(trainOrder.prefix(lens.evalTrain)).sorted()
        reference = Array(trainOrder.prefix(lens.options.referenceSize)).sorted()
        testRows = lens.evalTest == 0 ? Array(0..<testCount) : Array(rng.permutation(testCount).prefix(lens.evalTest)).sorted()
        let fullTestX = Matrix(rows: testCount, cols: split.test.dimension, values: split.test.features)
        let fullTestY = Matrix(rows: testCount, cols: c, values: split.test.targets)
        testX = Matrix(rows: testRows.count, cols: split.test.dimension)
        testY = Matrix(rows: testRows.count, cols: c)
        fullTestX.gatherRows(testRows, into: testX)
        fullTestY.gatherRows(testRows, into: testY)
    }

    /// Everything large is sized here, from the widths, before MLP and the optimizer allocate θ.
    static func buildNetwork(_ config: TrainConfig, trainCount n: Int, testCount: Int, outputs c: Int,
                             features d: Int) throws -> (MLP, OptimizerSpec) {
        let o = config.optimizer, lens = config.lens
        let spec = MLPSpec(inputDimension: d, hidden: config.model.hidden, outputDimension: c,
                           activation: config.model.activation, bias: config.model.bias,
                           initialization: config.model.initialization, initScale: config.model.initScale,
                           parameterization: config.model.parameterization, readout: config.model.readout)
        if spec.readout == .fixedMean && c != 1 {
            throw ConfigError("model.readout: fixed_mean has one output (the mean of the hidden units), this data has \(c) target columns; \(oneOutputAdvice(config.data))")
        }
        let estimate = MemoryEstimate(widths: spec.widths, bias: spec.bias, optimizer: o.spec, batchSize: o.batchSize,
                                      trainCount: n, evalTrainCount: lens.evalTrain == 0 ? n : lens.evalTrain,
                                      referenceCount: lens.options.referenceSize, testCount: testCount, lens: lens.options)
        try estimate.check(hidden: config.model.hidden, optimizerKind: o.spec.kind,
                           physicalMemory: Double(ProcessInfo.processInfo.physicalMemory))
        try checkSmootherBudget(estimate.smoother, lens.options, probeMemory: "O(probes·(P + n·C))")
        return (MLP(spec), o.spec)
    }

    /// A gbt run's memory (MemoryEstimate's tree parts) against this machine, and its exact
    /// smoother against `lens.memory_budget_mb`.
    static func checkTreeMemory(_ trees: BoostedTreesSpec, config: TrainConfig, trainCount n: Int, testCount: Int,
                                features d: Int) throws {
        let lens = config.lens
        let estimate = MemoryEstimate(trees: trees, features: d, trainCount: n,
                                      evalTrainCount: lens.evalTrain == 0 ? n : lens.evalTrain,
                                      testCount: testCount, lens: lens.options)
        try estimate.checkTrees(physicalMemory: Double(ProcessInfo.processInfo.physicalMemory))
        try checkSmootherBudget(estimate.smoother, lens.options, probeMemory: "O(probes·(n + |U|))")
    }

    static func checkSmootherBudget(_ bytes: Double, _ options: LensOptions, probeMemory: String) throws {
        guard bytes > options.memoryBudgetBytes else { return }
        let mb = { (x: Double) in String(format: "%.0f MB", x / 1_048_576) }
        throw ConfigError("lens.smoother: exact mode needs about \(mb(bytes)), over lens.memory_budget_mb (\(mb(options.memoryBudgetBytes))); use lens.smoother: probes (memory \(probeMemory)) or raise the budget")
    }

    /// How to get one target column from this data, for the gbt refusal.
    static func oneOutputAdvice(_ spec: DataSpec) -> String {
        let keys = DataFactory.source(named: spec.source)?.options.map(\.name) ?? []
        if keys.contains("target") { return "use data.target: pm1 with two data.classes" }
        if keys.contains("target_columns") { return "use one data.target_column" }
        return "use a regression source"
    }

    /// Which data key would give the test split points, for the source the spec names.
    static func emptyTestAdvice(_ spec: DataSpec) -> String {
        let keys = DataFactory.source(named: spec.source)?.options.map(\.name) ?? []
        if case .int(0)? = spec["n_test"] { return "data.n_test is 0; set it ≥ 1" }
        if keys.contains("test_fraction") {
            return "data.test_fraction (\(spec["test_fraction"]?.description ?? "0")) leaves no test examples; raise it or set data.n_test ≥ 1"
        }
        if keys.contains("train_fraction") {
            return "data.train_fraction (\(spec["train_fraction"]?.description ?? "1")) leaves no test examples; lower it or set data.n_test ≥ 1"
        }
        return "set data.n_test ≥ 1"
    }

    /// The learner of this run at its start: an MLP at θ_0 with a fresh optimizer and minibatch
    /// order (a child's order from its `spawn.order_seed`, lens.md §11), or boosted trees at
    /// f_0 = mean(y) with a fresh subsample stream.
    public func makeLearner() throws -> Learner {
        if let trees = config.model.trees {
            do {
                return try BoostedTreesLearner(spec: trees, trainX: trainX, trainY: trainY, seed: config.seed,
                                               threads: config.threads)
            } catch { throw ConfigError("model: \(error)") }
        }
        guard let model else { preconditionFailure("an MLP run without its network") }
        let learner = try MLPLearner(model: model, loss: config.loss, optimizer: optimizerSpec, trainX: trainX, trainY: trainY,
                                     batchSize: config.optimizer.batchSize, seed: config.seed)
        if let spawn = config.spawn { learner.restartDataOrder(seed: spawn.orderSeed, batchesDrawn: 0) }
        return learner
    }

    /// The training rows and the evaluated test rows as the run sees them (after its
    /// transforms), point by point: for baselines outside tlens (`tlens data-export`).
    public var exportedData: (train: (x: [[Float]], y: [[Float]]), test: (x: [[Float]], y: [[Float]])) {
        func rows(_ m: Matrix) -> [[Float]] { (0..<m.rows).map { Array(UnsafeBufferPointer(start: m.row($0), count: m.cols)) } }
        return ((rows(trainX), rows(trainY)), (rows(testX), rows(testY)))
    }

    public var problem: LensProblem {
        LensProblem(trainX: trainX, trainY: trainY, testX: testX, testY: testY, evalTrain: evalTrain,
                    reference: reference, classification: split.train.classCount != nil,
                    decisionThreshold: split.decisionThreshold)
    }
}
