import Lens
import Runner
import XCTest

/// What a config that leaves the lens open resolves to (RunDefaults): the same on every machine,
/// priced at the reference rates, stored in the resolved config, and affordable.
final class RunDefaultsTests: XCTestCase {
    func resolved(_ yaml: String) throws -> (TrainConfig, RunCostEstimate) {
        let prepared = try PreparedRun(try TrainConfig.load(text: yaml, source: "test"))
        return (prepared.config, RunCostModel.estimate(RunShape(prepared), rate: .reference))
    }

    func testAMinimalDigitsConfigGetsProbesAndACadenceThatFitsAMinute() throws {
        let (config, estimate) = try resolved(#"{"data": {"source": "digits"}}"#)
        XCTAssertEqual(config.lens.options.smoother, .probes, "exact over n·C = 14,380 directions is hours")
        XCTAssertGreaterThan(config.lens.options.every, 1)
        XCTAssertLessThanOrEqual(estimate.totalSeconds, RunDefaults.budgetSeconds)
        XCTAssertTrue(config.resolved.json.contains("\"smoother\": \"probes\""), config.resolved.json)
        XCTAssertTrue(config.resolved.json.contains("\"every\": \(config.lens.options.every),"), config.resolved.json)
    }

    func testSmallProblemsKeepTheExactSmootherAndEveryStep() throws {
        let (config, _) = try resolved(#"{"data": {"source": "diabetes"}}"#)
        XCTAssertEqual(config.lens.options.smoother, .exact)
        XCTAssertEqual(config.lens.options.every, 1)
    }

    func testWhatTheUserWroteIsKept() throws {
        let (config, _) = try resolved(#"{"data": {"source": "digits"}, "lens": {"smoother": "exact", "every": 3, "memory_budget_mb": 100000}}"#)
        XCTAssertEqual(config.lens.options.smoother, .exact)
        XCTAssertEqual(config.lens.options.every, 3)
        let (crossEntropy, _) = try resolved(#"{"data": {"source": "digits"}, "loss": "cross_entropy"}"#)
        XCTAssertEqual(crossEntropy.lens.options.smoother, .probes, "cross-entropy runs get p through the linearized softmax residual")
    }

    /// A stored config loads back to the same run: resume rebuilds runs from it.
    func testAResolvedConfigLoadsBackUnchanged() throws {
        for text in [#"{"data": {"source": "digits"}}"#, #"{"data": {"source": "diabetes"}, "optimizer": {"kind": "adamw"}}"#] {
            let (config, _) = try resolved(text)
            let (again, _) = try resolved(config.resolved.json)
            XCTAssertEqual(again.resolved.json, config.resolved.json)
        }
        for preset in Presets.names {
            let (config, _) = try resolved(try XCTUnwrap(Presets.text(named: preset)))
            XCTAssertEqual(try resolved(config.resolved.json).0.resolved.json, config.resolved.json, preset)
        }
    }
}

/// `lr` is the schedule's value in double precision from the configured number, not its float32
/// rounding (0.05 is not a float32 value).
final class RecordedLearningRateTests: XCTestCase {
    func testLearningRateIsRecordedExactly() throws {
        let (sink, _) = try trainInMemory("""
            steps: 4
            data: {source: digits, classes: [3, 5], target: pm1, n_train: 40}
            model: {hidden: [4]}
            optimizer: {kind: sgd, lr: 0.05, batch_size: 10, schedule: cosine, warmup_steps: 2}
            lens: {every: 1, smoother: off, kernel: false}
            """)
        let lr = try XCTUnwrap(sink.scalars["lr"])
        XCTAssertEqual(lr.first { $0.step == 2 }?.value, 0.05, "after warm-up the cosine starts at the configured 0.05 exactly")
        XCTAssertEqual(lr.first { $0.step == 1 }?.value, 0.025)
        XCTAssertNotEqual(Double(Float(0.05)), 0.05)
    }
}
