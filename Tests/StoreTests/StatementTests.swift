import XCTest
@testable import Store

final class StatementTests: XCTestCase {
    var directory: TemporaryDirectory!
    var db: Database!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
        db = try Database(path: directory.path("wrapper.sqlite"), mode: .create)
        try db.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, i, r, s, b, n)")
    }

    func testBindsAndReadsEveryStorageClass() throws {
        let text = "héllo 🌍 日本語 \u{0}after-nul"
        let blob: [UInt8] = [0, 1, 127, 128, 255]
        let insert = try db.prepare("INSERT INTO t(id, i, r, s, b, n) VALUES (?, ?, ?, ?, ?, ?)")
        let rows: [(Int64, Double, String, [UInt8])] = [
            (Int64.min, -0.0, text, blob), (Int64.max, .pi, "", []), (0, Double.leastNormalMagnitude / 4, "ascii", [42]),
        ]
        for (index, row) in rows.enumerated() {
            insert.bind(index, at: 1)
            insert.bind(row.0, at: 2)
            insert.bind(row.1, at: 3)
            insert.bind(row.2, at: 4)
            insert.bind(row.3, at: 5)
            insert.bindNull(at: 6)
            try insert.execute()
        }
        // SQLite's own view of the storage classes, independent of our readers.
        let types = try db.prepare("SELECT typeof(i), typeof(r), typeof(s), typeof(b), typeof(n), length(b) FROM t ORDER BY id")
        var lengths: [Int64] = []
        while try types.step() {
            XCTAssertEqual((0..<5).map { types.string(at: $0) }, ["integer", "real", "text", "blob", "null"])
            lengths.append(types.int64(at: 5))
        }
        XCTAssertEqual(lengths, [5, 0, 1])

        let select = try db.prepare("SELECT i, r, s, b, n FROM t ORDER BY id")
        for row in rows {
            XCTAssertTrue(try select.step())
            XCTAssertEqual(select.int64(at: 0), row.0)
            XCTAssertEqual(select.double(at: 1).bitPattern, row.1.bitPattern)
            XCTAssertEqual(select.string(at: 2), row.2)
            XCTAssertEqual(select.blob(at: 3), row.3, "an empty blob reads back as [] and not as NULL")
            XCTAssertTrue(select.isNull(at: 4))
            XCTAssertNil(select.string(at: 4))
            XCTAssertNil(select.blob(at: 4))
            XCTAssertEqual(select.value(at: 4), .null)
        }
        XCTAssertFalse(try select.step())
        // The text really is stored as UTF-8: "é" is C3 A9.
        XCTAssertEqual(try db.scalarText("SELECT hex(substr(CAST(s AS BLOB), 1, 3)) FROM t WHERE id = 0"), "68C3A9")
    }

    func testGenericValuesRoundTrip() throws {
        let values: [DatabaseValue] = [.integer(1), .integer(-7), .real(2.5), .text("ü"), .blob([9, 8]), .null]
        try db.execute("INSERT INTO t(id, i, r, s, b, n) VALUES (?, ?, ?, ?, ?, ?)", values)
        let select = try db.prepare("SELECT id, i, r, s, b, n FROM t")
        XCTAssertTrue(try select.step())
        XCTAssertEqual((0..<6).map { select.value(at: $0) }, values)
    }

    func testPreparedStatementIsReusedWithNewBindings() throws {
        let insert = try db.prepare("INSERT INTO t(i, r) VALUES (?, ?)")
        try db.transaction {
            for k in 0..<500 {
                insert.bind(k, at: 1)
                insert.bind(Double(k) / 2, at: 2)
                try insert.execute()
            }
        }
        // Closed forms: sum 0..<n = n(n-1)/2.
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM t"), 500)
        XCTAssertEqual(try db.scalarInt("SELECT sum(i) FROM t"), 500 * 499 / 2)
        XCTAssertEqual(try db.scalarInt("SELECT CAST(sum(r) * 2 AS INTEGER) FROM t"), 500 * 499 / 2)
        let select = try db.prepare("SELECT r FROM t WHERE i = ?")
        for k in [3, 499, 0] {
            select.bind(k, at: 1)
            XCTAssertTrue(try select.step())
            XCTAssertEqual(select.double(at: 0), Double(k) / 2)
            select.reset()
        }
    }

    func testNestedSavepointsRollBackOnlyTheirOwnWork() throws {
        struct Cancel: Error {}
        try db.transaction {
            try db.execute("INSERT INTO t(id) VALUES (1)")
            try db.savepoint {
                try db.execute("INSERT INTO t(id) VALUES (2)")
                XCTAssertThrowsError(try db.savepoint {
                    try db.execute("INSERT INTO t(id) VALUES (3)")
                    try db.savepoint { try db.execute("INSERT INTO t(id) VALUES (30)") }
                    throw Cancel()
                })
                try db.execute("INSERT INTO t(id) VALUES (4)")
            }
            XCTAssertThrowsError(try db.savepoint {
                try db.execute("INSERT INTO t(id) VALUES (5)")
                throw Cancel()
            })
        }
        XCTAssertThrowsError(try db.transaction {
            try db.execute("INSERT INTO t(id) VALUES (6)")
            throw Cancel()
        })
        let ids = try db.prepare("SELECT id FROM t ORDER BY id")
        var found: [Int64] = []
        while try ids.step() { found.append(ids.int64(at: 0)) }
        XCTAssertEqual(found, [1, 2, 4])
        XCTAssertFalse(db.isInTransaction)
    }

    func testErrorsCarryCodeMessageAndSQL() throws {
        try db.execute("INSERT INTO t(id) VALUES (1)")
        let duplicate = "INSERT INTO t(id, i) VALUES (1, 2)"
        let error = assertDatabaseError(try db.execute(duplicate))
        XCTAssertEqual(error?.resultCode, .SQLITE_CONSTRAINT)
        XCTAssertEqual(error?.extendedResultCode, .SQLITE_CONSTRAINT_PRIMARYKEY)
        XCTAssertEqual(error?.extendedResultCode.name, "SQLITE_CONSTRAINT_PRIMARYKEY")
        XCTAssertEqual(error?.message.contains("UNIQUE constraint failed: t.id"), true)
        XCTAssertEqual(error?.sql, duplicate)
        XCTAssertEqual(error?.description.contains("SQLITE_CONSTRAINT_PRIMARYKEY"), true)

        // In a script, the error names the statement that failed, not the whole script.
        let syntax = assertDatabaseError(try db.execute("SELECT 1; SELEC 2; SELECT 3"))
        XCTAssertEqual(syntax?.resultCode, .SQLITE_ERROR)
        XCTAssertEqual(syntax?.sql, "SELEC 2;")
        XCTAssertEqual(syntax?.message.contains("syntax error"), true)

        let missing = assertDatabaseError(try db.prepare("SELECT nope FROM t"))
        XCTAssertEqual(missing?.sql, "SELECT nope FROM t")
        XCTAssertEqual(missing?.message, "no such column: nope")
    }

    func testConnectionIsConfiguredDefensively() throws {
        XCTAssertEqual(try db.scalarInt("PRAGMA foreign_keys"), 1)
        XCTAssertEqual(try db.scalarInt("PRAGMA trusted_schema"), 0)
        XCTAssertEqual(try db.scalarInt("PRAGMA synchronous"), 1, "NORMAL")
        // DEFENSIVE forbids writing to sqlite_schema even with writable_schema.
        try db.execute("PRAGMA writable_schema = ON")
        XCTAssertNotNil(assertDatabaseError(try db.execute("DELETE FROM sqlite_schema")))
    }
}
