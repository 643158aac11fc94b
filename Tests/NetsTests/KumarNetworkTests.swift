import XCTest
import Linalg
@testable import Nets

/// Kumar et al.'s network (ICLR 2024; telescoping.md §11), `f(x) = (1/N) Σ_j φ(θ_j·x)` with
/// `φ(h) = h + (ε/2)h²`, no biases, a fixed readout outside θ: closed forms, the parameter count,
/// and the factor-read primal (its Jacobian against finite differences: KernelFactorTests).
final class KumarNetworkTests: XCTestCase {
    func kumar(d: Int, N: Int, ε: Float) -> MLPSpec {
        MLPSpec(inputDimension: d, hidden: [N], outputDimension: 1, activation: .epsQuadratic(ε), bias: false,
                initialization: .normal(std: 1), readout: .fixedMean)
    }

    func testOneUnitIsPhiOfTheProjectionWithItsClosedFormGradient() {
        // N = 1: f = φ(θ·x) = θ·x + (ε/2)(θ·x)², ∂f/∂θ = (1 + ε θ·x) x.
        let ε: Float = 0.2, d = 3
        let net = MLP(kumar(d: d, N: 1, ε: ε))
        XCTAssertEqual(net.parameterCount, d, "the readout is not a parameter")
        let θ = FloatBuffer([0.5, -1.25, 2])
        let x = Matrix(rows: 2, cols: d, values: [1, 2, -0.5, 0.25, 0, 4])
        let f = net.forward(x, parameters: θ.base).copied()
        for (i, h) in [0.5 - 2.5 - 1.0, 0.125 + 8.0].enumerated() {
            XCTAssertEqual(Double(f[i, 0]), h + 0.1 * h * h, accuracy: 1e-5)
        }
        // Point 0 alone: h = −3, gradient (1 + 0.2·(−3))·x = 0.4·x.
        _ = net.forward(x.rows(0..<1), parameters: θ.base)
        let g = FloatBuffer(count: d)
        net.vjp(seeds: Matrix(rows: 1, cols: 1, values: [1]), parameters: θ.base, into: g.base, beta: 0)
        for (k, xk) in [1.0, 2, -0.5].enumerated() { XCTAssertEqual(Double(g[k]), 0.4 * xk, accuracy: 1e-6) }
    }

    func testOutputIsTheMeanOfTheHiddenUnitsAndThetaHoldsOnlyThem() {
        let d = 4, N = 5, ε: Float = 0.5
        let net = MLP(kumar(d: d, N: N, ε: ε))
        XCTAssertEqual(net.parameterCount, N * d)
        XCTAssertEqual(net.layers.count, 1)
        let θ = net.initialParameters(seed: 3)
        var rng = RandomSource(seed: 4, stream: .other)
        let x = randomMatrix(3, d, &rng)
        let f = θ.withUnsafeBufferPointer { net.forward(x, parameters: $0.baseAddress!) }.copied()
        for i in 0..<3 {
            var mean = 0.0
            for j in 0..<N {
                var h = 0.0
                for k in 0..<d { h += Double(θ[j * d + k]) * Double(x[i, k]) }
                mean += (h + Double(ε) / 2 * h * h) / Double(N)
            }
            XCTAssertEqual(Double(f[i, 0]), mean, accuracy: 1e-5)
        }
    }

    func testInitialWeightsAreStandardNormal() {
        let net = MLP(kumar(d: 100, N: 400, ε: 0.2))
        let θ = net.initialParameters(seed: 1).map(Double.init)
        let mean = θ.reduce(0, +) / Double(θ.count)
        let variance = θ.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(θ.count)
        XCTAssertEqual(mean, 0, accuracy: 0.01)
        XCTAssertEqual(variance, 1, accuracy: 0.02)
    }

    func testPrimalReadOffFactorsEqualsForward() {
        for spec in [kumar(d: 3, N: 6, ε: 0.2),
                     MLPSpec(inputDimension: 3, hidden: [5, 4], outputDimension: 1, activation: .epsQuadratic(0.05), bias: true,
                             initialization: .normal(std: 1), readout: .fixedMean),
                     MLPSpec(inputDimension: 3, hidden: [5], outputDimension: 2, activation: .tanh)] {
            let net = MLP(spec)
            let θ = FloatBuffer(net.initialParameters(seed: 2))
            for shape in net.layers where shape.hasBias { for j in 0..<shape.outputs { θ[shape.biasOffset + j] = 0.1 * Float(j + 1) } }
            var rng = RandomSource(seed: 7, stream: .other)
            let x = randomMatrix(4, 3, &rng)
            let f = net.forward(x, parameters: θ.base).copied()
            let last = net.kernelFactors(x, parameters: θ.base).last!.inputs
            let out = Matrix(rows: 4, cols: spec.outputDimension)
            net.outputs(lastFactorInputs: last, parameters: θ.base, into: out)
            for i in 0..<4 { for c in 0..<spec.outputDimension { XCTAssertEqual(out[i, c], f[i, c], accuracy: 1e-5) } }
        }
    }
}
