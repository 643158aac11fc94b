import Lens
import Linalg
import Nets
import Runner
import XCTest

/// lens.md (7.8): grad_msc/l, the paper's per-layer mean squared change of ∇_θ f between t′ and
/// t′ + w on the test probe, against the same average formed from brute-force Jacobians (one VJP
/// per point and output) at θ_{t′} and θ_s, the parameters of separate runs stopped there.
final class GradientMSCTests: XCTestCase {
    /// Two outputs (one-hot targets), two hidden layers; `every` 1 and 2 (the window's end,
    /// t′ + w = 5, is then state 5 or the next recorded state, 6); the kernel path on (factors
    /// read off the operand over U) and off (the model's transient factors of R and the probe).
    func testRecordedChangeMatchesBruteForceJacobians() throws {
        for (every, kernel, expectedStep) in [(1, false, 5), (2, true, 6)] {
            let yaml = """
            seed: 3
            steps: 8
            data: {source: gaussian-mixture, n_train: 30, n_test: 12, k: 2, d: 4, target: onehot}
            model: {hidden: [7, 5], activation: tanh}
            optimizer: {kind: sgd, lr: 0.2, momentum: 0.9, batch_size: 6}
            lens: {every: \(every), kernel: \(kernel), reference: 10, smoother: off, sharpness: false, grad_ref_step: 2, grad_msc_window: 3}
            """
            let label = "every \(every), kernel \(kernel)"
            let (sink, loop) = try trainInMemory(yaml)
            let model = try XCTUnwrap(loop.prepared.model)
            XCTAssertEqual(model.outputDimension, 2)
            func parameters(after steps: Int) throws -> [Float] {
                try XCTUnwrap(trainInMemory(yaml, overrides: ["steps=\(steps)"]).1.networkLearner).parameterArray
            }
            let test = loop.prepared.split.test
            let probe = Matrix(rows: test.count, cols: test.dimension, values: test.features)
            XCTAssertLessThan(probe.rows, LensOptions.gradMSCPoints, "every test point is in the probe")
            let then = try parameters(after: 2).withUnsafeBufferPointer { jacobianRows(model: model, probe, parameters: $0.baseAddress!) }
            let now = try parameters(after: expectedStep).withUnsafeBufferPointer { jacobianRows(model: model, probe, parameters: $0.baseAddress!) }
            for (l, layer) in model.layers.enumerated() {
                var squared = 0.0
                for row in 0..<now.rows {
                    for q in layer.weightOffset..<(layer.weightOffset + layer.parameterCount) {
                        let change: Double = Double(now[row, q]) - Double(then[row, q])
                        squared += change * change
                    }
                }
                let expected = squared / Double(now.rows * layer.parameterCount)
                let recorded = try XCTUnwrap(sink.scalars["grad_msc/\(l + 1)"], label)
                XCTAssertEqual(recorded.count, 1, "\(label): recorded once")
                XCTAssertEqual(recorded[0].step, expectedStep, label)
                XCTAssertGreaterThan(expected, 0, label)
                XCTAssertEqual(recorded[0].value, expected, accuracy: 1e-3 * expected, "\(label), layer \(l + 1)")
            }
        }
    }

    /// Unset, the window is one epoch ⌈n/b⌉ and stored so; 0 turns it off; a window past the
    /// last step records nothing; trees refuse the key.
    func testWindowDefaultsToOneEpoch() throws {
        let yaml = """
        seed: 1
        steps: 12
        data: {source: gaussian-mixture, n_train: 25, n_test: 6, k: 2, d: 3}
        model: {hidden: [4]}
        optimizer: {kind: sgd, lr: 0.1, batch_size: 10}
        lens: {every: 1, kernel: false, smoother: off, sharpness: false}
        """
        let (sink, loop) = try trainInMemory(yaml)
        XCTAssertEqual(loop.prepared.config.lens.options.gradMSCWindow, 3)
        XCTAssertTrue(loop.prepared.config.resolved.json.contains("grad_msc_window"), "stored resolved")
        XCTAssertEqual(sink.scalars["grad_msc/1"]?.map(\.step), [3])
        XCTAssertNil(try trainInMemory(yaml, overrides: ["lens.grad_msc_window=0"]).0.scalars["grad_msc/1"])
        XCTAssertNil(try trainInMemory(yaml, overrides: ["lens.grad_ref_step=10"]).0.scalars["grad_msc/1"])
        XCTAssertThrowsError(try TrainConfig.load(text: yaml, source: "test", overrides: ["lens.grad_msc_window=-1"])) {
            XCTAssertTrue("\($0)".contains("lens.grad_msc_window"), "\($0)")
        }
        XCTAssertThrowsError(try TrainConfig.load(text: "data: {source: gaussian-mixture}\nmodel: {kind: gbt}\nlens: {grad_msc_window: 5}", source: "test")) {
            XCTAssertTrue("\($0)".contains("lens.grad_msc_window: grad_msc compares layer Jacobians"), "\($0)")
        }
    }
}
