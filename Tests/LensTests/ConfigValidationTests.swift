import Foundation
import Lens
import Nets
import Runner
import Store
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
        XCTAssertTrue(refusal(["optimzer.lr=0.1"]).contains("did you mean 'optimizer.lr'"), refusal(["optimzer.lr=0.1"]))
        XCTAssertTrue(refusal(["lens.smoothr=probes"]).contains("did you mean 'lens.smoother'"))
        XCTAssertTrue(refusal(["data.clases=[1,2]"]).contains("classes"), refusal(["data.clases=[1,2]"]))
    }

    /// The suggestion is the nearest valid key *path*, within edit distance max(2, len/3) of what
    /// was written (Spelling.nearestName); with nothing that close, the keys of that level.
    func testUnknownKeyPathsGetTheNearestPathOrNone() {
        XCTAssertEqual(refusal(["optimizer.lrr=0.1"]), "optimizer.lrr: unknown key; did you mean 'optimizer.lr'?")
        XCTAssertEqual(refusal(["lens.evry=5"]), "lens.evry: unknown key; did you mean 'lens.every'?")
        XCTAssertEqual(refusal(["checkpoint.evry=5"]), "checkpoint.evry: unknown key; did you mean 'checkpoint.every'?")
        XCTAssertEqual(refusal(["optimzer.lr=0.1"]), "optimzer.lr: unknown key 'optimzer'; did you mean 'optimizer.lr'?")
        let foo = refusal(["foo.bar=1"])
        XCTAssertTrue(foo.hasPrefix("foo.bar: unknown key 'foo'; top-level keys: name, seed, steps"), foo)
        XCTAssertFalse(foo.contains("did you mean"), foo)
        // "xyz" is three edits from "eps": not close for a three-letter word.
        let xyz = refusal(["optimizer.xyz=1"])
        XCTAssertTrue(xyz.hasPrefix("optimizer.xyz: unknown key; keys of optimizer: kind, lr, batch_size"), xyz)
    }

    func testUnknownKeysInAConfigFileGetTheNearestPathToo() {
        let section = base + "\noptimzer:\n  lr: 0.1\n  kind: sgd\n"
        XCTAssertEqual(refusal([], text: section), "optimzer: unknown key; did you mean 'optimizer'?")
        let deep = base.replacingOccurrences(of: "lens: {every: 5}", with: "lens:\n  every: 5\n  smoothr: exact")
        XCTAssertEqual(refusal([], text: deep), "lens.smoothr: unknown key; did you mean 'lens.smoother'?")
        let chain = base + "\noptimiser:\n  lr: 0.1\n"
        XCTAssertEqual(refusal([], text: chain), "optimiser.lr: unknown key 'optimiser'; did you mean 'optimizer.lr'?")
        XCTAssertTrue(refusal([], text: base + "\nfoo: {bar: 1}\n").hasPrefix("foo.bar: unknown key 'foo'; top-level keys:"))
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
        let message = refusal(["optimizer.kind=adam", "lens.smoother=exact", "lens.memory_budget_mb=1"])
        XCTAssertTrue(message.hasPrefix("lens.smoother: exact mode needs about"), message)
        XCTAssertTrue(message.contains("probes"))
    }

    func testDataErrorsAreRootedUnderData() {
        XCTAssertTrue(refusal(["data.source=digitz"]).hasPrefix("data"), refusal(["data.source=digitz"]))
        XCTAssertTrue(refusal(["data.classes=[3, 42]"]).hasPrefix("data"))
    }

    /// Every default is explicit in what a run stores, including those decided once the data
    /// is known: lens.smoother auto is exact for this small problem.
    func testResolvedConfigHoldsEveryDefault() throws {
        let config = try PreparedRun(try TrainConfig.load(text: base, source: "test.yaml")).config
        let json = config.resolved.json
        for key in ["\"momentum\": 0.0", "\"beta2\": 0.999", "\"smoother\": \"exact\"", "\"probes\": 32", "\"seed\": 0", "\"activation\": \"relu\""] {
            XCTAssertTrue(json.contains(key), "\(key) missing from \(json)")
        }
    }

    func testOptimizerSectionBecomesNetsOptimizerSpec() throws {
        let config = try TrainConfig.load(text: base, source: "test.yaml", overrides: [
            "optimizer.kind=adamw", "optimizer.lr=0.002", "optimizer.schedule=step", "optimizer.step_size=4",
            "optimizer.gamma=0.5", "optimizer.warmup_steps=2", "optimizer.clip_norm=1.5"])
        // Written out by hand from the YAML above and the documented defaults (README, optimizer keys).
        let expected = OptimizerSpec(kind: .adamw, lr: 0.002, weightDecay: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8,
                                     schedule: .step(every: 4, factor: 0.5), warmupSteps: 2, totalSteps: 10, clipNorm: 1.5)
        XCTAssertEqual(config.optimizer.spec, expected)
        XCTAssertEqual(config.optimizer.batchSize, 32)
        XCTAssertTrue(config.optimizer.spec.isPreconditioned)
        XCTAssertFalse(config.optimizer.spec.isPlainGradientDescent)
        let plain = try TrainConfig.load(text: base, source: "test.yaml")
        XCTAssertTrue(plain.optimizer.spec.isPlainGradientDescent)
        XCTAssertFalse(try TrainConfig.load(text: base, source: "t", overrides: ["optimizer.momentum=0.9"]).optimizer.spec.isPlainGradientDescent)
    }

    // MARK: Refusals that used to come only after the run row was written

    func testLayerGramWithAPreconditionedOptimizerIsRefusedAtValidation() {
        for kind in ["adam", "adamw"] {
            let message = refusal(["optimizer.kind=\(kind)", "lens.kernel_path=layer_gram"])
            XCTAssertTrue(message.hasPrefix("lens.kernel_path: layer_gram needs an optimizer without a preconditioner, and optimizer.kind \(kind)"), message)
        }
        XCTAssertEqual(refusal(["lens.kernel_path=layer_gram"]), "accepted")
    }

    func testNetworkWhoseThetaExceedsSQLiteBlobLimitIsRefusedBeforeAllocating() {
        // digits 3 vs 5 with pm1 targets: 64 inputs, 1 output. P = 64·h + h + h·h + h + h + 1.
        func thetaGB(_ h: Double) -> String {
            let p: Double = 64 * h + h + h * h + h + h + 1
            return String(format: p * 4 < 1e10 ? "%.2f GB" : "%.1f GB", p * 4 / 1e9)
        }
        let huge = refusal(["model.hidden=[100000, 100000]"])
        XCTAssertTrue(huge.hasPrefix("model.hidden: [100000, 100000] needs about "), huge)
        XCTAssertTrue(huge.hasSuffix("(θ alone \(thetaGB(100_000)) as a checkpoint blob, over SQLite's 1 GB blob limit); reduce model.hidden"), huge)
        XCTAssertEqual(thetaGB(100_000), "40.0 GB")
        let large = refusal(["model.hidden=[16000, 16000]"])
        XCTAssertTrue(large.contains("(θ alone \(thetaGB(16_000)) as a checkpoint blob"), large)
        XCTAssertEqual(thetaGB(16_000), "1.03 GB")
        // Adam's three buffers cross the limit before θ does.
        let adam = refusal(["model.hidden=[10000, 10000]", "optimizer.kind=adam", "lens.smoother=probes"])
        let adamP: Double = 64 * 10_000 + 10_000 + 10_000 * 10_000 + 10_000 + 10_000 + 1
        XCTAssertEqual(String(format: "%.2f GB", 3 * adamP * 4 / 1e9), "1.21 GB")  // m, v and the diagonal
        XCTAssertTrue(adam.contains("the adam state alone 1.21 GB as a checkpoint blob"), adam)
    }

    func testMemoryEstimateCountsParametersAsTheModelDoesAndNamesTheLargestPart() throws {
        let spec = MLPSpec(inputDimension: 7, hidden: [5, 3], outputDimension: 2, activation: .relu, bias: true)
        var options = LensOptions()
        options.smoother = .off
        let estimate = MemoryEstimate(widths: spec.widths, bias: true, optimizer: OptimizerSpec(kind: .adam), batchSize: 4,
                                      trainCount: 10, evalTrainCount: 10, referenceCount: 4, testCount: 3, lens: options)
        XCTAssertEqual(estimate.parameterCount, Double(MLP(spec).parameterCount))
        let byHand: Double = 7 * 5 + 5 + 5 * 3 + 3 + 3 * 2 + 2
        XCTAssertEqual(estimate.parameterCount, byHand)
        XCTAssertEqual(estimate.parameters, 3 * 4 * estimate.parameterCount)
        XCTAssertEqual(estimate.optimizerState, 3 * 4 * estimate.parameterCount)
        XCTAssertEqual(estimate.total, estimate.parts.reduce(0) { $0 + $1.bytes })
        XCTAssertNoThrow(try estimate.check(hidden: [5, 3], optimizerKind: .adam, physicalMemory: 1e12))
        do {
            try estimate.check(hidden: [5, 3], optimizerKind: .adam, physicalMemory: 1000)
            XCTFail("a 1000-byte machine fits nothing")
        } catch {
            let message = "\(error)"
            XCTAssertTrue(message.contains("more than this machine's 0 MB (\(estimate.parts[0].name)"), message)
        }
    }

    func testReferenceLargerThanTheTrainingSetIsRefusedAndTheDefaultIsCut() throws {
        XCTAssertEqual(refusal(["data.n_train=200", "lens.reference=500"]), "lens.reference: 500 is larger than the training set (200)")
        // The default of 256 was not the user's choice: R is the training set, and that is stored.
        let config = try TrainConfig.load(text: base, source: "test.yaml", overrides: ["data.n_train=200"])
        let prepared = try PreparedRun(config)
        XCTAssertEqual(prepared.config.lens.options.referenceSize, 200)
        XCTAssertTrue(prepared.config.resolved.json.contains("\"reference\": 200"), prepared.config.resolved.json)
    }

    func testEmptyTestSplitIsRefusedNamingTheDataKey() {
        XCTAssertEqual(refusal(["data.n_test=0"]), "data: the test split is empty; data.n_test is 0; set it ≥ 1")
        XCTAssertEqual(refusal(["data.test_fraction=0"]),
                       "data: the test split is empty; data.test_fraction (0.0) leaves no test examples; raise it or set data.n_test ≥ 1")
        let modular = "data: {source: modular, p: 5, train_fraction: 1.0}\nmodel: {hidden: [8]}\noptimizer: {batch_size: 5}\nsteps: 2\n"
        XCTAssertTrue(refusal([], text: modular).hasPrefix("data: the test split is empty; data.train_fraction (1.0)"), refusal([], text: modular))
    }

    func testSeedsCoverTheWholeUInt64Range() throws {
        let max = "18446744073709551615", twoTo63 = "9223372036854775808"
        for (text, overrides) in [(base + "\nseed: \(max)\n", [String]()),
                                  (base, ["seed=\(max)"])] {
            let config = try TrainConfig.load(text: text, source: "test.yaml", overrides: overrides)
            XCTAssertEqual(config.seed, UInt64.max)
            XCTAssertTrue(config.resolved.json.contains("\"seed\": \(max)"), config.resolved.json)
        }
        let json = #"{"steps": 10, "seed": 9223372036854775808, "data": {"source": "digits", "classes": [3, 5]}, "model": {"hidden": [16]}}"#
        let fromJSON = try TrainConfig.load(text: json, source: "test.json")
        XCTAssertEqual(fromJSON.seed, UInt64(1) << 63)
        XCTAssertTrue(fromJSON.resolved.json.contains("\"seed\": \(twoTo63)"))
        XCTAssertEqual(try TrainConfig.load(text: base, source: "t", overrides: ["seed=7"]).seed, 7)
        XCTAssertEqual(refusal(["seed=-1"]), "seed: -1 is out of range; it must be ≥ 0")
        XCTAssertTrue(refusal(["seed=18446744073709551616"]).hasPrefix("seed: expected an integer"))

        // runs.seed is a signed 64-bit INTEGER: the same bits, read back negative (docs/schema.md).
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tlens-seed-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let recorder = try Recorder(path: path)
        let run = try recorder.startRun(RunInfo(configJSON: fromJSON.resolved.json, seed: UInt64.max, codeVersion: "t", host: "h", dataFingerprint: "d"))
        try run.finish(status: .completed, error: nil)
        try recorder.close()
        let db = try Database(path: path, mode: .readOnly)
        XCTAssertEqual(try db.scalarInt("SELECT seed FROM runs"), -1)
        XCTAssertEqual(UInt64(bitPattern: try XCTUnwrap(db.scalarInt("SELECT seed FROM runs"))), UInt64.max)
    }

    func testRelativeDataPathsResolveAgainstTheConfigFilesFolder() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tlens-paths-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var csv = "x,y\n"
        for i in 0..<40 { csv += "\(i),\(2 * i)\n" }
        try csv.write(to: folder.appendingPathComponent("train.csv"), atomically: true, encoding: .utf8)
        let text = "steps: 2\ndata: {source: csv, path: train.csv, target_column: y}\nmodel: {hidden: [4]}\noptimizer: {batch_size: 8}\nlens: {reference: 8}\n"
        // The process's directory is elsewhere: only the config's folder finds train.csv.
        XCTAssertNotEqual(FileManager.default.currentDirectoryPath, folder.path)
        let config = try TrainConfig.load(text: text, source: "run.yaml", baseDirectory: folder)
        let expected = folder.appendingPathComponent("train.csv").standardizedFileURL.path
        XCTAssertEqual(config.data["path"], .string(expected))
        XCTAssertTrue(config.resolved.json.contains("\"path\": \"\(expected)\""), config.resolved.json)
        XCTAssertEqual(try PreparedRun(config).split.train.count + (try PreparedRun(config).split.test.count), 40)
        // --set values are the user's typing in the shell: relative to the current directory.
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let overridden = try TrainConfig.load(text: text, source: "run.yaml", overrides: ["data.path=other.csv"], baseDirectory: folder)
        XCTAssertEqual(overridden.data["path"], .string(cwd.appendingPathComponent("other.csv").standardizedFileURL.path))
        let absolute = try TrainConfig.load(text: text, source: "run.yaml", overrides: ["data.path=/data/x.csv"], baseDirectory: folder)
        XCTAssertEqual(absolute.data["path"], .string("/data/x.csv"))
    }
}
