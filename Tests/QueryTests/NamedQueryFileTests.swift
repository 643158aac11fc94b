import Foundation
import XCTest
@testable import Query
@testable import Store

/// Named query files: the header, its parameters against the SQL, bindings, the library.
final class NamedQueryFileTests: XCTestCase {
    func testHeaderGivesDescriptionParametersDefaultsAndDocumentation() throws {
        let query = try NamedQuery(name: "q", text: """
            -- q: what it shows
            -- param run: the run (runs.id)
            -- param key: a key (default: test_mse)
            -- param sweep: optional (default: NULL)
            -- param x: a number (default: 0.5)
            -- Columns: a, b.
            SELECT :run, :key, :sweep, :x, ':not', "col:umn" -- :nor
            /* :nor this */
            """, source: .shipped)
        XCTAssertEqual(query.summary, "what it shows")
        XCTAssertEqual(query.parameters.map(\.name), ["run", "key", "sweep", "x"])
        XCTAssertEqual(query.parameters.map(\.summary), ["the run (runs.id)", "a key", "optional", "a number"])
        XCTAssertEqual(query.parameters.map(\.defaultValue), [nil, .text("test_mse"), .null, .real(0.5)])
        XCTAssertEqual(query.documentation, ["Columns: a, b."])
        XCTAssertEqual(query.signature, "run, key=test_mse, sweep=NULL, x=0.5")
        XCTAssertEqual(try query.bindings([("run", "7")]), [
            QueryBinding(name: "run", value: .integer(7)), QueryBinding(name: "key", value: .text("test_mse")),
            QueryBinding(name: "sweep", value: .null), QueryBinding(name: "x", value: .real(0.5))])
    }

    func testFilesWhoseHeaderAndSQLDisagreeAreRefusedNamingTheFix() {
        func refusal(_ text: String) -> String {
            do { _ = try NamedQuery(name: "q", text: text, source: .file("/d/q.sql")); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertTrue(refusal("-- q: x\nSELECT :run").contains("/d/q.sql: the SQL uses :run, which the header does not declare"))
        XCTAssertTrue(refusal("-- q: x\n-- param run: r\nSELECT 1").contains("declares param run, which the SQL does not use"))
        XCTAssertTrue(refusal("-- q: x\nSELECT ?").contains("positional parameter ?"))
        XCTAssertTrue(refusal("-- q: x\nSELECT ?2").contains("positional parameter ?2"))
        XCTAssertTrue(refusal("-- q: x\nSELECT 1; SELECT 2").contains("holds 2 statements"))
        XCTAssertEqual(refusal("-- q: x\nSELECT 1; -- trailing comment\n"), "accepted")
        XCTAssertTrue(refusal("-- other: x\nSELECT 1").contains("the first line must be '-- q: what the query shows'"))
        XCTAssertTrue(refusal("SELECT 1").contains("the first line must be"))
        XCTAssertTrue(refusal("-- q: x\n-- param a: one\n-- param a: two\nSELECT :a").contains("declared twice"))
        XCTAssertTrue(refusal("-- q: x\n").contains("holds no SQL statement"))
        XCTAssertEqual(refusal("-- q: x\r\n-- param a: one (default: 1)\r\nSELECT :a\r\n"), "accepted")
    }

    func testBindingsRefuseUnknownAndMissingParametersAndTypeValues() throws {
        let query = try QueryLibrary.shipped("sweep_table")
        XCTAssertThrowsError(try query.bindings([("sweep", "s"), ("kye", "x")])) { error in
            XCTAssertEqual("\(error)", "query sweep_table: no parameter 'kye' (its parameters: sweep, key=test_mse); did you mean key?")
        }
        XCTAssertThrowsError(try query.bindings([])) { error in
            XCTAssertEqual("\(error)", "query sweep_table: parameter sweep is required: --param sweep=VALUE (the sweep's name (sweeps.name))")
        }
        XCTAssertEqual(QueryParameters.typed("7"), .integer(7))
        XCTAssertEqual(QueryParameters.typed("-9223372036854775808"), .integer(.min))
        XCTAssertEqual(QueryParameters.typed("9223372036854775808"), .real(9223372036854775808))
        XCTAssertEqual(QueryParameters.typed("0.01"), .real(0.01))
        XCTAssertEqual(QueryParameters.typed("1e-3"), .real(0.001))
        for text in ["nan", "inf", "0x10", " 1", "1 ", "", "sweep-lr", "1e999", "'); DROP TABLE runs; --"] {
            XCTAssertEqual(QueryParameters.typed(text), .text(text), text)
        }
        XCTAssertEqual(try QueryParameters.parse(["a=b=c", "e="]).map { "\($0.name)|\($0.value)" }, ["a|b=c", "e|"])
        XCTAssertThrowsError(try QueryParameters.parse(["novalue"]))
        XCTAssertThrowsError(try QueryParameters.parse(["1x=2"]))
        XCTAssertThrowsError(try QueryParameters.parse(["a=1", "a=2"])) { XCTAssertEqual("\($0)", "--param a is given twice") }
    }

    func testUserDirectoriesOverrideShippedQueriesAndTheFirstDirectoryWins() throws {
        let directory = try QueryTestDirectory()
        let first = directory.path("first"), second = directory.path("second")
        for folder in [first, second] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        try "-- final_metrics: mine\n-- param run: r\nSELECT :run AS run".write(toFile: first + "/final_metrics.sql", atomically: true, encoding: .utf8)
        try "-- final_metrics: theirs\n-- param run: r\nSELECT :run".write(toFile: second + "/final_metrics.sql", atomically: true, encoding: .utf8)
        try "-- extra: an extra one\nSELECT 1".write(toFile: second + "/extra.sql", atomically: true, encoding: .utf8)
        try "-- broken: x\nSELECT :undeclared".write(toFile: second + "/broken.sql", atomically: true, encoding: .utf8)
        try "not sql".write(toFile: second + "/notes.txt", atomically: true, encoding: .utf8)

        let library = try QueryLibrary(directories: QueryLibrary.directories(options: [first], environment: "\(second):"))
        XCTAssertEqual(try library.query(named: "final_metrics").summary, "mine")
        XCTAssertEqual(try library.query(named: "final_metrics").source, .file(first + "/final_metrics.sql"))
        XCTAssertEqual(library.overridden, ["final_metrics"])
        XCTAssertEqual(try library.query(named: "extra").summary, "an extra one")
        XCTAssertEqual(try library.query(named: "sweep_table").source, .shipped)
        XCTAssertThrowsError(try library.query(named: "broken")) { XCTAssertTrue("\($0)".contains("the SQL uses :undeclared"), "\($0)") }
        XCTAssertThrowsError(try library.query(named: "final_metric")) {
            XCTAssertEqual("\($0)", "no named query 'final_metric'; did you mean final_metrics?")
        }
        let listing = library.listing()
        XCTAssertEqual(listing.rows.first { $0[0] == .text("final_metrics") }?[2], .text(first + "/final_metrics.sql (overrides shipped)"))
        XCTAssertEqual(listing.rows.first { $0[0] == .text("sweep_table") }?[1], .text("sweep, key=test_mse"))
        XCTAssertFalse(listing.rows.contains { $0[0] == .text("broken") })
        XCTAssertThrowsError(try QueryLibrary(directories: [directory.path("missing")])) {
            XCTAssertTrue("\($0)".contains("missing: no such directory of queries"), "\($0)")
        }
    }

    func testTheLexicalScanSkipsStringsIdentifiersAndComments() {
        let scan = SQLText.scan("SELECT ':a', \":b\", `:c`, [:d], x'3a65' -- :f\n /* :g */, :h, @i, $j, :h; ;")
        XCTAssertEqual(scan.named, ["h", "i", "j"])
        XCTAssertEqual(scan.statements, 1)
        XCTAssertEqual(SQLText.scan("SELECT 'it''s :not'; SELECT 2").statements, 2)
        XCTAssertEqual(SQLText.scan("SELECT 'it''s :not'").named, [])
    }
}
