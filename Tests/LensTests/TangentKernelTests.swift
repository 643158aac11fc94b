import Lens
import Linalg
import Nets
import XCTest

/// lens.md §5: the layer-Gram kernel must equal J Jᵀ built from per-example gradients,
/// and the VJP/JVP path must agree with both.
final class TangentKernelTests: XCTestCase {
    func testLayerGramKernelEqualsExplicitJacobianProduct() {
        let cases: [(hidden: [Int], activation: Activation, outputs: Int)] = [
            ([], .linear, 1), ([16], .relu, 1), ([12, 9], .tanh, 1),
            ([10], .gelu, 3), ([8, 8], .sigmoid, 4), ([7], .quadratic, 2),
        ]
        for (index, c) in cases.enumerated() {
            for parameterization in [Parameterization.standard, .ntk] {
                let model = MLP(MLPSpec(inputDimension: 5, hidden: c.hidden, outputDimension: c.outputs,
                                        activation: c.activation, parameterization: parameterization))
                let θ = model.initialParameters(seed: UInt64(index))
                let xa = randomMatrix(9, 5, seed: 10 + UInt64(index)), xb = randomMatrix(6, 5, seed: 20 + UInt64(index))
                let gram = LayerGramKernel(model: model), explicit = ExplicitJacobianKernel(model: model)
                let (kGram, kExplicit) = θ.withUnsafeBufferPointer { p -> (Matrix, Matrix) in
                    let a1 = gram.prepare(xa, parameters: p.baseAddress!, preconditioner: nil)
                    let b1 = gram.prepare(xb, parameters: p.baseAddress!, preconditioner: nil)
                    let a2 = explicit.prepare(xa, parameters: p.baseAddress!, preconditioner: nil)
                    let b2 = explicit.prepare(xb, parameters: p.baseAddress!, preconditioner: nil)
                    return (gram.kernel(a1, b1, outputs: c.outputs), explicit.kernel(a2, b2, outputs: c.outputs))
                }
                let err = maxRelativeError(kGram, kExplicit)
                XCTAssertLessThan(err, 1e-4, "hidden \(c.hidden) \(c.activation) C=\(c.outputs) \(parameterization)")
            }
        }
    }

    func testAllThreePathsAgreeWithAPreconditioner() {
        let model = MLP(MLPSpec(inputDimension: 4, hidden: [6], outputDimension: 2, activation: .tanh))
        let θ = model.initialParameters(seed: 3)
        var rng = RandomSource(seed: 4, stream: .other)
        let p = (0..<model.parameterCount).map { _ in Float(0.1 + rng.uniform()) }
        let xa = randomMatrix(5, 4, seed: 5), xb = randomMatrix(3, 4, seed: 6)
        let explicit = ExplicitJacobianKernel(model: model), columns = VJPJVPKernel(model: model)
        let (k1, k2, t1, t2) = θ.withUnsafeBufferPointer { tp in
            p.withUnsafeBufferPointer { pp -> (Matrix, Matrix, [Double], [Double]) in
                let a1 = explicit.prepare(xa, parameters: tp.baseAddress!, preconditioner: pp.baseAddress!)
                let b1 = explicit.prepare(xb, parameters: tp.baseAddress!, preconditioner: pp.baseAddress!)
                let a2 = columns.prepare(xa, parameters: tp.baseAddress!, preconditioner: pp.baseAddress!)
                let b2 = columns.prepare(xb, parameters: tp.baseAddress!, preconditioner: pp.baseAddress!)
                return (explicit.kernel(a1, b1, outputs: 2), columns.kernel(a2, b2, outputs: 2),
                        explicit.traces(a1), columns.traces(a2))
            }
        }
        XCTAssertLessThan(maxRelativeError(k2, k1), 1e-4)
        for (a, b) in zip(t1, t2) { XCTAssertEqual(a, b, accuracy: 1e-4 * max(abs(b), 1)) }
        // A preconditioner must change the kernel (the test would pass vacuously otherwise).
        let plain = θ.withUnsafeBufferPointer { tp -> Matrix in
            let a = explicit.prepare(xa, parameters: tp.baseAddress!, preconditioner: nil)
            let b = explicit.prepare(xb, parameters: tp.baseAddress!, preconditioner: nil)
            return explicit.kernel(a, b, outputs: 2)
        }
        XCTAssertGreaterThan(maxRelativeError(plain, k1), 1e-2)
    }

    /// lens.md §4: for plain SGD, −(γ/b) Σ_i K(x, x_i) g_i equals J(x)Δθ.
    func testKernelFormIncrementEqualsJVPFormForSGD() {
        for outputs in [1, 3] {
            let model = MLP(MLPSpec(inputDimension: 6, hidden: [20, 10], outputDimension: outputs, activation: .tanh))
            let θ = FloatBuffer(model.initialParameters(seed: 11))
            let batch = randomMatrix(8, 6, seed: 12), targets = randomMatrix(8, outputs, seed: 13)
            let points = randomMatrix(15, 6, seed: 14)
            let γ: Float = 0.1
            // SGD step from the batch gradient.
            let f = model.forward(batch, parameters: θ.base).copied()
            let g = Matrix(rows: 8, cols: outputs)
            Loss.mse.outputGradient(outputs: f, targets: targets, into: g)   // (f − y)/b
            let gradient = FloatBuffer(count: model.parameterCount)
            model.vjp(seeds: g, into: gradient.base, beta: 0)
            let Δθ = FloatBuffer(count: model.parameterCount)
            Vec.axpy(model.parameterCount, -γ, gradient.base, Δθ.base)
            let jvpIncrement = model.jvp(points, parameters: θ.base, direction: Δθ.base).tangent.copied()

            let path = LayerGramKernel(model: model)
            let k = path.kernel(path.prepare(points, parameters: θ.base, preconditioner: nil),
                                path.prepare(batch, parameters: θ.base, preconditioner: nil), outputs: outputs)
            // g already carries 1/b, so the kernel form is −γ K vec(g).
            let kernelIncrement = Matrix(rows: 15 * outputs, cols: 1)
            gemm(k, Matrix(rows: 8 * outputs, cols: 1, stride: 1, base: g.base, owner: g.owner), into: kernelIncrement, alpha: -γ)
            let asPoints = Matrix(rows: 15, cols: outputs, stride: outputs, base: kernelIncrement.base, owner: kernelIncrement.owner)
            XCTAssertLessThan(maxRelativeError(asPoints, jvpIncrement), 1e-4, "C=\(outputs)")
        }
    }
}
