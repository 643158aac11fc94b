import Foundation
import Store
import XCTest

/// `tlens sweep` end to end: workers on one database, killed and re-run, and two sweep commands
/// at once on one file.
final class SweepTests: TemporaryDirectoryTestCase {

    /// 12 small runs: 2 learning rates × 2 widths × 3 seeds.
    func writeSpec(steps: Int) throws -> String {
        let spec = path("sweep.yaml")
        try """
        name: tiny
        base: {preset: digits-3v5}
        set: {steps: \(steps), lens.every: 10, lens.reference: 32, data.n_train: 120, checkpoint.every: 20}
        grid:
          optimizer.lr: [0.01, 0.05]
          model.hidden: [[8], [16]]
        seeds: [0, 1, 2]
        """.write(toFile: spec, atomically: true, encoding: .utf8)
        return spec
    }

    /// Every (key, step) → value bits and (kind, split, step) → blob of one run.
    func records(_ db: Database, run: Int64) throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        let s = try db.prepare("SELECT k.name, m.step, m.value FROM metrics m JOIN metric_keys k ON k.id = m.key_id WHERE m.run_id = ?")
        s.bind([.integer(run)])
        while try s.step() {
            let bits = s.isNull(at: 2) ? UInt64.max : s.double(at: 2).bitPattern
            out["\(s.string(at: 0) ?? "")@\(s.int64(at: 1))"] = withUnsafeBytes(of: bits) { Array($0) }
        }
        let v = try db.prepare("SELECT kind, split, step, data FROM vectors WHERE run_id = ?")
        v.bind([.integer(run)])
        while try v.step() { out["\(v.string(at: 0) ?? "")/\(v.string(at: 1) ?? "")@\(v.int64(at: 2))"] = v.blob(at: 3) ?? [] }
        return out
    }

    /// Killed part way — the sweep command and its workers, by SIGKILL — then re-run: every point
    /// has exactly one run, all completed, and each run's records are bit-identical to its
    /// stored config trained again in a separate process.
    func testAKilledSweepRerunsToEveryRunExactlyOnceBitIdentically() throws {
        let spec = try writeSpec(steps: 300), db = path("sweep.sqlite")
        let (sweep, _, _) = try startTLens(["sweep", spec, "--jobs", "2", "--db", db, "--quiet"], in: directory)
        let deadline = Date().addingTimeInterval(180)
        var completed = 0
        while sweep.isRunning && completed < 3 && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            if let d = try? Database(path: db, mode: .readOnly) {
                completed = Int((try? d.scalarInt("SELECT count(*) FROM runs WHERE status = 'completed'")) ?? 0)
            }
        }
        XCTAssertTrue(sweep.isRunning, "the sweep ended before it could be killed")
        // The workers' pids are in their claims and their runs.
        var workers: Set<Int32> = []
        if let d = try? Database(path: db, mode: .readOnly) {
            let s = try d.prepare("SELECT claimed_by FROM sweep_points WHERE claimed_by IS NOT NULL UNION SELECT '' || host || ':' || pid FROM runs WHERE status = 'running'")
            while try s.step() { if let h = s.string(at: 0), let pid = Int32(h.split(separator: ":").last ?? "") { workers.insert(pid) } }
        }
        kill(sweep.processIdentifier, SIGKILL)
        for pid in workers { kill(pid, SIGKILL) }
        sweep.waitUntilExit()
        XCTAssertFalse(workers.isEmpty)
        let (status, stderr) = try finish(["sweep", spec, "--jobs", "2", "--db", db, "--quiet"])
        XCTAssertEqual(status, 0, stderr)

        let database = try Database(path: db, mode: .readOnly)
        XCTAssertEqual(try database.scalarInt("SELECT count(*) FROM sweep_points"), 12)
        XCTAssertEqual(try database.scalarInt("SELECT count(*) FROM runs"), 12, "one run per point, none twice")
        XCTAssertEqual(try database.scalarInt("SELECT count(*) FROM runs WHERE status = 'completed'"), 12)
        XCTAssertEqual(try database.scalarInt("SELECT count(DISTINCT run_id) FROM sweep_points"), 12)
        XCTAssertEqual(try database.sweepStatus(named: "tiny")?.done, 12)
        // Each run against its stored config, trained again alone.
        let runs = try database.runs()
        for run in runs {
            let config = path("run-\(run.id).json"), alone = path("alone-\(run.id).sqlite")
            try run.configJSON.write(toFile: config, atomically: true, encoding: .utf8)
            XCTAssertEqual(try finish(["train", "--config", config, "--db", alone, "--quiet"]).0, 0)
            let expected = try records(Database(path: alone, mode: .readOnly), run: 1), got = try records(database, run: run.id)
            XCTAssertGreaterThan(expected.count, 100)
            XCTAssertEqual(got.count, expected.count, run.name ?? "")
            XCTAssertTrue(expected.allSatisfy { got[$0.key] == $0.value }, "\(run.name ?? ""): records differ from a separate re-run")
        }
    }

    /// Two sweep commands on one spec and one file at once: every point trained exactly once.
    func testTwoSweepCommandsAtOnceTrainEveryRunOnce() throws {
        let spec = try writeSpec(steps: 40), db = path("shared.sqlite")
        let a = try startTLens(["sweep", spec, "--db", db, "--quiet"], in: directory, capture: true)
        let b = try startTLens(["sweep", spec, "--db", db, "--quiet"], in: directory, capture: true)
        for (process, _, err) in [a, b] {
            let stderr = String(decoding: err!.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0, stderr)
        }
        let database = try Database(path: db, mode: .readOnly)
        XCTAssertEqual(try database.scalarInt("SELECT count(*) FROM runs"), 12)
        XCTAssertEqual(try database.scalarInt("SELECT count(*) FROM runs WHERE status = 'completed'"), 12)
        XCTAssertEqual(try database.scalarInt("SELECT count(*) FROM events WHERE kind = 'resumed'"), 0, "nothing was trained twice")
        XCTAssertEqual(try database.scalarInt("SELECT count(DISTINCT name) FROM runs"), 12)
    }

    /// A run's records do not depend on the thread count of the process that runs it: `threads`
    /// is part of the run (lens.md §11). The same config under OMP_NUM_THREADS=1 and =2 records
    /// the same bits; a different `threads` does change them (so the check means something);
    /// an unset `threads` stores the process's default.
    func testRecordsDoNotDependOnTheProcessThreadCount() throws {
        let train = ["train", "--preset", "digits-3v5", "--set", "steps=10", "--set", "model.hidden=[1024,1024]",
                     "--set", "lens.every=5", "--quiet"]
        func records(_ extra: [String], omp: String, _ name: String) throws -> [String: [UInt8]] {
            let db = path(name)
            let (process, _, err) = try startTLens(train + extra + ["--db", db], in: directory, capture: true, environment: ["OMP_NUM_THREADS": omp])
            let stderr = String(decoding: err!.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0, stderr)
            return try self.records(Database(path: db, mode: .readOnly), run: 1)
        }
        let one = try records(["--set", "threads=2"], omp: "1", "a.sqlite"), two = try records(["--set", "threads=2"], omp: "2", "b.sqlite")
        XCTAssertGreaterThan(one.count, 50)
        XCTAssertEqual(one, two, "threads=2 records the same bits whatever OMP_NUM_THREADS says")
        let serial = try records(["--set", "threads=1"], omp: "2", "c.sqlite")
        XCTAssertNotEqual(serial, two, "this config's products depend on the thread count")
        _ = try records([], omp: "1", "d.sqlite")
        XCTAssertEqual(try Database(path: path("d.sqlite"), mode: .readOnly).scalarText("SELECT value FROM run_params WHERE key = 'threads'"), "1")
    }

    /// Shards 1/3, 2/3, 3/3 into three files, merged, equal the unsharded sweep (ignoring ids and
    /// times); merging a source again adds nothing; a newer-schema source and a corrupt one are
    /// refused and the destination stays byte-identical.
    func testShardsMergeIntoTheUnshardedSweep() throws {
        let spec = try writeSpec(steps: 30)
        for i in 1...3 { XCTAssertEqual(try finish(["sweep", spec, "--shard", "\(i)/3", "--db", path("shard-\(i).sqlite"), "--quiet"]).0, 0) }
        XCTAssertEqual(try finish(["sweep", spec, "--db", path("whole.sqlite"), "--quiet"]).0, 0)
        let merged = path("merged.sqlite")
        XCTAssertEqual(try finish(["merge"] + (1...3).map { path("shard-\($0).sqlite") } + ["--into", merged]).0, 0)

        let whole = try Database(path: path("whole.sqlite"), mode: .readOnly), together = try Database(path: merged, mode: .readOnly)
        let wholeRuns = try whole.runs(), mergedRuns = try together.runs()
        XCTAssertEqual(mergedRuns.count, 12)
        XCTAssertEqual(Set(mergedRuns.compactMap(\.name)), Set(wholeRuns.compactMap(\.name)))
        for run in wholeRuns {
            let twin = try XCTUnwrap(mergedRuns.first { $0.name == run.name })
            XCTAssertEqual(try records(together, run: twin.id), try records(whole, run: run.id), run.name ?? "")
            XCTAssertEqual(twin.configJSON, run.configJSON)
        }
        XCTAssertEqual(try together.scalarInt("SELECT count(*) FROM sweep_points WHERE run_id IS NOT NULL"), 12)
        XCTAssertEqual(try together.sweepStatus(named: "tiny")?.done, 12)

        // Again: nothing added. Refusals leave the destination byte-identical.
        XCTAssertEqual(try finish(["merge", path("shard-1.sqlite"), "--into", merged]).0, 0)
        XCTAssertEqual(try Database(path: merged, mode: .readOnly).scalarInt("SELECT count(*) FROM runs"), 12)
        let before = try Data(contentsOf: URL(fileURLWithPath: merged))
        let newer = path("newer.sqlite"), corrupt = path("corrupt.sqlite")
        try FileManager.default.copyItem(atPath: path("shard-2.sqlite"), toPath: newer)
        try FileManager.default.copyItem(atPath: path("shard-2.sqlite"), toPath: corrupt)
        do {
            let n = try Database(path: newer, mode: .readWrite); try n.execute("PRAGMA user_version = 99"); try n.close()
            let c = try Database(path: corrupt, mode: .readWrite); try c.execute("UPDATE runs SET last_step = 1"); try c.close()
        }
        for (source, message) in [(newer, "made by a newer tlens"), (corrupt, "refused by check")] {
            let (status, stderr) = try finish(["merge", path("shard-3.sqlite"), source, "--into", merged])
            XCTAssertNotEqual(status, 0)
            XCTAssertTrue(stderr.contains(message), stderr)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: merged)), before, "a refused merge changed the destination")
        }
    }

    /// Bad specs refuse in one line before anything is written.
    func testBadSpecsAreRefusedBeforeAnythingIsWritten() throws {
        let db = path("never.sqlite")
        let cases: [(String, String)] = [
            ("name: s\nbase: {preset: digits-3v5}\ngrid: {model.hiden: [[8]]}\n", "model.hiden: unknown key; did you mean 'model.hidden'?"),
            ("name: s\nbase: {preset: digits-3v5}\ngrid: {optimizer.lr: []}\n", "grid.optimizer.lr: expected a non-empty list"),
            ("name: s\nbase: {preset: digits-3v5}\nzip: {optimizer.lr: [0.1, 0.2], name_suffix: [a]}\n", "must be equally long"),
            ("name: s\nbase: {preset: digits-3v5}\ngrid: {optimizer.lr: [0.1, -1]}\n", "sweep point 2 of 2 (s lr=-1 seed=0): optimizer.lr"),
            ("name: s\nbase: {preset: digits-3vv5}\n", "did you mean 'digits-3v5'?"),
            ("nmae: s\n", "nmae: unknown key; did you mean 'name'?"),
        ]
        for (text, expected) in cases {
            let spec = path("bad.yaml")
            try text.write(toFile: spec, atomically: true, encoding: .utf8)
            let (status, stderr) = try finish(["sweep", spec, "--db", db])
            XCTAssertNotEqual(status, 0)
            XCTAssertTrue(stderr.contains(expected), "expected '\(expected)' in: \(stderr)")
            XCTAssertEqual(stderr.split(separator: "\n").count, 1, stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: db), "a refused sweep wrote \(db)")
        }
    }
}
