import XCTest
import Linalg
@testable import Nets

/// lens.md §4: for plain SGD with coupled L2 the JVP form of one step,
/// `J_{t-1}(x) Δθ_t`, equals the kernel form
/// `−(γ/b) Σ_{i∈B} K_t(x, x_i) g_i − γλ J_{t-1}(x) θ_{t-1}`, with K from the §5 layer factors.
final class TelescopingInvariantTests: XCTestCase {
    func testJVPOfSGDUpdateEqualsKernelForm() throws {
        for (C, activation) in [(1, Activation.gelu), (3, .gelu), (1, .relu), (3, .relu)] {
            let spec = MLPSpec(inputDimension: 5, hidden: [16, 8], outputDimension: C, activation: activation)
            let net = MLP(spec)
            let θ = FloatBuffer(net.initialParameters(seed: 11))
            var rng = RandomSource(seed: 12, stream: .other)
            let b = 6, m = 4, γ: Float = 0.05, λ: Float = 0.1
            let xb = randomMatrix(b, 5, &rng), yb = randomMatrix(b, C, &rng), x = randomMatrix(m, 5, &rng)

            // The real step: batch gradient, optimizer's Δθ, then the JVP at θ_{t-1}.
            let f = net.forward(xb, parameters: θ.base)
            let seeds = Matrix(rows: b, cols: C)
            Loss.mse.outputGradient(outputs: f, targets: yb, into: seeds)   // g_i / b
            let residuals = Matrix(rows: b, cols: C)
            for i in 0..<b { for c in 0..<C { residuals[i, c] = f[i, c] - yb[i, c] } }
            let gradient = FloatBuffer(count: net.parameterCount), update = FloatBuffer(count: net.parameterCount)
            net.vjp(seeds: seeds, parameters: θ.base, into: gradient.base, beta: 0)
            let opt = try OptimizerSpec(kind: .sgd, lr: Double(γ), weightDecay: λ).makeOptimizer(parameterCount: net.parameterCount)
            opt.proposeUpdate(parameters: θ.base, gradient: gradient.base, update: update.base, step: 1)
            let jvpIncrement = net.jvp(x, parameters: θ.base, direction: update.base).tangent.copied()
            let decayTerm = net.jvp(x, parameters: θ.base, direction: θ.base).tangent.copied()   // J(x) θ

            // The kernel form from layer factors.
            let fx = net.kernelFactors(x, parameters: θ.base), fb = net.kernelFactors(xb, parameters: θ.base)
            for p in 0..<m {
                for c in 0..<C {
                    var sum = 0.0
                    for i in 0..<b {
                        for c2 in 0..<C {
                            var k = 0.0
                            for (lx, lb) in zip(fx, fb) {
                                var dd = 0.0, hh = 0.0
                                for j in 0..<lx.deltas[c].cols { dd += Double(lx.deltas[c][p, j]) * Double(lb.deltas[c2][i, j]) }
                                for j in 0..<lx.inputs.cols { hh += Double(lx.inputs[p, j]) * Double(lb.inputs[i, j]) }
                                k += dd * (hh + Double(lx.biasScale * lx.biasScale))
                            }
                            sum += k * Double(residuals[i, c2])
                        }
                    }
                    let kernelForm = -Double(γ) / Double(b) * sum - Double(γ * λ) * Double(decayTerm[p, c])
                    XCTAssertEqual(Double(jvpIncrement[p, c]), kernelForm, accuracy: 1e-4 * max(abs(kernelForm), 1e-3),
                                   "point \(p) output \(c), C = \(C)")
                }
            }
        }
    }
}
