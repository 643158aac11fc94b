import Foundation
import XCTest
@testable import Query
@testable import Store

/// Saving an analysis, reading it back, and rerunning it.
final class SavedAnalysisTests: XCTestCase {
    var directory: QueryTestDirectory!
    var fixture: ShippedQueryFixture!

    override func setUpWithError() throws {
        directory = try QueryTestDirectory()
        fixture = try ShippedQueryFixture(path: directory.path("fixture.sqlite"))
    }

    /// Turns the fixture into a schema-version-3 file, as tlens before saved analyses wrote it.
    func downgradeToVersion3() throws {
        let db = try Database(path: fixture.path, mode: .readWrite)
        try db.execute("DROP TABLE analyses; DELETE FROM schema_migrations WHERE version = 4; PRAGMA user_version = 3")
        try db.close()
    }

    func save(_ request: AnalysisRequest, label: String? = nil) throws -> Int64 {
        let archive = try Archive(path: fixture.path)
        if let label { try SavedAnalyses.checkLabel(label, in: archive) }
        let outcome = try request.execute(on: archive, fingerprint: true)
        return try SavedAnalyses.save(request, outcome: outcome, label: label, version: "0.1.0", path: fixture.path)
    }

    func testStoredValuesRoundTripEveryStorageClassExactly() throws {
        let values: [DatabaseValue] = [.null, .integer(.max), .integer(.min), .integer(0), .real(0.1), .real(-0.0), .real(.leastNonzeroMagnitude),
                                       .real(1.7976931348623157e308), .real(1.0), .real(.infinity), .real(-.infinity),
                                       .text(""), .text("quote \" backslash \\ newline \n nul \u{0} é"), .blob([]), .blob([0, 1, 255])]
        let table = ResultTable(columns: ["x"], rows: values.map { [$0] })
        let json = try JSONEncoder().encode(StoredTable(table))
        let back = try JSONDecoder().decode(StoredTable.self, from: json).table
        XCTAssertEqual(back.fingerprint, table.fingerprint)
        XCTAssertEqual(back.rows.count, values.count)
        let nan = try JSONDecoder().decode(StoredValue.self, from: try JSONEncoder().encode(StoredValue(.real(.nan))))
        guard case .real(let r) = nan.value else { return XCTFail() }
        XCTAssertTrue(r.isNaN)
    }

    /// --save on a version-3 file migrates it to version 4 and stores the analysis; it reads
    /// back by id and by label, with its parameters and result as they were.
    func testSavingMigratesAVersion3FileAndTheAnalysisReadsBack() throws {
        try downgradeToVersion3()
        XCTAssertEqual(try Archive(path: fixture.path).schemaVersion, 3)
        XCTAssertEqual(try SavedAnalyses.list(Archive(path: fixture.path)).rows.count, 0)
        let query = try QueryLibrary.shipped("double_descent")
        let request = AnalysisRequest(query: query, bindings: try query.bindings([("sweep", "width")]))
        let id = try save(request, label: "dd")
        let archive = try Archive(path: fixture.path)
        XCTAssertEqual(archive.schemaVersion, Migrator.latestVersion)
        for reference in ["dd", String(id)] {
            let saved = try SavedAnalyses.load(reference, from: archive)
            XCTAssertEqual(saved.id, id)
            XCTAssertEqual(saved.label, "dd")
            XCTAssertEqual(saved.request, request)
            XCTAssertEqual(saved.result, try request.execute(on: archive, fingerprint: false).table)
            XCTAssertEqual(saved.resultFingerprint, saved.result.fingerprint)
            XCTAssertEqual(saved.inputs.parts.map(\.table), ["metric_keys", "metrics", "run_params", "runs", "sweeps"])
            XCTAssertEqual(saved.inputs.parts[1].runs, fixture.runs.filter { $0.sweep == "width" }.map(\.id))
        }
        let listing = try SavedAnalyses.list(archive)
        XCTAssertEqual(listing.columns, ["id", "label", "kind", "name", "created", "rows"])
        XCTAssertEqual(listing.rows.map { [$0[0], $0[1], $0[2], $0[3], $0[5]] },
                       [[.integer(id), .text("dd"), .text("query"), .text("double_descent"), .integer(3)]])
        XCTAssertThrowsError(try SavedAnalyses.checkLabel("dd", in: archive)) { XCTAssertTrue("\($0)".contains("already has that label")) }
        XCTAssertThrowsError(try SavedAnalyses.checkLabel("12", in: archive)) { XCTAssertTrue("\($0)".contains("must not be a number")) }
        XCTAssertThrowsError(try SavedAnalyses.load("de", from: archive)) { XCTAssertTrue("\($0)".hasSuffix("did you mean dd?"), "\($0)") }
    }

    func testRerunIsCleanOnUnchangedDataAndNamesAChangedCell() throws {
        let run = fixture.run("grokking")
        let query = try QueryLibrary.shipped("final_metrics")
        let id = try save(AnalysisRequest(query: query, bindings: try query.bindings([("run", String(run.id))])))
        let clean = try RerunReport(SavedAnalyses.load(String(id), from: Archive(path: fixture.path)), archive: Archive(path: fixture.path), version: "0.1.0")
        XCTAssertEqual(clean.status, 0)
        XCTAssertEqual(clean.lines, ["analysis \(id) (query final_metrics): unchanged (4 rows, fingerprint \(clean.saved.resultFingerprint.prefix(12)))"])

        // Another run's rows change: the inputs in scope (this run) do not.
        let db = try Database(path: fixture.path, mode: .readWrite)
        try db.execute("UPDATE metrics SET value = 0 WHERE run_id = ?", [.integer(fixture.run("parent").id)])
        XCTAssertEqual(try RerunReport(SavedAnalyses.load(String(id), from: Archive(path: fixture.path)), archive: Archive(path: fixture.path), version: "0.1.0").lines.count, 1)

        try db.execute("UPDATE metrics SET value = 0.25 WHERE run_id = ? AND step = 150 AND key_id = (SELECT id FROM metric_keys WHERE name = 'p_test')",
                       [.integer(run.id)])
        let changed = try RerunReport(SavedAnalyses.load(String(id), from: Archive(path: fixture.path)), archive: Archive(path: fixture.path), version: "0.2.0")
        XCTAssertEqual(changed.status, 4)
        XCTAssertEqual(changed.diff.changes.count, 1)
        XCTAssertEqual(changed.diff.changes[0].row, 1)
        XCTAssertEqual(changed.diff.changes[0].column, "value")
        XCTAssertEqual(changed.diff.changes[0].new, .real(0.25))
        let old = ShippedQueryFixture.value(run: run.id, key: "p_test", step: 150)
        XCTAssertEqual(Array(changed.lines.dropFirst()), ["  row 1 [key=p_test], value: \(old) → 0.25", "  inputs changed: metrics",
                                                         "  saved with tlens 0.1.0, rerun with 0.2.0"])

        // Inputs that change without changing the result: a row the query does not show.
        try db.execute("UPDATE metrics SET value = 0.25 WHERE run_id = ? AND step = 145 AND key_id = (SELECT id FROM metric_keys WHERE name = 'p_test')",
                       [.integer(run.id)])
        try db.execute("UPDATE metrics SET value = ? WHERE run_id = ? AND step = 150 AND key_id = (SELECT id FROM metric_keys WHERE name = 'p_test')",
                       [.real(old), .integer(run.id)])
        let quiet = try RerunReport(SavedAnalyses.load(String(id), from: Archive(path: fixture.path)), archive: Archive(path: fixture.path), version: "0.1.0")
        XCTAssertEqual(quiet.status, 0)
        XCTAssertEqual(quiet.lines.last, "  its inputs changed (metrics) but the result did not")
    }

    func testASavedComparisonRerunsFromItsJSON() throws {
        let comparison = ComparisonRequest(selection: RunSelection(sweep: "width"), by: ["model.hidden"], keys: ["final.test_mse"])
        let request = try AnalysisRequest(comparison: comparison)
        XCTAssertEqual(request.name, "--sweep width --by model.hidden --keys final.test_mse")
        let id = try save(request, label: "cmp")
        let saved = try SavedAnalyses.load("cmp", from: Archive(path: fixture.path))
        XCTAssertEqual(try JSONDecoder().decode(ComparisonRequest.self, from: Data(saved.request.text.utf8)), comparison)
        XCTAssertEqual(saved.result.rows.count, 3)
        XCTAssertEqual(saved.inputs.parts.first { $0.table == "metrics" }?.runs, fixture.runs.filter { $0.sweep == "width" }.map(\.id))
        XCTAssertEqual(try RerunReport(saved, archive: Archive(path: fixture.path), version: "0.1.0").status, 0)
        let db = try Database(path: fixture.path, mode: .readWrite)
        try db.execute("UPDATE metrics SET value = 9 WHERE run_id = ? AND step = 150 AND key_id = 1", [.integer(fixture.runs[0].id)])
        let report = try RerunReport(SavedAnalyses.load(String(id), from: Archive(path: fixture.path)), archive: Archive(path: fixture.path), version: "0.1.0")
        XCTAssertEqual(report.status, 4)
        XCTAssertEqual(Set(report.diff.changes.map(\.column)), ["final.test_mse", "final.test_mse sd", "final.test_mse ci95"])
    }

    func testResultDiffPairsRowsAndReportsAddedAndRemovedOnes() {
        let old = ResultTable(columns: ["k", "v"], rows: [[.text("a"), .integer(1)], [.text("b"), .integer(2)], [.text("c"), .integer(3)]])
        let same = ResultDiff(old: old, new: old)
        XCTAssertTrue(same.isEmpty)
        let new = ResultTable(columns: ["k", "v"], rows: [[.text("a"), .integer(1)], [.text("c"), .integer(30)], [.text("d"), .integer(4)]])
        let diff = ResultDiff(old: old, new: new)
        XCTAssertEqual(diff.changes, [ResultDiff.CellChange(row: 2, column: "v", old: .integer(3), new: .integer(30))])
        // b (old row 2) and d (new row 3) share no first cell and no position.
        XCTAssertEqual(diff.removed, [2])
        XCTAssertEqual(diff.added, [3])
        // A first cell that changed in place pairs by position.
        let inPlace = ResultDiff(old: ResultTable(columns: ["x"], rows: [[.real(1)], [.real(2)]]),
                                 new: ResultTable(columns: ["x"], rows: [[.real(1)], [.real(2.5)]]))
        XCTAssertEqual(inPlace.changes, [ResultDiff.CellChange(row: 2, column: "x", old: .real(2), new: .real(2.5))])
        let unpaired = ResultDiff(old: ResultTable(columns: ["k", "v"], rows: [[.text("b"), .integer(2)]]), new: ResultTable(columns: ["k", "v"], rows: []))
        XCTAssertEqual(unpaired.removed, [1])
        XCTAssertEqual(ResultDiff(old: ResultTable(columns: ["k", "v"]), new: new).added, [1, 2, 3])
        XCTAssertTrue(ResultDiff(old: old, new: ResultTable(columns: ["k", "w"], rows: old.rows)).columnsChanged)
        XCTAssertTrue(ResultDiff(old: ResultTable(columns: ["x"], rows: [[.real(0)]]), new: ResultTable(columns: ["x"], rows: [[.real(-0.0)]])).changes.count == 1)
    }
}
