import Foundation
import Query
import Store
import XCTest
@testable import Studies

final class GrokkingStudyTests: StudyTestCase {
    /// The smoke sweep (Kumar et al.'s polynomial task shrunk to d 20, 110 training points, 100
    /// hidden units, 2,000 full-batch steps) trained here. Read straight from the metrics table:
    /// training MSE reaches 0.05 by step 40, test MSE only ≥ 5× later, so rule 1 holds; the
    /// smoother stays stable and p_test ends *above* p_train, so rule 2 does not — the study's
    /// verdicts must agree with that plain-SQL reading.
    func testSmokePolynomialTaskVerdictsMatchTheRecordedSeries() throws {
        let db = path("grok.sqlite")
        try trainSweep(preset: "study-grokking-polynomial-smoke", into: db)
        let trainMSE = try Self.series(db, "train_mse"), testMSE = try Self.series(db, "test_mse")
        let fit = try XCTUnwrap(trainMSE.first { $0.value <= 0.05 }?.step)
        let generalized = try XCTUnwrap(testMSE.first { $0.value <= 0.05 }?.step)
        XCTAssertGreaterThanOrEqual(generalized, 5 * fit)
        let pTest = try Self.series(db, "p_test"), pTrain = try Self.series(db, "p_train")
        XCTAssertTrue(try Self.series(db, "smoother_stable").allSatisfy { $0.value == 1 })
        XCTAssertGreaterThan(try XCTUnwrap(pTest.last?.value), try XCTUnwrap(pTrain.last?.value))

        let findings = try GrokkingStudy().findings(try reader(db), size: .smoke)
        XCTAssertEqual(findings.map(\.held), [true, false], findings.map(\.figures).joined(separator: "\n"))
        XCTAssertEqual(findings.map(\.origin), [.paper(figure: "Fig. 4"), .paper(figure: "Fig. 4")])
        XCTAssertTrue(findings[0].figures.contains("\(fit) → \(generalized)"), findings[0].figures)
        let sections = try GrokkingStudy().sections(try reader(db), size: .smoke)
        XCTAssertEqual(sections.map(\.figures.count), [2])
    }

    /// Each rule on recorded figures, and each turned over by moving one figure across its
    /// threshold: the verdicts are computed, so each can fail.
    func testEachRuleTurnsAtItsThreshold() throws {
        func verdicts(_ polynomial: [String: [(step: Int, value: Double)]] = Self.polynomial,
                      mnist: [String: [(step: Int, value: Double)]] = Self.mnist,
                      control: [String: [(step: Int, value: Double)]] = Self.control) throws -> [Finding] {
            let db = path("recorded-\(UUID().uuidString).sqlite")
            try recordSweep("study-grokking-polynomial", runs: [RecordedRun(seed: 0, params: [("steps", "10000")], axesJSON: "{}", series: polynomial)], into: db)
            try recordSweep("study-grokking-mnist", runs: [RecordedRun(seed: 0, params: [("steps", "10000")], axesJSON: "{}", series: mnist)], into: db)
            try recordSweep("study-grokking-mnist-control", runs: [RecordedRun(seed: 0, params: [("steps", "1000")], axesJSON: "{}", series: control)], into: db)
            return try GrokkingStudy().findings(try reader(db), size: .full)
        }
        let base = try verdicts()
        // Polynomial task (rules 1, 2), MNIST α = 6 (1, 2), the control (3); modular addition has no runs here.
        XCTAssertEqual(base.map(\.held), [true, true, true, true, true, nil, nil], base.map(\.figures).joined(separator: "\n"))
        XCTAssertEqual(base.map(\.origin), Array(repeating: .paper(figure: "Fig. 4"), count: 5) + [.tlens, .tlens])
        XCTAssertTrue(base[0].figures.contains("seed 0: 200 → 1200 (×6.0)"), base[0].figures)
        XCTAssertTrue(base[1].figures.contains("at the fit step p_test 150, p_train 160 (gap 10); at the end 120, 200 (gap 80, p_test/p_train 0.60, test_mse 0.01)"), base[1].figures)

        // Rule 1: test MSE reaching 0.05 at step 900 is only 4.5× the fit step.
        var early = Self.polynomial
        early["test_mse"] = [(0, 0.6), (200, 0.3), (900, 0.05), (1200, 0.04), (10000, 0.01)]
        XCTAssertEqual(try verdicts(early)[0].held, false)
        // Rule 2: p_test ending at 0.85 × p_train has not fallen far enough below it.
        var close = Self.polynomial
        close["p_test"] = [(0, 0), (200, 150), (1200, 160), (10000, 170)]
        XCTAssertEqual(try verdicts(close)[1].held, false)
        // … nor has a gap that was already nearly as wide at the fit step (60 → 80, not 2×).
        var already = Self.polynomial
        already["p_test"] = [(0, 0), (200, 100), (1200, 110), (10000, 120)]
        XCTAssertEqual(try verdicts(already)[1].held, false)
        // A smoother flagged unstable leaves the rule without runs: not evaluated.
        var flagged = Self.polynomial
        flagged["smoother_stable"] = [(0, 1), (200, 0), (1200, 0), (10000, 0)]
        XCTAssertNil(try verdicts(flagged)[1].held)
        // A flag after the fit step: the rule reads the last state before it (step 1200 here).
        var late = Self.polynomial
        late["smoother_stable"] = [(0, 1), (200, 1), (1200, 1), (10000, 0)]
        let lateFinding = try verdicts(late)[1]
        XCTAssertEqual(lateFinding.held, true, lateFinding.figures)
        XCTAssertTrue(lateFinding.figures.contains("before the smoother's flag at step 10000 (stability number — there) 140, 180 (gap 40"), lateFinding.figures)
        // Rule 3: a control reaching test accuracy 0.9 only at step 400 is not "within ~10² steps" …
        var slow = Self.control
        slow["test_acc"] = [(0, 0.5), (100, 0.8), (400, 0.92), (1000, 0.95)]
        XCTAssertEqual(try verdicts(control: slow)[4].held, false)
        // … and one with p_test above half of the α = 6 run's does not have far lower p.
        var rich = Self.control
        rich["p_test"] = [(0, 0), (100, 60), (1000, 160)]
        XCTAssertEqual(try verdicts(control: rich)[4].held, false)
    }

    /// A key's recorded series in the database's only run, by plain SQL.
    static func series(_ path: String, _ key: String) throws -> [(step: Int, value: Double)] {
        let db = try Database(path: path, mode: .readOnly)
        defer { try? db.close() }
        let select = try db.prepare("SELECT m.step, m.value FROM metrics m JOIN metric_keys k ON k.id = m.key_id AND k.name = ? ORDER BY m.step")
            .bound([.text(key)])
        var rows: [(step: Int, value: Double)] = []
        while try select.step() { rows.append((Int(select.int64(at: 0)), select.double(at: 1))) }
        return rows
    }

    // MARK: Figures for the rules (round numbers at the steps the rules read)

    static let polynomial: [String: [(step: Int, value: Double)]] = [
        "train_mse": [(0, 0.64), (200, 0.05), (1200, 0.01), (10000, 0.001)],
        "test_mse": [(0, 0.6), (200, 0.3), (1000, 0.06), (1200, 0.05), (10000, 0.01)],
        "p_train": [(0, 0), (200, 160), (1200, 180), (10000, 200)],
        "p_test": [(0, 0), (200, 150), (1200, 140), (10000, 120)],
        "smoother_stable": [(0, 1), (200, 1), (1200, 1), (10000, 1)],
    ]

    static let mnist: [String: [(step: Int, value: Double)]] = [
        "train_acc": [(0, 0.5), (500, 0.99), (5000, 1), (10000, 1)],
        "test_acc": [(0, 0.5), (500, 0.6), (5000, 0.91), (10000, 0.95)],
        "p_train": [(0, 0), (500, 400), (5000, 450), (10000, 500)],
        "p_test": [(0, 0), (500, 380), (5000, 330), (10000, 300)],
        "smoother_stable": [(0, 1), (500, 1), (5000, 1), (10000, 1)],
    ]

    static let control: [String: [(step: Int, value: Double)]] = [
        "train_acc": [(0, 0.5), (100, 0.95), (300, 0.99), (1000, 1)],
        "test_acc": [(0, 0.5), (100, 0.9), (1000, 0.95)],
        "p_train": [(0, 0), (100, 60), (1000, 120)],
        "p_test": [(0, 0), (100, 50), (1000, 100)],
        "smoother_stable": [(0, 1), (100, 1), (1000, 1)],
    ]
}
