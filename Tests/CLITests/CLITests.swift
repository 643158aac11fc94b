import Foundation
import Store
import XCTest

/// The `tlens` binary end to end: what a user sees on good and bad input.
final class CLITests: TemporaryDirectoryTestCase {
    let quickRun = ["train", "--preset", "digits-3v5", "--set", "steps=3", "--set", "lens.every=1", "--quiet"]

    func bytes(_ p: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: p)) }

    func testTrainRecordsARunEndToEnd() throws {
        let db = path("runs.sqlite")
        let o = try tlens(quickRun + ["--db", db, "--name", "cli-run"])
        XCTAssertEqual(o.status, 0, o.stderr)
        // stdout is the integer run id alone (what every documented query takes); the summary
        // line on stderr names the uuid.
        let id = o.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let database = try Database(path: db, mode: .readOnly)
        let run = try XCTUnwrap(try database.runs().first)
        XCTAssertEqual(id, String(run.id))
        XCTAssertTrue(o.stderr.contains(run.uuid), o.stderr)
        XCTAssertEqual(run.status, .completed)
        XCTAssertEqual(try database.scalars(run: run.id, key: "approx_err_tel").map(\.step), [0, 1, 2, 3])
        XCTAssertNotNil(try database.vector(run: run.id, kind: "tel", split: "test", step: 3))
        XCTAssertEqual(try database.evalPoints(run: run.id, split: "test")?.count, 150)
        XCTAssertEqual(try database.scalarInt("SELECT count(*) FROM checkpoints WHERE run_id = ? AND step = 0", [.integer(run.id)]), 1)
        // The stored config has every default resolved.
        XCTAssertTrue(run.configJSON.contains("\"beta2\": 0.999"), run.configJSON)
    }

    /// --dry-run: the resolved config on stdout, the estimate on stderr, no database file.
    func testDryRunPrintsTheResolvedConfigAndTheEstimateAndWritesNothing() throws {
        let db = path("dry.sqlite")
        let o = try tlens(["train", "--preset", "digits-3v5", "--dry-run", "--db", db])
        XCTAssertEqual(o.status, 0, o.stderr)
        let config = try JSONSerialization.jsonObject(with: Data(o.stdout.utf8)) as? [String: Any]
        XCTAssertEqual((config?["lens"] as? [String: Any])?["smoother"] as? String, "exact")
        XCTAssertTrue(o.stderr.contains("s/step"), o.stderr)
        XCTAssertTrue(o.stderr.contains("peak memory"), o.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: db))
    }

    /// `tlens check`: a sound database passes and is left byte-identical; broken invariants are
    /// reported one line each with a non-zero exit; a truncated file is refused.
    func testCheckReportsEachBrokenInvariantOnALine() throws {
        let db = path("check.sqlite")
        XCTAssertEqual(try tlens(quickRun + ["--db", db]).status, 0)
        let before = try bytes(db)
        let good = try tlens(["check", "--db", db])
        XCTAssertEqual(good.status, 0, good.stderr)
        XCTAssertTrue(good.stdout.contains("ok (1 runs"), good.stdout)
        XCTAssertEqual(try bytes(db), before)

        let broken = path("broken.sqlite")
        try before.write(to: URL(fileURLWithPath: broken))
        do {
            let raw = try Database(path: broken, mode: .readWrite)
            try raw.execute("UPDATE runs SET last_step = 1 WHERE id = 1")
            try raw.execute("UPDATE checkpoints SET lens_state = x'00' WHERE step = 3")
            try raw.execute("INSERT INTO metrics(run_id, key_id, step, value) VALUES (42, 1, 0, 0.5)")
            try raw.close()
        }
        let o = try tlens(["check", "--db", broken])
        XCTAssertEqual(o.status, 1)
        let lines = o.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 3, o.stdout)
        XCTAssertTrue(o.stdout.contains("run 1 is completed with last_step 1 but records up to step 3"), o.stdout)
        XCTAssertTrue(o.stdout.contains("LENS state has no TLSB header"), o.stdout)
        XCTAssertTrue(o.stdout.contains("rows of run 42, which does not exist"), o.stdout)

        let truncated = path("truncated.sqlite")
        try before.prefix(before.count / 2 + 1).write(to: URL(fileURLWithPath: truncated))
        assertOneLineError(try tlens(["check", "--db", truncated]), containing: "truncated")
    }

    /// `tlens reproduce`: an untouched run reproduces bit for bit; a run whose stored metric was
    /// altered fails, naming the key and the step; the original file is only read.
    func testReproducePassesOnAnUntouchedRunAndNamesAnAlteredOne() throws {
        let db = path("reproduce.sqlite")
        XCTAssertEqual(try tlens(quickRun + ["--db", db]).status, 0)
        let before = try bytes(db)
        let good = try tlens(["reproduce", "1", "--db", db, "--quiet"])
        XCTAssertEqual(good.status, 0, good.stderr)
        XCTAssertTrue(good.stderr.contains("run 1 reproduced"), good.stderr)
        XCTAssertTrue(good.stdout.contains("approx_err_tel"), good.stdout)
        XCTAssertEqual(try bytes(db), before)

        do {
            let raw = try Database(path: db, mode: .readWrite)
            try raw.execute("""
                UPDATE metrics SET value = value * (1 + 1e-12)
                WHERE run_id = 1 AND step = 2 AND key_id = (SELECT id FROM metric_keys WHERE name = 'test_mse')
                """)
            try raw.close()
        }
        let bad = try tlens(["reproduce", "1", "--db", db, "--quiet"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("test_mse differs by"), bad.stderr)
        XCTAssertTrue(bad.stderr.contains("at step 2"), bad.stderr)
        // Within a tolerance it passes; --into keeps the copy.
        let copies = path("copies.sqlite")
        let tolerant = try tlens(["reproduce", "1", "--db", db, "--tolerance", "1e-6", "--into", copies, "--quiet"])
        XCTAssertEqual(tolerant.status, 0, tolerant.stderr)
        XCTAssertEqual(try Database(path: copies, mode: .readOnly).runs().count, 1)
    }

    func testBadConfigCreatesNoRunAndNamesTheKey() throws {
        let db = path("never.sqlite")
        assertOneLineError(try tlens(quickRun + ["--db", db, "--set", "optimizer.lr=-0.1"]), containing: "optimizer.lr")
        assertOneLineError(try tlens(quickRun + ["--db", db, "--set", "modle.hidden=[4]"]), containing: "did you mean 'model.hidden'")
        let config = path("bad.yaml")
        try "data: {source: digits}\noptimizer: {batch_size: 100000}\n".write(toFile: config, atomically: true, encoding: .utf8)
        assertOneLineError(try tlens(["train", "--config", config, "--db", db]), containing: "optimizer.batch_size")
        assertOneLineError(try tlens(["train", "--config", path("missing.yaml"), "--db", db]), containing: "missing.yaml")
        XCTAssertFalse(FileManager.default.fileExists(atPath: db), "a refused config must not create the database")
    }

    func testBadDatabasesAreRefusedAndLeftUntouched() throws {
        let text = path("notes.sqlite")
        try "these are not the droids".write(toFile: text, atomically: true, encoding: .utf8)

        let good = path("good.sqlite")
        XCTAssertEqual(try tlens(quickRun + ["--db", good]).status, 0)
        let truncated = path("truncated.sqlite")
        try bytes(good).prefix(5000).write(to: URL(fileURLWithPath: truncated))

        let folder = path("folder.sqlite")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)

        let readOnly = path("readonly.sqlite")
        try bytes(good).write(to: URL(fileURLWithPath: readOnly))
        XCTAssertEqual(chmod(readOnly, 0o444), 0)

        for (file, expected) in [(text, text), (truncated, truncated), (folder, folder), (readOnly, readOnly)] {
            let before = file == folder ? Data() : try bytes(file)
            assertOneLineError(try tlens(quickRun + ["--db", file]), containing: expected)
            if file != folder { XCTAssertEqual(try bytes(file), before, "\(file) was modified") }
        }
    }

    /// Every refusal of the validation section comes before the run row: against a database
    /// that already holds one completed run, each exits non-zero with one line on stderr and
    /// leaves the file's bytes and its run count as they were.
    func testRefusalsLeaveAnExistingDatabaseByteIdentical() throws {
        let db = path("existing.sqlite")
        XCTAssertEqual(try tlens(quickRun + ["--db", db]).status, 0)
        let before = try bytes(db)
        let sub = directory.appendingPathComponent("configs")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        let relative = sub.appendingPathComponent("run.yaml").path
        try "data: {source: csv, path: absent.csv, target_column: y}\n".write(toFile: relative, atomically: true, encoding: .utf8)
        let cases: [(arguments: [String], expected: String)] = [
            (["--set", "optimizer.kind=adam", "--set", "lens.kernel_path=layer_gram"], "lens.kernel_path: layer_gram needs an optimizer without a preconditioner"),
            (["--set", "model.hidden=[100000, 100000]"], "(θ alone 40.0 GB as a checkpoint blob, over SQLite's 1 GB blob limit); reduce model.hidden"),
            (["--set", "data.n_train=200", "--set", "lens.reference=500"], "lens.reference: 500 is larger than the training set (200)"),
            (["--set", "data.n_test=0"], "data: the test split is empty; data.n_test is 0; set it ≥ 1"),
            (["--set", "seed=18446744073709551616"], "seed: expected an integer"),
            (["--set", "model.hidden=" + String(repeating: "[", count: 100_000)], "nested more than 64 levels deep"),
        ]
        for (arguments, expected) in cases {
            assertOneLineError(try tlens(quickRun + arguments + ["--db", db]), containing: expected)
        }
        // A relative data path is looked for beside the config file, and the refusal says where.
        let expectedPath = sub.appendingPathComponent("absent.csv").standardizedFileURL.path
        assertOneLineError(try tlens(["train", "--config", relative, "--quiet", "--db", db]), containing: "\(expectedPath): no such file")
        XCTAssertEqual(try bytes(db), before, "a refused run changed the database")
        XCTAssertEqual(try Database(path: db, mode: .readOnly).runs().count, 1)

        // Another application's SQLite file is refused, byte-identical, with no WAL left behind.
        let foreign = path("accounts.sqlite")
        do {
            let other = try Database(path: foreign, mode: .create)
            try other.execute("CREATE TABLE account(id INTEGER PRIMARY KEY, owner TEXT); INSERT INTO account(owner) VALUES ('ada')")
            try other.close()
        }
        let foreignBefore = try bytes(foreign)
        assertOneLineError(try tlens(quickRun + ["--db", foreign]),
                           containing: "\(foreign): not a tlens database (it has tables account; tlens keeps its runs in a file of its own)")
        XCTAssertEqual(try bytes(foreign), foreignBefore)
        XCTAssertFalse(FileManager.default.fileExists(atPath: foreign + "-wal"))
    }

    /// Starts a long run, waits until it has committed steps, then sends `signal` (`times` times,
    /// 50 ms apart). Returns the exit status, stderr and the database.
    func interruptedRun(_ signal: Int32, db: String, times: Int = 1) throws -> (status: Int32, stderr: String, database: Database) {
        let (process, _, err) = try startTLens(["train", "--preset", "digits-3v5", "--set", "steps=1000000", "--set", "lens.every=1",
                                                "--set", "lens.smoother=off", "--set", "lens.kernel=false", "--quiet", "--db", db],
                                               in: directory, capture: true)
        let deadline = Date().addingTimeInterval(60)
        var committed = 0
        while committed < 20 && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.2)
            if let database = try? Database(path: db, mode: .readOnly) {
                committed = Int((try? database.scalarInt("SELECT coalesce(max(last_step), 0) FROM runs")) ?? 0)
            }
        }
        XCTAssertGreaterThanOrEqual(committed, 20, "the run never committed steps")
        for k in 0..<times {
            if k > 0 { Thread.sleep(forTimeInterval: 0.05) }
            kill(process.processIdentifier, signal)
        }
        let stderr = signal == SIGKILL ? "" : String(decoding: err!.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, stderr, try Database(path: db, mode: .readOnly))
    }

    /// Ctrl-C: one line at once naming the step and the resume command, then the run finishes
    /// its step, writes a checkpoint of it and ends `interrupted` (exit 130); a second Ctrl-C
    /// changes nothing of that. (ResumeTests resumes a run stopped this way bit-identically.)
    func testSIGINTFinishesTheRunAsInterruptedWithACheckpoint() throws {
        for times in [1, 2] {
            let db = path("sigint-\(times).sqlite")
            let (status, stderr, database) = try interruptedRun(SIGINT, db: db, times: times)
            XCTAssertEqual(status, 130, stderr)
            XCTAssertTrue(stderr.contains("stopping after step"), stderr)
            XCTAssertTrue(stderr.contains("resume with: tlens resume 1"), stderr)
            let run = try XCTUnwrap(try database.runs().first)
            XCTAssertEqual(run.status, .interrupted)
            let last = try XCTUnwrap(run.lastStep)
            XCTAssertGreaterThanOrEqual(try database.scalars(run: run.id, key: "train_loss").count, 20)
            XCTAssertEqual(try database.scalarInt("SELECT max(step) FROM checkpoints WHERE run_id = 1 AND learner_state IS NOT NULL"),
                           Int64(last), "the checkpoint is the last finished step")
            XCTAssertEqual(try database.scalarText("PRAGMA integrity_check"), "ok")
            try database.close()
        }
    }

    func testSIGKILLLeavesACrashedRunWithItsCommittedSteps() throws {
        let (_, _, database) = try interruptedRun(SIGKILL, db: path("sigkill.sqlite"))
        XCTAssertEqual(try database.scalarText("PRAGMA integrity_check"), "ok")
        Thread.sleep(forTimeInterval: 1.5)
        let run = try XCTUnwrap(try database.runs(staleAfter: 1).first)
        XCTAssertEqual(run.status, .running)
        XCTAssertEqual(run.effectiveStatus, .crashed)
        let lastStep = try XCTUnwrap(run.lastStep)
        XCTAssertGreaterThanOrEqual(lastStep, 20)
        // Every step up to last_step is there.
        XCTAssertEqual(try database.scalars(run: run.id, key: "train_loss").filter { $0.step <= lastStep }.count, lastStep)
    }

    func testDivergedRunKeepsWhatWasRecorded() throws {
        let db = path("diverged.sqlite")
        let o = try tlens(["train", "--preset", "digits-3v5", "--set", "optimizer.lr=50", "--set", "steps=200",
                           "--set", "lens.every=1", "--set", "lens.smoother=off", "--quiet", "--db", db])
        XCTAssertEqual(o.status, 3, "a diverged run exits 3: " + o.stderr)
        XCTAssertTrue(o.stderr.contains("diverged"), o.stderr)
        let database = try Database(path: db, mode: .readOnly)
        let run = try XCTUnwrap(try database.runs().first)
        XCTAssertEqual(run.status, .diverged)
        let losses = try database.scalars(run: run.id, key: "train_loss")
        XCTAssertFalse(losses.isEmpty)
        XCTAssertLessThan(losses.count, 200)
    }
}
