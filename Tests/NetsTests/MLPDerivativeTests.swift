import XCTest
import Linalg
@testable import Nets

/// VJP and JVP of `MLP` against central finite differences of an independent Float64 reference,
/// for every activation × loss × parameterization × bias, and Kumar et al.'s network (fixed mean
/// readout, ε-quadratic activation) with one and two hidden layers.
final class MLPDerivativeTests: XCTestCase {
    func specs() -> [(MLPSpec, Loss)] {
        var out: [(MLPSpec, Loss)] = []
        for hidden in [[6], [5, 4]] {
            for bias in [false, true] {
                out.append((MLPSpec(inputDimension: 3, hidden: hidden, outputDimension: 1, activation: .epsQuadratic(0.2),
                                    bias: bias, initialization: .normal(std: 1), readout: .fixedMean), .mse))
            }
        }
        for activation in Activation.allCases {
            for loss in Loss.allCases {
                for parameterization in [Parameterization.standard, .ntk] {
                    for bias in [true, false] {
                        let spec = MLPSpec(inputDimension: 3, hidden: [5, 4], outputDimension: loss == .mse ? 2 : 3,
                                           activation: activation, bias: bias, initialization: .xavier,
                                           initScale: 1, parameterization: parameterization)
                        out.append((spec, loss))
                    }
                }
            }
        }
        return out
    }

    /// Targets: regression values for mse, class indices for cross-entropy.
    func targets(_ loss: Loss, _ m: Int, _ C: Int, _ rng: inout RandomSource) -> Matrix {
        switch loss {
        case .mse: return randomMatrix(m, C, &rng)
        case .crossEntropy: return Matrix(rows: m, cols: 1, values: (0..<m).map { _ in Float(rng.integer(below: C)) })
        }
    }

    func testLossGradientMatchesFiniteDifferencesOfReference() {
        let wide = [true, false].map { bias in
            (MLPSpec(inputDimension: 3, hidden: [19, 9], outputDimension: 2, activation: .relu, bias: bias), Loss.mse)
        }
        for (k, (spec, loss)) in (specs() + wide).enumerated() {
            var rng = RandomSource(seed: UInt64(k), stream: .other)
            let net = MLP(spec)
            var θ = net.initialParameters(seed: UInt64(k))
            // Non-zero biases so the bias path is exercised.
            for shape in net.layers where shape.hasBias {
                for j in 0..<shape.outputs { θ[shape.biasOffset + j] = Float(0.3 * rng.normal()) }
            }
            let m = 4
            let x = randomMatrix(m, spec.inputDimension, &rng)
            let y = targets(loss, m, spec.outputDimension, &rng)
            let f = θ.withUnsafeBufferPointer { net.forward(x, parameters: $0.baseAddress!) }
            let seeds = Matrix(rows: m, cols: spec.outputDimension)
            loss.outputGradient(outputs: f, targets: y, into: seeds)
            var gradient = [Float](repeating: .nan, count: net.parameterCount)
            θ.withUnsafeBufferPointer { t in
                gradient.withUnsafeMutableBufferPointer {
                    net.vjp(seeds: seeds, parameters: t.baseAddress!, into: $0.baseAddress!, beta: 0)
                }
            }

            let ref = ReferenceMLP(spec: spec)
            let xs = rows(of: x), ys = rows(of: y), θd = θ.map(Double.init)
            let refLoss = ref.batchLoss(loss, xs, ys, θd)
            XCTAssertEqual(loss.loss(outputs: f, targets: y), refLoss, accuracy: 1e-4 * max(1, abs(refLoss)),
                           "loss \(spec) \(loss)")
            let h = 1e-6
            var fd = [Double](repeating: 0, count: θ.count)
            for j in 0..<θ.count {
                var p = θd, q = θd
                p[j] += h; q[j] -= h
                fd[j] = (ref.batchLoss(loss, xs, ys, p) - ref.batchLoss(loss, xs, ys, q)) / (2 * h)
            }
            let scale = fd.map(abs).max()!
            XCTAssertGreaterThan(scale, 1e-3)
            for j in 0..<θ.count {
                XCTAssertEqual(Double(gradient[j]), fd[j], accuracy: 2e-4 * scale,
                               "∂L/∂θ[\(j)] for \(spec.activation) \(loss) \(spec.parameterization) bias=\(spec.bias)")
            }
        }
    }

    func testJVPMatchesFiniteDifferencesAndAdjointsVJP() {
        // Plus wide ReLU layers, so the vectorized ReLU kernels run their SIMD lanes and tails.
        let wide = [true, false].map { bias in
            (MLPSpec(inputDimension: 3, hidden: [19, 9], outputDimension: 2, activation: .relu, bias: bias), Loss.mse)
        }
        for (k, (spec, _)) in (specs() + wide).enumerated() {
            var rng = RandomSource(seed: UInt64(100 + k), stream: .other)
            let net = MLP(spec)
            var θ = net.initialParameters(seed: UInt64(k))
            for shape in net.layers where shape.hasBias {
                for j in 0..<shape.outputs { θ[shape.biasOffset + j] = Float(0.3 * rng.normal()) }
            }
            let v = (0..<net.parameterCount).map { _ in Float(rng.normal()) }
            let m = 5, C = spec.outputDimension
            let x = randomMatrix(m, spec.inputDimension, &rng)
            let θp = UnsafeMutablePointer<Float>.allocate(capacity: θ.count); defer { θp.deallocate() }
            θp.initialize(from: θ, count: θ.count)
            let vp = UnsafeMutablePointer<Float>.allocate(capacity: v.count); defer { vp.deallocate() }
            vp.initialize(from: v, count: v.count)
            let (primal, tangent) = net.jvp(x, parameters: θp, direction: vp)
            let fRef = ReferenceMLP(spec: spec)
            let θd = θ.map(Double.init), vd = v.map(Double.init)
            let h = 1e-6
            for i in 0..<m {
                let xi = (0..<spec.inputDimension).map { Double(x[i, $0]) }
                let f0 = fRef.outputs(xi, θd)
                let fp = fRef.outputs(xi, zip(θd, vd).map { $0 + h * $1 })
                let fm = fRef.outputs(xi, zip(θd, vd).map { $0 - h * $1 })
                for c in 0..<C {
                    XCTAssertEqual(Double(primal[i, c]), f0[c], accuracy: 1e-4 * max(1, abs(f0[c])), "primal \(spec)")
                    let d = (fp[c] - fm[c]) / (2 * h)
                    XCTAssertEqual(Double(tangent[i, c]), d, accuracy: 3e-4 * max(1, abs(d)),
                                   "JVP \(spec.activation) \(spec.parameterization) bias=\(spec.bias) point \(i) output \(c)")
                }
            }
            // ⟨VJP(seed), v⟩ = ⟨seed, JVP(v)⟩: copy the tangent first (workspace), then VJP at the same X.
            let tangentCopy = tangent.copied()
            let seed = randomMatrix(m, C, &rng)
            let g = UnsafeMutablePointer<Float>.allocate(capacity: net.parameterCount); defer { g.deallocate() }
            net.vjp(seeds: seed, into: g, beta: 0)
            var lhs = 0.0
            for j in 0..<v.count { lhs += Double(g[j]) * Double(v[j]) }
            let rhs = zip(seed.array, tangentCopy.array).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            XCTAssertEqual(lhs, rhs, accuracy: 1e-4 * max(1, abs(lhs)), "adjoint identity \(spec)")
        }
    }

    func testVJPAccumulatesWithBeta() {
        let spec = MLPSpec(inputDimension: 2, hidden: [3], outputDimension: 1, activation: .tanh)
        let net = MLP(spec)
        let θ = FloatBuffer(net.initialParameters(seed: 1))
        var rng = RandomSource(seed: 2, stream: .other)
        let x = randomMatrix(3, 2, &rng), seed = randomMatrix(3, 1, &rng)
        _ = net.forward(x, parameters: θ.base)
        let g1 = FloatBuffer(count: net.parameterCount)
        net.vjp(seeds: seed, into: g1.base, beta: 0)
        let g2 = FloatBuffer([Float](repeating: 1, count: net.parameterCount))
        net.vjp(seeds: seed, into: g2.base, beta: 0.5)
        for j in 0..<g1.count { XCTAssertEqual(g2[j], 0.5 + g1[j], accuracy: 1e-6) }
    }

    func testInitializationIsDeterministicAndScaled() {
        let spec = MLPSpec(inputDimension: 400, hidden: [300], outputDimension: 1, initialization: .he, initScale: 2)
        let net = MLP(spec)
        let a = net.initialParameters(seed: 7), b = net.initialParameters(seed: 7), c = net.initialParameters(seed: 8)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        let w = net.layers[0]
        let values = a[w.weightOffset..<(w.weightOffset + w.weightCount)].map(Double.init)
        let variance = values.reduce(0) { $0 + $1 * $1 } / Double(values.count)
        XCTAssertEqual(variance, 4 * 2.0 / 400, accuracy: 0.05 * 4 * 2.0 / 400)   // α² · 2/fan_in
        XCTAssertTrue(a[w.biasOffset..<(w.biasOffset + w.outputs)].allSatisfy { $0 == 0 })
    }
}
