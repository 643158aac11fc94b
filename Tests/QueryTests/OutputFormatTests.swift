import Foundation
import XCTest
@testable import Query
@testable import Store

final class OutputFormatTests: XCTestCase {
    let awkward = ResultTable(columns: ["id", "name, with comma", "value", "note"], rows: [
        [.integer(1), .text("plain"), .real(0.1), .null],
        [.integer(-2), .text("quote \" inside, and comma"), .real(.nan), .text("line\nbreak\r\nand CRLF")],
        [.integer(3), .text("ünïcödé ✓ \u{0}nul"), .real(1e-300), .text("")],
        [.integer(4), .text(String(repeating: "w", count: 300)), .real(-.infinity), .blob([0, 255])],
    ])

    /// An RFC 4180 reader written from the RFC, independent of the writer.
    func parseCSV(_ text: String) -> [[String]] {
        var records: [[String]] = [], field = "", record: [String] = []
        var quoted = false, i = text.unicodeScalars.startIndex
        let s = text.unicodeScalars
        while i < s.endIndex {
            let c = s[i]
            if quoted {
                if c == "\"" {
                    let next = s.index(after: i)
                    if next < s.endIndex, s[next] == "\"" { field.unicodeScalars.append("\""); i = next } else { quoted = false }
                } else { field.unicodeScalars.append(c) }
            } else if c == "\"" { quoted = true }
            else if c == "," { record.append(field); field = "" }
            else if c == "\r" {
                let next = s.index(after: i)
                if next < s.endIndex, s[next] == "\n" { i = next }
                record.append(field); records.append(record); record = []; field = ""
            } else { field.unicodeScalars.append(c) }
            i = s.index(after: i)
        }
        return records
    }

    func testCSVRoundTripsThroughAnRFC4180Parser() {
        let records = parseCSV(awkward.render(.csv))
        XCTAssertEqual(records.count, 5)
        XCTAssertEqual(records[0], awkward.columns)
        XCTAssertEqual(records[2][1], "quote \" inside, and comma")
        XCTAssertEqual(records[2][2], "NaN")
        XCTAssertEqual(records[2][3], "line\nbreak\r\nand CRLF")
        XCTAssertEqual(records[3][1], "ünïcödé ✓ \u{0}nul")
        XCTAssertEqual(Double(records[3][2]), 1e-300, "numbers round-trip exactly")
        XCTAssertEqual(records[1][3], "", "NULL is an empty field")
        XCTAssertEqual(records[4][2], "-Inf")
    }

    func testJSONIsOneDocumentWithNumbersAsNumbersAndNaNAsNull() throws {
        let parsed = try JSONSerialization.jsonObject(with: Data(awkward.render(.json).utf8)) as! [[String: Any]]
        XCTAssertEqual(parsed.count, 4)
        XCTAssertEqual(parsed[0]["value"] as? Double, 0.1)
        XCTAssertEqual(parsed[1]["id"] as? Int, -2)
        XCTAssertTrue(parsed[1]["value"] is NSNull)
        XCTAssertTrue(parsed[0]["note"] is NSNull)
        XCTAssertEqual(parsed[1]["note"] as? String, "line\nbreak\r\nand CRLF")
        XCTAssertEqual(parsed[2]["name, with comma"] as? String, "ünïcödé ✓ \u{0}nul")
        XCTAssertEqual(parsed[3]["value"] is NSNull, true)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(ResultTable(columns: ["a"]).render(.json).utf8)) as? [Any])?.count, 0)
    }

    func testTablesFitTheWidthByTruncatingTextNeverWrappingRows() {
        let text = awkward.render(.table, width: 60)
        let lines = text.split(separator: "\n")
        XCTAssertEqual(lines.count, 5, "one line per row: embedded newlines are flattened")
        for line in lines { XCTAssertLessThanOrEqual(line.count, 60, String(line)) }
        XCTAssertTrue(text.contains("…"))
        // Numbers are right-aligned under their header and never cut.
        let numbers = ResultTable(columns: ["x", "longer header"], rows: [[.integer(5), .real(123.5)], [.integer(100), .real(0.25)]])
        XCTAssertEqual(numbers.render(.table, width: 80), "  x  longer header\n  5          123.5\n100           0.25\n")
        // A number column's long header gives up its start before any column is dropped.
        let paths = ResultTable(columns: ["id", "optimizer.batch_size"], rows: [[.integer(1), .integer(32)]])
        XCTAssertEqual(paths.render(.table, width: 15), "id  …batch_size\n 1  " + String(repeating: " ", count: 9) + "32\n")
        // Too narrow even for the numbers: whole columns go, and a line says which.
        let narrow = numbers.render(.table, width: 10)
        XCTAssertTrue(narrow.hasPrefix("  x\n  5\n100\n"), narrow)
        XCTAssertTrue(narrow.contains("1 more column not shown: longer header"), narrow)
    }

    func testArchiveRefusesWhatIsNotATLensDatabaseAndCreatesNothing() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tlens-archive-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = directory.appendingPathComponent("missing.sqlite").path
        XCTAssertThrowsError(try Archive(path: missing)) { XCTAssertTrue("\($0)".contains("no such database"), "\($0)") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing))
        let other = directory.appendingPathComponent("other.sqlite").path
        try Database(path: other, mode: .create).execute("CREATE TABLE notes(x)")
        let before = try Data(contentsOf: URL(fileURLWithPath: other))
        XCTAssertThrowsError(try Archive(path: other)) { XCTAssertTrue("\($0)".contains("not a tlens database (it has tables notes)"), "\($0)") }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: other)), before)
        let text = directory.appendingPathComponent("text.sqlite").path
        try Data("hello".utf8).write(to: URL(fileURLWithPath: text))
        XCTAssertThrowsError(try Archive(path: text))
        XCTAssertThrowsError(try Archive(path: directory.path)) { XCTAssertTrue("\($0)".contains("is a directory"), "\($0)") }
    }

    /// A file at schema version 1 (before checkpoint state and sweep points) lists and shows
    /// its runs read-only, and is not upgraded by reading.
    func testAnOlderSchemaIsReadAsItIs() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tlens-v1-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("v1.sqlite").path
        let db = try Database(path: path, mode: .create)
        try db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)")
        try db.execute(Store.EmbeddedSQL.migrations[0].sql)
        try db.execute("INSERT INTO schema_migrations VALUES (1, ?, 0)", [.text(Store.EmbeddedSQL.migrations[0].name)])
        try db.execute("PRAGMA user_version = 1")
        try db.execute("""
            INSERT INTO runs(id, uuid, name, config_json, seed, status, created_at, code_version, host, data_fingerprint, last_step)
            VALUES (1, 'abcd-1', 'old', '{}', 0, 'completed', 0, 'old', 'h', 'f', 10)
            """)
        try db.execute("INSERT INTO metric_keys(id, name) VALUES (1, 'test_mse')")
        try db.execute("INSERT INTO metrics VALUES (1, 1, 10, 0.5)")
        try db.execute("INSERT INTO checkpoints(run_id, step, parameters, created_at) VALUES (1, 10, x'00000000', 0)")
        try db.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let reader = MetricReader(try RunCatalog(Archive(path: path)))
        XCTAssertEqual(reader.catalog.archive.schemaVersion, 1)
        let table = try Listings.runs(reader, selection: RunSelection())
        XCTAssertEqual(table.value(row: 0, column: "final.test_mse"), .real(0.5))
        let details = try RunDetails(run: 1, catalog: reader.catalog).render(.json)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(details.utf8)))
        XCTAssertThrowsError(try reader.catalog.archive.require("sweep_points", for: "sweep --status")) {
            XCTAssertTrue("\($0)".contains("schema version 1"), "\($0)")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before)
    }
}
