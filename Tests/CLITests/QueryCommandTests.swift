import Foundation
import Store
import XCTest

/// `tlens runs | show | metrics | compare | export` on runs trained by the binary itself,
/// checked against direct SQL; and what a user sees on bad input.
final class QueryCommandTests: TemporaryDirectoryTestCase {
    func json(_ o: Outcome, file: StaticString = #filePath, line: UInt = #line) throws -> [[String: Any]] {
        XCTAssertEqual(o.status, 0, o.stderr, file: file, line: line)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(o.stdout.utf8)) as? [[String: Any]], o.stdout, file: file, line: line)
    }

    /// Three short real runs at three learning rates.
    func trainRuns(_ db: String) throws {
        for (i, lr) in ["0.01", "0.02", "0.04"].enumerated() {
            let o = try tlens(["train", "--preset", "digits-3v5", "--set", "steps=4", "--set", "lens.every=1", "--set", "optimizer.lr=\(lr)",
                               "--name", "lr-\(lr)", "--quiet", "--db", db])
            XCTAssertEqual(o.status, 0, o.stderr)
            XCTAssertEqual(o.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "\(i + 1)")
        }
    }

    func finalValue(_ db: Database, run: Int, key: String) throws -> Double {
        let select = try db.prepare("SELECT value FROM metrics_named WHERE run_id = ? AND key = ? ORDER BY step DESC LIMIT 1")
        select.bind([.integer(Int64(run)), .text(key)])
        XCTAssertTrue(try select.step())
        return select.double(at: 0)
    }

    func testListingCommandsAgreeWithDirectSQL() throws {
        let db = path("q.sqlite")
        try trainRuns(db)
        let database = try Database(path: db, mode: .readOnly)

        let runs = try json(try tlens(["runs", "--db", db, "--format", "json"]))
        XCTAssertEqual(runs.map { $0["name"] as? String }, ["lr-0.01", "lr-0.02", "lr-0.04"])
        for (i, run) in runs.enumerated() {
            XCTAssertEqual(run["status"] as? String, "completed")
            XCTAssertEqual(run["last_step"] as? Int, 4)
            // tlens prints the shortest digits that round-trip (checked exactly in QueryTests);
            // Foundation's JSONSerialization on Linux may parse the last digit off by an ulp.
            let expected = try finalValue(database, run: i + 1, key: "test_mse")
            XCTAssertEqual(try XCTUnwrap(run["final.test_mse"] as? Double), expected, accuracy: 4 * expected.ulp)
        }
        let filtered = try json(try tlens(["runs", "--db", db, "--where", "optimizer.lr>0.015", "--sort", "final.test_mse:desc",
                                           "--keys", "final.p_test", "--format", "json"]))
        XCTAssertEqual(Set(filtered.compactMap { $0["name"] as? String }), ["lr-0.02", "lr-0.04"])
        XCTAssertEqual(Array(filtered[0].keys).contains("final.p_test"), true)
        let mses = filtered.compactMap { $0["final.test_mse"] as? Double }
        XCTAssertEqual(mses, mses.sorted(by: >), "sorted descending")

        let csv = try tlens(["metrics", "lr-0.02", "--db", db, "--key", "test_mse,train_loss", "--format", "csv"])
        XCTAssertEqual(csv.status, 0, csv.stderr)
        let lines = csv.stdout.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        XCTAssertEqual(lines.first, "step,test_mse,train_loss")
        XCTAssertEqual(lines.count, 1 + 5, "steps 0…4")
        XCTAssertEqual(lines[1].split(separator: ",", omittingEmptySubsequences: false).last, "", "train_loss is a step key: none at step 0")
        let testMSE = try database.scalars(run: 2, key: "test_mse")
        for (line, point) in zip(lines.dropFirst(), testMSE) {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            XCTAssertEqual(Int(fields[0]), point.step)
            XCTAssertEqual(Double(fields[1]), point.value)
        }

        let show = try tlens(["show", "2", "--db", db, "--format", "json"])
        XCTAssertEqual(show.status, 0, show.stderr)
        let details = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
        let config = try XCTUnwrap(details["config"] as? [String: Any])
        XCTAssertEqual((config["optimizer"] as? [String: Any])?["lr"] as? Double, 0.02)
        let keys = try XCTUnwrap(details["keys"] as? [[String: Any]])
        XCTAssertEqual(keys.first { $0["key"] as? String == "test_mse" }?["rows"] as? Int, 5)
        let table = try tlens(["show", "lr-0.02", "--db", db])
        XCTAssertTrue(table.stdout.contains("provenance") && table.stdout.contains("checkpoints") && table.stdout.contains("\"lr\" : 0.02"), table.stdout)

        let side = try json(try tlens(["compare", "1", "2", "3", "--db", db, "--keys", "final.test_mse", "--baseline", "1", "--format", "json"]))
        XCTAssertEqual(side[0]["Δ final.test_mse"] as? Double, 0)
        let expected = try finalValue(database, run: 3, key: "test_mse") - finalValue(database, run: 1, key: "test_mse")
        XCTAssertEqual(try XCTUnwrap(side[2]["Δ final.test_mse"] as? Double), expected, accuracy: 1e-15)
        let grouped = try json(try tlens(["compare", "--where", "status=completed", "--by", "optimizer.lr", "--keys", "final.test_mse", "--db", db, "--format", "json"]))
        XCTAssertEqual(grouped.map { $0["optimizer.lr"] as? Double }, [0.01, 0.02, 0.04])
        XCTAssertEqual(grouped.map { $0["runs"] as? Int }, [1, 1, 1])

        let export = try tlens(["export", "1", "3", "--db", db, "--out", "exported"])
        XCTAssertEqual(export.status, 0, export.stderr)
        let scalars = try String(contentsOfFile: path("exported/scalars.csv"), encoding: .utf8)
        let rows = scalars.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count - 1
        XCTAssertEqual(rows, Int(try database.scalarInt("SELECT count(*) FROM metrics WHERE run_id IN (1, 3)") ?? -1))
        // Plots to a device are written in place: /dev/stdout gets the SVG, and /dev/null stays
        // a device (renaming a staged file over it would replace the node itself as root).
        let toStdout = try tlens(["plot", "1", "--key", "test_mse", "--db", db, "--out", "/dev/stdout"])
        XCTAssertEqual(toStdout.status, 0, toStdout.stderr)
        XCTAssertTrue(toStdout.stdout.hasPrefix("<svg"), String(toStdout.stdout.prefix(80)))
        XCTAssertEqual(try tlens(["report", "1", "--db", db, "--out", "/dev/null"]).status, 0)
        var device = stat()
        XCTAssertEqual(lstat("/dev/null", &device), 0)
        XCTAssertEqual(device.st_mode & S_IFMT, S_IFCHR, "/dev/null is no longer a character device")
        let vectors = try String(contentsOfFile: path("exported/vectors.csv"), encoding: .utf8)
        XCTAssertTrue(vectors.hasPrefix("run_id,kind,split,step,point,row_id,output,value\r\n"))
    }

    func testReadCommandsRefuseBadInputInOneLineAndTouchNothing() throws {
        let missing = path("missing.sqlite")
        for command in [["runs"], ["show", "1"], ["metrics", "1", "--key", "test_mse"], ["compare", "1", "2"], ["export", "1"]] {
            assertOneLineError(try tlens(command + ["--db", missing]), containing: "no such database")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing))

        let other = path("other.sqlite")
        try Database(path: other, mode: .create).execute("CREATE TABLE notes(x)")
        let otherBytes = try Data(contentsOf: URL(fileURLWithPath: other))
        assertOneLineError(try tlens(["runs", "--db", other]), containing: "not a tlens database")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: other)), otherBytes)

        let db = path("q.sqlite")
        try trainRuns(db)
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        assertOneLineError(try tlens(["show", "9", "--db", db]), containing: "no run '9'")
        assertOneLineError(try tlens(["show", "lr-0.2", "--db", db]), containing: "did you mean 'lr-0.02'?")
        assertOneLineError(try tlens(["metrics", "1", "--key", "test_mes", "--db", db]), containing: "did you mean test_mse?")
        assertOneLineError(try tlens(["runs", "--where", "final.tset_mse<1", "--db", db]), containing: "did you mean final.test_mse?")
        assertOneLineError(try tlens(["runs", "--where", "optimizer.lrr=1", "--db", db]), containing: "did you mean optimizer.lr?")
        assertOneLineError(try tlens(["runs", "--sort", "nosuch", "--db", db]), containing: "unknown name 'nosuch'")
        assertOneLineError(try tlens(["compare", "--sweep", "nosuch", "--db", db]), containing: "no sweep 'nosuch'")
        for hostile in ["name='); DROP TABLE runs; --", "name=\"; DELETE FROM metrics; --", "name~*'*", "optimizer.lr!=';--",
                        // ~120 kB: Linux caps one argument at 128 kB.
                        "name=" + String(repeating: "x'", count: 60_000)] {
            let o = try tlens(["runs", "--where", hostile, "--db", db, "--format", "json"])
            XCTAssertEqual(o.status, 0, o.stderr)
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: db)), before)
        XCTAssertEqual(try Database(path: db, mode: .readOnly).scalarInt("SELECT count(*) FROM runs"), 3)
    }
}
