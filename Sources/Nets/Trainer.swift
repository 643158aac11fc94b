import Linalg

/// Minibatch order from `RandomSource(seed:, stream: .dataOrder)`: each epoch is a fresh
/// permutation, cut into consecutive batches; a tail shorter than the batch is dropped.
public struct MinibatchOrder: Sendable {
    public let count: Int
    public let batchSize: Int
    private var rng: RandomSource
    private var permutation: [Int] = []
    private var position = 0

    public init(count: Int, batchSize: Int, seed: UInt64) {
        precondition(batchSize >= 1 && batchSize <= count, "batch size \(batchSize) must be in 1...\(count)")
        self.count = count
        self.batchSize = batchSize
        rng = RandomSource(seed: seed, stream: .dataOrder)
    }

    /// The next batch's example indices, written into `indices` (resized to `batchSize`).
    public mutating func next(into indices: inout [Int]) {
        if permutation.isEmpty || position + batchSize > count {
            permutation = rng.permutation(count)
            position = 0
        }
        if indices.count != batchSize { indices = [Int](repeating: 0, count: batchSize) }
        for k in 0..<batchSize { indices[k] = permutation[position + k] }
        position += batchSize
    }
}

/// Plain minibatch training for tests and benchmarks (the recorded runner lives in Runner): per
/// step, forward on the batch at θ_{t-1}, `∂L/∂f`, VJP, `Δθ_t` from the optimizer, `θ_t = θ_{t-1} + Δθ_t`.
///
///     let trainer = Trainer(model: MLP(spec), loss: .mse, optimizer: OptimizerSpec(lr: 0.05),
///                           batchSize: 64, steps: 500, seed: 0)
///     let θ = try trainer.train(features: x, targets: y)
public struct Trainer {
    public var model: MLP
    public var loss: Loss
    public var optimizer: OptimizerSpec
    public var batchSize: Int
    public var steps: Int
    /// Seeds θ_0 (stream `.initialization`) and the data order (stream `.dataOrder`).
    public var seed: UInt64

    public init(model: MLP, loss: Loss, optimizer: OptimizerSpec, batchSize: Int, steps: Int, seed: UInt64) {
        self.model = model; self.loss = loss; self.optimizer = optimizer
        self.batchSize = batchSize; self.steps = steps; self.seed = seed
    }

    /// Trains from `initialParameters` (default `model.initialParameters(seed:)`) and returns θ_T.
    /// `onStep(t, batchLoss)` is called after each step.
    public func train(features: Matrix, targets: Matrix, initialParameters: [Float]? = nil,
                      onStep: ((Int, Double) -> Void)? = nil) throws -> [Float] {
        precondition(features.rows == targets.rows, "one target row per example")
        let P = model.parameterCount
        let opt = try optimizer.makeOptimizer(parameterCount: P)
        let θ = FloatBuffer(initialParameters ?? model.initialParameters(seed: seed))
        precondition(θ.count == P, "θ has \(θ.count) floats, the model \(P)")
        let gradient = FloatBuffer(count: P), update = FloatBuffer(count: P)
        let b = min(batchSize, features.rows)
        let xb = Matrix(rows: b, cols: features.cols), yb = Matrix(rows: b, cols: targets.cols)
        let seeds = Matrix(rows: b, cols: model.outputDimension)
        var order = MinibatchOrder(count: features.rows, batchSize: b, seed: seed)
        var indices: [Int] = []
        for t in 1...max(steps, 1) where steps > 0 {
            order.next(into: &indices)
            features.gatherRows(indices, into: xb)
            targets.gatherRows(indices, into: yb)
            let f = model.forward(xb, parameters: θ.base)
            let batchLoss = onStep == nil ? 0 : loss.loss(outputs: f, targets: yb)
            loss.outputGradient(outputs: f, targets: yb, into: seeds)
            model.vjp(seeds: seeds, parameters: θ.base, into: gradient.base, beta: 0)
            opt.proposeUpdate(parameters: θ.base, gradient: gradient.base, update: update.base, step: t)
            Vec.axpy(P, 1, update.base, θ.base)
            onStep?(t, batchLoss)
        }
        return θ.array
    }

    /// `f_θ(X)` as a fresh matrix.
    public func predict(_ features: Matrix, parameters θ: [Float]) -> Matrix {
        θ.withUnsafeBufferPointer { model.forward(features, parameters: $0.baseAddress!).copied() }
    }
}
