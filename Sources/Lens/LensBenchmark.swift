import Learning
import Foundation
import Linalg
import Nets

/// `tlens bench lens`: the lens's costs on the MLP [64, 512, 512, 1], each taken against a
/// baseline measured in the same run (ratios, not absolute times, and no figures from other
/// machines or libraries).
public enum LensBenchmark {
    public struct Result: Sendable {
        public var gramMilliseconds: Double
        public var explicitMilliseconds: Double
        public var kernelAgreement: Double
        public var forwardMilliseconds: Double
        public var lensStepMilliseconds: Double
        public var probeForwardMilliseconds: Double
        public var probeStepMilliseconds: Double
        /// The same steps with `lens.sharpness` off, and an Adam step (8 probes, no kernel
        /// statistics) whose sharpness is matrix-free, with and without it (lens.md (8.15)–(8.16)).
        public var lensStepWithoutSharpnessMilliseconds: Double
        public var probeStepWithoutSharpnessMilliseconds: Double
        public var adamStepMilliseconds: Double
        public var adamStepWithoutSharpnessMilliseconds: Double

        public var gramSpeedup: Double { explicitMilliseconds / gramMilliseconds }
        public var lensStepRatio: Double { lensStepMilliseconds / forwardMilliseconds }
        public var probeStepRatio: Double { probeStepMilliseconds / probeForwardMilliseconds }
        /// The sharpness estimate's share of each lens step.
        public var sharpnessShare: Double { 1 - lensStepWithoutSharpnessMilliseconds / lensStepMilliseconds }
        public var probeSharpnessShare: Double { 1 - probeStepWithoutSharpnessMilliseconds / probeStepMilliseconds }
        public var adamSharpnessShare: Double { 1 - adamStepWithoutSharpnessMilliseconds / adamStepMilliseconds }
    }

    /// Best wall time of `repetitions` runs of `body`, in milliseconds, after one warm-up run.
    static func best(_ repetitions: Int, _ body: () -> Void) -> Double {
        body()
        var best = Double.infinity
        for _ in 0..<repetitions {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        return best
    }


    public static func run(repetitions: Int = 10) throws -> Result {
        let d = 64, n = 1000, testCount = 1000, batch = 128
        let model = MLP(MLPSpec(inputDimension: d, hidden: [512, 512], outputDimension: 1, activation: .relu))
        let θ = FloatBuffer(model.initialParameters(seed: 0))
        var rng = RandomSource(seed: 1, stream: .other)
        func points(_ m: Int, _ cols: Int) -> Matrix {
            let x = Matrix(rows: m, cols: cols)
            for i in 0..<x.count { x.base[i] = Float(rng.normal()) }
            return x
        }

        // 1. Kernel between 1,000 and 128 points, as the lens forms it: one operand over all the
        //    points at θ, then the block of rows 0..<1000 against rows 1000..<1128.
        let points1128 = points(1128, d)
        let rowsA = Array(0..<1000), rowsB = Array(1000..<1128)
        let gram = LayerGramKernel(model: model, transient: true), explicit = ExplicitJacobianKernel(model: model)
        let kGram = Matrix(rows: 1000, cols: 128)
        let gramMs = best(repetitions) {
            let all = gram.prepare(points1128, parameters: θ.base, preconditioner: nil)
            gram.kernel(all, rows: rowsA, all, rows: rowsB, into: kGram)
        }
        let kExplicit = Matrix(rows: 1000, cols: 128)
        let explicitMs = best(1) {
            let all = explicit.prepare(points1128, parameters: θ.base, preconditioner: nil)
            explicit.kernel(all, rows: rowsA, all, rows: rowsB, into: kExplicit)
        }
        var worst = 0.0, scale = 0.0
        for i in 0..<kGram.count {
            worst = max(worst, Double(abs(kGram.base[i] - kExplicit.base[i])))
            scale = max(scale, Double(abs(kExplicit.base[i])))
        }

        // 2. A full lens step against a plain forward pass over the same 2,000 points.
        func lensStep(outputs c: Int, smoother: SmootherMode, probes: Int, kernel: Bool,
                      optimizerKind: OptimizerSpec.Kind = .sgd) throws -> (step: Double, withoutSharpness: Double, forward: Double) {
            let net = c == 1 ? model : MLP(MLPSpec(inputDimension: d, hidden: [512, 512], outputDimension: c, activation: .relu))
            let θ0 = FloatBuffer(net.initialParameters(seed: 0))
            let trainX = points(n, d), trainY = points(n, c), testX = points(testCount, d), testY = points(testCount, c)
            let optimizer = try OptimizerSpec(kind: optimizerKind, lr: 0.01).makeOptimizer(parameterCount: net.parameterCount)
            var options = LensOptions()
            options.smoother = smoother
            options.probes = probes
            options.referenceSize = 256
            options.kernel = kernel
            options.totalSteps = 1_000_000
            let problem = LensProblem(trainX: trainX, trainY: trainY, testX: testX, testY: testY,
                                      evalTrain: Array(0..<n), reference: Array(0..<256), classification: false)
            let count = net.parameterCount
            let gradient = FloatBuffer(count: count), update = FloatBuffer(count: count)
            for i in 0..<count { gradient[i] = Float(rng.normal()) * 1e-3 }
            optimizer.proposeUpdate(parameters: θ0.base, gradient: gradient.base, update: update.base, step: 1)
            let learner = FrozenLearner(model: net, optimizer: optimizer, parameters: θ0, update: update, gradient: gradient,
                                        batch: Array(0..<batch))
            let lens = try TelescopingLens(learner: learner, problem: problem, options: options, sink: DiscardingSink())
            var plainOptions = options
            plainOptions.sharpness = false
            let plain = try TelescopingLens(learner: learner, problem: problem, options: plainOptions, sink: DiscardingSink())
            let all = Matrix(rows: n + testCount, cols: d)
            all.rows(0..<n).copy(from: trainX)
            all.rows(n..<(n + testCount)).copy(from: testX)
            // Interleaved, so both sides of the ratio see the same machine (it is shared).
            var stepMs = Double.infinity, plainMs = Double.infinity, forwardMs = Double.infinity
            for _ in 0..<repetitions {
                forwardMs = min(forwardMs, best(1) { _ = net.forward(all, parameters: θ0.base) })
                stepMs = min(stepMs, best(1) { lens.observe(learner.step()) })
                plainMs = min(plainMs, best(1) { plain.observe(learner.step()) })
            }
            return (stepMs, plainMs, forwardMs)
        }
        let exact = try lensStep(outputs: 1, smoother: .exact, probes: 0, kernel: true)
        let probe = try lensStep(outputs: 10, smoother: .probes, probes: 32, kernel: false)
        let adam = try lensStep(outputs: 1, smoother: .probes, probes: 8, kernel: false, optimizerKind: .adam)
        return Result(gramMilliseconds: gramMs, explicitMilliseconds: explicitMs, kernelAgreement: worst / max(scale, 1e-30),
                      forwardMilliseconds: exact.forward, lensStepMilliseconds: exact.step,
                      probeForwardMilliseconds: probe.forward, probeStepMilliseconds: probe.step,
                      lensStepWithoutSharpnessMilliseconds: exact.withoutSharpness,
                      probeStepWithoutSharpnessMilliseconds: probe.withoutSharpness,
                      adamStepMilliseconds: adam.step, adamStepWithoutSharpnessMilliseconds: adam.withoutSharpness)
    }
}

/// A learner that repeats one step without moving (θ_{t-1} = θ_0, the same Δθ_t and batch every
/// time), so `bench lens` times the lens step alone.
final class FrozenLearner: ParametricLearner {
    let model: DifferentiableModel
    let optimizer: Optimizer
    let loss = Loss.mse
    let parameterCount: Int
    var outputDimension: Int { model.outputDimension }
    private(set) var stepsTaken = 0
    let theta: FloatBuffer, update: FloatBuffer, gradient: FloatBuffer
    let observation = StepObservation()

    init(model: DifferentiableModel, optimizer: Optimizer, parameters: FloatBuffer, update: FloatBuffer,
         gradient: FloatBuffer, batch: [Int]) {
        self.model = model; self.optimizer = optimizer
        parameterCount = model.parameterCount
        theta = parameters; self.update = update; self.gradient = gradient
        observation.batch = batch
        observation.batchLoss = 1
        observation.learningRate = 0.01
    }

    var initialParameters: UnsafePointer<Float> { UnsafePointer(theta.base) }
    var parameters: UnsafePointer<Float> { UnsafePointer(theta.base) }
    var previousParameters: UnsafePointer<Float> { UnsafePointer(theta.base) }
    var lastUpdate: UnsafePointer<Float> { UnsafePointer(update.base) }
    var lastGradient: UnsafePointer<Float> { UnsafePointer(gradient.base) }

    func predict(_ x: Matrix, into out: Matrix) { out.copy(from: model.forward(x, parameters: theta.base)) }

    func step() -> StepObservation {
        stepsTaken += 1
        observation.step = stepsTaken
        return observation
    }

    func exportState() -> [UInt8] { [] }
    func importState(_ blob: [UInt8]) throws { throw StateError("a benchmark learner has no state to import") }
}
