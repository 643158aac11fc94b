import Linalg

extension MLP {
    /// Per-layer factors of the per-example Jacobian at θ for the points `X` (telescoping.md §5):
    /// `inputs = s_l·h_{l-1}`, `biasScale = β` (0 without bias), and `deltas[c] = ∂f_c/∂z_l`,
    /// obtained by one backward pass per output over the whole point set (GEMMs of height m).
    /// Everything returned is freshly allocated.
    public func kernelFactors(_ x: Matrix, parameters θ: UnsafePointer<Float>) -> [LayerKernelFactors] {
        let m = x.rows, C = outputDimension, L = layers.count
        _ = forward(x, parameters: θ)
        var deltas: [[Matrix]] = layers.map { shape in (0..<C).map { _ in Matrix(rows: m, cols: shape.outputs) } }
        for c in 0..<C {
            // ∂f_c/∂z_L = e_c for every point.
            let top = deltas[L - 1][c]
            for i in 0..<m { top.row(i)[c] = 1 }
            for l in stride(from: L - 1, to: 0, by: -1) {
                let below = deltas[l - 1][c]
                gemm(deltas[l][c], weights(l, θ), into: below, alpha: weightMultipliers[l])
                spec.activation.multiplyDerivative(m * below.cols, preActivation(l - 1, rows: m).base, below.base)
            }
        }
        var factors: [LayerKernelFactors] = []
        for l in 0..<L {
            let input = layerInput(l)
            let scaled = Matrix(rows: m, cols: input.cols)
            scaled.copy(from: input)
            let s = weightMultipliers[l]
            if s != 1 { Vec.scale(m * input.cols, s, scaled.base) }
            factors.append(LayerKernelFactors(inputs: scaled, biasScale: layers[l].hasBias ? biasScale : 0,
                                              deltas: deltas[l]))
        }
        deltas.removeAll()
        return factors
    }

    /// The explicit per-example Jacobian, `(m·C) × P`, row `i·C + c` = `∂f_c(x_i)/∂θ`, by brute
    /// force: one forward per point and one VJP per output. For the Lens's explicit-Jacobian path
    /// (preconditioned kernels `J P Jᵀ`, telescoping.md §5) and for tests; cost `O(m·C·P)`.
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
