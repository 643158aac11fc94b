import Linalg

extension MLP {
    /// Per-layer factors of the per-example Jacobian at θ for the points `X` (lens.md §5):
    /// `inputs = s_l·h_{l-1}`, `biasScale = β` (0 without bias), and `deltas[c] = ∂f_c/∂z_l`.
    /// The backward passes of all C outputs run together: layer l's deltas are one `(C·m) × d_l`
    /// block (output c in rows `c·m..<(c+1)·m`), so each layer is a single GEMM of height C·m.
    /// Everything returned is freshly allocated (`deltas[c]` are views of the layer's block).
    /// Under a fixed readout the factors are those of the parameterized layers only: the deltas
    /// run back through the readout's fixed ones and 1/N, which itself contributes no factor.
    public func kernelFactors(_ x: Matrix, parameters θ: UnsafePointer<Float>) -> [LayerKernelFactors] {
        let m = x.rows, C = outputDimension
        return transientKernelFactors(x, parameters: θ).map { layer in
            let block = Matrix(rows: C * m, cols: layer.deltas[0].cols)
            for c in 0..<C { block.rows((c * m)..<((c + 1) * m)).copy(from: layer.deltas[c]) }
            return LayerKernelFactors(inputs: layer.inputs.copied(), biasScale: layer.biasScale,
                                      deltas: (0..<C).map { block.rows(($0 * m)..<(($0 + 1) * m)) })
        }
    }

    /// `kernelFactors` in storage the model keeps: valid until the next call of any method on this
    /// model, and allocation-free once the buffers have grown. For the Lens's per-step factors
    /// over its kernel points, which live exactly one step (no allocation in the
    /// step loop).
    public func transientKernelFactors(_ x: Matrix, parameters θ: UnsafePointer<Float>) -> [LayerKernelFactors] {
        let m = x.rows, C = outputDimension, L = stages.count
        _ = forward(x, parameters: θ)
        if transientDeltas.count != L || transientDeltas[0].count < C * m * stages[0].outputs {
            transientDeltas = stages.map { FloatBuffer(count: C * m * $0.outputs) }
            transientInputs = stages.map { FloatBuffer(count: m * $0.inputs) }
        }
        let blocks = (0..<L).map { Matrix(transientDeltas[$0], rows: C * m, cols: stages[$0].outputs) }
        blocks[L - 1].fill(0)
        for c in 0..<C { for i in 0..<m { blocks[L - 1][c * m + i, c] = 1 } }
        for l in stride(from: L - 1, to: 0, by: -1) {
            let below = blocks[l - 1]
            gemm(blocks[l], weights(l, θ), into: below, alpha: weightMultipliers[l])
            let z = preActivation(l - 1, rows: m).base
            for c in 0..<C { spec.activation.multiplyDerivative(m * below.cols, z, below.row(c * m)) }
        }
        return layers.indices.map { l in
            var input = layerInput(l)
            let s = weightMultipliers[l]
            if s != 1 {
                let scaled = Matrix(transientInputs[l], rows: m, cols: input.cols)
                scaled.copy(from: input)
                Vec.scale(m * input.cols, s, scaled.base)
                input = scaled
            }
            let deltas = (0..<C).map { blocks[l].rows(($0 * m)..<(($0 + 1) * m)) }
            return LayerKernelFactors(inputs: input, biasScale: stages[l].hasBias ? biasScale : 0, deltas: deltas)
        }
    }

    /// lens.md §5: with a learned readout `f = (s_L h_{L-1}) W_Lᵀ + β b_L`; with a fixed mean
    /// readout the last factor is the last hidden layer's, so `f = (1/N) Σ_j φ(z)_j` with
    /// `z = (s_{L-1} h_{L-2}) W_{L-1}ᵀ + β b_{L-1}`.
    public func outputs(lastFactorInputs h: Matrix, parameters θ: UnsafePointer<Float>, into out: Matrix) {
        let last = layers.count - 1, shape = layers[last]
        precondition(h.cols == shape.inputs && out.rows == h.rows && out.cols == outputDimension, "outputs(lastFactorInputs:) shapes")
        let z = isParameterized(depth - 1) ? out : readoutScratch.matrix(0, rows: h.rows, cols: shape.outputs)
        gemm(h, weights(last, θ), transposeB: true, into: z)
        if shape.hasBias { addBias(rows: z.rows, cols: z.cols, z.base, bias: θ + shape.biasOffset, scale: biasScale) }
        guard !isParameterized(depth - 1) else { return }
        spec.activation.apply(z.rows * z.cols, z.base, z.base)
        gemm(z, weights(depth - 1, θ), transposeB: true, into: out, alpha: weightMultipliers[depth - 1])
    }

    /// The explicit per-example Jacobian, `(m·C) × P`, row `i·C + c` = `∂f_c(x_i)/∂θ`, by brute
    /// force: one forward per point and one VJP per output. For the Lens's explicit-Jacobian path
    /// (preconditioned kernels `J P Jᵀ`, lens.md §5) and for tests; cost `O(m·C·P)`.
    public func perExampleJacobian(_ x: Matrix, parameters θ: UnsafePointer<Float>) -> Matrix {
        let m = x.rows, C = outputDimension, P = parameterCount
        let jacobian = Matrix(rows: m * C, cols: P)
        let seed = Matrix(rows: 1, cols: C)
        for i in 0..<m {
            _ = forward(x.rows(i..<(i + 1)), parameters: θ)
            for c in 0..<C {
                seed.fill(0)
                seed[0, c] = 1
                vjp(seeds: seed, parameters: θ, into: jacobian.row(i * C + c), beta: 0)
            }
        }
        return jacobian
    }
}
