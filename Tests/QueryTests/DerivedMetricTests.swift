import Foundation
import XCTest
@testable import Query
@testable import Store

/// Every derived metric against a value computed here from the fixture's closed forms.
final class DerivedMetricTests: XCTestCase {
    var fixture: QueryFixture!
    var reader: MetricReader!

    override func setUpWithError() throws {
        fixture = try QueryFixture()
        reader = try fixture.reader()
    }

    func run(hidden: Int, seed: Int) -> CatalogRun {
        reader.catalog.runs.first { $0.summary.name == "dd hidden=\(hidden) seed=\(seed)" }!
    }

    func value(_ name: String, _ run: CatalogRun) throws -> Double? {
        try reader.number(Measure.parse(name, in: reader.catalog), for: run)
    }

    func testFinalMinMaxBestAndAtStepMatchTheClosedForms() throws {
        let r = run(hidden: 16, seed: 2)
        let curve = QueryFixture.steps.map { QueryFixture.testMSE(hidden: 16, seed: 2, step: $0) }
        XCTAssertEqual(try value("final.test_mse", r)!, curve.last!, accuracy: 1e-12)
        XCTAssertEqual(try value("min.test_mse", r)!, curve.min()!, accuracy: 1e-12)
        XCTAssertEqual(try value("max.test_mse", r)!, curve.max()!, accuracy: 1e-12)
        XCTAssertEqual(try value("best.test_mse", r)!, curve.min()!, accuracy: 1e-12)       // a loss: min
        XCTAssertEqual(try value("best.test_acc", r)!, 1.0, accuracy: 1e-12)                 // an accuracy: max
        XCTAssertEqual(try value("best_step.test_acc", r), 80)                               // first step reaching 1
        XCTAssertEqual(try value("mean.train_mse", r)!, QueryFixture.steps.map(QueryFixture.trainMSE).reduce(0, +) / 11, accuracy: 1e-12)
        // at.K@S is the last recorded value at or before S: step 35 reads step 30.
        XCTAssertEqual(try value("at.test_mse@35", r)!, QueryFixture.testMSE(hidden: 16, seed: 2, step: 30), accuracy: 1e-12)
        XCTAssertEqual(try value("at.test_mse@30", r)!, QueryFixture.testMSE(hidden: 16, seed: 2, step: 30), accuracy: 1e-12)
    }

    func testThresholdsAndGrokkingDelay() throws {
        let r = run(hidden: 8, seed: 0)
        // train_acc = s/50 reaches 0.99 first at recorded step 50; test_acc = s/80 reaches 0.95 at 80.
        XCTAssertEqual(try value("first_above.train_acc:0.99", r), 50)
        XCTAssertEqual(try value("first_above.test_acc:0.95", r), 80)
        XCTAssertEqual(try value("grokking_delay", r), 30)
        // Thresholds settable: test 0.5 → step 40, train 0.5 → step 30 (0.6 at 30 is the first ≥ 0.5).
        XCTAssertEqual(try value("grokking_delay:0.5:0.5", r), 40 - 30)
        // train_mse = 0.5 e^{−s/30} ≤ 0.1 first at s ≥ 30 ln 5 = 48.3: recorded step 50.
        XCTAssertEqual(try value("first_below.train_mse:0.1", r), 50)
        XCTAssertNil(try value("first_below.train_mse:-1", r), "never reached is NULL")
    }

    func testAreaUnderTheCurveIsTheTrapezoidRule() throws {
        let r = run(hidden: 4, seed: 1)
        let steps = QueryFixture.steps
        var expected = 0.0
        for i in 1..<steps.count {
            expected += Double(steps[i] - steps[i - 1]) * (QueryFixture.trainMSE(step: steps[i]) + QueryFixture.trainMSE(step: steps[i - 1])) / 2
        }
        XCTAssertEqual(try value("auc.train_mse", r)!, expected, accuracy: 1e-9)
        // And the exact integral of 0.5 e^{−s/30} over [0, 100] is within the trapezoid error.
        XCTAssertEqual(try value("auc.train_mse", r)!, 15 * (1 - exp(-100.0 / 30)), accuracy: 0.2)
    }

    func testRatiosGapsAndDrift() throws {
        let r = run(hidden: 32, seed: 1)
        XCTAssertEqual(try value("gen_gap", r)!, QueryFixture.testMSE(hidden: 32, seed: 1, step: 100) - QueryFixture.trainMSE(step: 100), accuracy: 1e-12)
        XCTAssertEqual(try value("gen_gap_acc", r)!, 1 - 1, accuracy: 1e-12)
        XCTAssertEqual(try value("p_ratio", r)!, (16.0 + 1) / 32, accuracy: 1e-12)
        XCTAssertEqual(try value("approx_ratio", r)!, 2e-2 / 1e-4, accuracy: 1e-6)
        XCTAssertEqual(try value("kdrift_end", r)!, 0.1, accuracy: 1e-12)
        let lonely = reader.catalog.runs.first { $0.summary.name == "lonely" }!
        XCTAssertNil(try value("p_ratio", lonely), "a run without the keys has no ratio")
    }

    func testUnknownNamesAreErrorsNamingTheNearestValidOne() throws {
        XCTAssertThrowsError(try Measure.parse("final.test_mes", in: reader.catalog)) { error in
            XCTAssertTrue("\(error)".contains("did you mean final.test_mse?"), "\(error)")
        }
        XCTAssertThrowsError(try Measure.parse("optimizer.lrr", in: reader.catalog)) { error in
            XCTAssertTrue("\(error)".contains("did you mean optimizer.lr?"), "\(error)")
        }
        XCTAssertThrowsError(try Measure.parse("at.test_mse@soon", in: reader.catalog))
        XCTAssertThrowsError(try Measure.parse("first_below.test_mse:x", in: reader.catalog))
        XCTAssertThrowsError(try Measure.parse("grokking_delay:0.9", in: reader.catalog))
    }

    func testStudentTQuantilesMatchTables() {
        // Two-sided 95% critical values from standard t tables.
        for (df, t) in [(1.0, 12.706), (2, 4.303), (4, 2.776), (10, 2.228), (30, 2.042), (1000, 1.962)] {
            XCTAssertEqual(studentTQuantile(0.975, degreesOfFreedom: df), t, accuracy: 1e-3, "df \(df)")
        }
        XCTAssertEqual(studentTQuantile(0.5, degreesOfFreedom: 3), 0, accuracy: 1e-9)
        XCTAssertEqual(studentTQuantile(0.025, degreesOfFreedom: 10), -2.228, accuracy: 1e-3)
        let s = SeedStatistics([0.10, 0.12, 0.11, .nan])
        XCTAssertEqual(s.count, 3)
        XCTAssertEqual(s.mean, 0.11, accuracy: 1e-12)
        XCTAssertEqual(s.standardDeviation, 0.01, accuracy: 1e-12)
        XCTAssertEqual(s.ci95, 4.303 * 0.01 / 3.0.squareRoot(), accuracy: 1e-5)
    }
}
