import Linalg

/// An optimizer as the Lens sees it (lens.md §4, §8): it turns the batch gradient at
/// θ_{t-1} into the update Δθ_t it actually applies, exposes its diagonal preconditioner P_t, and
/// can replay its (linear) rule on a label-sensitivity direction with P_t frozen.
public protocol Optimizer: AnyObject {
    var parameterCount: Int { get }

    /// γ_t from the schedule, for step `t` (1-based).
    func learningRate(step t: Int) -> Float

    /// The schedule γ_t comes from (its `exactRate` is what runs record as `lr`).
    var schedule: LearningRateSchedule { get }

    /// Plain gradient descent: Δθ_t = −γ_t ∇L_t(θ_{t-1}) with no momentum, weight decay,
    /// clipping or preconditioner. Only then does the smoother's kernel fast path of lens.md §8
    /// hold exactly (with coupled L2, θ depends on the labels through θ's own history).
    var isPlainGradientDescent: Bool { get }

    /// Whether P_t ≠ I (Adam, AdamW): kernels are then K^P (lens.md §4) and do not factor by layer.
    var isPreconditioned: Bool { get }

    /// The real step. Reads θ_{t-1} and the raw batch gradient ∇L_t(θ_{t-1}) (no weight decay,
    /// no clipping: the optimizer applies both), advances its state, and writes Δθ_t into
    /// `update`. The caller applies θ_t = θ_{t-1} + Δθ_t (so the Lens can run its JVP first).
    func proposeUpdate(parameters θ: UnsafePointer<Float>, gradient: UnsafePointer<Float>,
                       update: UnsafeMutablePointer<Float>, step t: Int)

    /// diag P_t of the last `proposeUpdate` (Adam: 1/(√v̂_t + ε)); nil means P_t = I.
    var preconditioner: UnsafePointer<Float>? { get }

    /// Floats of per-direction state the sensitivity rule needs (momentum buffers); 0 for SGD.
    var sensitivityStateCount: Int { get }

    /// The label-sensitivity step of lens.md §8 for one direction: given ḡ (the VJP of the
    /// residual sensitivities, without weight decay) and q_{t-1}, update the direction's
    /// momentum `state` exactly as the real run updated its buffers at step `t` (same β, same
    /// bias correction, same clipping factor, P_t frozen) and write Δq into `update`.
    func sensitivityUpdate(gradient: UnsafePointer<Float>, sensitivity q: UnsafePointer<Float>,
                           state: UnsafeMutablePointer<Float>, update: UnsafeMutablePointer<Float>, step t: Int)

    /// The largest stability number γ_t·λ_max(H^½ K^P_BB H^½)/b (lens.md (8.16)) at which this
    /// rule, with step t's factors (γ_t, c_t, P_t, momentum) frozen, still contracts
    /// (lens.md (8.17)–(8.22)). Read after the real step t.
    func stabilityBound(step t: Int) -> StabilityBound
}
