import Foundation
import Store
import XCTest

/// `model.kind: gbt` through the binary: a preset trained end to end, refusals that write
/// nothing, reproduce, the data export, and the bench's output shapes.
final class GBTCommandTests: TemporaryDirectoryTestCase {
    func stdout(_ arguments: [String]) throws -> (Int32, String, String) {
        let (process, out, err) = try startTLens(arguments, in: directory, capture: true)
        let stdout = String(decoding: out!.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err!.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, stdout, stderr)
    }

    /// The shipped preset trains, records tel == pred bit for bit and ω ≤ 1, keeps a GBTL learner
    /// state that `tlens check` accepts, and reproduces bit for bit.
    func testTheDiabetesPresetTrainsChecksAndReproduces() throws {
        let db = path("gbt.sqlite")
        let (status, _, stderr) = try stdout(["train", "--preset", "gbt-diabetes", "--set", "model.rounds=40", "--db", db, "--quiet"])
        XCTAssertEqual(status, 0, stderr)
        let database = try Database(path: db, mode: .readOnly)
        let run = try XCTUnwrap(try database.runs().first)
        XCTAssertEqual(run.status, .completed)
        XCTAssertEqual(try database.scalars(run: run.id, key: "approx_err_tel").map(\.step), Array(stride(from: 0, through: 40, by: 5)))
        for step in [0, 20, 40] {
            XCTAssertEqual(try database.vector(run: run.id, kind: "tel", split: "test", step: step),
                           try database.vector(run: run.id, kind: "pred", split: "test", step: step))
        }
        XCTAssertLessThanOrEqual(try XCTUnwrap(try database.scalars(run: run.id, key: "kwn_max_test").map(\.value).max()), 1)
        XCTAssertGreaterThan(try XCTUnwrap(try database.scalars(run: run.id, key: "p_train").last?.value), 1)
        XCTAssertEqual(try database.scalarText("SELECT substr(learner_state, 5, 4) FROM checkpoints WHERE step = 40"), "GBTL")
        try database.close()
        XCTAssertEqual(try finish(["check", "--db", db]).0, 0)
        let (reproduced, _, message) = try stdout(["reproduce", "1", "--db", db, "--quiet"])
        XCTAssertEqual(reproduced, 0, message)
    }

    /// Each bad hyperparameter: one line naming the key, exit 1, no database written.
    func testBadHyperparametersAreRefusedWithoutARun() throws {
        let db = path("never.sqlite")
        let cases: [(String, String)] = [
            ("model.max_depth=0", "model.max_depth: 0 is out of range"),
            ("model.bins=1", "model.bins: 1 is out of range"),
            ("model.bins=65536", "model.bins: 65536 is out of range"),
            ("model.split=exakt", "model.split: 'exakt' is not one of hist, exact; did you mean 'exact'?"),
            ("model.subsample=0", "model.subsample: 0.0 is out of range"),
            ("model.subsample=1.2", "model.subsample: 1.2 is out of range"),
            ("model.lambda_leaf=-0.5", "model.lambda_leaf: -0.5 is out of range"),
            ("model.rounds=0", "model.rounds: 0 is out of range"),
        ]
        for (override, expected) in cases {
            let (status, stderr) = try finish(["train", "--preset", "gbt-diabetes", "--set", override, "--db", db])
            XCTAssertEqual(status, 1, override)
            XCTAssertEqual(stderr.split(separator: "\n").count, 1, stderr)
            XCTAssertTrue(stderr.contains(expected), "\(override): \(stderr)")
        }
        let config = path("multi.yaml")
        try "data: {source: digits, classes: [1, 2, 3]}\nmodel: {kind: gbt}\n".write(toFile: config, atomically: true, encoding: .utf8)
        let (status, stderr) = try finish(["train", "--config", config, "--db", db])
        XCTAssertEqual(status, 1)
        XCTAssertEqual(stderr.split(separator: "\n").count, 1, stderr)
        XCTAssertTrue(stderr.contains("model.kind: gbt fits one output (C = 1) and this data has C = 3"), stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: db), "a refused config must not create the database")
    }

    /// `tlens data-export` writes the rows the run trains on; `tlens bench gbt` prints one JSON
    /// object per dataset.
    func testDataExportAndBenchOutput() throws {
        let out = path("data")
        XCTAssertEqual(try finish(["data-export", "--preset", "gbt-diabetes", "--out", out]).0, 0)
        let train = try String(contentsOfFile: out + "/train.csv", encoding: .utf8).split(separator: "\n")
        let test = try String(contentsOfFile: out + "/test.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(train.first, "x0,x1,x2,x3,x4,x5,x6,x7,x8,x9,y0")
        XCTAssertEqual(train.count + test.count, 442 + 2)
        XCTAssertTrue(try String(contentsOfFile: out + "/config.json", encoding: .utf8).contains(#""kind": "gbt""#))

        let (status, json, stderr) = try stdout(["bench", "gbt", "--preset", "gbt-diabetes", "--set", "model.rounds=5",
                                                 "--repetitions", "1", "--format", "json"])
        XCTAssertEqual(status, 0, stderr)
        let results = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        XCTAssertEqual(results.count, 1)
        XCTAssertEqual(results[0]["rounds"] as? Int, 5)
        XCTAssertEqual(results[0]["trainCount"] as? Int, 354)
        XCTAssertNotNil(results[0]["lensOverLearner"] as? Double)
        XCTAssertEqual(results[0]["split"] as? String, "hist")
        // The new modes: exact splits and two-byte bins, in the table's bins column.
        let (exactStatus, table, exactError) = try stdout(["bench", "gbt", "--preset", "gbt-diabetes", "--set", "model.rounds=5",
                                                           "--set", "model.split=exact", "--repetitions", "1"])
        XCTAssertEqual(exactStatus, 0, exactError)
        XCTAssertTrue(table.contains("      4  exact  exact"), table)
        let (wideStatus, wide, wideError) = try stdout(["bench", "gbt", "--preset", "gbt-diabetes", "--set", "model.rounds=5",
                                                        "--set", "model.bins=1024", "--repetitions", "1"])
        XCTAssertEqual(wideStatus, 0, wideError)
        XCTAssertTrue(wide.contains("      4   1024  exact"), wide)
    }
}
