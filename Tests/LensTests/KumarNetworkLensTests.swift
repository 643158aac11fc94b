import Data
import Lens
import Linalg
import Nets
@testable import Runner
import XCTest

/// Kumar et al.'s network and the {0, 1}-target accuracy, end to end through config, data and lens.
final class KumarNetworkLensTests: XCTestCase {
    let kumar = """
    steps: 6
    data: {source: teacher-quadratic, n_train: 40, n_test: 20, d: 10, input_scale: 1/sqrt(d), target: half-square}
    model: {hidden: [12], activation: eps_quadratic, activation_eps: 0.2, bias: false, readout: fixed_mean, init: normal, init_std: 1}
    optimizer: {kind: sgd, lr: 12, batch_size: 40}
    lens: {every: 1, reference: 40, smoother: exact}
    """

    func testThetaHoldsOnlyTheHiddenLayerAndTheResolvedConfigKeepsTheKeys() throws {
        let config = try TrainConfig.load(text: kumar, source: "test")
        let prepared = try PreparedRun(config)
        XCTAssertEqual(prepared.model?.parameterCount, 12 * 10)
        XCTAssertEqual(prepared.model?.spec.activation, .epsQuadratic(0.2))
        let model = config.resolved["model"]
        XCTAssertEqual(model?["readout"], .string("fixed_mean"))
        XCTAssertEqual(model?["activation_eps"], .double(0.2))
        // A stored config loads back to the same network.
        let again = try TrainConfig.load(text: config.resolved.json, source: "stored")
        XCTAssertEqual(try PreparedRun(again).model?.spec, prepared.model?.spec)
    }

    func testLayerGramAndExplicitKernelPathsRecordTheSameRun() throws {
        // The factor path reads the primal off the hidden layer's factors through the fixed readout;
        // the explicit path forms J from VJPs: both must give the same kernels, predictions and p.
        let (gram, _) = try trainInMemory(kumar, overrides: ["lens.kernel_path=layer_gram"])
        let (explicit, _) = try trainInMemory(kumar, overrides: ["lens.kernel_path=explicit"])
        for key in ["test_mse", "train_mse", "tel_test_mse", "p_train", "p_test", "ktrace_train", "ktrace_test", "kalign", "smoother_err"] {
            guard let a = gram.scalars[key], let b = explicit.scalars[key] else { XCTFail("no \(key)"); continue }
            XCTAssertEqual(a.count, b.count, key)
            for (x, y) in zip(a, b) { XCTAssertEqual(x.value, y.value, accuracy: 1e-4 * max(1, abs(y.value)), "\(key) at step \(x.step)") }
        }
        // Full-batch GD: p_train starts at n·C with nothing learned… and the run trains.
        XCTAssertLessThan(gram.last("train_mse"), gram.scalars["train_mse"]!.first!.value)
    }

    func testFixedReadoutConfigsAreRefusedWithOneLine() {
        func refusal(_ overrides: [String]) -> String {
            do { _ = try PreparedRun(try TrainConfig.load(text: kumar, source: "test.yaml", overrides: overrides)); return "accepted" }
            catch { return "\(error)" }
        }
        XCTAssertEqual(refusal([]), "accepted")
        XCTAssertTrue(refusal(["model.readout=mean"]).contains("model.readout"), refusal(["model.readout=mean"]))
        XCTAssertTrue(refusal(["model.activation=relu"]).hasPrefix("model.activation_eps: applies to activation: eps_quadratic only"),
                      refusal(["model.activation=relu"]))
        XCTAssertTrue(refusal(["model.hidden=[]"]).hasPrefix("model.readout: fixed_mean is the mean of the last hidden layer"),
                      refusal(["model.hidden=[]"]))
        let onehot = refusal(["data={source: digits, classes: [3, 5, 8]}", "model.activation_eps=0.2"])
        XCTAssertTrue(onehot.hasPrefix("model.readout: fixed_mean has one output"), onehot)
        XCTAssertTrue(refusal(["model.activation_epz=0.1"]).contains("did you mean 'model.activation_eps'"), refusal(["model.activation_epz=0.1"]))
    }

    func testZeroOneTargetsAreScoredAtOneHalfAndPlusMinusOneAtZero() throws {
        let digits = """
        steps: 4
        data: {source: digits, classes: [3, 5], n_train: 60, n_test: 40, target: index}
        model: {hidden: [8]}
        optimizer: {kind: sgd, lr: 0.05, batch_size: 60}
        lens: {every: 2, reference: 20}
        """
        for (target, cut) in [("index", Float(0.5)), ("pm1", Float(0))] {
            let config = try TrainConfig.load(text: digits, source: "test", overrides: ["data.target=\(target)"])
            let prepared = try PreparedRun(config)
            XCTAssertEqual(prepared.split.decisionThreshold, cut)
            let problem = prepared.problem
            let (sink, _) = try trainInMemory(digits, overrides: ["data.target=\(target)"])
            for split in ["train", "test"] {
                let y = split == "train" ? problem.trainY : problem.testY
                for (step, f) in sink.vectors["pred/\(split)"]! {
                    // By hand: output ≥ cut against target ≥ cut, over the recorded points.
                    let rows = split == "train" ? problem.evalTrain : Array(0..<y.rows)
                    var right = 0
                    for (k, i) in rows.enumerated() where (f[k] >= cut) == (y[i, 0] >= cut) { right += 1 }
                    let recorded = sink.scalars["\(split)_acc"]!.first { $0.step == step }!.value
                    XCTAssertEqual(recorded, Double(right) / Double(rows.count), "\(target) \(split)_acc at step \(step)")
                }
            }
        }
    }
}
