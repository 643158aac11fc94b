import Lens
import Linalg
import Nets
import Runner
import XCTest

/// lens.md §6: the recorded kernel statistics against the same quantities formed from a
/// brute-force Jacobian (one VJP per point) in the test.
final class KernelStatisticsTests: XCTestCase {
    func testStatisticsAtInitializationMatchBruteForceJacobians() throws {
        let yaml = """
        seed: 4
        steps: 1
        data: {source: teacher-quadratic, n_train: 20, n_test: 8, d: 3}
        model: {hidden: [6], activation: tanh}
        optimizer: {kind: sgd, lr: 0.1, batch_size: 5}
        lens: {every: 1, kernel: true, reference: 20, smoother: off}
        """
        let (sink, loop) = try trainInMemory(yaml)
        let prepared = loop.prepared, model = try XCTUnwrap(prepared.model)
        let train = prepared.split.train, test = prepared.split.test
        let θ0 = model.initialParameters(seed: 4)
        let xTrain = Matrix(rows: train.count, cols: train.dimension, values: train.features)
        let xTest = Matrix(rows: test.count, cols: test.dimension, values: test.features)
        let (jTrain, jTest) = θ0.withUnsafeBufferPointer {
            (jacobianRows(model: model, xTrain, parameters: $0.baseAddress!), jacobianRows(model: model, xTest, parameters: $0.baseAddress!))
        }
        func k(_ a: Matrix, _ i: Int, _ b: Matrix, _ j: Int) -> Double { Vec.dot(a.cols, a.row(i), b.row(j)) }

        // ktrace: mean ‖J(x)‖²; kwn: ‖K(x, R)‖ with R = every training point (scale √(n/|R|) = 1).
        let traceTrain = (0..<train.count).map { k(jTrain, $0, jTrain, $0) }.reduce(0, +) / Double(train.count)
        XCTAssertEqual(sink.scalars["ktrace_train"]?.first?.value ?? .nan, traceTrain, accuracy: 1e-4 * traceTrain)
        let kwnTest = try XCTUnwrap(sink.vectors["kwn/test"]?[0])
        for i in 0..<test.count {
            let expected = (0..<train.count).map { pow(k(jTest, i, jTrain, $0), 2) }.reduce(0, +).squareRoot()
            XCTAssertEqual(Double(kwnTest[i]), expected, accuracy: 1e-4 * expected)
        }
        // kalign = yᵀKy / (‖K‖_F ‖y‖²) on R.
        var yKy = 0.0, kk = 0.0, yy = 0.0
        for i in 0..<train.count {
            yy += Double(train.targets[i] * train.targets[i])
            for j in 0..<train.count {
                let kij = k(jTrain, i, jTrain, j)
                yKy += Double(train.targets[i]) * kij * Double(train.targets[j]); kk += kij * kij
            }
        }
        let kalign = yKy / (kk.squareRoot() * yy)
        XCTAssertEqual(sink.scalars["kalign"]?.first?.value ?? .nan, kalign, accuracy: 1e-4)
        XCTAssertEqual(sink.scalars["kdrift0"]?.first?.value ?? .nan, 0, accuracy: 1e-12)
        // One step later the kernel has moved, a little.
        let drift = try XCTUnwrap(sink.scalars["kdrift0"]?.last?.value)
        XCTAssertGreaterThan(drift, 0)
        XCTAssertLessThan(drift, 0.5)

        // grad_change/l at step 1 against step 0 (§7), from the layer's block of Jacobian columns.
        let j1 = try XCTUnwrap(loop.networkLearner).parameterArray.withUnsafeBufferPointer { jacobianRows(model: model, xTrain, parameters: $0.baseAddress!) }
        for (l, layer) in model.layers.enumerated() {
            var total = 0.0
            for i in 0..<train.count {
                var diff = 0.0, base = 0.0
                for q in layer.weightOffset..<(layer.weightOffset + layer.parameterCount) {
                    let now = Double(j1[i, q]), then = Double(jTrain[i, q])
                    diff += (now - then) * (now - then); base += then * then
                }
                total += (diff / base).squareRoot()
            }
            let expected = total / Double(train.count)
            let recorded = try XCTUnwrap(sink.scalars["grad_change/\(l + 1)"]?.last)
            XCTAssertEqual(recorded.step, 1)
            XCTAssertEqual(recorded.value, expected, accuracy: 1e-3 * expected + 1e-6)
            XCTAssertGreaterThan(expected, 0)
        }
    }

    /// The three kernel paths behind one interface record the same statistics in a real run.
    func testKernelPathsRecordTheSameStatistics() throws {
        func run(_ path: String) throws -> MemorySink {
            try trainInMemory("""
            seed: 6
            steps: 6
            data: {source: gaussian-mixture, n_train: 24, n_test: 10, k: 3, d: 4}
            model: {hidden: [7], activation: gelu}
            optimizer: {kind: sgd, lr: 0.05, batch_size: 8}
            lens: {every: 3, kernel: true, kernel_path: \(path), reference: 12, smoother: off}
            """).0
        }
        let gram = try run("layer_gram"), explicit = try run("explicit"), columns = try run("vjp_jvp")
        for key in ["ktrace_train", "ktrace_test", "kalign", "kwn_mean_test", "kwn_max_train", "kdrift0", "kvel"] {
            let g = gram.last(key)
            XCTAssertEqual(explicit.last(key), g, accuracy: 1e-4 * max(abs(g), 1e-3), key)
            XCTAssertEqual(columns.last(key), g, accuracy: 1e-4 * max(abs(g), 1e-3), key)
        }
    }
}
