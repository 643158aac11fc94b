import Foundation
import XCTest
@testable import Query
@testable import Store

final class SelectionAndComparisonTests: XCTestCase {
    var fixture: QueryFixture!
    var reader: MetricReader!

    override func setUpWithError() throws {
        fixture = try QueryFixture()
        reader = try fixture.reader()
    }

    func names(_ selection: RunSelection) throws -> [String] {
        try selection.apply(reader).runs.map { $0.summary.name ?? "" }
    }

    func testWhereOperatorsOnConfigPathsFieldsAndDerivedMetrics() throws {
        XCTAssertEqual(try names(RunSelection(conditions: ["model.hidden=[16]"])).count, 3)
        XCTAssertEqual(try names(RunSelection(conditions: ["optimizer.lr>0.05"])), ["lonely"])
        XCTAssertEqual(try names(RunSelection(conditions: ["optimizer.lr>=0.05"])).count, 13)
        XCTAssertEqual(try names(RunSelection(conditions: ["status!=completed"])), ["lonely"])
        XCTAssertEqual(try names(RunSelection(conditions: ["name~dd hidden=3* seed=?"])).count, 3)
        // final.test_mse = floor + 0.5e^{-2.5} + 0.01 seed: below 0.3 only for hidden 32.
        XCTAssertEqual(try names(RunSelection(conditions: ["final.test_mse<0.3"])),
                       ["dd hidden=32 seed=0", "dd hidden=32 seed=1", "dd hidden=32 seed=2"])
        // A run without the value matches no condition (SQL semantics), even !=.
        XCTAssertFalse(try names(RunSelection(conditions: ["final.test_mse!=0"])).contains("lonely"))
        XCTAssertEqual(try names(RunSelection(sweep: "dd", status: "completed", conditions: ["seed=1", "model.hidden<=8"])),
                       ["dd hidden=4 seed=1", "dd hidden=8 seed=1"])
    }

    func testSortIsNumericWithMissingValuesLastAndLimitApplies() throws {
        let ascending = try names(RunSelection(sort: "final.test_mse", limit: 13))
        XCTAssertEqual(ascending.first, "dd hidden=32 seed=0")
        XCTAssertEqual(ascending.last, "lonely")
        let descending = try names(RunSelection(sort: "final.test_mse:desc"))
        XCTAssertEqual(descending.first, "dd hidden=16 seed=2")
        XCTAssertEqual(descending.last, "lonely")
        XCTAssertEqual(try names(RunSelection(sort: "-model.hidden", limit: 2)), ["dd hidden=32 seed=0", "dd hidden=32 seed=1"])
    }

    func testHostileValuesMatchLiterallyAndNeverTouchTheFile() throws {
        let before = try fixture.snapshot()
        let megabyte = String(repeating: "é'", count: 350_000)
        for hostile in ["'); DROP TABLE runs; --", "\" OR 1=1 --", "x'; DELETE FROM metrics; --", "a;b", "--", "*'*", megabyte] {
            XCTAssertEqual(try names(RunSelection(conditions: ["name=\(hostile)"])), [], hostile.prefix(40).description)
            XCTAssertEqual(try names(RunSelection(conditions: ["optimizer.lr!=\(hostile)"])).count, 13)
            if hostile != megabyte { XCTAssertEqual(try names(RunSelection(conditions: ["name~\(hostile)"])), []) }
            // Ordering a number against text is refused, not compared as strings.
            XCTAssertThrowsError(try names(RunSelection(conditions: ["final.test_mse<\(hostile)"])))
        }
        // SQLite bounds GLOB patterns (50,000 bytes): a clear error, not a match.
        XCTAssertThrowsError(try names(RunSelection(conditions: ["name~\(megabyte)"]))) { XCTAssertTrue("\($0)".contains("too complex"), "\($0)") }
        // The name of a run may itself be hostile; it matches literally.
        XCTAssertEqual(try names(RunSelection(conditions: ["name=lonely"])), ["lonely"])
        // A glob of '*' does match: the value is a pattern, bound as a parameter.
        XCTAssertEqual(try names(RunSelection(conditions: ["name~*"])).count, 13)
        XCTAssertEqual(try fixture.snapshot(), before)
        XCTAssertEqual(try Database(path: fixture.path, mode: .readOnly).scalarInt("SELECT count(*) FROM runs"), 13)
    }

    func testBadSelectionsAreOneLineErrors() throws {
        for (selection, fragment) in [(RunSelection(conditions: ["final.test_mes<1"]), "did you mean final.test_mse?"),
                                      (RunSelection(conditions: ["optimizer.lr"]), "write PATH OP VALUE"),
                                      (RunSelection(conditions: ["<3"]), "no name before"),
                                      (RunSelection(status: "crashd"), "did you mean crashed?"),
                                      (RunSelection(sweep: "de"), "did you mean dd?")] {
            XCTAssertThrowsError(try selection.apply(reader)) { error in
                XCTAssertTrue("\(error)".contains(fragment), "\(error)")
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
    }

    func testGroupedComparisonAggregatesOverSeedsWithStudentIntervals() throws {
        let table = try ComparisonRequest(selection: RunSelection(sweep: "dd"), keys: ["final.test_mse"]).table(reader)
        XCTAssertEqual(table.columns, ["model.hidden", "runs", "final.test_mse", "final.test_mse sd", "final.test_mse n", "final.test_mse ci95"])
        XCTAssertEqual(table.rows.count, 4)
        for (row, hidden) in zip(table.rows, QueryFixture.hiddens) {
            let values = QueryFixture.seeds.map { QueryFixture.testMSE(hidden: hidden, seed: $0, step: 100) }
            let mean = values.reduce(0, +) / 3
            let sd = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 2).squareRoot()   // 0.01 exactly
            XCTAssertEqual(row[0], .text("[\(hidden)]"))
            XCTAssertEqual(row[1], .integer(3))
            XCTAssertEqual(row[4], .integer(3))
            guard case .real(let m) = row[2], case .real(let s) = row[3], case .real(let ci) = row[5] else { return XCTFail("\(row)") }
            XCTAssertEqual(m, mean, accuracy: 1e-12)
            XCTAssertEqual(s, sd, accuracy: 1e-12)
            XCTAssertEqual(ci, 4.302653 * sd / 3.0.squareRoot(), accuracy: 1e-6)
        }
    }

    func testBaselineGroupDifferencesAndThePeak() throws {
        let table = try ComparisonRequest(selection: RunSelection(sweep: "dd"), by: ["model.hidden"], keys: ["final.p_test"],
                                          baseline: "model.hidden=8").table(reader)
        // p_test = hidden/2 + seed: group means hidden/2 + 1, differences (hidden − 8)/2, and equal
        // seed spreads give a Welch interval of t_{0.975, 4} · √(2/3).
        let deltaColumn = table.columns.firstIndex(of: "final.p_test Δ")!
        for (row, hidden) in zip(table.rows, QueryFixture.hiddens) {
            XCTAssertEqual(row[deltaColumn], .real(Double(hidden - 8) / 2))
            guard case .real(let ci) = row[deltaColumn + 1] else { return XCTFail() }
            XCTAssertEqual(ci, 2.776445 * (2.0 / 3).squareRoot(), accuracy: 1e-5)
        }
        let peaks = try ComparisonRequest(selection: RunSelection(sweep: "dd"), by: ["model.hidden"],
                                          keys: ["final.test_mse", "final.p_train"], peak: true).table(reader)
        XCTAssertEqual(peaks.value(row: 0, column: "peak_at"), .text("[16]"))
        XCTAssertEqual(peaks.value(row: 0, column: "interior"), .integer(1))
        XCTAssertEqual(peaks.value(row: 1, column: "peak_at"), .text("[32]"))   // p_train rises monotonically
        XCTAssertEqual(peaks.value(row: 1, column: "interior"), .integer(0))
    }

    func testSideBySideComparisonAndRunReferences() throws {
        let catalog = reader.catalog
        let first = catalog.runs[0]
        XCTAssertEqual(try RunReference.resolve(String(first.summary.uuid.prefix(8)), in: catalog), first.id)
        XCTAssertEqual(try RunReference.resolve(first.summary.uuid.uppercased(), in: catalog), first.id)
        XCTAssertEqual(try RunReference.resolve("lonely", in: catalog), 13)
        XCTAssertThrowsError(try RunReference.resolve("lonley", in: catalog)) { XCTAssertTrue("\($0)".contains("did you mean 'lonely'?"), "\($0)") }
        XCTAssertThrowsError(try RunReference.resolve("99", in: catalog)) { XCTAssertTrue("\($0)".contains("no run '99'"), "\($0)") }
        let table = try ComparisonRequest(runs: ["1", "lonely", "3"], keys: ["final.test_mse"], baseline: "1").table(reader)
        XCTAssertEqual(table.columns, ["id", "name", "final.test_mse", "Δ final.test_mse"])
        XCTAssertEqual(table.rows[0][3], .real(0))
        XCTAssertEqual(table.rows[1][2], .null)
        XCTAssertEqual(table.rows[1][3], .null)
        guard case .real(let d) = table.rows[2][3] else { return XCTFail() }
        XCTAssertEqual(d, 0.02, accuracy: 1e-12)   // seed 2 − seed 0 at the same width
    }

    func testRunsListingShowsAxesHeadlineAndUsedMeasures() throws {
        let table = try Listings.runs(reader, selection: RunSelection(sweep: "dd", conditions: ["grokking_delay>=30"], sort: "p_ratio"))
        XCTAssertEqual(Array(table.columns.prefix(5)), ["id", "name", "status", "last_step", "model.hidden"])
        XCTAssertTrue(table.columns.contains("final.test_mse"))
        XCTAssertTrue(table.columns.contains("grokking_delay"))
        XCTAssertTrue(table.columns.contains("p_ratio"))
        XCTAssertFalse(table.columns.contains("final.train_loss"), "no listed run recorded train_loss")
        XCTAssertEqual(table.rows.count, 12)
    }

    func testMetricsListingJoinsKeysByStep() throws {
        let table = try Listings.metrics(reader, runs: ["1", "lonely"], keys: ["test_mse", "train_loss"], every: 20, from: 0, to: 60)
        XCTAssertEqual(table.columns, ["run", "step", "test_mse", "train_loss"])
        // Run 1: steps 0, 20, 40, 60 with test_mse and no train_loss; lonely has train_loss at no multiple of 20.
        XCTAssertEqual(table.rows.map { $0[1] }, [0, 20, 40, 60].map { .integer($0) })
        XCTAssertEqual(table.rows[2][2], .real(QueryFixture.testMSE(hidden: 4, seed: 0, step: 40)))
        XCTAssertEqual(table.rows[2][3], .null)
        XCTAssertThrowsError(try Listings.metrics(reader, runs: ["1"], keys: ["test_mes"])) { XCTAssertTrue("\($0)".contains("did you mean test_mse?")) }
    }
}
