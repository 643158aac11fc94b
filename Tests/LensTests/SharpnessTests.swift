import Foundation
import Learning
@testable import Lens
import Linalg
import Nets
import Runner
import XCTest

/// A dense eigendecomposition of a small symmetric matrix by cyclic Jacobi rotations,
/// independent of the power iteration under test: `h = V diag(values) Vᵀ`.
func symmetricEigen(_ h: [[Double]]) -> (values: [Double], vectors: [[Double]]) {
    let n = h.count
    var a = h
    var v = (0..<n).map { i in (0..<n).map { $0 == i ? 1.0 : 0.0 } }
    for _ in 0..<100 {
        var off = 0.0
        for p in 0..<n { for q in (p + 1)..<max(n, p + 1) { off += a[p][q] * a[p][q] } }
        if off < 1e-24 { break }
        for p in 0..<n {
            for q in (p + 1)..<max(n, p + 1) where abs(a[p][q]) > 1e-300 {
                let θ = (a[q][q] - a[p][p]) / (2 * a[p][q])
                let t = (θ >= 0 ? 1.0 : -1.0) / (abs(θ) + (θ * θ + 1).squareRoot())
                let c = 1 / (t * t + 1).squareRoot(), s = t * c
                for k in 0..<n {
                    let akp = a[k][p], akq = a[k][q]
                    a[k][p] = c * akp - s * akq; a[k][q] = s * akp + c * akq
                }
                for k in 0..<n {
                    let apk = a[p][k], aqk = a[q][k]
                    a[p][k] = c * apk - s * aqk; a[q][k] = s * apk + c * aqk
                }
                for k in 0..<n {
                    let vkp = v[k][p], vkq = v[k][q]
                    v[k][p] = c * vkp - s * vkq; v[k][q] = s * vkp + c * vkq
                }
            }
        }
    }
    return ((0..<n).map { a[$0][$0] }, v)
}

func largestEigenvalue(_ a: [[Double]]) -> Double { symmetricEigen(a).values.max() ?? 0 }

/// √H = V √Λ Vᵀ for a positive semi-definite H.
func symmetricSquareRoot(_ h: [[Double]]) -> [[Double]] {
    let (values, v) = symmetricEigen(h), n = h.count
    let roots = values.map { max($0, 0).squareRoot() }
    return (0..<n).map { i in (0..<n).map { j in (0..<n).reduce(0.0) { $0 + v[i][$1] * roots[$1] * v[j][$1] } } }
}

func multiply(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
    let n = a.count, m = b[0].count, k = b.count
    return (0..<n).map { i in (0..<m).map { j in (0..<k).reduce(0.0) { $0 + a[i][$1] * b[$1][j] } } }
}

final class SharpnessTests: XCTestCase {
    let yaml = """
        seed: 3
        steps: 6
        data: {source: gaussian-mixture, k: 3, d: 5, n_train: 40, n_test: 20, target: onehot}
        model: {hidden: [7], activation: tanh}
        optimizer: {kind: sgd, lr: 0.1, batch_size: 8}
        lens: {every: 1, reference: 8}
        """

    /// lens.md (8.15): gn_sharpness = λ_max(H^½ K^P_BB H^½)/b for the step's batch at θ_{t-1},
    /// against a dense eigendecomposition of the same matrix built from brute-force Jacobian
    /// rows — for each way the lens forms K_BB (the smoother's kernel block, layer Gram matrices
    /// of the batch, matrix-free with Adam's P_t) and with cross-entropy's H.
    func testGaussNewtonSharpnessMatchesADenseEigendecomposition() throws {
        let cases: [[String]] = [
            ["lens.smoother=exact"],                                   // K_BB from K(U, B)
            ["optimizer.momentum=0.5", "lens.smoother=off"],            // layer Gram of the batch
            ["optimizer.kind=adam", "optimizer.lr=0.01", "lens.smoother=probes", "lens.probes=4"],  // matrix-free, K^P
            ["loss=cross_entropy", "lens.smoother=exact"],              // H = diag(p) − ppᵀ
        ]
        for overrides in cases {
            let prepared = try PreparedRun(try TrainConfig.load(text: yaml, source: "test", overrides: overrides))
            let sink = MemorySink()
            let loop = try TrainingLoop(prepared, sink: sink)
            sink.names = loop.lens.scalarKeys.names
            for _ in 0..<3 { loop.lens.observe(loop.learner.step()) }
            let o = loop.learner.step()
            let network = try XCTUnwrap(loop.networkLearner)
            let θ = Array(UnsafeBufferPointer(start: network.previousParameters, count: network.parameterCount))
            let batch = o.batch
            let preconditioner = network.optimizer.preconditioner.map { Array(UnsafeBufferPointer(start: $0, count: θ.count)) }
            loop.lens.observe(o)
            let recorded = try XCTUnwrap(sink.scalars["gn_sharpness"]?.last)
            XCTAssertEqual(recorded.step, o.step)

            // Brute force: J_B (b·C × P), K = J P Jᵀ, H per point at the network's outputs.
            let model = network.model, c = model.outputDimension, b = batch.count
            let x = Matrix(rows: b, cols: prepared.problem.trainX.cols)
            prepared.problem.trainX.gatherRows(batch, into: x)
            let j = θ.withUnsafeBufferPointer { jacobianRows(model: model, x, parameters: $0.baseAddress!) }
            var k = [[Double]](repeating: [Double](repeating: 0, count: b * c), count: b * c)
            for r in 0..<(b * c) {
                for s in 0..<(b * c) {
                    var sum = 0.0
                    for q in 0..<θ.count { sum += Double(j[r, q]) * Double(j[s, q]) * Double(preconditioner?[q] ?? 1) }
                    k[r][s] = sum
                }
            }
            if prepared.config.loss == .crossEntropy {
                // The symmetric form H^½ K H^½ (same eigenvalues as K H), H^½ block by block.
                let f = θ.withUnsafeBufferPointer { model.forward(x, parameters: $0.baseAddress!).copied() }
                var s = [[Double]](repeating: [Double](repeating: 0, count: b * c), count: b * c)
                for i in 0..<b {
                    var p = (0..<c).map { Foundation.exp(Double(f[i, $0])) }
                    let total = p.reduce(0, +); p = p.map { $0 / total }
                    let h = (0..<c).map { a in (0..<c).map { bb in (a == bb ? p[a] : 0) - p[a] * p[bb] } }
                    let root = symmetricSquareRoot(h)
                    for a in 0..<c { for bb in 0..<c { s[i * c + a][i * c + bb] = root[a][bb] } }
                }
                k = multiply(multiply(s, k), s)
            }
            let expected = largestEigenvalue(k) / Double(b)
            XCTAssertEqual(recorded.value, expected, accuracy: 1e-3 * expected, "\(overrides)")
            let stability = try XCTUnwrap(sink.scalars["stability"]?.last?.value)
            XCTAssertEqual(stability, o.learningRate * recorded.value, accuracy: 1e-12 * stability)
        }
    }

    /// The edge of stability (lens.md (8.15)–(8.16)): full-batch gradient descent pushed past
    /// γλ_max/b = 2 records one `smoother_unstable` event, the stability keys and the flag 0 from
    /// then on; the same run at a small learning rate records no event and the flag 1 throughout.
    func testASmootherPastTheEdgeOfStabilityIsFlaggedAndReportedOnce() throws {
        let eos = """
            seed: 0
            steps: 120
            data: {source: gaussian-mixture, k: 2, d: 10, separation: 3, n_train: 60, n_test: 20, target: pm1}
            model: {hidden: [16], parameterization: ntk}
            optimizer: {kind: sgd, lr: 2.0, batch_size: 60}
            lens: {every: 10, smoother: exact, kernel: false}
            """
        let (unstable, _) = try trainInMemory(eos)
        XCTAssertEqual(unstable.events.count, 1, "\(unstable.events)")
        XCTAssertEqual(unstable.events.first?.kind, "smoother_unstable")
        XCTAssertTrue(unstable.events.first?.message.contains("> 2 (lr 2), the bound of SGD, 2") ?? false, unstable.events.first?.message ?? "")
        XCTAssertTrue(unstable.scalars["stability_bound"]?.allSatisfy { $0.value == 2 } ?? false, "plain SGD's bound is 2")
        let flags = try XCTUnwrap(unstable.scalars["smoother_stable"])
        XCTAssertEqual(flags.first?.value, 1)
        XCTAssertEqual(flags.last?.value, 0)
        let firstZero = try XCTUnwrap(flags.first { $0.value == 0 })
        XCTAssertTrue(flags.filter { $0.step >= firstZero.step }.allSatisfy { $0.value == 0 }, "the flag is sticky")
        XCTAssertGreaterThan(unstable.scalars["stability"]?.map(\.value).max() ?? 0, 2)

        let (stable, _) = try trainInMemory(eos, overrides: ["optimizer.lr=0.2"])
        XCTAssertTrue(stable.events.isEmpty, "\(stable.events)")
        XCTAssertTrue(stable.scalars["smoother_stable"]?.allSatisfy { $0.value == 1 } ?? false)
        XCTAssertLessThan(stable.scalars["stability"]?.map(\.value).max() ?? 3, 2)
    }
}

