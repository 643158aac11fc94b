import Foundation
import XCTest
@testable import Query
@testable import Store

/// The shipped named queries (queries/*.sql), each checked against values computed in Swift
/// from the fixture's closed form, not against SQL.
final class ShippedQueryTests: XCTestCase {
    var directory: QueryTestDirectory!
    var fixture: ShippedQueryFixture!

    override func setUpWithError() throws {
        directory = try QueryTestDirectory()
        fixture = try ShippedQueryFixture(path: directory.path("fixture.sqlite"))
    }

    static let shippedNames = ["approx_error_by_decade", "double_descent", "final_metrics", "grokking_timeline",
                               "kernel_weight_norm_by_irregularity", "lmc_barrier_by_spawn_step", "sweep_table"]

    /// Every shipped file loads, and declares exactly the parameters SQLite finds when it
    /// compiles the SQL (an independent reading of the same text).
    func testEveryShippedQueryDeclaresExactlyTheParametersSQLiteFinds() throws {
        let library = try QueryLibrary(directories: [])
        XCTAssertTrue(library.problems.isEmpty, "\(library.problems)")
        XCTAssertEqual(Set(library.queries.map(\.name)), Set(Self.shippedNames))
        XCTAssertEqual(library.queries.count, Query.EmbeddedSQL.queries.count)
        let db = try Database.openTLens(path: directory.path("fresh.sqlite"))
        for query in library.queries {
            let statement = try db.prepare(query.sql)
            let names = statement.parameterNames.map { $0.map { String($0.dropFirst()) } ?? "?" }
            XCTAssertEqual(Set(names), Set(query.parameters.map(\.name)), query.name)
            XCTAssertTrue(statement.isReadOnly, "\(query.name) must only read")
            XCTAssertFalse(query.summary.isEmpty)
        }
    }

    /// On a database with the schema and no rows, and on the fixture, every shipped query
    /// runs with only its required parameters given.
    func testEveryShippedQueryRunsOnAFreshDatabaseAndOnRecordedRuns() throws {
        let fresh = directory.path("fresh.sqlite")
        try Database.openTLens(path: fresh).close()
        let required: [String: String] = ["run": "1", "sweep": "width"]
        for query in try QueryLibrary(directories: []).queries {
            let arguments = query.parameters.filter { $0.defaultText == nil }.map { ($0.name, required[$0.name]!) }
            XCTAssertEqual(try runQuery(query.name, arguments, on: fresh).rows.count, 0, query.name)
            XCTAssertNoThrow(try runQuery(query.name, arguments, on: fixture.path), query.name)
        }
    }

    func testFinalMetricsIsTheLastValueOfEveryKey() throws {
        let run = fixture.run("grokking")
        let table = try runQuery("final_metrics", [("run", String(run.id))], on: fixture.path)
        XCTAssertEqual(table.columns, ["key", "step", "value"])
        XCTAssertEqual(table.rows.map { $0[0] }, run.keys.sorted().map { .text($0) })
        for row in table.rows {
            guard case .text(let key) = row[0] else { return XCTFail() }
            XCTAssertEqual(row[1], .integer(150))
            let expected = key == "train_acc" ? 1 : key == "test_acc" ? 0.95 + 30.0 / 1000 : ShippedQueryFixture.value(run: run.id, key: key, step: 150)
            assertClose(real(row[2]), expected, key)
        }
        XCTAssertEqual(try runQuery("final_metrics", [("run", "999")], on: fixture.path).rows.count, 0)
    }

    func testSweepTableHasOneRowPerPointWithItsAxesSeedAndFinalValue() throws {
        let table = try runQuery("sweep_table", [("sweep", "width")], on: fixture.path)
        XCTAssertEqual(table.columns, ["point", "run", "name", "status", "axes", "seed", "step", "value"])
        let runs = fixture.runs.filter { $0.sweep == "width" }
        XCTAssertEqual(table.rows.count, runs.count)
        for (index, (row, run)) in zip(table.rows, runs).enumerated() {
            XCTAssertEqual(row[0], .integer(Int64(index + 1)))
            XCTAssertEqual(row[1], .integer(run.id))
            XCTAssertEqual(row[2], .text(run.name))
            XCTAssertEqual(row[3], .text("completed"))
            XCTAssertEqual(row[4], .text("model.hidden=\(run.params["model.hidden"]!)"))
            XCTAssertEqual(row[5], .integer(Int64(run.params["seed"]!)!))
            XCTAssertEqual(row[6], .integer(150))
            assertClose(real(row[7]), fixture.final(run, "test_mse"))
        }
        let p = try runQuery("sweep_table", [("sweep", "irregular"), ("key", "p_test")], on: fixture.path)
        XCTAssertEqual(p.rows.map { $0[4] }, [.text("data.irregular_fraction=0.0"), .text("data.irregular_fraction=0.0"),
                                             .text("data.irregular_fraction=0.25"), .text("data.irregular_fraction=0.25")])
        for (row, run) in zip(p.rows, fixture.runs.filter { $0.sweep == "irregular" }) { assertClose(real(row[7]), fixture.final(run, "p_test")) }
        XCTAssertEqual(try runQuery("sweep_table", [("sweep", "nope")], on: fixture.path).rows.count, 0)
    }

    func testApproxErrorByDecadeAveragesEachDecadeLeavingNaNOut() throws {
        let run = fixture.run("decades")
        let table = try runQuery("approx_error_by_decade", [("run", String(run.id))], on: fixture.path)
        XCTAssertEqual(table.columns, ["run", "decade", "first_step", "last_step", "points", "approx_err_tel", "approx_err_lin"])
        let decades: [(String, [Int])] = [("0", [0]), ("1–9", [3, 7]), ("10–99", [10, 50, 99]), ("100–999", [100, 500]), ("1000–9999", [1000])]
        XCTAssertEqual(table.rows.count, decades.count)
        func mean(_ key: String, _ steps: [Int]) -> Double {
            let values = steps.filter { !(key == "approx_err_lin" && $0 == 50) }.map { ShippedQueryFixture.value(run: run.id, key: key, step: $0) }
            return values.reduce(0, +) / Double(values.count)
        }
        for (row, (label, steps)) in zip(table.rows, decades) {
            XCTAssertEqual(row[0], .integer(run.id))
            XCTAssertEqual(row[1], .text(label))
            XCTAssertEqual(row[2], .integer(Int64(steps.first!)))
            XCTAssertEqual(row[3], .integer(Int64(steps.last!)))
            XCTAssertEqual(row[4], .integer(Int64(steps.count)))
            assertClose(real(row[5]), mean("approx_err_tel", steps), label)
            assertClose(real(row[6]), mean("approx_err_lin", steps), label)
        }
        // A sweep: its runs only, four decades each (0, 5, 10–95, 100–150).
        let sweep = try runQuery("approx_error_by_decade", [("sweep", "width")], on: fixture.path)
        XCTAssertEqual(Set(sweep.rows.map { $0[0] }), Set(fixture.runs.filter { $0.sweep == "width" }.map { .integer($0.id) }))
        XCTAssertEqual(sweep.rows.count, 6 * 4)
        // Neither: every run that recorded the keys.
        XCTAssertEqual(try runQuery("approx_error_by_decade", on: fixture.path).rows.count, 10 * 4 + 5)
    }

    func testDoubleDescentAveragesFinalValuesOverSeedsInNumericAxisOrder() throws {
        let table = try runQuery("double_descent", [("sweep", "width")], on: fixture.path)
        XCTAssertEqual(table.columns, ["axis", "value", "runs", "test_mse", "train_mse", "p_train", "p_test"])
        XCTAssertEqual(table.rows.map { $0[1] }, [.text("[8]"), .text("[16]"), .text("[64]")])
        for row in table.rows {
            XCTAssertEqual(row[0], .text("model.hidden"))
            XCTAssertEqual(row[2], .integer(2))
            let group = fixture.runs.filter { $0.sweep == "width" && .text($0.params["model.hidden"]!) == row[1] }
            for (column, key) in zip(3..., ["test_mse", "train_mse", "p_train", "p_test"]) {
                assertClose(real(row[column]), group.map { fixture.final($0, key)! }.reduce(0, +) / 2, key)
            }
        }
        let bySeed = try runQuery("double_descent", [("sweep", "width"), ("axis", "seed")], on: fixture.path)
        XCTAssertEqual(bySeed.rows.map { $0[1] }, [.text("0"), .text("1")])
        XCTAssertEqual(bySeed.rows.map { $0[2] }, [.integer(3), .integer(3)])
    }

    func testGrokkingTimelineFindsTheFirstStepsOverEachThreshold() throws {
        let run = fixture.run("grokking")
        func p(_ key: String, _ step: Int) -> Double { ShippedQueryFixture.value(run: run.id, key: key, step: step) }
        let table = try runQuery("grokking_timeline", [("run", String(run.id))], on: fixture.path)
        XCTAssertEqual(table.columns, ["event", "step", "train_acc", "test_acc", "p_train", "p_test"])
        XCTAssertEqual(table.rows.map { $0[0] }, [.text("train_acc >= 0.99"), .text("test_acc >= 0.95"), .text("end")])
        XCTAssertEqual(table.rows.map { $0[1] }, [.integer(40), .integer(120), .integer(150)])
        for (row, step) in zip(table.rows, [40, 120, 150]) {
            assertClose(real(row[2]), min(1, Double(step) / 40))
            assertClose(real(row[3]), step >= 120 ? 0.95 + Double(step - 120) / 1000 : 0.5 + Double(step) / 1000)
            assertClose(real(row[4]), p("p_train", step))
            assertClose(real(row[5]), p("p_test", step))
        }
        // Thresholds are parameters; one never reached has no step and no values.
        let other = try runQuery("grokking_timeline", [("run", String(run.id)), ("train_threshold", "0.5"), ("test_threshold", "0.999")], on: fixture.path)
        XCTAssertEqual(other.rows.map { $0[1] }, [.integer(20), .null, .integer(150)])
        XCTAssertEqual(Array(other.rows[1][2...]), [.null, .null, .null, .null])
        XCTAssertEqual(try runQuery("grokking_timeline", [("run", "999")], on: fixture.path).rows.count, 0)
    }

    func testKernelWeightNormByIrregularityAveragesPerAxisValue() throws {
        let table = try runQuery("kernel_weight_norm_by_irregularity", [("sweep", "irregular")], on: fixture.path)
        XCTAssertEqual(table.columns, ["axis", "value", "runs", "kwn_max_test", "kwn_mean_test", "max_over_mean"])
        XCTAssertEqual(table.rows.map { $0[1] }, [.text("0.0"), .text("0.25")])
        for row in table.rows {
            XCTAssertEqual(row[0], .text("data.irregular_fraction"))
            let group = fixture.runs.filter { $0.sweep == "irregular" && .text($0.params["data.irregular_fraction"]!) == row[1] }
            XCTAssertEqual(row[2], .integer(Int64(group.count)))
            let maxima = group.map { fixture.final($0, "kwn_max_test")! }, means = group.map { fixture.final($0, "kwn_mean_test")! }
            assertClose(real(row[3]), maxima.reduce(0, +) / 2)
            assertClose(real(row[4]), means.reduce(0, +) / 2)
            assertClose(real(row[5]), zip(maxima, means).map { $0 / $1 }.reduce(0, +) / 2)
        }
    }

    func testLMCBarrierGroupsChildrenBySpawnStepAndIsEmptyWithoutChildren() throws {
        let table = try runQuery("lmc_barrier_by_spawn_step", on: fixture.path)
        XCTAssertEqual(table.columns, ["spawn_step", "children", "parents", "with_barrier", "lmc_barrier", "lmc_barrier_min", "lmc_barrier_max"])
        let barriers = ["child a", "child b"].map { fixture.final(fixture.run($0), "lmc_barrier")! }
        XCTAssertEqual(table.rows.count, 2)
        XCTAssertEqual(Array(table.rows[0][0...3]), [.integer(20), .integer(2), .integer(1), .integer(2)])
        assertClose(real(table.rows[0][4]), barriers.reduce(0, +) / 2)
        assertClose(real(table.rows[0][5]), barriers.min())
        assertClose(real(table.rows[0][6]), barriers.max())
        // Child c has no spawn.step: its first recorded step, and no barrier.
        XCTAssertEqual(table.rows[1], [.integer(30), .integer(1), .integer(1), .integer(0), .null, .null, .null])
        // Another spawn path: none has it, so every child falls back to its first step.
        let other = try runQuery("lmc_barrier_by_spawn_step", [("spawn_path", "lmc.spawn")], on: fixture.path)
        XCTAssertEqual(other.rows.map { $0[0] }, [.integer(20), .integer(30)])
        // Without parent links (today's tlens records none), no rows.
        let db = try Database(path: fixture.path, mode: .readWrite)
        try db.execute("UPDATE runs SET parent_run_id = NULL")
        try db.close()
        XCTAssertEqual(try runQuery("lmc_barrier_by_spawn_step", on: fixture.path).rows.count, 0)
    }
}
