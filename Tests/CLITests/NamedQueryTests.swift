import Foundation
import Store
import XCTest

/// `tlens query`, `tlens sql`, `--save`, `tlens analyses` and `tlens rerun` end to end, on a
/// database of real runs: a sweep `tiny` (digits 3 vs 5, lr 0.01 and 0.02 × seeds 0 and 1, 20
/// steps) and run 5 (40 steps), trained once for the class and copied for each test.
final class NamedQueryTests: TemporaryDirectoryTestCase {
    nonisolated(unsafe) static var template: URL?

    override class func setUp() {
        super.setUp()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tlens-named-template-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let spec = """
            name: tiny
            base: {preset: digits-3v5}
            set: {steps: 20}
            grid:
              optimizer.lr: [0.01, 0.02]
            seeds: [0, 1]
            """
        try? spec.write(to: folder.appendingPathComponent("tiny.yaml"), atomically: true, encoding: .utf8)
        for arguments in [["sweep", "tiny.yaml", "--jobs", "1", "--db", "t.sqlite", "--quiet"],
                          ["train", "--preset", "digits-3v5", "--set", "steps=40", "--db", "t.sqlite", "--quiet"]] {
            guard let (process, _, _) = try? startTLens(arguments, in: folder) else { return }
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { return }
        }
        template = folder.appendingPathComponent("t.sqlite")
    }

    override class func tearDown() {
        if let template { try? FileManager.default.removeItem(at: template.deletingLastPathComponent()) }
        super.tearDown()
    }

    var db: String { path("t.sqlite") }

    override func setUpWithError() throws {
        try super.setUpWithError()
        let template = try XCTUnwrap(Self.template, "the template database could not be trained")
        try FileManager.default.copyItem(atPath: template.path, toPath: db)
    }

    /// The database file's bytes, and its -wal's when there is one with content.
    func fileState(_ path: String) throws -> [Data] {
        let wal = (try? Data(contentsOf: URL(fileURLWithPath: path + "-wal"))) ?? Data()
        return [try Data(contentsOf: URL(fileURLWithPath: path)), wal]
    }

    func json(_ text: String) throws -> [[String: Any]] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]], text)
    }

    func writeQuery(_ name: String, _ text: String, in folder: String) throws {
        try FileManager.default.createDirectory(atPath: path(folder), withIntermediateDirectories: true)
        try text.write(toFile: path(folder) + "/\(name).sql", atomically: true, encoding: .utf8)
    }

    func testListShowsShippedQueriesAndUserQueriesOverridingThem() throws {
        try writeQuery("final_metrics", "-- final_metrics: my own\n-- param run: r\nSELECT :run AS run", in: "mine")
        try writeQuery("extra", "-- extra: from the environment\nSELECT 42 AS answer", in: "env")
        let o = try tlens(["query", "--list", "--queries", "mine", "--format", "json"], environment: ["TLENS_QUERIES": path("env")])
        XCTAssertEqual(o.status, 0, o.stderr)
        let rows = try json(o.stdout)
        let names = rows.compactMap { $0["name"] as? String }
        for shipped in ["final_metrics", "sweep_table", "approx_error_by_decade", "double_descent", "grokking_timeline",
                        "kernel_weight_norm_by_irregularity", "lmc_barrier_by_spawn_step", "extra"] {
            XCTAssertTrue(names.contains(shipped), shipped)
        }
        let mine = try XCTUnwrap(rows.first { $0["name"] as? String == "final_metrics" })
        XCTAssertEqual(mine["source"] as? String, "mine/final_metrics.sql (overrides shipped)")
        XCTAssertEqual(mine["description"] as? String, "my own")
        XCTAssertEqual(rows.first { $0["name"] as? String == "sweep_table" }?["params"] as? String, "sweep, key=test_mse")

        let shown = try tlens(["query", "final_metrics", "--show", "--queries", "mine"])
        XCTAssertEqual(shown.stdout, "-- final_metrics: my own\n-- param run: r\nSELECT :run AS run\n")
        let extra = try tlens(["query", "extra", "--db", db, "--format", "csv"], environment: ["TLENS_QUERIES": path("env")])
        XCTAssertEqual(extra.stdout, "answer\r\n42\r\n")
        XCTAssertTrue(try tlens(["query", "final_metrics", "--show"]).stdout.hasPrefix("-- final_metrics: the last recorded value"))
    }

    /// On real runs: final_metrics equals the same figures read with direct SQL; the sweep's
    /// tables have a row per point or axis value; double_descent's means equal the means of the
    /// final values read directly; every shipped query runs; lmc_barrier_by_spawn_step is empty.
    func testShippedQueriesOnRealRunsAgreeWithDirectSQL() throws {
        let database = try Database(path: db, mode: .readOnly)
        func final(_ run: Int64, _ key: String) throws -> Double {
            try XCTUnwrap(database.prepare("""
                SELECT m.value FROM metrics m JOIN metric_keys k ON k.id = m.key_id WHERE m.run_id = ? AND k.name = ? ORDER BY m.step DESC LIMIT 1
                """).bound([.integer(run), .text(key)]).firstRow()?.double(at: 0))
        }
        // CSV: numbers in shortest round-trip digits, read back exactly by Double(_:).
        let o = try tlens(["query", "final_metrics", "--param", "run=5", "--db", db, "--format", "csv"])
        XCTAssertEqual(o.status, 0, o.stderr)
        let lines = o.stdout.split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(lines.first, ["key", "step", "value"])
        XCTAssertEqual(Int64(lines.count - 1), try database.scalarInt("SELECT count(DISTINCT key_id) FROM metrics WHERE run_id = 5"))
        for line in lines.dropFirst() {
            // grad_msc/l is recorded once, one epoch after grad_ref_step (docs/lens.md (7.8)).
            if line[0].hasPrefix("grad_msc/") { XCTAssertLessThan(Int(line[1]) ?? 40, 40, line[0]) } else { XCTAssertEqual(line[1], "40", line[0]) }
            if !line[2].isEmpty { XCTAssertEqual(Double(line[2]), try final(5, line[0]), line[0]) }
        }

        let table = try tlens(["query", "sweep_table", "--param", "sweep=tiny", "--db", db, "--format", "csv"]).stdout
            .split(separator: "\r\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        XCTAssertEqual(table.map { $0[4] }, ["optimizer.lr=0.01", "optimizer.lr=0.01", "optimizer.lr=0.02", "optimizer.lr=0.02"])
        XCTAssertEqual(table.map { $0[5] }, ["0", "1", "0", "1"])
        for row in table { XCTAssertEqual(Double(row[7]), try final(Int64(row[1])!, "test_mse")) }

        let dd = try json(try tlens(["query", "double_descent", "--param", "sweep=tiny", "--param", "axis=optimizer.lr", "--db", db, "--format", "json"]).stdout)
        XCTAssertEqual(dd.map { $0["value"] as? String }, ["0.01", "0.02"])
        for (row, runs) in zip(dd, [[Int64(1), 2], [3, 4]]) {
            let expected = try runs.map { try final($0, "test_mse") }.reduce(0, +) / 2
            XCTAssertEqual(try XCTUnwrap(row["test_mse"] as? Double), expected, accuracy: 1e-15 * expected)
        }

        for (name, parameters) in [("approx_error_by_decade", ["--param", "sweep=tiny"]), ("approx_error_by_decade", ["--param", "run=5"]),
                                   ("grokking_timeline", ["--param", "run=5"]), ("kernel_weight_norm_by_irregularity", ["--param", "sweep=tiny", "--param", "axis=optimizer.lr"]),
                                   ("double_descent", ["--param", "sweep=tiny"])] {
            let r = try tlens(["query", name] + parameters + ["--db", db, "--format", "json"])
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
            XCTAssertFalse(try json(r.stdout).isEmpty, name)
        }
        // Digits runs have no data.irregular_fraction (a tabular option), and no run has a parent.
        for arguments in [["kernel_weight_norm_by_irregularity", "--param", "sweep=tiny"], ["lmc_barrier_by_spawn_step"]] {
            let r = try tlens(["query"] + arguments + ["--db", db, "--format", "json"])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(r.stdout, "[]\n")
        }
    }

    /// Values given with --param are bound: each comes back literally, and the file (and its
    /// WAL) is byte-identical afterwards. (One argument can hold at most 128 KiB on Linux; the
    /// 1 MB value is in QueryTests.)
    func testHostileParameterValuesMatchLiterallyAndNeverChangeTheFile() throws {
        try writeQuery("echo", "-- echo: a value back\n-- param v: anything\nSELECT :v AS v, (SELECT count(*) FROM runs) AS runs", in: "q")
        let before = try fileState(db)
        let values = ["'); DROP TABLE runs; --", "x\"; DELETE FROM metrics; --", "a'b''c", ";", "--", "/*", "1; DROP TABLE runs",
                      "' OR 1=1 --", "$(rm -rf /)", String(repeating: "'); DROP TABLE runs; --", count: 5_000)]
        for value in values {
            for arguments in [["query", "echo", "--queries", "q"], ["sql", "SELECT :v AS v, (SELECT count(*) FROM runs) AS runs"]] {
                let o = try tlens(arguments + ["--param", "v=\(value)", "--db", db, "--format", "json"])
                XCTAssertEqual(o.status, 0, o.stderr)
                let row = try XCTUnwrap(try json(o.stdout).first)
                XCTAssertEqual(row["v"] as? String, value)
                XCTAssertEqual(row["runs"] as? Int, 5)
            }
            // A shipped query given the value where it expects a sweep name: no rows, no change.
            let o = try tlens(["query", "sweep_table", "--param", "sweep=\(value)", "--db", db, "--format", "csv"])
            XCTAssertEqual(o.status, 0, o.stderr)
            XCTAssertEqual(o.stdout, "point,run,name,status,axes,seed,step,value\r\n")
            XCTAssertEqual(try fileState(db), before)
        }
        let database = try Database(path: db, mode: .readOnly)
        XCTAssertEqual(try database.scalarInt("SELECT count(*) FROM runs"), 5)
    }

    func testSQLRefusesWritesWithoutWriteAndLeavesTheFileByteIdentical() throws {
        let before = try fileState(db)
        for sql in ["DELETE FROM runs", "UPDATE metrics SET value = 0", "DROP TABLE metrics", "SELECT 1; DELETE FROM runs",
                    "PRAGMA user_version = 99", "CREATE TABLE x(y)"] {
            let o = try tlens(["sql", sql, "--db", db])
            assertOneLineError(o, containing: "attempt to write a readonly database")
            XCTAssertTrue(o.stderr.contains("--write"), o.stderr)
            XCTAssertEqual(try fileState(db), before, sql)
        }
        assertOneLineError(try tlens(["sql", "SELECT count(*) FROM runz", "--db", db]), containing: "sql: no such table: runz")
        assertOneLineError(try tlens(["sql", "BEGIN; DELETE FROM runs; COMMIT", "--db", db, "--write"]), containing: "BEGIN, COMMIT")
        XCTAssertEqual(try fileState(db), before)

        // Several statements: all run, the last one's rows are printed.
        let read = try tlens(["sql", "SELECT 1; SELECT name FROM runs WHERE id = :id", "--param", "id=5", "--db", db, "--format", "csv"])
        XCTAssertEqual(read.stdout, "name\r\ndigits-3v5\r\n")
        // With --write the statements commit together, or not at all.
        let failed = try tlens(["sql", "UPDATE runs SET name = 'x'; INSERT INTO nope VALUES (1)", "--write", "--db", db])
        assertOneLineError(failed, containing: "no such table: nope")
        let write = try tlens(["sql", "UPDATE runs SET name = :n WHERE id = 5; SELECT name FROM runs WHERE id = 5", "--param", "n=renamed",
                               "--write", "--db", db, "--format", "csv"])
        XCTAssertEqual(write.status, 0, write.stderr)
        XCTAssertEqual(write.stdout, "name\r\nrenamed\r\n")
        XCTAssertTrue(write.stderr.contains("1 row changed"), write.stderr)
        let database = try Database(path: db, mode: .readOnly)
        XCTAssertEqual(try database.scalarInt("SELECT count(*) FROM runs WHERE name = 'x'"), 0)
    }

    func testBadInputsAreOneLineErrorsAndCreateNoFile() throws {
        let missing = path("missing.sqlite")
        assertOneLineError(try tlens(["query", "final_metrics", "--param", "run=1", "--db", missing]), containing: "no such database")
        assertOneLineError(try tlens(["sql", "SELECT 1", "--db", missing]), containing: "no such database")
        assertOneLineError(try tlens(["sql", "SELECT 1", "--write", "--db", missing]), containing: "no such database")
        assertOneLineError(try tlens(["query", "final_metrics", "--param", "run=1", "--save", "--db", missing]), containing: "no such database")
        assertOneLineError(try tlens(["analyses", "--db", missing]), containing: "no such database")
        assertOneLineError(try tlens(["rerun", "1", "--db", missing]), containing: "no such database")
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing))
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing + "-wal"))

        let other = path("other.sqlite")
        do {
            let foreign = try Database(path: other, mode: .create)
            try foreign.execute("CREATE TABLE accounts(id INTEGER PRIMARY KEY, owner TEXT)")
            try foreign.close()
        }
        let otherBytes = try fileState(other)
        for arguments in [["query", "final_metrics", "--param", "run=1"], ["sql", "SELECT * FROM accounts"], ["sql", "DELETE FROM accounts", "--write"],
                          ["query", "final_metrics", "--param", "run=1", "--save"], ["analyses"]] {
            assertOneLineError(try tlens(arguments + ["--db", other]), containing: "not a tlens database")
        }
        XCTAssertEqual(try fileState(other), otherBytes)

        assertOneLineError(try tlens(["query", "final_metric", "--param", "run=1", "--db", db]), containing: "did you mean final_metrics?")
        assertOneLineError(try tlens(["query", "final_metrics", "--param", "rnu=1", "--db", db]), containing: "no parameter 'rnu' (its parameters: run); did you mean run?")
        assertOneLineError(try tlens(["query", "final_metrics", "--db", db]), containing: "parameter run is required")
        assertOneLineError(try tlens(["query", "final_metrics", "--param", "run", "--db", db]), containing: "write NAME=VALUE")
        assertOneLineError(try tlens(["query", "--list", "--queries", path("nowhere")]), containing: "no such directory of queries")
        assertOneLineError(try tlens(["rerun", "7", "--db", db]), containing: "no analysis '7' (0 saved; tlens analyses lists them)")
    }

    func testRerunNamesAChangedCellAndRerunsCleanOnUnchangedData() throws {
        let saved = try tlens(["query", "final_metrics", "--param", "run=5", "--save", "--label", "fm", "--db", db])
        XCTAssertEqual(saved.status, 0, saved.stderr)
        XCTAssertTrue(saved.stderr.contains("saved analysis 1 as 'fm'"), saved.stderr)
        let clean = try tlens(["rerun", "fm", "--db", db])
        XCTAssertEqual(clean.status, 0, clean.stderr)
        XCTAssertTrue(clean.stdout.hasPrefix("analysis 1 'fm' (query final_metrics): unchanged ("), clean.stdout)
        XCTAssertEqual(try tlens(["rerun", "1", "--db", db]).status, 0)

        let stored = try Database(path: db, mode: .readOnly).scalarText("SELECT result_json FROM analyses WHERE id = 1")
        let change = try tlens(["sql", "--write", """
            UPDATE metrics SET value = 0.5 WHERE run_id = 5 AND step = 40 AND key_id = (SELECT id FROM metric_keys WHERE name = 'test_mse')
            """, "--db", db])
        XCTAssertEqual(change.status, 0, change.stderr)
        let changed = try tlens(["rerun", "fm", "--db", db])
        XCTAssertEqual(changed.status, 4, changed.stderr)
        let lines = changed.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].contains("changed"), changed.stdout)
        XCTAssertTrue(lines.contains { $0.contains("[key=test_mse], value: ") && $0.hasSuffix("→ 0.5") }, changed.stdout)
        XCTAssertTrue(lines.contains("  inputs changed: metrics"), changed.stdout)
        // A rerun never touches the saved analysis.
        XCTAssertEqual(try Database(path: db, mode: .readOnly).scalarText("SELECT result_json FROM analyses WHERE id = 1"), stored)
        assertOneLineError(try tlens(["rerun", "fn", "--db", db]), containing: "did you mean fm?")
    }

    /// --save on a file of schema version 3 (tlens before saved analyses) migrates it; query,
    /// sql and compare all save; tlens analyses lists them; a saved comparison reruns clean.
    func testSaveMigratesAVersion3DatabaseAndAnalysesListsIt() throws {
        do {
            let database = try Database(path: db, mode: .readWrite)
            try database.execute("DROP TABLE analyses; DELETE FROM schema_migrations WHERE version = 4; PRAGMA user_version = 3")
            try database.close()
        }
        let empty = try tlens(["analyses", "--db", db, "--format", "csv"])
        XCTAssertEqual(empty.stdout, "id,label,kind,name,created,rows\r\n")
        XCTAssertEqual(try Database(path: db, mode: .readOnly).scalarInt("PRAGMA user_version"), 3)

        let sql = try tlens(["sql", "SELECT id, name FROM runs WHERE id <= :n", "--param", "n=2", "--save", "--db", db, "--format", "csv"])
        XCTAssertEqual(sql.status, 0, sql.stderr)
        XCTAssertTrue(sql.stderr.contains("saved analysis 1"), sql.stderr)
        XCTAssertEqual(try Database(path: db, mode: .readOnly).scalarInt("PRAGMA user_version"), 4)
        let compare = try tlens(["compare", "--sweep", "tiny", "--by", "optimizer.lr", "--keys", "final.test_mse", "--save", "--label", "lr", "--db", db])
        XCTAssertEqual(compare.status, 0, compare.stderr)
        XCTAssertTrue(compare.stderr.contains("saved analysis 2 as 'lr'"), compare.stderr)
        XCTAssertEqual(try tlens(["query", "grokking_timeline", "--param", "run=5", "--save", "--db", db]).status, 0)

        let listing = try json(try tlens(["analyses", "--db", db, "--format", "json"]).stdout)
        XCTAssertEqual(listing.map { $0["kind"] as? String }, ["sql", "compare", "query"])
        XCTAssertEqual(listing.map { $0["name"] as? String }, ["SELECT id, name FROM runs WHERE id <= :n",
                                                               "--sweep tiny --by optimizer.lr --keys final.test_mse", "grokking_timeline"])
        XCTAssertEqual(listing.map { $0["rows"] as? Int }, [2, 2, 3])
        XCTAssertEqual(listing.map { $0["label"] is NSNull }, [true, false, true])
        for analysis in ["1", "lr", "3"] {
            let o = try tlens(["rerun", analysis, "--db", db])
            XCTAssertEqual(o.status, 0, o.stdout + o.stderr)
            XCTAssertTrue(o.stdout.contains("unchanged"), o.stdout)
        }
        assertOneLineError(try tlens(["sql", "SELECT 1", "--save", "--write", "--db", db]), containing: "cannot be combined with --write")
        assertOneLineError(try tlens(["query", "final_metrics", "--param", "run=5", "--save", "--label", "lr", "--db", db]), containing: "already has that label")
        assertOneLineError(try tlens(["query", "final_metrics", "--param", "run=5", "--label", "x", "--db", db]), containing: "add --save")
    }
}
