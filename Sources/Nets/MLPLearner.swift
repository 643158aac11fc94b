import Learning
import Linalg

/// Learners that move one flat θ by first-order updates through a differentiable model. The lens
/// reads the step's θ_{t-1}, Δθ_t and gradient from here and asks the optimizer for its facts
/// (plain gradient descent? preconditioned? P_t) instead of being told (lens.md §4, §8).
public protocol ParametricLearner: Learner {
    var model: DifferentiableModel { get }
    var optimizer: Optimizer { get }
    /// The training loss: what residual each step feeds back (lens.md (8.13)–(8.14)).
    var loss: Loss { get }
    var parameterCount: Int { get }
    /// θ_0, fixed for the run.
    var initialParameters: UnsafePointer<Float> { get }
    /// θ_t, the current state.
    var parameters: UnsafePointer<Float> { get }
    /// Of the last step t: θ_{t-1}, Δθ_t = θ_t − θ_{t-1} as applied, and ∇L_t(θ_{t-1}) raw
    /// (before clipping or weight decay, which the optimizer applies).
    var previousParameters: UnsafePointer<Float> { get }
    var lastUpdate: UnsafePointer<Float> { get }
    var lastGradient: UnsafePointer<Float> { get }
}

/// An MLP trained by minibatch steps (lens.md §0): batch →
/// forward and VJP at θ_{t-1} → the optimizer proposes Δθ_t → θ_t = θ_{t-1} + Δθ_t. The only
/// training loop of tlens: the runner drives it with the lens watching, tests and benchmarks
/// drive it bare.
///
///     let learner = try MLPLearner(model: MLP(spec), loss: .mse, optimizer: OptimizerSpec(lr: 0.05),
///                                  trainX: x, trainY: y, batchSize: 64, seed: 0)
///     for _ in 0..<500 { _ = learner.step() }
///     let θ = learner.parameterArray
public final class MLPLearner: ParametricLearner {
    public let mlp: MLP
    public let loss: Loss
    public let checkpointableOptimizer: any CheckpointableOptimizer
    public var model: DifferentiableModel { mlp }
    public var optimizer: Optimizer { checkpointableOptimizer }
    public let parameterCount: Int
    public var outputDimension: Int { mlp.outputDimension }
    public private(set) var stepsTaken = 0

    let trainX: Matrix, trainY: Matrix
    private var order: MinibatchOrder
    private let theta: FloatBuffer, initial: FloatBuffer, previous: FloatBuffer
    private let gradient: FloatBuffer, update: FloatBuffer
    private let batchX: Matrix, batchY: Matrix, seeds: Matrix
    private let observation = StepObservation()

    /// θ_0 is `initialParameters` when given (weight-averaging children, tests), else drawn from
    /// `seed`'s initialization stream; the minibatch order uses `seed`'s data-order stream.
    public init(model: MLP, loss: Loss, optimizer spec: OptimizerSpec, trainX: Matrix, trainY: Matrix,
                batchSize: Int, seed: UInt64, initialParameters: [Float]? = nil) throws {
        // Targets: one column per output, or one class index per row (cross-entropy).
        precondition(trainX.rows == trainY.rows && trainX.cols == model.inputDimension
                     && (trainY.cols == model.outputDimension || trainY.cols == 1),
                     "training data must match the model: \(trainX.rows)×\(trainX.cols) inputs, \(trainY.rows)×\(trainY.cols) targets")
        mlp = model
        self.loss = loss
        parameterCount = model.parameterCount
        checkpointableOptimizer = try spec.makeOptimizer(parameterCount: parameterCount)
        self.trainX = trainX; self.trainY = trainY
        let b = min(batchSize, trainX.rows)
        order = MinibatchOrder(count: trainX.rows, batchSize: b, seed: seed)
        let θ0 = initialParameters ?? model.initialParameters(seed: seed)
        precondition(θ0.count == parameterCount, "θ has \(θ0.count) floats, the model \(parameterCount)")
        theta = FloatBuffer(θ0)
        initial = FloatBuffer(θ0)
        previous = FloatBuffer(θ0)
        gradient = FloatBuffer(count: parameterCount)
        update = FloatBuffer(count: parameterCount)
        batchX = Matrix(rows: b, cols: trainX.cols)
        batchY = Matrix(rows: b, cols: trainY.cols)
        seeds = Matrix(rows: b, cols: model.outputDimension)
    }

    public var initialParameters: UnsafePointer<Float> { UnsafePointer(initial.base) }
    public var parameters: UnsafePointer<Float> { UnsafePointer(theta.base) }
    public var previousParameters: UnsafePointer<Float> { UnsafePointer(previous.base) }
    public var lastUpdate: UnsafePointer<Float> { UnsafePointer(update.base) }
    public var lastGradient: UnsafePointer<Float> { UnsafePointer(gradient.base) }
    /// θ_t as an array (a copy).
    public var parameterArray: [Float] { theta.array }

    public func predict(_ x: Matrix, into out: Matrix) {
        out.copy(from: mlp.forward(x, parameters: theta.base))
    }

    public func step() -> StepObservation {
        let t = stepsTaken + 1
        observation.step = t
        order.next(into: &observation.batch)
        trainX.gatherRows(observation.batch, into: batchX)
        trainY.gatherRows(observation.batch, into: batchY)
        let outputs = mlp.forward(batchX, parameters: theta.base)
        observation.batchLoss = loss.loss(outputs: outputs, targets: batchY)
        observation.learningRate = checkpointableOptimizer.schedule.exactRate(step: t)
        guard observation.batchLoss.isFinite else { return observation }
        loss.outputGradient(outputs: outputs, targets: batchY, into: seeds)
        mlp.vjp(seeds: seeds, into: gradient.base, beta: 0)
        checkpointableOptimizer.proposeUpdate(parameters: theta.base, gradient: gradient.base, update: update.base, step: t)
        // θ_{t-1} is kept for the lens, whose passes run at the pre-step parameters (lens.md §2).
        previous.base.update(from: theta.base, count: parameterCount)
        Vec.axpy(parameterCount, 1, update.base, theta.base)
        stepsTaken = t
        return observation
    }

    /// A spawned child's own data order (lens.md §11, "Spawning"): the minibatch order of
    /// `seed`'s data-order stream advanced past the `batchesDrawn` batches of steps 1…t′, so
    /// steps t′+1, t′+2, … draw the batches a run with that seed draws there. With the parent's
    /// own seed the order continues exactly as the parent's did.
    public func restartDataOrder(seed: UInt64, batchesDrawn: Int) {
        var restarted = MinibatchOrder(count: order.count, batchSize: order.batchSize, seed: seed)
        var batch: [Int] = []
        for _ in 0..<batchesDrawn { restarted.next(into: &batch) }
        order = restarted
    }

    // MARK: - State (lens.md §11; docs/schema.md, "checkpoints")

    static let stateKind = "MLPL", stateVersion: UInt32 = 1

    /// Layout v1: steps taken; θ_t (P floats); the optimizer's own float state (SGD/Adam
    /// `exportState`); the minibatch order (generator state, permutation, cursor).
    public func exportState() -> [UInt8] {
        var w = StateWriter(kind: Self.stateKind, version: Self.stateVersion)
        w.integer(stepsTaken)
        w.floats(theta.base, count: parameterCount)
        w.floats(checkpointableOptimizer.exportState())
        order.export(into: &w)
        return w.bytes
    }

    public func importState(_ blob: [UInt8]) throws {
        var r = try StateReader(blob, kind: Self.stateKind, version: Self.stateVersion)
        let steps = try r.integer()
        guard steps >= 0 else { throw StateError("MLPL state: negative step count \(steps)") }
        let θ = try r.floats(count: parameterCount, what: "θ")
        let optimizerState = try r.floats(what: "the optimizer state")
        var restoredOrder = order
        try restoredOrder.importState(from: &r)
        try r.finish()
        do { try checkpointableOptimizer.importState(optimizerState) } catch { throw StateError("MLPL state: \(error)") }
        theta.base.update(from: θ, count: parameterCount)
        previous.base.update(from: θ, count: parameterCount)
        order = restoredOrder
        stepsTaken = steps
    }
}
