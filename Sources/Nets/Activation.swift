#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Hidden-layer non-linearity φ of an MLP (lens.md §5: `h_l = φ(z_l)`).
///
/// `gelu` is the tanh approximation of Hendrycks & Gimpel (the one JAX's `jax.nn.gelu` uses by
/// default): `φ(z) = ½ z (1 + tanh(√(2/π)(z + 0.044715 z³)))`. `quadratic` is `φ(z) = z²`.
/// `epsQuadratic(ε)` is Kumar et al.'s `φ(z) = z + (ε/2) z²` ("Grokking as the transition from
/// lazy to rich training dynamics", ICLR 2024): ε = 0 is a linear network, and ε sets how far the
/// network is from one (the paper's grokking task, telescoping.md §11).
public enum Activation: Sendable, Equatable, Hashable, Codable, CaseIterable {
    case relu, tanh, sigmoid, gelu, quadratic, linear
    case epsQuadratic(Float)

    /// Every kind once, ε-quadratic at ε = ½ (for tests that sweep the kinds).
    public static var allCases: [Activation] { [.relu, .tanh, .sigmoid, .gelu, .quadratic, .linear, .epsQuadratic(0.5)] }

    /// The config names (`model.activation`), in `allCases` order.
    public static var names: [String] { allCases.map(\.name) }

    /// The config name: `relu`, …, `eps_quadratic` (its ε is `model.activation_eps`).
    public var name: String {
        switch self {
        case .relu: return "relu"
        case .tanh: return "tanh"
        case .sigmoid: return "sigmoid"
        case .gelu: return "gelu"
        case .quadratic: return "quadratic"
        case .linear: return "linear"
        case .epsQuadratic: return "eps_quadratic"
        }
    }

    /// The activation a config names; `eps` is used by `eps_quadratic` only.
    public init?(name: String, eps: Float = 0) {
        if name == "eps_quadratic" { self = .epsQuadratic(eps); return }
        guard let kind = Activation.allCases.first(where: { $0.name == name }) else { return nil }
        self = kind
    }
}

@usableFromInline let geluC: Float = 0.7978845608028654   // √(2/π)
@usableFromInline let geluA: Float = 0.044715

extension Activation {
    /// `h ← φ(z)` over `n` contiguous floats.
    public func apply(_ n: Int, _ z: UnsafePointer<Float>, _ h: UnsafeMutablePointer<Float>) {
        switch self {
        case .relu: for i in 0..<n { h[i] = max(z[i], 0) }
        case .tanh: for i in 0..<n { h[i] = tanhf(z[i]) }
        case .sigmoid: for i in 0..<n { h[i] = 1 / (1 + expf(-z[i])) }
        case .gelu:
            for i in 0..<n {
                let x = z[i]
                h[i] = 0.5 * x * (1 + tanhf(geluC * (x + geluA * x * x * x)))
            }
        case .quadratic: for i in 0..<n { h[i] = z[i] * z[i] }
        case .linear: if UnsafePointer(h) != z { h.update(from: z, count: n) }
        case .epsQuadratic(let ε):
            let half = ε / 2
            for i in 0..<n { let x = z[i]; h[i] = x + half * x * x }
        }
    }

    /// `g ← g ⊙ φ'(z)` over `n` contiguous floats (the backward pass through the non-linearity).
    public func multiplyDerivative(_ n: Int, _ z: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>) {
        switch self {
        case .relu: reluBackward(n, z, g)
        case .tanh: for i in 0..<n { let t = tanhf(z[i]); g[i] *= 1 - t * t }
        case .sigmoid: for i in 0..<n { let s = 1 / (1 + expf(-z[i])); g[i] *= s * (1 - s) }
        case .gelu: for i in 0..<n { g[i] *= Activation.geluDerivative(z[i]) }
        case .quadratic: for i in 0..<n { g[i] *= 2 * z[i] }
        case .linear: break
        case .epsQuadratic(let ε): for i in 0..<n { g[i] *= 1 + ε * z[i] }
        }
    }

    /// One fused pass for forward+JVP: `h ← φ(z)` and `ḣ ← φ'(z) ⊙ ż` (lens.md §2).
    /// `hDot` may alias `zDot`.
    public func applyWithTangent(_ n: Int, _ z: UnsafePointer<Float>, _ zDot: UnsafePointer<Float>,
                                 _ h: UnsafeMutablePointer<Float>, _ hDot: UnsafeMutablePointer<Float>) {
        switch self {
        case .relu:
            reluForwardTangent(n, z, zDot, h, hDot)
        case .tanh:
            for i in 0..<n { let t = tanhf(z[i]); h[i] = t; hDot[i] = (1 - t * t) * zDot[i] }
        case .sigmoid:
            for i in 0..<n { let s = 1 / (1 + expf(-z[i])); h[i] = s; hDot[i] = s * (1 - s) * zDot[i] }
        case .gelu:
            for i in 0..<n {
                let x = z[i]
                let t = tanhf(geluC * (x + geluA * x * x * x))
                h[i] = 0.5 * x * (1 + t)
                hDot[i] = (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * geluC * (1 + 3 * geluA * x * x)) * zDot[i]
            }
        case .quadratic:
            for i in 0..<n { let x = z[i]; h[i] = x * x; hDot[i] = 2 * x * zDot[i] }
        case .linear:
            if UnsafePointer(h) != z { h.update(from: z, count: n) }
            if UnsafePointer(hDot) != zDot { hDot.update(from: zDot, count: n) }
        case .epsQuadratic(let ε):
            let half = ε / 2
            for i in 0..<n { let x = z[i]; h[i] = x + half * x * x; hDot[i] = (1 + ε * x) * zDot[i] }
        }
    }

    @inline(__always) static func geluDerivative(_ x: Float) -> Float {
        let t = tanhf(geluC * (x + geluA * x * x * x))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * geluC * (1 + 3 * geluA * x * x)
    }
}

// Bias folded into the activation pass: the GEMM writes `s·H·Wᵀ` with beta 0 and this one pass
// adds `β b`, applies φ and (for the JVP) the tangent, instead of a separate bias-fill pass over Z.
extension Activation {
    /// Rows of `z` (`rows × cols`, contiguous) ← `z + β b`; `h ← φ(z)`. `b` nil: no bias.
    public func applyBiased(rows: Int, cols: Int, _ z: UnsafeMutablePointer<Float>, bias b: UnsafePointer<Float>?,
                            scale β: Float, _ h: UnsafeMutablePointer<Float>) {
        if let b { addBias(rows: rows, cols: cols, z, bias: b, scale: β) }
        apply(rows * cols, z, h)
    }

    /// `z ← z + β b`, `ż ← ż + β v_b` row-wise, then `h ← φ(z)`, `ḣ ← φ'(z) ⊙ ż`, in one sweep
    /// per row so each row stays in cache between the bias and the activation. `z` keeps the
    /// biased pre-activation (a later VJP needs φ'(z)); `ż` is scratch afterwards.
    public func applyBiasedWithTangent(rows: Int, cols: Int, _ z: UnsafeMutablePointer<Float>,
                                       _ zDot: UnsafeMutablePointer<Float>, bias b: UnsafePointer<Float>?,
                                       tangentBias vb: UnsafePointer<Float>?, scale β: Float,
                                       _ h: UnsafeMutablePointer<Float>, _ hDot: UnsafeMutablePointer<Float>) {
        if self == .relu, let b, let vb {
            // Fast path of the default network: one pass per row, ż never written back.
            for i in 0..<rows {
                let o = i * cols
                reluBiasedForwardTangent(cols, z + o, zDot + o, b, vb, β, h + o, hDot + o)
            }
            return
        }
        for i in 0..<rows {
            let o = i * cols
            if let b, let vb {
                let zr = z + o, zdr = zDot + o
                for j in 0..<cols { zr[j] += β * b[j]; zdr[j] += β * vb[j] }
            }
            applyWithTangent(cols, z + o, zDot + o, h + o, hDot + o)
        }
    }
}

/// `z ← z + β b` on every row of a contiguous `rows × cols` block.
@inline(__always) public func addBias(rows: Int, cols: Int, _ z: UnsafeMutablePointer<Float>,
                                      bias b: UnsafePointer<Float>, scale β: Float) {
    for i in 0..<rows {
        let r = z + i * cols
        for j in 0..<cols { r[j] += β * b[j] }
    }
}

// ReLU kernels on explicit SIMD vectors. Written as selects on vector masks because the default
// x86-64 target (SSE2) otherwise compiles `z > 0 ? g : 0` to a branch per element, which costs
// ~4 ns per element on random signs (measured: 0.5 ms of a 3 ms training step).
@usableFromInline typealias Lanes = SIMD8<Float>

@inline(__always) func loadLanes(_ p: UnsafePointer<Float>) -> Lanes {
    UnsafeRawPointer(p).loadUnaligned(as: Lanes.self)
}

@inline(__always) func storeLanes(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self)
}

/// `g ← g ⊙ 1{z > 0}`.
func reluBackward(_ n: Int, _ z: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>) {
    let zero = Lanes(repeating: 0)
    var i = 0
    while i + Lanes.scalarCount <= n {
        storeLanes(zero.replacing(with: loadLanes(g + i), where: loadLanes(z + i) .> zero), g + i)
        i += Lanes.scalarCount
    }
    while i < n { g[i] = z[i] > 0 ? g[i] : 0; i += 1 }
}

/// `h ← max(z, 0)`, `ḣ ← ż ⊙ 1{z > 0}`.
func reluForwardTangent(_ n: Int, _ z: UnsafePointer<Float>, _ zDot: UnsafePointer<Float>,
                        _ h: UnsafeMutablePointer<Float>, _ hDot: UnsafeMutablePointer<Float>) {
    let zero = Lanes(repeating: 0)
    var i = 0
    while i + Lanes.scalarCount <= n {
        let x = loadLanes(z + i), xd = loadLanes(zDot + i)
        let positive = x .> zero
        storeLanes(zero.replacing(with: x, where: positive), h + i)
        storeLanes(zero.replacing(with: xd, where: positive), hDot + i)
        i += Lanes.scalarCount
    }
    while i < n { let p = z[i] > 0; h[i] = p ? z[i] : 0; hDot[i] = p ? zDot[i] : 0; i += 1 }
}

/// One row of the JVP's fused pass: `z ← z + βb` (kept for a later VJP), `ż + βv_b` (not kept),
/// `h ← max(z, 0)`, `ḣ ← (ż + βv_b) ⊙ 1{z > 0}`.
func reluBiasedForwardTangent(_ n: Int, _ z: UnsafeMutablePointer<Float>, _ zDot: UnsafePointer<Float>,
                              _ b: UnsafePointer<Float>, _ vb: UnsafePointer<Float>, _ β: Float,
                              _ h: UnsafeMutablePointer<Float>, _ hDot: UnsafeMutablePointer<Float>) {
    let zero = Lanes(repeating: 0), βv = Lanes(repeating: β)
    var j = 0
    while j + Lanes.scalarCount <= n {
        let x = loadLanes(z + j) + βv * loadLanes(b + j)
        let xd = loadLanes(zDot + j) + βv * loadLanes(vb + j)
        storeLanes(x, z + j)
        let positive = x .> zero
        storeLanes(zero.replacing(with: x, where: positive), h + j)
        storeLanes(zero.replacing(with: xd, where: positive), hDot + j)
        j += Lanes.scalarCount
    }
    while j < n {
        let x = z[j] + β * b[j], xd = zDot[j] + β * vb[j]
        z[j] = x
        let p = x > 0
        h[j] = p ? x : 0
        hDot[j] = p ? xd : 0
        j += 1
    }
}
