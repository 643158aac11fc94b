import Linalg

/// What the Lens needs from a network: primal outputs, VJPs for
/// per-point output seeds, and JVPs along a parameter direction. Parameters are one flat float32
/// vector θ owned by the caller; a model holds only its architecture and reusable workspaces.
///
/// Contract for all methods: `x` is `m × inputDimension`; outputs are `m × outputDimension`;
/// returned matrices live in the model's workspace and stay valid until the next call on the
/// same model (copy them if you need them longer). Workspaces grow to the largest `m` seen and
/// are then reused, so the step loop allocates nothing after the first step.
public protocol DifferentiableModel: AnyObject {
    var parameterCount: Int { get }
    var inputDimension: Int { get }
    var outputDimension: Int { get }

    /// `f_θ(X)`, keeping what `vjp` needs for this `X`.
    func forward(_ x: Matrix, parameters θ: UnsafePointer<Float>) -> Matrix

    /// `gradient ← β·gradient + Σ_i J_θ(x_i)ᵀ seeds_i` for the `X` and θ of the last `forward`.
    /// `seeds` is `m × outputDimension` (for a batch loss, `∂L/∂f`, which already carries 1/b).
    func vjp(seeds: Matrix, into gradient: UnsafeMutablePointer<Float>, beta: Float)

    /// One fused pass: primal `f_θ(X)` and tangent `J_θ(X)·v` (lens.md §2).
    func jvp(_ x: Matrix, parameters θ: UnsafePointer<Float>, direction v: UnsafePointer<Float>) -> (primal: Matrix, tangent: Matrix)

    /// The primal once and one tangent per direction (the label-sensitivity engine's probes).
    func jvp(_ x: Matrix, parameters θ: UnsafePointer<Float>, directions: [UnsafePointer<Float>]) -> (primal: Matrix, tangents: [Matrix])
}

extension DifferentiableModel {
    /// Direction by direction, for models without a shared-primal implementation.
    public func jvp(_ x: Matrix, parameters θ: UnsafePointer<Float>, directions: [UnsafePointer<Float>]) -> (primal: Matrix, tangents: [Matrix]) {
        var primal = Matrix(rows: x.rows, cols: outputDimension)
        let tangents = directions.map { v -> Matrix in
            let pass = jvp(x, parameters: θ, direction: v)
            primal = pass.primal.copied()
            return pass.tangent.copied()
        }
        return (primal, tangents)
    }
}

/// One layer's factors of the per-example Jacobian (lens.md §5): for output `c` and point
/// `x`, `∂f_c/∂W_l = δ_{l,c}(x) ⊗ inputs(x)` and `∂f_c/∂b_l = biasScale · δ_{l,c}(x)`. Parameter-
/// ization scale factors are folded into `inputs` and `biasScale` (0 when the layer has no bias),
/// so `K(x,x')_{cc'} = Σ_l (δ_{l,c}(x)·δ_{l,c'}(x')) (inputs(x)·inputs(x') + biasScale²)`.
public struct LayerKernelFactors {
    /// `m × d_{l-1}`: `h_{l-1}` times the layer's weight multiplier.
    public var inputs: Matrix
    public var biasScale: Float
    /// `deltas[c]` is `m × d_l`: `∂f_c/∂z_l` per point.
    public var deltas: [Matrix]
    public init(inputs: Matrix, biasScale: Float, deltas: [Matrix]) {
        self.inputs = inputs; self.biasScale = biasScale; self.deltas = deltas
    }
}

/// Models whose per-example Jacobian factorizes by layer (MLPs), which lets the Lens form
/// tangent kernels from Gram matrices without per-example gradients (lens.md §5).
public protocol LayerFactorizedModel: DifferentiableModel {
    /// Parameter offsets and shapes, in θ order: per layer `W` `[out][in]` row-major, then `b`.
    var layers: [LayerShape] { get }
    /// Per-layer factors at θ for the points `X`, in layer order. Freshly allocated (callers
    /// keep them across steps, e.g. for `grad_change/l`, lens.md §7).
    func kernelFactors(_ x: Matrix, parameters θ: UnsafePointer<Float>) -> [LayerKernelFactors]

    /// The same factors in storage the model may reuse: valid only until the next call of any
    /// method on the model.
    func transientKernelFactors(_ x: Matrix, parameters θ: UnsafePointer<Float>) -> [LayerKernelFactors]

    /// `out` (m × C) ← `f_θ` of the points whose last factor inputs are `h` (m × d: the `inputs`
    /// of the last `LayerKernelFactors`, weight multiplier included), so the Lens can read the
    /// primal off factors it formed anyway (lens.md §5). A learned readout is one GEMM; a fixed
    /// readout also applies the last hidden layer's φ and the readout.
    func outputs(lastFactorInputs h: Matrix, parameters θ: UnsafePointer<Float>, into out: Matrix)
}

extension LayerFactorizedModel {
    public func transientKernelFactors(_ x: Matrix, parameters θ: UnsafePointer<Float>) -> [LayerKernelFactors] {
        kernelFactors(x, parameters: θ)
    }
}

/// Where layer `l`'s parameters sit inside θ.
public struct LayerShape: Equatable, Sendable {
    public var inputs: Int
    public var outputs: Int
    public var hasBias: Bool
    /// Offset of `W_l` in θ; `b_l` follows at `weightOffset + outputs*inputs`.
    public var weightOffset: Int
    public var weightCount: Int { inputs * outputs }
    public var biasOffset: Int { weightOffset + weightCount }
    public var parameterCount: Int { weightCount + (hasBias ? outputs : 0) }
    public init(inputs: Int, outputs: Int, hasBias: Bool, weightOffset: Int) {
        self.inputs = inputs; self.outputs = outputs; self.hasBias = hasBias; self.weightOffset = weightOffset
    }
}
