import Foundation
import XCTest
@testable import Query
@testable import Store

/// Running SQL: statements in order, named bindings, the tables read, a read-only connection.
final class SQLScriptTests: XCTestCase {
    var directory: QueryTestDirectory!
    var fixture: ShippedQueryFixture!

    override func setUpWithError() throws {
        directory = try QueryTestDirectory()
        fixture = try ShippedQueryFixture(path: directory.path("fixture.sqlite"))
    }

    func run(_ sql: String, _ parameters: [QueryBinding] = [], on db: Database? = nil) throws -> SQLScript.Outcome {
        let database = try db ?? Archive(path: fixture.path).database
        return try SQLScript(sql, parameters: parameters).run(on: database, context: "sql", readOnlyHint: "pass --write")
    }

    func testStatementsRunInOrderAndTheLastOnesRowsAreTheResult() throws {
        let outcome = try run("CREATE TEMP TABLE t(x); INSERT INTO t VALUES (:a), (:b); SELECT x, typeof(x) FROM t ORDER BY rowid",
                              [QueryBinding(name: "a", value: .integer(1)), QueryBinding(name: "b", value: .text("two"))])
        XCTAssertEqual(outcome.statements, 3)
        XCTAssertEqual(outcome.table.columns, ["x", "typeof(x)"])
        XCTAssertEqual(outcome.table.rows, [[.integer(1), .text("integer")], [.text("two"), .text("text")]])
    }

    /// Reads through views, reads of no column (count(*)), and table-valued functions.
    func testTheTablesReadIncludeThoseBehindViewsAndThoseReadWithoutAColumn() throws {
        XCTAssertEqual(try run("SELECT key FROM metrics_named LIMIT 1").tablesRead, ["metrics", "metric_keys"])
        XCTAssertEqual(try run("SELECT count(*) FROM metrics").tablesRead, ["metrics"])
        XCTAssertEqual(try run("SELECT effective_status FROM runs_view").tablesRead, ["runs"])
        XCTAssertEqual(try run("SELECT a.key FROM sweep_points p, json_each(p.axes_json) a").tablesRead, ["sweep_points"])
        XCTAssertEqual(try run("SELECT 1").tablesRead, [])
    }

    func testRunIdsAreTakenFromColumnsReadStraightFromARunIdColumn() throws {
        let width = fixture.runs.filter { $0.sweep == "width" }.map(\.id)
        let mentioned = try run("SELECT r.id, r.name FROM runs r JOIN sweeps s ON s.id = r.sweep_id WHERE s.name = 'width'").runsMentioned
        XCTAssertEqual(mentioned, Set(width))
        XCTAssertEqual(try run("SELECT run_id AS r, max(step) FROM metrics WHERE run_id IN (1, 2) GROUP BY run_id").runsMentioned, [1, 2])
        XCTAssertNil(try run("SELECT count(*) FROM metrics").runsMentioned)
        XCTAssertNil(try run("SELECT id + 0 FROM runs").runsMentioned)
    }

    /// The connection is read-only: a write fails with SQLite's message and the hint, and the
    /// file is byte-identical.
    func testAReadOnlyConnectionRefusesWritesAndLeavesTheFileAsItWas() throws {
        let before = try Data(contentsOf: URL(fileURLWithPath: fixture.path))
        for sql in ["DELETE FROM runs", "UPDATE metrics SET value = 0", "CREATE TABLE x(y)", "PRAGMA user_version = 9", "DROP VIEW runs_view"] {
            XCTAssertThrowsError(try run(sql)) { error in
                XCTAssertEqual("\(error)", "sql: attempt to write a readonly database; pass --write", sql)
            }
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: fixture.path)), before)
    }

    func testTransactionStatementsAndParameterMistakesAreOneLineRefusals() throws {
        for sql in ["BEGIN", "SELECT 1; COMMIT", "SAVEPOINT a", "ROLLBACK"] {
            XCTAssertThrowsError(try run(sql)) { XCTAssertTrue("\($0)".hasPrefix("sql: BEGIN, COMMIT, ROLLBACK and SAVEPOINT are not allowed"), "\($0)") }
        }
        XCTAssertThrowsError(try run("SELECT ?")) { XCTAssertEqual("\($0)", "sql: positional parameter ?: name it (:NAME) and pass --param NAME=VALUE") }
        XCTAssertThrowsError(try run("SELECT :a")) { XCTAssertEqual("\($0)", "sql: the SQL uses :a but no value was given (--param a=VALUE)") }
        XCTAssertThrowsError(try run("SELECT 1", [QueryBinding(name: "b", value: .null)])) {
            XCTAssertEqual("\($0)", "sql: --param b: the SQL has no parameter :b (it has none)")
        }
        XCTAssertThrowsError(try run("SELECT * FROM runz")) { XCTAssertEqual("\($0)", "sql: no such table: runz") }
        XCTAssertThrowsError(try run("  ")) { XCTAssertEqual("\($0)", "sql: no SQL statement to run") }
    }

    /// Values are bound: hostile text, a megabyte, quotes and NUL come back literally.
    func testHostileValuesAreBoundLiterally() throws {
        let values = ["'); DROP TABLE runs; --", "\"; DELETE FROM metrics; \"", "a;b", "-- c", "/* d", "it's", "\u{0}nul",
                      String(repeating: "x';", count: 350_000)]
        for value in values {
            let outcome = try run("SELECT :v AS v, length(CAST(:v AS BLOB)) AS n, (SELECT count(*) FROM runs) AS runs",
                                  [QueryBinding(name: "v", value: .text(value))])
            XCTAssertEqual(outcome.table.rows, [[.text(value), .integer(Int64(value.utf8.count)), .integer(Int64(fixture.runs.count))]])
        }
    }

    func testVectorFunctionsAreRegistered() throws {
        let outcome = try run("SELECT vec_len(vec_from_json('[1, 2, 3]')), vec_norm(vec_from_json('[3, 4]'))")
        XCTAssertEqual(outcome.table.rows, [[.integer(3), .real(5)]])
    }
}
