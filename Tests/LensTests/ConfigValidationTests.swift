import Runner
import XCTest

/// Each class of bad config is refused before anything runs, naming the key path.
final class ConfigValidationTests: XCTestCase {
    let base = """
    steps: 10
    data: {source: digits, classes: [3, 5], target: pm1}
    model: {hidden: [16]}
    optimizer: {kind: sgd, lr: 0.05, batch_size: 32}
    lens: {every: 5}
    """

    func refusal(_ overrides: [String], text: String? = nil) -> String {
        do {
            let config = try TrainConfig.load(text: text ?? base, source: "test.yaml", overrides: overrides)
            _ = try PreparedRun(config)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    func testValidConfigIsAccepted() {
        XCTAssertEqual(refusal([]), "accepted")
    }

    func testUnknownKeySuggestsNearestName() {
        XCTAssertEqual(refusal(["optimizer.learning_rat=0.1"]).contains("optimizer.learning_rat: unknown key"), true)
        XCTAssertTrue(refusal(["optimzer.lr=0.1"]).contains("did you mean 'optimizer'"), refusal(["optimzer.lr=0.1"]))
        XCTAssertTrue(refusal(["lens.smoothr=probes"]).contains("did you mean 'lens.smoother'"))
        XCTAssertTrue(refusal(["data.clases=[1,2]"]).contains("classes"), refusal(["data.clases=[1,2]"]))
    }

    func testWrongTypesNameTheKeyPath() {
        XCTAssertTrue(refusal(["optimizer.lr=fast"]).hasPrefix("optimizer.lr: expected a number"))
        XCTAssertTrue(refusal(["model.hidden=[16, wide]"]).hasPrefix("model.hidden[1]: expected an integer"))
        XCTAssertTrue(refusal(["lens.kernel=maybe"]).hasPrefix("lens.kernel: expected true or false"))
        XCTAssertTrue(refusal(["model.activation=rellu"]).contains("did you mean 'relu'"))
    }

    func testOutOfRangeValuesAreRefused() {
        XCTAssertTrue(refusal(["optimizer.lr=0"]).hasPrefix("optimizer.lr: 0.0 is out of range"))
        XCTAssertTrue(refusal(["optimizer.lr=-1"]).hasPrefix("optimizer.lr:"))
        XCTAssertTrue(refusal(["optimizer.lr=.nan"]).hasPrefix("optimizer.lr:"), refusal(["optimizer.lr=.nan"]))
        XCTAssertTrue(refusal(["model.hidden=[16, 0]"]).hasPrefix("model.hidden[1]: 0 is out of range"))
        XCTAssertTrue(refusal(["optimizer.batch_size=100000"]).hasPrefix("optimizer.batch_size: 100000 is larger than the training set"))
        XCTAssertTrue(refusal(["lens.every=0"]).hasPrefix("lens.every:"))
    }

    func testExactSmootherOverBudgetSuggestsProbes() {
        let message = refusal(["optimizer.kind=adam", "lens.memory_budget_mb=1"])
        XCTAssertTrue(message.hasPrefix("lens.smoother: exact mode needs about"), message)
        XCTAssertTrue(message.contains("probes"))
    }

    func testDataErrorsAreRootedUnderData() {
        XCTAssertTrue(refusal(["data.source=digitz"]).hasPrefix("data"), refusal(["data.source=digitz"]))
        XCTAssertTrue(refusal(["data.classes=[3, 42]"]).hasPrefix("data"))
    }

    func testResolvedConfigHoldsEveryDefault() throws {
        let config = try TrainConfig.load(text: base, source: "test.yaml")
        let json = config.resolved.json
        for key in ["\"momentum\": 0.0", "\"beta2\": 0.999", "\"smoother\": \"exact\"", "\"probes\": 32", "\"seed\": 0", "\"activation\": \"relu\""] {
            XCTAssertTrue(json.contains(key), "\(key) missing from \(json)")
        }
    }
}
