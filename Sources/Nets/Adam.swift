import Linalg
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Adam and AdamW with PyTorch's conventions (`torch.optim.Adam`, `torch.optim.AdamW`), k the
/// optimizer's own step count:
///
///     g̃ = c·g (+ λθ for Adam's coupled weight_decay)
///     m ← β1 m + (1−β1) g̃,   v ← β2 v + (1−β2) g̃²
///     P_t = 1/(√(v/(1−β2^k)) + ε)                         (ε outside the square root)
///     Δθ = −γ_t (P_t ⊙ m/(1−β1^k) + λθ_{t-1} for AdamW)   (decoupled: θ ← θ − γλθ)
///
/// which is lens.md §4's `Δθ_t = −γ_t (P_t m̂_t + λ_dec θ_{t-1})`.
public final class Adam: CheckpointableOptimizer {
    public let parameterCount: Int
    public let schedule: LearningRateSchedule
    public let beta1: Float
    public let beta2: Float
    public let eps: Float
    public let weightDecay: Float
    /// AdamW when true.
    public let decoupled: Bool
    public let clipNorm: Float?

    public private(set) var stepsTaken = 0
    public private(set) var lastClipFactor: Float = 1
    private let firstMoment: FloatBuffer
    private let secondMoment: FloatBuffer
    private let diagonal: FloatBuffer

    public init(parameterCount: Int, schedule: LearningRateSchedule, beta1: Float = 0.9, beta2: Float = 0.999,
                eps: Float = 1e-8, weightDecay: Float = 0, decoupled: Bool = false, clipNorm: Float? = nil) {
        self.parameterCount = parameterCount
        self.schedule = schedule
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps
        self.weightDecay = weightDecay; self.decoupled = decoupled; self.clipNorm = clipNorm
        firstMoment = FloatBuffer(count: parameterCount)
        secondMoment = FloatBuffer(count: parameterCount)
        diagonal = FloatBuffer(count: parameterCount)
    }

    public func learningRate(step t: Int) -> Float { schedule.rate(step: t) }

    /// diag P_t of the last real step (zeros before the first).
    public var preconditioner: UnsafePointer<Float>? { UnsafePointer(diagonal.base) }

    public var sensitivityStateCount: Int { parameterCount }

    public var isPlainGradientDescent: Bool { false }
    public var isPreconditioned: Bool { true }

    private func biasCorrection(_ β: Float, _ k: Int) -> Float { Float(1 - pow(Double(β), Double(k))) }

    public func proposeUpdate(parameters θ: UnsafePointer<Float>, gradient g: UnsafePointer<Float>,
                              update u: UnsafeMutablePointer<Float>, step t: Int) {
        let n = parameterCount
        let c = clipFactor(n, g, maxNorm: clipNorm)
        let k = stepsTaken + 1
        let bc1 = biasCorrection(beta1, k), bc2 = biasCorrection(beta2, k)
        let invSqrtBC2 = 1 / bc2.squareRoot()
        let γ = learningRate(step: t)
        let λc = decoupled ? 0 : weightDecay, λd = decoupled ? weightDecay : 0
        let β1 = beta1, β2 = beta2, ε = eps
        let m = firstMoment.base, v = secondMoment.base, p = diagonal.base
        for i in 0..<n {
            let gi = c * g[i] + λc * θ[i]
            let mi = β1 * m[i] + (1 - β1) * gi
            let vi = β2 * v[i] + (1 - β2) * gi * gi
            m[i] = mi; v[i] = vi
            let pi = 1 / (vi.squareRoot() * invSqrtBC2 + ε)
            p[i] = pi
            u[i] = -γ * (pi * (mi / bc1) + λd * θ[i])
        }
        stepsTaken = k
        lastClipFactor = c
    }

    /// lens.md §8: `m_q ← β1 m_q + (1−β1)(c ḡ + λ q)` (λ coupled only), bias-corrected as
    /// the real step, `Δq = −γ_t (P_t m̂_q + λ_dec q)` with P_t frozen.
    public func sensitivityUpdate(gradient g: UnsafePointer<Float>, sensitivity q: UnsafePointer<Float>,
                                  state m: UnsafeMutablePointer<Float>, update u: UnsafeMutablePointer<Float>, step t: Int) {
        let n = parameterCount, c = lastClipFactor
        let bc1 = biasCorrection(beta1, max(stepsTaken, 1))
        let γ = learningRate(step: t)
        let λc = decoupled ? 0 : weightDecay, λd = decoupled ? weightDecay : 0
        let β1 = beta1, p = diagonal.base
        for i in 0..<n {
            let mi = β1 * m[i] + (1 - β1) * (c * g[i] + λc * q[i])
            m[i] = mi
            u[i] = -γ * (p[i] * (mi / bc1) + λd * q[i])
        }
    }

    /// lens.md (8.21)–(8.22) on the preconditioned stability number: (1+β₁)(2 − γλ_d)/(1−β₁),
    /// the adaptive edge of stability 2(1+β₁)/(1−β₁) without decoupled decay. Bias correction is
    /// left out (its factor 1/(1−β₁^k) only undoes the first moment's zero start, → 1);
    /// ε is inside P_t already. Coupled L2 adds λ_c P_t, which shifts the top eigenvalue by at
    /// least λ_c·min P_t (Weyl), the shift taken here.
    public func stabilityBound(step t: Int) -> StabilityBound {
        let β = Double(beta1), γ = schedule.exactRate(step: t)
        let λd = decoupled ? Double(weightDecay) : 0
        var shift = 0.0
        if !decoupled && weightDecay > 0 {
            var smallest = Float.infinity
            for i in 0..<parameterCount { smallest = min(smallest, diagonal[i]) }
            shift = Double(weightDecay) * Double(smallest)
        }
        let rule = decoupled
            ? "AdamW (β₁ = \(beta1), λ_d = \(weightDecay)), (1+β₁)(2−γλ_d)/(1−β₁)"
            : "Adam (β₁ = \(beta1)), 2(1+β₁)/(1−β₁)"
        return .frozen(rule, raw: (1 + β) * (2 - γ * λd) / (1 - β), learningRate: γ, shift: shift,
                       shiftName: "λ·min P", clipFactor: lastClipFactor)
    }

    // Layout: [kind tag 2, steps (2 floats), last clip factor, m…, v…, P…].
    public func exportState() -> [Float] {
        [2] + encodeCount(stepsTaken) + [lastClipFactor] + firstMoment.array + secondMoment.array + diagonal.array
    }

    public func importState(_ s: [Float]) throws {
        let n = parameterCount, expected = 4 + 3 * n
        guard s.count == expected, s.first == 2 else {
            throw OptimizerStateError("Adam state: expected \(expected) floats with tag 2, got \(s.count)\(s.first.map { " with tag \($0)" } ?? "")")
        }
        stepsTaken = decodeCount(s[1], s[2])
        lastClipFactor = s[3]
        for i in 0..<n {
            firstMoment[i] = s[4 + i]; secondMoment[i] = s[4 + n + i]; diagonal[i] = s[4 + 2 * n + i]
        }
    }
}
