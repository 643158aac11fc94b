import Linalg

/// Stochastic gradient descent with PyTorch's conventions (`torch.optim.SGD`):
/// `g̃ = c·g + λθ` (c the clipping factor, λ coupled L2), momentum buffer `b = g̃` on the first step
/// and `b = μ b + (1 − dampening) g̃` after, direction `d = g̃ + μ b` (Nesterov) or `b`, and
/// `Δθ = −γ_t d`. Without momentum `Δθ = −γ_t g̃` (lens.md §4). P_t = I.
public final class SGD: CheckpointableOptimizer {
    public let parameterCount: Int
    public let schedule: LearningRateSchedule
    public let momentum: Float
    public let dampening: Float
    public let nesterov: Bool
    public let weightDecay: Float
    public let clipNorm: Float?

    public private(set) var stepsTaken = 0
    public private(set) var lastClipFactor: Float = 1
    /// Whether the last real step started the momentum buffer (PyTorch's `buf is None`).
    private var lastStepStartedBuffer = false
    private let buffer: FloatBuffer?

    public init(parameterCount: Int, schedule: LearningRateSchedule, momentum: Float = 0, dampening: Float = 0,
                nesterov: Bool = false, weightDecay: Float = 0, clipNorm: Float? = nil) {
        self.parameterCount = parameterCount
        self.schedule = schedule
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        self.clipNorm = clipNorm
        buffer = momentum != 0 ? FloatBuffer(count: parameterCount) : nil
    }

    public func learningRate(step t: Int) -> Float { schedule.rate(step: t) }

    public var preconditioner: UnsafePointer<Float>? { nil }

    public var isPlainGradientDescent: Bool { momentum == 0 && weightDecay == 0 && clipNorm == nil }
    public var isPreconditioned: Bool { false }

    public var sensitivityStateCount: Int { momentum != 0 ? parameterCount : 0 }

    public func proposeUpdate(parameters θ: UnsafePointer<Float>, gradient: UnsafePointer<Float>,
                              update: UnsafeMutablePointer<Float>, step t: Int) {
        let c = clipFactor(parameterCount, gradient, maxNorm: clipNorm)
        let first = stepsTaken == 0
        apply(gradient: gradient, decayed: θ, buffer: buffer?.base, update: update,
              clip: c, learningRate: learningRate(step: t), startBuffer: first)
        stepsTaken += 1
        lastClipFactor = c
        lastStepStartedBuffer = first
    }

    /// lens.md §8: the same linear rule on ḡ with `λ q` for coupled L2, the direction's
    /// own momentum buffer in `state`, and the real step's clipping factor.
    public func sensitivityUpdate(gradient: UnsafePointer<Float>, sensitivity q: UnsafePointer<Float>,
                                  state: UnsafeMutablePointer<Float>, update: UnsafeMutablePointer<Float>, step t: Int) {
        apply(gradient: gradient, decayed: q, buffer: momentum != 0 ? state : nil, update: update,
              clip: lastClipFactor, learningRate: learningRate(step: t), startBuffer: lastStepStartedBuffer)
    }

    /// lens.md (8.18)–(8.20), (8.22): 2 without momentum, 2(1+μ)/(1−τ) for heavy ball,
    /// 2(1+μ)/(1+μ(2−τ)) for Nesterov; coupled L2 shifts every eigenvalue by λ, clipping scales
    /// the gradient part by c_t.
    public func stabilityBound(step t: Int) -> StabilityBound {
        let μ = Double(momentum), τ = Double(dampening)
        let (raw, rule): (Double, String)
        if momentum == 0 {
            (raw, rule) = (2, "SGD, 2")
        } else if nesterov {
            (raw, rule) = (2 * (1 + μ) / (1 + μ * (2 - τ)), "SGD with Nesterov momentum (μ = \(momentum), τ = \(dampening)), 2(1+μ)/(1+μ(2−τ))")
        } else {
            (raw, rule) = (τ < 1 ? 2 * (1 + μ) / (1 - τ) : .infinity, "SGD with heavy-ball momentum (μ = \(momentum), τ = \(dampening)), 2(1+μ)/(1−τ)")
        }
        return .frozen(rule, raw: raw, learningRate: schedule.exactRate(step: t), shift: Double(weightDecay),
                       clipFactor: lastClipFactor)
    }

    private func apply(gradient g: UnsafePointer<Float>, decayed θ: UnsafePointer<Float>,
                       buffer b: UnsafeMutablePointer<Float>?, update u: UnsafeMutablePointer<Float>,
                       clip c: Float, learningRate γ: Float, startBuffer: Bool) {
        let n = parameterCount, λ = weightDecay, μ = momentum, keep = 1 - dampening
        guard let b else {
            if λ == 0 && c == 1 {
                for i in 0..<n { u[i] = -γ * g[i] }
            } else {
                for i in 0..<n { u[i] = -γ * (c * g[i] + λ * θ[i]) }
            }
            return
        }
        if startBuffer {
            for i in 0..<n { b[i] = c * g[i] + λ * θ[i] }
        } else {
            for i in 0..<n { b[i] = μ * b[i] + keep * (c * g[i] + λ * θ[i]) }
        }
        if nesterov {
            for i in 0..<n { u[i] = -γ * (c * g[i] + λ * θ[i] + μ * b[i]) }
        } else {
            for i in 0..<n { u[i] = -γ * b[i] }
        }
    }

    // Layout: [kind tag 1, steps (2 floats), last clip factor, last step started buffer, buffer…].
    public func exportState() -> [Float] {
        var s: [Float] = [1] + encodeCount(stepsTaken) + [lastClipFactor, lastStepStartedBuffer ? 1 : 0]
        if let buffer { s += buffer.array }
        return s
    }

    public func importState(_ s: [Float]) throws {
        let expected = 5 + (buffer == nil ? 0 : parameterCount)
        guard s.count == expected, s.first == 1 else {
            throw OptimizerStateError("SGD state: expected \(expected) floats with tag 1, got \(s.count)\(s.first.map { " with tag \($0)" } ?? "")")
        }
        stepsTaken = decodeCount(s[1], s[2])
        lastClipFactor = s[3]
        lastStepStartedBuffer = s[4] != 0
        if let buffer { for i in 0..<parameterCount { buffer[i] = s[5 + i] } }
    }
}
