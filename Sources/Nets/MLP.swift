import Linalg

/// A fully connected network with one flat θ (after llm.c): forward, VJP and a
/// fused forward+JVP written side by side, every product through `gemm`.
///
/// Layer `l` (1-based in the docs, 0-based here) computes `z_l = s_l W_l h_{l-1} + β b_l` with
/// `h_0 = x`, `h_l = φ(z_l)` below the top and `f = z_L` (`s_l`, `β` from `MLPSpec`). Batches are
/// row-major, so a layer is one GEMM `Z = s·H·Wᵀ` with `W` `[out][in]` read in place. Under
/// `readout: fixed_mean` the top layer's `W_L` is a fixed row of ones outside θ and `s_L = 1/N`:
/// it runs like any layer, but no tangent or gradient is formed for it.
///
/// Workspaces: per layer a pre-activation buffer and (hidden layers) a post-activation buffer of
/// `2·m` rows or more — `forward` uses the first `m` rows, `jvp` stacks primal rows `0..<m` on top
/// of tangent rows `m..<2m` so that `[H; Ḣ]·Wᵀ` is one GEMM of twice the height. Buffers grow to
/// the largest `m` seen and are reused; the step loop allocates nothing afterwards.
public final class MLP: LayerFactorizedModel {
    public let spec: MLPSpec
    /// The parameterized layers, in θ order (all of `stages`, or all but a fixed readout).
    public let layers: [LayerShape]
    /// Every layer the passes run, the fixed readout included.
    let stages: [LayerShape]
    /// The fixed readout's weights (all 1), nil when the readout is learned.
    private let fixedReadout: FloatBuffer?
    public let parameterCount: Int
    public var inputDimension: Int { spec.inputDimension }
    public var outputDimension: Int { spec.outputDimension }

    /// `s_l` per stage.
    public let weightMultipliers: [Float]
    /// β (0 for a network without biases), the `biasScale` of `LayerKernelFactors`.
    public let biasScale: Float

    let depth: Int
    /// Points the backward buffers hold.
    private(set) var capacity = 0
    /// Rows the activation buffers hold (2·m for one JVP, (1+k)·m for k directions).
    private var rowCapacity = 0
    private var preActivations: [FloatBuffer] = []    // per layer: rowCapacity × d_l  (Z ; Ż…)
    private var postActivations: [FloatBuffer] = []   // hidden layers: rowCapacity × d_l  (H ; Ḣ…)
    private var backwardBuffers: [FloatBuffer] = []   // two ping-pong capacity × max d
    private let maxWidth: Int

    // What `vjp` differentiates: the X and θ of the last `forward`/`jvp`.
    /// Reused storage of `transientKernelFactors`: per layer the stacked deltas and, under the NTK
    /// parameterization, the scaled inputs.
    var transientDeltas: [FloatBuffer] = []
    var transientInputs: [FloatBuffer] = []
    /// φ(z) of the last hidden layer in `outputs(lastFactorInputs:)` under a fixed readout.
    let readoutScratch = Workspace()
    private var lastInput: Matrix?
    private var lastParameters: UnsafePointer<Float>?
    private var lastCount = 0

    public init(_ spec: MLPSpec) {
        precondition(spec.inputDimension > 0 && spec.outputDimension > 0 && spec.hidden.allSatisfy { $0 > 0 },
                     "MLP widths must be positive")
        self.spec = spec
        precondition(spec.readout == .learned || (!spec.hidden.isEmpty && spec.outputDimension == 1),
                     "a fixed mean readout needs a hidden layer and one output")
        layers = spec.layerShapes
        stages = spec.stageShapes
        parameterCount = layers.last.map { $0.weightOffset + $0.parameterCount } ?? 0
        weightMultipliers = stages.enumerated().map { spec.stageMultiplier($0.offset, fanIn: $0.element.inputs) }
        biasScale = spec.bias ? spec.biasMultiplier : 0
        depth = stages.count
        if spec.readout == .fixedMean {
            let ones = FloatBuffer(count: spec.hidden.last!)
            ones.base.update(repeating: 1, count: spec.hidden.last!)
            fixedReadout = ones
        } else {
            fixedReadout = nil
        }
        maxWidth = spec.widths.max() ?? 1
    }

    /// θ_0, deterministic from `RandomSource(seed:, stream: .initialization)`: weights in θ order
    /// drawn from `N(0, σ_l²)` (`MLPSpec.initialStandardDeviation`), biases 0.
    public func initialParameters(seed: UInt64) -> [Float] {
        var rng = RandomSource(seed: seed, stream: .initialization)
        var θ = [Float](repeating: 0, count: parameterCount)
        for shape in layers {
            let σ = Double(spec.initialStandardDeviation(fanIn: shape.inputs, fanOut: shape.outputs))
            for k in 0..<shape.weightCount { θ[shape.weightOffset + k] = Float(σ * rng.normal()) }
        }
        return θ
    }

    // MARK: - Views

    /// Layer `l`'s `W_l` inside θ (or a direction), or the fixed readout's ones.
    @inline(__always) func weights(_ l: Int, _ θ: UnsafePointer<Float>) -> Matrix {
        let s = stages[l]
        if let fixedReadout, l == depth - 1 {
            return Matrix(rows: s.outputs, cols: s.inputs, stride: s.inputs, base: fixedReadout.base, owner: nil)
        }
        return Matrix(rows: s.outputs, cols: s.inputs, stride: s.inputs,
                      base: UnsafeMutablePointer(mutating: θ + s.weightOffset), owner: nil)
    }

    /// Whether layer `l` has parameters (every layer but a fixed readout): only those get a
    /// weight tangent in the JVP and a weight gradient in the VJP.
    @inline(__always) func isParameterized(_ l: Int) -> Bool { l < layers.count }

    /// Rows `0..<rows` of layer `l`'s pre-activation buffer (`Z_l`, or `[Z_l; Ż_l]` for `2m`).
    @inline(__always) func preActivation(_ l: Int, rows: Int) -> Matrix {
        Matrix(preActivations[l], rows: rows, cols: stages[l].outputs)
    }

    /// Rows `0..<rows` of hidden layer `l`'s post-activation buffer.
    @inline(__always) func postActivation(_ l: Int, rows: Int) -> Matrix {
        Matrix(postActivations[l], rows: rows, cols: stages[l].outputs)
    }

    /// `h_{l-1}` of the last pass (the input `x` for the first layer).
    @inline(__always) func layerInput(_ l: Int) -> Matrix {
        l == 0 ? lastInput! : postActivation(l - 1, rows: lastCount)
    }

    /// Grows the workspaces for `m` points with `directions` tangents stacked under the primal.
    private func reserve(_ m: Int, directions: Int = 1) {
        let rows = m * (1 + max(directions, 1))
        if rows > rowCapacity {
            rowCapacity = rows
            preActivations = stages.map { FloatBuffer(count: rows * $0.outputs) }
            postActivations = stages.dropLast().map { FloatBuffer(count: rows * $0.outputs) }
        }
        if m > capacity {
            capacity = m
            backwardBuffers = [FloatBuffer(count: m * maxWidth), FloatBuffer(count: m * maxWidth)]
        }
    }

    @inline(__always) private func bias(_ l: Int, _ θ: UnsafePointer<Float>) -> UnsafePointer<Float>? {
        stages[l].hasBias ? θ + stages[l].biasOffset : nil
    }

    // MARK: - Forward

    public func forward(_ x: Matrix, parameters θ: UnsafePointer<Float>) -> Matrix {
        precondition(x.cols == inputDimension, "MLP.forward: x has \(x.cols) columns, expected \(inputDimension)")
        let m = x.rows
        reserve(m)
        var input = x
        var z = x
        for l in 0..<depth {
            z = preActivation(l, rows: m)
            gemm(input, weights(l, θ), transposeB: true, into: z, alpha: weightMultipliers[l], beta: 0)
            if l < depth - 1 {
                let h = postActivation(l, rows: m)
                spec.activation.applyBiased(rows: m, cols: h.cols, z.base, bias: bias(l, θ), scale: biasScale, h.base)
                input = h
            } else if let b = bias(l, θ) {
                addBias(rows: m, cols: z.cols, z.base, bias: b, scale: biasScale)
            }
        }
        lastInput = x; lastParameters = θ; lastCount = m
        return z
    }

    // MARK: - JVP

    /// Primal and tangent in one pass (lens.md §2):
    /// `ż_l = s_l (W_l ḣ_{l-1} + V_l h_{l-1}) + β v_{b,l}`, `ḣ_l = φ'(z_l) ⊙ ż_l`, `ḣ_0 = 0`.
    /// Leaves the primal activations in place, so a `vjp` may follow for the same `X` and θ.
    public func jvp(_ x: Matrix, parameters θ: UnsafePointer<Float>, direction v: UnsafePointer<Float>) -> (primal: Matrix, tangent: Matrix) {
        precondition(x.cols == inputDimension, "MLP.jvp: x has \(x.cols) columns, expected \(inputDimension)")
        let m = x.rows
        reserve(m)
        var stacked = preActivation(0, rows: 2 * m)
        for l in 0..<depth {
            let s = weightMultipliers[l]
            stacked = preActivation(l, rows: 2 * m)
            let z = stacked.rows(0..<m), zDot = stacked.rows(m..<(2 * m))
            let b = bias(l, θ), vb = bias(l, v)
            if l == 0 {
                // ḣ_0 = 0: the weight tangent is the only term.
                gemm(x, weights(0, θ), transposeB: true, into: z, alpha: s, beta: 0)
                gemm(x, weights(0, v), transposeB: true, into: zDot, alpha: s, beta: 0)
            } else {
                let below = postActivation(l - 1, rows: 2 * m)    // [H; Ḣ]
                gemm(below, weights(l, θ), transposeB: true, into: stacked, alpha: s, beta: 0)
                if isParameterized(l) { gemm(below.rows(0..<m), weights(l, v), transposeB: true, into: zDot, alpha: s, beta: 1) }
            }
            if l < depth - 1 {
                let h = postActivation(l, rows: 2 * m)
                let n = m * h.cols
                spec.activation.applyBiasedWithTangent(rows: m, cols: h.cols, z.base, zDot.base, bias: b, tangentBias: vb,
                                                       scale: biasScale, h.base, h.base + n)
            } else if let b, let vb {
                addBias(rows: m, cols: z.cols, z.base, bias: b, scale: biasScale)
                addBias(rows: m, cols: z.cols, zDot.base, bias: vb, scale: biasScale)
            }
        }
        lastInput = x; lastParameters = θ; lastCount = m
        return (stacked.rows(0..<m), stacked.rows(m..<(2 * m)))
    }

    // MARK: - VJP

    /// Protocol form: reuses the θ pointer of the last `forward`/`jvp`, which must still be valid
    /// and unchanged (call it inside the same `withUnsafeBufferPointer`, or keep θ in a
    /// `FloatBuffer`); the explicit-θ overload below avoids the question.
    public func vjp(seeds: Matrix, into gradient: UnsafeMutablePointer<Float>, beta: Float) {
        guard let θ = lastParameters else { preconditionFailure("MLP.vjp before forward") }
        vjp(seeds: seeds, parameters: θ, into: gradient, beta: beta)
    }

    /// `gradient ← beta·gradient + Σ_i J_θ(x_i)ᵀ seeds_i` for the `X` of the last pass, with θ
    /// passed explicitly (it must be the θ of that pass).
    public func vjp(seeds: Matrix, parameters θ: UnsafePointer<Float>, into gradient: UnsafeMutablePointer<Float>, beta: Float) {
        let m = lastCount
        precondition(lastInput != nil, "MLP.vjp before forward")
        precondition(seeds.rows == m && seeds.cols == outputDimension,
                     "MLP.vjp: seeds are \(seeds.rows)×\(seeds.cols), expected \(m)×\(outputDimension)")
        var g = seeds                       // ∂/∂z_l, m × d_l
        for l in stride(from: depth - 1, through: 0, by: -1) {
            let shape = stages[l], s = weightMultipliers[l]
            if isParameterized(l) {
                let gW = Matrix(rows: shape.outputs, cols: shape.inputs, stride: shape.inputs,
                                base: gradient + shape.weightOffset, owner: nil)
                gemm(g, transposeA: true, layerInput(l), into: gW, alpha: s, beta: beta)
            }
            if shape.hasBias { accumulateColumnSums(g, scale: biasScale, into: gradient + shape.biasOffset, beta: beta) }
            if l > 0 {
                let next = Matrix(backwardBuffers[l & 1], rows: m, cols: shape.inputs)
                gemm(g, weights(l, θ), into: next, alpha: s)
                spec.activation.multiplyDerivative(m * shape.inputs, preActivation(l - 1, rows: m).base, next.base)
                g = next
            }
        }
    }

    /// `out ← beta·out + scale·Σ_i g_i` (bias gradients).
    private func accumulateColumnSums(_ g: Matrix, scale: Float, into out: UnsafeMutablePointer<Float>, beta: Float) {
        let d = g.cols
        if beta == 0 { out.update(repeating: 0, count: d) } else if beta != 1 { for j in 0..<d { out[j] *= beta } }
        for i in 0..<g.rows {
            let r = g.row(i)
            for j in 0..<d { out[j] += scale * r[j] }
        }
    }
}

extension MLP {
    /// Benchmark diagnostic: exactly the GEMMs of `jvp` (same shapes, same buffers), none of its
    /// element-wise work, so the benchmark can separate product time from the rest.
    public func forwardJVPProductsOnly(_ x: Matrix, parameters θ: UnsafePointer<Float>, direction v: UnsafePointer<Float>) {
        let m = x.rows
        precondition(2 * m <= rowCapacity, "run jvp on at least this many points first (workspaces)")
        for l in 0..<depth {
            let s = weightMultipliers[l]
            let stacked = preActivation(l, rows: 2 * m)
            if l == 0 {
                gemm(x, weights(0, θ), transposeB: true, into: stacked.rows(0..<m), alpha: s, beta: 0)
                gemm(x, weights(0, v), transposeB: true, into: stacked.rows(m..<(2 * m)), alpha: s, beta: 0)
            } else {
                let below = postActivation(l - 1, rows: 2 * m)
                gemm(below, weights(l, θ), transposeB: true, into: stacked, alpha: s, beta: 0)
                if isParameterized(l) {
                    gemm(below.rows(0..<m), weights(l, v), transposeB: true, into: stacked.rows(m..<(2 * m)), alpha: s, beta: 1)
                }
            }
        }
    }
}

extension MLP {
    /// Forward+JVP along k directions at once (probe engines, lens.md §8; linearized and
    /// telescoped increments in one pass, §2–3). The primal rows sit on top of the k tangent
    /// blocks, so each layer's `[H; Ḣ_1; …; Ḣ_k]·Wᵀ` is one GEMM of height (1+k)·m, plus one
    /// `H·V_jᵀ` per direction. `tangents[j]` equals `jvp(x, θ, directions[j]).tangent`.
    /// Returned matrices are workspace views (valid until the next call); a `vjp` may follow.
    public func jvp(_ x: Matrix, parameters θ: UnsafePointer<Float>,
                    directions: [UnsafePointer<Float>]) -> (primal: Matrix, tangents: [Matrix]) {
        precondition(x.cols == inputDimension, "MLP.jvp: x has \(x.cols) columns, expected \(inputDimension)")
        let k = directions.count
        if k == 1 {
            let (p, t) = jvp(x, parameters: θ, direction: directions[0])
            return (p, [t])
        }
        let m = x.rows, rows = (1 + k) * m
        reserve(m, directions: k)
        var stacked = preActivation(0, rows: rows)
        for l in 0..<depth {
            let s = weightMultipliers[l]
            stacked = preActivation(l, rows: rows)
            let z = stacked.rows(0..<m)
            @inline(__always) func tangentBlock(_ j: Int) -> Matrix { stacked.rows(((1 + j) * m)..<((2 + j) * m)) }
            if l == 0 {
                gemm(x, weights(0, θ), transposeB: true, into: z, alpha: s, beta: 0)
                for j in 0..<k { gemm(x, weights(0, directions[j]), transposeB: true, into: tangentBlock(j), alpha: s, beta: 0) }
            } else {
                let below = postActivation(l - 1, rows: rows)
                gemm(below, weights(l, θ), transposeB: true, into: stacked, alpha: s, beta: 0)
                let h = below.rows(0..<m)
                if isParameterized(l) {
                    for j in 0..<k { gemm(h, weights(l, directions[j]), transposeB: true, into: tangentBlock(j), alpha: s, beta: 1) }
                }
            }
            let d = stages[l].outputs, n = m * d
            if let b = bias(l, θ) {
                addBias(rows: m, cols: d, z.base, bias: b, scale: biasScale)
                for j in 0..<k { addBias(rows: m, cols: d, tangentBlock(j).base, bias: bias(l, directions[j])!, scale: biasScale) }
            }
            if l < depth - 1 {
                let post = postActivation(l, rows: rows)
                spec.activation.apply(n, z.base, post.base)
                for j in 0..<k {
                    let hDot = post.base + (1 + j) * n
                    hDot.update(from: tangentBlock(j).base, count: n)
                    spec.activation.multiplyDerivative(n, z.base, hDot)
                }
            }
        }
        lastInput = x; lastParameters = θ; lastCount = m
        return (stacked.rows(0..<m), (0..<k).map { j in stacked.rows(((1 + j) * m)..<((2 + j) * m)) })
    }
}
