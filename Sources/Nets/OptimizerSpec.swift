/// An optimizer whose whole state is one flat float vector, for checkpoints and for the
/// weight-averaging children that copy the parent's optimizer state (lens.md §10).
public protocol CheckpointableOptimizer: Optimizer {
    /// The step count, the last step's frozen quantities and every buffer, as floats.
    func exportState() -> [Float]
    /// Restores what `exportState` wrote; throws on a state of another kind or size.
    func importState(_ state: [Float]) throws
    /// Steps taken so far (PyTorch's `state['step']`: drives bias correction and buffer start).
    var stepsTaken: Int { get }
    /// Global-norm clipping factor of the last real step (1 when not clipped).
    var lastClipFactor: Float { get }
}

public struct OptimizerStateError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The optimizer section of a run config, resolved with PyTorch's defaults.
///
///     let spec = OptimizerSpec(kind: .adamw, lr: 1e-3, weightDecay: 0.01, schedule: .cosine(floor: 0),
///                              warmupSteps: 100, totalSteps: 5000)
///     let optimizer = try spec.makeOptimizer(parameterCount: net.parameterCount)
public struct OptimizerSpec: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable { case sgd, adam, adamw }

    public var kind: Kind
    /// γ, kept in double precision so runs record the configured value exactly.
    public var lr: Double
    public var momentum: Float
    public var nesterov: Bool
    public var dampening: Float
    /// λ: coupled L2 (added to the gradient) for `.sgd` and `.adam`, decoupled for `.adamw`.
    public var weightDecay: Float
    public var beta1: Float
    public var beta2: Float
    public var eps: Float
    public var schedule: ScheduleSpec
    public var warmupSteps: Int
    public var totalSteps: Int
    /// Global gradient-norm clipping threshold (PyTorch `clip_grad_norm_`), nil for none.
    public var clipNorm: Float?

    public init(kind: Kind = .sgd, lr: Double = 0.01, momentum: Float = 0, nesterov: Bool = false,
                dampening: Float = 0, weightDecay: Float = 0, beta1: Float = 0.9, beta2: Float = 0.999,
                eps: Float = 1e-8, schedule: ScheduleSpec = .constant, warmupSteps: Int = 0,
                totalSteps: Int = 0, clipNorm: Float? = nil) {
        self.kind = kind; self.lr = lr; self.momentum = momentum; self.nesterov = nesterov
        self.dampening = dampening; self.weightDecay = weightDecay; self.beta1 = beta1; self.beta2 = beta2
        self.eps = eps; self.schedule = schedule; self.warmupSteps = warmupSteps; self.totalSteps = totalSteps
        self.clipNorm = clipNorm
    }

    /// No momentum, decay or clipping and no preconditioner: the update is −γ_t·g, so Ŝ's kernel
    /// fast path is exact (lens.md §8).
    public var isPlainGradientDescent: Bool { kind == .sgd && momentum == 0 && weightDecay == 0 && clipNorm == nil }

    /// Adam and AdamW divide by a running second moment, a diagonal preconditioner: the kernels
    /// the lens sees are K^P (lens.md §4), which the layer Gram path cannot form.
    public var isPreconditioned: Bool { kind != .sgd }

    /// Float buffers of θ's size the optimizer keeps (SGD's momentum; Adam's two moments and its
    /// diagonal), which are also what its checkpointed state holds besides a few counters.
    public var buffersPerParameter: Int {
        switch kind {
        case .sgd: return momentum != 0 ? 1 : 0
        case .adam, .adamw: return 3
        }
    }

    /// Floats per parameter the smoother tracks besides θ's sensitivity (the momentum buffer or
    /// Adam's first moment): `sensitivityStateCount` of the built optimizer, divided by P.
    public var sensitivityStatesPerParameter: Int {
        switch kind {
        case .sgd: return momentum != 0 ? 1 : 0
        case .adam, .adamw: return 1
        }
    }

    public var learningRateSchedule: LearningRateSchedule {
        LearningRateSchedule(base: lr, shape: schedule, warmupSteps: warmupSteps, totalSteps: totalSteps)
    }

    /// Rejects settings PyTorch rejects, with the offending field named.
    public func validate() throws {
        func fail(_ s: String) -> OptimizerStateError { OptimizerStateError("optimizer: \(s)") }
        guard lr.isFinite && lr >= 0 else { throw fail("lr must be ≥ 0, got \(lr)") }
        guard momentum >= 0 && momentum < 1 || (kind != .sgd) else { throw fail("momentum must be in [0, 1), got \(momentum)") }
        guard !nesterov || (momentum > 0 && dampening == 0) else { throw fail("nesterov needs momentum > 0 and dampening = 0") }
        guard weightDecay >= 0 else { throw fail("weight_decay must be ≥ 0, got \(weightDecay)") }
        guard (0..<1).contains(beta1) && (0..<1).contains(beta2) else { throw fail("beta1 and beta2 must be in [0, 1)") }
        guard eps > 0 else { throw fail("eps must be > 0, got \(eps)") }
        guard warmupSteps >= 0 && totalSteps >= 0 else { throw fail("warmup_steps and total_steps must be ≥ 0") }
        if case .step(let every, let factor) = schedule, every < 1 || factor <= 0 {
            throw fail("step schedule needs every ≥ 1 and factor > 0")
        }
        if case .cosine = schedule, totalSteps <= warmupSteps {
            throw fail("cosine schedule needs total_steps > warmup_steps")
        }
        if let c = clipNorm, !(c > 0) { throw fail("clip_norm must be > 0, got \(c)") }
    }

    /// The optimizer this spec describes, for θ of `parameterCount` floats.
    public func makeOptimizer(parameterCount: Int) throws -> any CheckpointableOptimizer {
        try validate()
        switch kind {
        case .sgd:
            return SGD(parameterCount: parameterCount, schedule: learningRateSchedule, momentum: momentum,
                       dampening: dampening, nesterov: nesterov, weightDecay: weightDecay, clipNorm: clipNorm)
        case .adam, .adamw:
            return Adam(parameterCount: parameterCount, schedule: learningRateSchedule, beta1: beta1, beta2: beta2,
                        eps: eps, weightDecay: weightDecay, decoupled: kind == .adamw, clipNorm: clipNorm)
        }
    }
}

/// Factory form of `OptimizerSpec.makeOptimizer`.
public func makeOptimizer(_ spec: OptimizerSpec, parameterCount: Int) throws -> any CheckpointableOptimizer {
    try spec.makeOptimizer(parameterCount: parameterCount)
}

/// PyTorch `clip_grad_norm_`: factor `min(1, maxNorm / (‖g‖ + 1e-6))` on the global norm.
@inline(__always) func clipFactor(_ n: Int, _ g: UnsafePointer<Float>, maxNorm: Float?) -> Float {
    guard let maxNorm else { return 1 }
    var s = 0.0
    for i in 0..<n { let x = Double(g[i]); s += x * x }
    return Float(min(1, Double(maxNorm) / (s.squareRoot() + 1e-6)))
}

/// Step counts stored exactly in two floats (base 2^16), so checkpoints never round them.
func encodeCount(_ k: Int) -> [Float] { [Float(k >> 16), Float(k & 0xFFFF)] }
func decodeCount(_ hi: Float, _ lo: Float) -> Int { Int(hi) << 16 | Int(lo) }
