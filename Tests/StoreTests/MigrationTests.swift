import XCTest
@testable import Store

final class MigrationTests: XCTestCase {
    var directory: TemporaryDirectory!
    override func setUpWithError() throws { directory = try TemporaryDirectory() }

    private func tableNames(_ db: Database) throws -> Set<String> {
        let select = try db.prepare("SELECT name FROM sqlite_schema WHERE type IN ('table', 'view')")
        var names = Set<String>()
        while try select.step() { names.insert(select.string(at: 0)!) }
        return names
    }

    func testFreshDatabaseGetsEveryMigrationInWALMode() throws {
        let path = directory.path("fresh.sqlite")
        let db = try Database.openTLens(path: path)
        XCTAssertGreaterThanOrEqual(Migrator.latestVersion, 1)
        XCTAssertEqual(try Migrator.version(of: db), Migrator.latestVersion)
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM schema_migrations"), Int64(Migrator.latestVersion))
        XCTAssertEqual(try db.scalarText("SELECT name FROM schema_migrations WHERE version = 1"), "0001_initial")
        XCTAssertEqual(try db.scalarText("PRAGMA journal_mode"), "wal")
        let expected: Set<String> = ["sweeps", "runs", "run_params", "metric_keys", "metrics", "vectors", "eval_points",
                                     "checkpoints", "events", "schema_migrations", "runs_view", "metrics_named"]
        let names = try tableNames(db)
        XCTAssertTrue(expected.isSubset(of: names), "missing: \(expected.subtracting(names))")
        // One series is a range of the primary key of a WITHOUT ROWID table.
        XCTAssertEqual(try db.scalarText("SELECT sql FROM sqlite_schema WHERE name = 'metrics'")?.contains("WITHOUT ROWID"), true)
        let plan = try db.prepare("EXPLAIN QUERY PLAN SELECT step, value FROM metrics WHERE run_id = 1 AND key_id = 2 ORDER BY step")
        XCTAssertTrue(try plan.step())
        XCTAssertEqual(plan.string(at: 3), "SEARCH metrics USING PRIMARY KEY (run_id=? AND key_id=?)")
    }

    func testReopeningAnUpToDateDatabaseChangesNothing() throws {
        let path = directory.path("reopen.sqlite")
        do {
            let db = try Database.openTLens(path: path)
            try db.execute("INSERT INTO metric_keys(name) VALUES ('loss')")
        }
        let before = try fileBytes(path)
        let appliedBefore = try Database.openTLens(path: path, mode: .readOnly).scalarText("SELECT group_concat(applied_at) FROM schema_migrations")
        do {
            let db = try Database.openTLens(path: path)
            XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM schema_migrations"), Int64(Migrator.latestVersion))
            XCTAssertEqual(try db.scalarText("SELECT group_concat(applied_at) FROM schema_migrations"), appliedBefore)
        }
        XCTAssertEqual(try fileBytes(path), before)
        XCTAssertFalse(fileExists(path + "-wal"), "the last connection's close removes the WAL")
    }

    func testNewerSchemaIsRefusedAndFileLeftByteIdentical() throws {
        // A WAL database made by this tlens, then stamped by a "future" one.
        let walPath = directory.path("future-wal.sqlite")
        do {
            let db = try Database.openTLens(path: walPath)
            try db.execute("PRAGMA user_version = \(Migrator.latestVersion + 1)")
        }
        // A rollback-journal database from the future: refusing it must not switch it to WAL.
        let rollbackPath = directory.path("future-rollback.sqlite")
        do {
            let db = try Database(path: rollbackPath, mode: .create)
            try db.execute("CREATE TABLE future(x); PRAGMA user_version = 99")
        }
        for path in [walPath, rollbackPath] {
            let before = try fileBytes(path)
            for mode in [Database.OpenMode.create, .readWrite, .readOnly] {
                let error = assertDatabaseError(try Database.openTLens(path: path, mode: mode))
                XCTAssertEqual(error?.message.contains("newer than this tlens"), true, "\(error.map(String.init(describing:)) ?? "")")
                XCTAssertEqual(error?.description.hasPrefix(path), true)
                XCTAssertNotNil(assertDatabaseError(try Recorder(path: path)))
            }
            XCTAssertEqual(try fileBytes(path), before, path)
            XCTAssertFalse(fileExists(path + "-wal"))
            XCTAssertFalse(fileExists(path + "-journal"))
        }
        // Byte 18 of the header is the write version: 1 = rollback journal, 2 = WAL.
        XCTAssertEqual(try fileBytes(rollbackPath)[18], 1)
    }

    func testReadOnlyOpenRefusesUnmigratedDatabase() throws {
        let path = directory.path("plain.sqlite")
        do { try Database(path: path, mode: .create).execute("CREATE TABLE x(y)") }
        let error = assertDatabaseError(try Database.openTLens(path: path, mode: .readOnly))
        XCTAssertEqual(error?.message.contains("not a tlens database"), true)
    }
}
