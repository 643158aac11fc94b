import Boost
import Lens
import Runner
import XCTest

/// `model.kind: gbt` in the config: keys, ranges, defaults, what it refuses and how it resolves.
final class TreeConfigTests: XCTestCase {
    let minimal = """
        data: {source: diabetes}
        model: {kind: gbt}
        """

    func refusal(_ yaml: String, _ overrides: [String] = []) -> String {
        do {
            _ = try PreparedRun(try TrainConfig.load(text: yaml, source: "test", overrides: overrides))
            return "accepted"
        } catch { return "\(error)" }
    }

    /// Every default written out: the model keys in order, steps = rounds, no optimizer section,
    /// no network-only lens keys; the resolved config loads back to itself.
    func testDefaultsResolveAndTheStoredConfigLoadsBack() throws {
        let prepared = try PreparedRun(try TrainConfig.load(text: minimal, source: "test"))
        let config = prepared.config
        XCTAssertEqual(config.model.trees, BoostedTreesSpec())
        XCTAssertEqual(config.steps, 200)
        let json = config.resolved.json
        XCTAssertTrue(json.contains(#""model": {"kind": "gbt", "rounds": 200, "max_depth": 4, "learning_rate": 0.1, "lambda_leaf": 1.0, "min_leaf": 1, "subsample": 1.0, "bins": 256, "split": "hist"}"#), json)
        XCTAssertTrue(json.contains(#""steps": 200"#), json)
        for absent in ["optimizer", "sharpness", "kernel_path", "reference", "grad_ref_step", "hidden"] {
            XCTAssertFalse(json.contains("\"\(absent)\""), absent)
        }
        // diabetes: n = 354, so the exact smoother is cheap and auto chooses it.
        XCTAssertEqual(config.lens.options.smoother, .exact)
        let again = try PreparedRun(try TrainConfig.load(text: json, source: "stored"))
        XCTAssertEqual(again.config.resolved.json, json)
    }

    /// steps and model.rounds are one number: either gives the other; both must agree.
    func testStepsAndRoundsAreOneNumber() throws {
        XCTAssertEqual(try TrainConfig.load(text: minimal, source: "t", overrides: ["steps=50"]).model.trees?.rounds, 50)
        XCTAssertEqual(try TrainConfig.load(text: minimal, source: "t", overrides: ["model.rounds=70"]).steps, 70)
        XCTAssertEqual(try TrainConfig.load(text: minimal, source: "t", overrides: ["model.rounds=70", "steps=70"]).steps, 70)
        XCTAssertEqual(refusal(minimal, ["model.rounds=70", "steps=80"]),
                       "steps: 80 differs from model.rounds: 70; a gbt run takes one step per round, so give one of them (steps defaults to model.rounds)")
        XCTAssertEqual(refusal(minimal, ["steps=0"]), "steps: 0 is out of range for model.kind gbt; it must be ≥ 1 (one step per boosting round)")
    }

    /// Each bad hyperparameter is refused with one line naming its key.
    func testBadHyperparametersAreRefusedWithOneLineEach() {
        let cases: [(String, String)] = [
            ("model.max_depth=0", "model.max_depth: 0 is out of range; it must be between 1 and 16"),
            ("model.max_depth=17", "model.max_depth: 17 is out of range; it must be between 1 and 16"),
            ("model.bins=1", "model.bins: 1 is out of range; it must be between 2 and 65535"),
            ("model.bins=65536", "model.bins: 65536 is out of range; it must be between 2 and 65535"),
            ("model.split=exakt", "model.split: 'exakt' is not one of hist, exact; did you mean 'exact'?"),
            ("model.splits=exact", "model.splits: unknown key; did you mean 'model.split'?"),
            ("model.subsample=0", "model.subsample: 0.0 is out of range; it must be > 0.0"),
            ("model.subsample=1.5", "model.subsample: 1.5 is out of range; it must be ≤ 1.0"),
            ("model.lambda_leaf=-1", "model.lambda_leaf: -1.0 is out of range; it must be ≥ 0.0"),
            ("model.learning_rate=0", "model.learning_rate: 0.0 is out of range; it must be > 0.0"),
            ("model.learning_rate=2", "model.learning_rate: 2.0 is out of range; it must be ≤ 1.0"),
            ("model.rounds=0", "model.rounds: 0 is out of range; it must be between 1 and 10000000"),
            ("model.min_leaf=0", "model.min_leaf: 0 is out of range; it must be ≥ 1"),
            ("model.max_depth=deep", "model.max_depth: expected an integer, got 'deep'"),
            ("model.max_dept=3", "model.max_dept: unknown key; did you mean 'model.max_depth'?"),
            ("model.hidden=[8]", "model.hidden: unknown key;"),
            ("model.kind=gtb", "model.kind: 'gtb' is not one of mlp, gbt; did you mean 'gbt'?"),
        ]
        for (override, expected) in cases {
            let message = refusal(minimal, [override])
            XCTAssertTrue(message.hasPrefix(expected), "\(override): \(message)")
            XCTAssertFalse(message.contains("\n"), message)
        }
    }

    /// What trees have no use for is refused when set to anything but its neutral value.
    func testNetworkOnlySettingsAreRefused() throws {
        let cases: [(String, String)] = [
            ("optimizer.lr=0.1", "optimizer: model.kind gbt has no optimizer; its step size is model.learning_rate"),
            ("loss=cross_entropy", "loss: boosted trees fit squared loss"),
            ("lens.kernel_path=explicit", "lens.kernel_path: boosted trees bring their own exact kernel"),
            ("lens.sharpness=true", "lens.sharpness: the stability number"),
            ("lens.reference=16", "lens.reference: boosted trees measure kernel weight norms against every training point"),
            ("lens.grad_ref_step=2", "lens.grad_ref_step: grad_change compares layer Jacobians"),
        ]
        for (override, expected) in cases {
            let message = refusal(minimal, [override])
            XCTAssertTrue(message.hasPrefix(expected), "\(override): \(message)")
        }
        for neutral in ["lens.sharpness=false", "lens.kernel_path=auto", "lens.grad_ref_step=0"] {
            XCTAssertEqual(refusal(minimal, [neutral]), "accepted", neutral)
        }
    }

    /// One output only: a one-hot target is refused at validation with a way out; ±1 is fine.
    func testSeveralOutputsAreRefusedAtValidation() {
        let digits = """
            data: {source: digits, classes: [3, 5], n_train: 60}
            model: {kind: gbt, rounds: 5}
            """
        XCTAssertEqual(refusal(digits),
                       "model.kind: gbt fits one output (C = 1) and this data has C = 2 (use data.target: pm1 with two data.classes); or use model.kind: mlp")
        XCTAssertEqual(refusal(digits, ["data.target=pm1"]), "accepted")
    }

    /// `lens.smoother: auto` is exact for a few thousand rows and probes beyond, from the tree
    /// cost model; exact over the memory budget is refused.
    func testTheAutomaticSmootherFollowsTheTreeCostModel() throws {
        func smoother(_ n: Int) throws -> SmootherMode {
            let yaml = "data: {source: tabular, n_train: \(n), n_test: 200}\nmodel: {kind: gbt, rounds: 200}"
            return try PreparedRun(try TrainConfig.load(text: yaml, source: "t")).config.lens.options.smoother
        }
        XCTAssertEqual(try smoother(500), .exact)
        XCTAssertEqual(try smoother(3000), .exact)
        XCTAssertEqual(try smoother(16000), .probes)
        let message = refusal("data: {source: tabular, n_train: 3000}\nmodel: {kind: gbt}",
                              ["lens.smoother=exact", "lens.memory_budget_mb=8"])
        XCTAssertTrue(message.hasPrefix("lens.smoother: exact mode needs about"), message)
    }

    /// The memory estimate follows the bin width: past 256 bins every bin index of the training
    /// and watched points takes two bytes, and the histograms (two levels of 2^(D−1) nodes, d·B
    /// bins of two doubles) grow with B; `split: exact` sizes them for one bin per training row.
    func testTheMemoryEstimateCountsTwoByteBinsAndExactSplits() {
        let n = 1000, d = 8, tests = 200
        func estimate(_ bins: Int, _ split: SplitMethod = .histogram) -> MemoryEstimate {
            var lens = LensOptions(); lens.smoother = .off
            return MemoryEstimate(trees: BoostedTreesSpec(rounds: 10, maxDepth: 4, bins: bins, split: split), features: d,
                                  trainCount: n, evalTrainCount: 0, testCount: tests, lens: lens)
        }
        // U = the evaluation points (smoother off): the test rows.
        let histogram = { (bins: Int) in 2.0 * 8 * Double(d * bins) * 16 }
        XCTAssertEqual(estimate(257).activations - estimate(256).activations,
                       histogram(257) - histogram(256) + Double((n + tests) * d), accuracy: 1e-6)
        XCTAssertEqual(estimate(1024).activations - estimate(512).activations, histogram(1024) - histogram(512), accuracy: 1e-6)
        XCTAssertEqual(estimate(256, .exact).activations, estimate(n).activations)
        XCTAssertEqual(estimate(256, .exact).parameterBlob, estimate(n).parameterBlob)
    }

    /// `split: exact` on a feature with more distinct values than two-byte indices hold is
    /// refused at preparation, in one line naming the key and the way out.
    func testExactSplitsRefuseMoreDistinctValuesThanTwoByteBins() {
        // 70,000 float32 draws: a few coincide, so well over 65,535 distinct values remain.
        let yaml = "data: {source: tabular, n_train: 70000, n_test: 10, d: 2}\nmodel: {kind: gbt, rounds: 2}\nlens: {smoother: off}"
        let message = refusal(yaml, ["model.split=exact"])
        XCTAssertTrue(message.hasPrefix("model.split: exact needs at most 65535 distinct values per feature (two-byte bin indices); feature 1 has 6"), message)
        XCTAssertTrue(message.hasSuffix(" in the training data; use model.split: hist with model.bins"), message)
        XCTAssertFalse(message.contains("\n"))
    }
}
