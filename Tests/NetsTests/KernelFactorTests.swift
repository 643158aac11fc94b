import XCTest
import Linalg
@testable import Nets

/// The layer factorization of lens.md §5 against brute force: `K = J Jᵀ` from explicit
/// per-example Jacobians, which are themselves checked against finite differences.
final class KernelFactorTests: XCTestCase {
    func testKernelFromFactorsEqualsExplicitJacobianGram() {
        for hidden in [[], [6], [5, 4]] {
            for C in [1, 3] {
                for parameterization in [Parameterization.standard, .ntk] {
                    let spec = MLPSpec(inputDimension: 4, hidden: hidden, outputDimension: C, activation: .tanh,
                                       bias: hidden.count != 1, initialization: .he, parameterization: parameterization)
                    checkKernel(spec, seed: UInt64(hidden.count * 10 + C))
                }
            }
        }
    }

    /// Kumar et al.'s network: the fixed readout adds no factor, and the hidden layers' factors
    /// still give J Jᵀ (their deltas carry the readout's 1/N).
    func testKernelFromFactorsOfFixedReadoutEqualsExplicitJacobianGram() {
        for hidden in [[6], [5, 4]] {
            for bias in [false, true] {
                checkKernel(MLPSpec(inputDimension: 4, hidden: hidden, outputDimension: 1, activation: .epsQuadratic(0.2),
                                    bias: bias, initialization: .normal(std: 1), readout: .fixedMean), seed: UInt64(hidden.count))
            }
        }
    }

    func checkKernel(_ spec: MLPSpec, seed: UInt64) {
        let net = MLP(spec)
        let θ = FloatBuffer(net.initialParameters(seed: seed))
        var rng = RandomSource(seed: seed, stream: .other)
        for shape in net.layers where shape.hasBias {
            for j in 0..<shape.outputs { θ[shape.biasOffset + j] = Float(0.2 * rng.normal()) }
        }
        let m = 6, C = spec.outputDimension
        let x = randomMatrix(m, spec.inputDimension, &rng)
        let J = net.perExampleJacobian(x, parameters: θ.base)
        XCTAssertEqual(J.rows, m * C)
        XCTAssertEqual(J.cols, net.parameterCount)
        let factors = net.kernelFactors(x, parameters: θ.base)
        XCTAssertEqual(factors.count, spec.readout == .fixedMean ? spec.hidden.count : spec.hidden.count + 1)

        var maxAbs = 0.0, maxErr = 0.0
        for i in 0..<m {
            for j in 0..<m {
                for c in 0..<C {
                    for c2 in 0..<C {
                        var explicit = 0.0
                        for p in 0..<net.parameterCount { explicit += Double(J[i * C + c, p]) * Double(J[j * C + c2, p]) }
                        var fromFactors = 0.0
                        for f in factors {
                            var dd = 0.0, hh = 0.0
                            for k in 0..<f.deltas[c].cols { dd += Double(f.deltas[c][i, k]) * Double(f.deltas[c2][j, k]) }
                            for k in 0..<f.inputs.cols { hh += Double(f.inputs[i, k]) * Double(f.inputs[j, k]) }
                            fromFactors += dd * (hh + Double(f.biasScale * f.biasScale))
                        }
                        maxAbs = max(maxAbs, abs(explicit))
                        maxErr = max(maxErr, abs(explicit - fromFactors))
                    }
                }
            }
        }
        XCTAssertGreaterThan(maxAbs, 0)
        XCTAssertLessThanOrEqual(maxErr / maxAbs, 1e-4, "kernel factors for hidden \(spec.hidden), C = \(C), \(spec.parameterization)")
    }

    /// Also for Kumar et al.'s network (fixed readout, ε-quadratic), whose J has no readout columns.
    func testPerExampleJacobianMatchesFiniteDifferences() {
        let specs = [MLPSpec(inputDimension: 3, hidden: [4, 3], outputDimension: 2, activation: .gelu,
                             bias: true, initialization: .xavier, parameterization: .ntk)]
            + [[4], [3, 4]].map { hidden in
                MLPSpec(inputDimension: 3, hidden: hidden, outputDimension: 1, activation: .epsQuadratic(0.2),
                        bias: hidden.count > 1, initialization: .normal(std: 1), readout: .fixedMean)
            }
        for spec in specs {
            let net = MLP(spec), C = spec.outputDimension
            let θ = net.initialParameters(seed: 3)
            var rng = RandomSource(seed: 4, stream: .other)
            let x = randomMatrix(3, 3, &rng)
            let J = θ.withUnsafeBufferPointer { net.perExampleJacobian(x, parameters: $0.baseAddress!) }
            XCTAssertEqual(J.cols, net.parameterCount)
            let ref = ReferenceMLP(spec: spec)
            let θd = θ.map(Double.init), h = 1e-6
            for i in 0..<3 {
                let xi = (0..<3).map { Double(x[i, $0]) }
                for p in 0..<θ.count {
                    var a = θd, b = θd
                    a[p] += h; b[p] -= h
                    let fa = ref.outputs(xi, a), fb = ref.outputs(xi, b)
                    for c in 0..<C {
                        let fd = (fa[c] - fb[c]) / (2 * h)
                        XCTAssertEqual(Double(J[i * C + c, p]), fd, accuracy: 1e-4 * max(1, abs(fd)), "J[\(i),\(c),\(p)] \(spec.hidden) \(spec.activation)")
                    }
                }
            }
        }
    }

    func testKernelFactorsAreFreshAllocations() {
        let net = MLP(MLPSpec(inputDimension: 2, hidden: [3], outputDimension: 1))
        let θ = FloatBuffer(net.initialParameters(seed: 0))
        var rng = RandomSource(seed: 1, stream: .other)
        let x1 = randomMatrix(4, 2, &rng), x2 = randomMatrix(4, 2, &rng)
        let first = net.kernelFactors(x1, parameters: θ.base)
        let saved = first.map { ($0.inputs.array, $0.deltas.map(\.array)) }
        _ = net.kernelFactors(x2, parameters: θ.base)
        _ = net.forward(x2, parameters: θ.base)
        for (f, s) in zip(first, saved) {
            XCTAssertEqual(f.inputs.array, s.0)
            XCTAssertEqual(f.deltas.map(\.array), s.1)
        }
    }
}
