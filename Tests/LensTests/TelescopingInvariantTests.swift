import Lens
import Linalg
import Runner
import XCTest

/// The invariants of lens.md §2, §3 and §8, each checked on a real training run.
final class TelescopingInvariantTests: XCTestCase {
    /// A smooth (tanh) network on the quadratic teacher task, lens on, smoother off.
    func regression(lr: Double, steps: Int, hidden: Int = 32) -> String {
        """
        seed: 1
        steps: \(steps)
        data: {source: teacher-quadratic, n_train: 64, n_test: 32, d: 4}
        model: {hidden: [\(hidden)], activation: tanh}
        optimizer: {kind: sgd, lr: \(lr), batch_size: 16}
        lens: {every: \(steps), kernel: false, smoother: off, reference: 16}
        """
    }

    /// §2/§3: the per-step error of the telescoping model is second order in the step, so halving
    /// γ over the same number of steps cuts approx_err_tel by about 4x.
    func testTelescopingErrorShrinksQuadraticallyWithLearningRate() throws {
        let (big, _) = try trainInMemory(regression(lr: 0.04, steps: 100))
        let (small, _) = try trainInMemory(regression(lr: 0.02, steps: 100))
        let ratio = big.last("approx_err_tel") / small.last("approx_err_tel")
        XCTAssertGreaterThan(ratio, 2.8, "ratio \(ratio)")
        XCTAssertLessThan(ratio, 5.7, "ratio \(ratio)")
    }

    /// §3: on a non-linear network trained to fit, linearizing at θ_0 is far worse than
    /// linearizing at every step.
    func testLinearizedErrorExceedsTelescopedErrorByTenfold() throws {
        let (sink, _) = try trainInMemory(regression(lr: 0.05, steps: 600))
        XCTAssertLessThan(sink.last("train_mse"), 0.5 * (sink.scalars["train_mse"]?.first?.value ?? 0), "the network must fit")
        let tel = sink.last("approx_err_tel"), lin = sink.last("approx_err_lin")
        XCTAssertGreaterThan(lin, 10 * tel, "lin \(lin) tel \(tel)")
        XCTAssertGreaterThan(tel, 0)
    }

    /// §2: the telescoped predictions are the network's at step 0 and its running sum afterwards,
    /// so the stored vectors must match f_{θ_0} exactly at step 0.
    func testTelescopedVectorsStartAtTheNetwork() throws {
        let (sink, _) = try trainInMemory(regression(lr: 0.05, steps: 20))
        XCTAssertEqual(sink.vectors["tel/test"]?[0], sink.vectors["pred/test"]?[0])
        XCTAssertEqual(sink.vectors["lin/train"]?[0], sink.vectors["pred/train"]?[0])
        XCTAssertNotEqual(sink.vectors["tel/test"]?[20], sink.vectors["pred/test"]?[20])
    }

    /// §8 sanity anchor: a linear model trained from zero by full-batch gradient descent to
    /// convergence has Ŝ = the least-squares hat matrix, so p_train = d + 1.
    func testLinearModelEffectiveParametersEqualDPlusOne() throws {
        let yaml = """
        seed: 2
        steps: 1500
        data: {source: teacher-quadratic, n_train: 40, n_test: 10, d: 5}
        model: {hidden: [], activation: linear, init_scale: 0}
        optimizer: {kind: sgd, lr: 0.3, batch_size: 40}
        lens: {every: 1500, kernel: false, smoother: exact}
        """
        let (sink, _) = try trainInMemory(yaml)
        XCTAssertEqual(sink.last("p_train"), 6, accuracy: 0.06)
    }

    func smallRegression(optimizer: String, smoother: String, probes: Int = 2, seed: Int = 3) -> String {
        """
        seed: \(seed)
        steps: 30
        data: {source: teacher-quadratic, n_train: 24, n_test: 12, d: 3}
        model: {hidden: [12], activation: tanh}
        optimizer: \(optimizer)
        lens: {every: 30, kernel: false, smoother: \(smoother), probes: \(probes)}
        """
    }

    /// §8: the label-sensitivity engine with unit directions is Ŝ itself, so for plain SGD it
    /// must reproduce the kernel fast path.
    func testSensitivityEngineEqualsKernelFastPathForSGD() throws {
        let sgd = "{kind: sgd, lr: 0.1, batch_size: 8}"
        let (fast, _) = try trainInMemory(smallRegression(optimizer: sgd, smoother: "exact"))
        // weight_decay: 0 with clip_norm huge keeps the update identical but forces the engine.
        let (engine, _) = try trainInMemory(smallRegression(optimizer: "{kind: sgd, lr: 0.1, batch_size: 8, clip_norm: 1.0e9}", smoother: "exact"))
        for key in ["p_train", "p_test", "smoother_err"] {
            XCTAssertEqual(engine.last(key), fast.last(key), accuracy: 1e-3 * max(abs(fast.last(key)), 1e-3), key)
        }
        XCTAssertGreaterThan(fast.last("p_train"), 0.5)
    }

    /// §8: Rademacher probes are unbiased for p; with 64 probes they must land within 3 standard
    /// errors of the exact value, for SGD and for AdamW.
    func testProbeEstimatesAgreeWithExactWithinThreeStandardErrors() throws {
        for optimizer in ["{kind: sgd, lr: 0.1, batch_size: 8}", "{kind: adamw, lr: 0.01, batch_size: 8, weight_decay: 0.1}"] {
            let (exact, _) = try trainInMemory(smallRegression(optimizer: optimizer, smoother: "exact"))
            let (probes, _) = try trainInMemory(smallRegression(optimizer: optimizer, smoother: "probes", probes: 64))
            for (key, se) in [("p_train", "p_se"), ("p_test", "p_test_se")] {
                let e = exact.last(key), p = probes.last(key), s = probes.last(se)
                XCTAssertGreaterThan(s, 0, "\(optimizer) \(se)")
                XCTAssertLessThan(abs(p - e), 3 * s, "\(optimizer) \(key): exact \(e), probes \(p) ± \(s)")
            }
        }
    }
}
