import XCTest
import Linalg
@testable import Nets

/// Workspace and layout behaviour the Lens relies on: strided views as inputs, workspaces that
/// grow and are reused across point-set sizes, a VJP after a JVP on the same X.
final class MLPWorkspaceTests: XCTestCase {
    let spec = MLPSpec(inputDimension: 3, hidden: [7, 5], outputDimension: 2, activation: .sigmoid)

    func testStridedInputViewsGiveTheSameResultsAsContiguousCopies() {
        let net = MLP(spec)
        let θ = FloatBuffer(net.initialParameters(seed: 1))
        var rng = RandomSource(seed: 2, stream: .other)
        let v = FloatBuffer((0..<net.parameterCount).map { _ in Float(rng.normal()) })
        let wide = randomMatrix(6, 8, &rng)
        let view = wide.columns(2..<5)             // stride 8, 3 columns
        let copy = view.copied()
        let (pv, tv) = net.jvp(view, parameters: θ.base, direction: v.base)
        let pvA = pv.array, tvA = tv.array
        let (pc, tc) = net.jvp(copy, parameters: θ.base, direction: v.base)
        assertClose(pvA, pc.array)
        assertClose(tvA, tc.array)
        let seeds = randomMatrix(6, 2, &rng)
        let g1 = FloatBuffer(count: net.parameterCount), g2 = FloatBuffer(count: net.parameterCount)
        _ = net.forward(view, parameters: θ.base); net.vjp(seeds: seeds, into: g1.base, beta: 0)
        _ = net.forward(copy, parameters: θ.base); net.vjp(seeds: seeds, into: g2.base, beta: 0)
        assertClose(g1.array, g2.array)
    }

    func testResultsDoNotDependOnWorkspaceHistory() {
        let fresh = MLP(spec), used = MLP(spec)
        let θ = FloatBuffer(fresh.initialParameters(seed: 3))
        var rng = RandomSource(seed: 4, stream: .other)
        let v = FloatBuffer((0..<fresh.parameterCount).map { _ in Float(rng.normal()) })
        let small = randomMatrix(3, 3, &rng), large = randomMatrix(40, 3, &rng)
        _ = used.jvp(large, parameters: θ.base, direction: v.base)
        _ = used.forward(small, parameters: θ.base)
        let (a, b) = used.jvp(small, parameters: θ.base, direction: v.base)
        let (c, d) = fresh.jvp(small, parameters: θ.base, direction: v.base)
        XCTAssertEqual(a.array, c.array)
        XCTAssertEqual(b.array, d.array)
        // VJP after JVP equals VJP after forward on the same X.
        let seeds = randomMatrix(3, 2, &rng)
        let g1 = FloatBuffer(count: fresh.parameterCount), g2 = FloatBuffer(count: fresh.parameterCount)
        used.vjp(seeds: seeds, into: g1.base, beta: 0)
        _ = fresh.forward(small, parameters: θ.base)
        fresh.vjp(seeds: seeds, into: g2.base, beta: 0)
        XCTAssertEqual(g1.array, g2.array)
    }

    /// Equal up to GEMM kernel choice (oneDNN may block differently for another leading dimension).
    func assertClose(_ a: [Float], _ b: [Float], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-6 * max(1, abs(y)), file: file, line: line) }
    }
}

final class MultiDirectionJVPTests: XCTestCase {
    func testStackedDirectionsEqualSeparateJVPs() {
        for (activation, bias) in [(Activation.relu, true), (.tanh, false), (.gelu, true)] {
            let net = MLP(MLPSpec(inputDimension: 4, hidden: [9, 6], outputDimension: 3, activation: activation,
                                  bias: bias, parameterization: .ntk))
            let θ = FloatBuffer(net.initialParameters(seed: 5))
            var rng = RandomSource(seed: 6, stream: .other)
            let directions = (0..<3).map { _ in FloatBuffer((0..<net.parameterCount).map { _ in Float(rng.normal()) }) }
            let x = randomMatrix(7, 4, &rng)
            let separate = directions.map { net.jvp(x, parameters: θ.base, direction: $0.base).tangent.array }
            let primal = net.forward(x, parameters: θ.base).array
            let (p, tangents) = net.jvp(x, parameters: θ.base, directions: directions.map { UnsafePointer($0.base) })
            XCTAssertEqual(tangents.count, 3)
            for (a, b) in zip(p.array, primal) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b))) }
            for j in 0..<3 {
                for (a, b) in zip(tangents[j].array, separate[j]) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b)), "\(activation) direction \(j)") }
            }
        }
    }
}
