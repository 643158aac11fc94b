import Foundation
import Query
import Store
import XCTest
@testable import Studies

final class DoubleDescentStudyTests: StudyTestCase {
    /// The smoke sweep (MNIST 3 vs 5 at 8×8, 20% label noise, n = 100, widths 1, 4, 16, 64, two
    /// seeds of 1,500 steps) trained here. Seed means read straight from the metrics table:
    /// p_train rises with width, p_test peaks at an inside width and the widest is ≥ 30% below
    /// it, test MSE peaks inside; the study's rules 2 and 3 agree, and the parameter count it
    /// reads from θ_0 is 66w + 1.
    func testSmokeSweepShowsPTrainRisingAndPTestPeakingInside() throws {
        let db = path("dd.sqlite")
        try trainSweep(preset: "study-double-descent-smoke", into: db)
        let pTrain = try Self.seedMeans(db, "p_train"), pTest = try Self.seedMeans(db, "p_test"), mse = try Self.seedMeans(db, "test_mse")
        XCTAssertEqual(pTrain.map(\.width), [1, 4, 16, 64])
        XCTAssertEqual(pTrain.map(\.mean), pTrain.map(\.mean).sorted(), "p_train by width: \(pTrain)")
        let top = pTest.indices.max { pTest[$0].mean < pTest[$1].mean }!
        XCTAssertTrue(top > 0 && top < pTest.count - 1, "p_test by width: \(pTest)")
        XCTAssertLessThanOrEqual(pTest.last!.mean, 0.7 * pTest[top].mean, "p_test by width: \(pTest)")
        let worst = mse.indices.max { mse[$0].mean < mse[$1].mean }!
        XCTAssertTrue(worst > 0 && worst < mse.count - 1, "test MSE by width: \(mse)")

        let study = DoubleDescentStudy()
        let findings = try study.findings(try reader(db), size: .smoke)
        XCTAssertEqual(findings.count, 3)
        XCTAssertEqual(findings.map(\.origin), [FindingOrigin](repeating: .paper(figure: "Fig. 3 and 9 (left)"), count: 3))
        XCTAssertTrue(findings[0].claim.hasPrefix("MNIST 3 vs 5, 20% label noise: "), findings[0].claim)
        XCTAssertNotNil(findings[0].held, findings[0].figures)
        XCTAssertTrue(findings[0].figures.contains("(\(66 * Int(mse[worst].width) + 1) parameters, n = 100"), findings[0].figures)
        XCTAssertEqual(findings[1].held, true, findings[1].figures)
        XCTAssertEqual(findings[2].held, true, findings[2].figures)
        XCTAssertTrue(findings[2].figures.contains("at width \(Int(pTest[top].width))"), findings[2].figures)
        let sections = try study.sections(try reader(db), size: .smoke)
        XCTAssertEqual(sections.count, 1)
        XCTAssertEqual(sections.first?.figures.count, 6)
    }

    /// The verdicts on the final figures the quick sweeps recorded on this machine (54 runs,
    /// tlens study double-descent --quick, release build): all seven findings hold, with the
    /// seed means worked out by hand below. Then the same figures changed where each rule
    /// looks: each verdict turns, and runs with a flagged smoother leave p.
    func testVerdictsOnTheRecordedQuickSweeps() throws {
        let recorded = try self.findings(noisy: Self.recordedMNIST, clean: Self.recordedClean, mnist1d: Self.recordedMNIST1D)
        XCTAssertEqual(recorded.map(\.held), Array(repeating: true, count: 7), recorded.map(\.figures).joined(separator: "\n"))
        let mnist: [FindingOrigin] = Array(repeating: .paper(figure: "Fig. 3 and 9 (left)"), count: 3)
        let mnist1d: [FindingOrigin] = Array(repeating: .paper(figure: "Fig. 10"), count: 3)
        XCTAssertEqual(recorded.map(\.origin), mnist + [.paper(figure: "Fig. 9 (right)")] + mnist1d)
        XCTAssertEqual(recorded[3].claim, "MNIST 3 vs 5, no label noise: no double descent: test MSE improves monotonically with width")
        XCTAssertTrue(recorded[4].claim.hasPrefix("MNIST-1D 0 vs 1, 15% label noise: "), recorded[4].claim)
        for (index, text) in Self.expectedFigures { XCTAssertTrue(recorded[index].figures.contains(text), "\(index): \(recorded[index].figures)") }

        // The widest networks no better than the peak: no second descent.
        let flat = try self.findings(noisy: Self.recordedMNIST.map { r in r.width == 128 ? r.with(testMSE: 2.0) : r })
        XCTAssertEqual(flat[0].held, false, flat[0].figures)
        // The widest networks short of fitting the training set (train MSE 0.2).
        let unfitted = try self.findings(noisy: Self.recordedMNIST.map { r in r.width == 128 ? r.with(trainMSE: 0.2) : r })
        XCTAssertEqual(unfitted[0].held, false, unfitted[0].figures)

        // p_train 10 below its maximum at the widest width (5% of n = 200): not monotone within 3%.
        let dip = try self.findings(noisy: Self.recordedMNIST.map { r in r.width == 128 ? r.with(pTrain: r.pTrain - 10) : r })
        XCTAssertEqual(dip[1].held, false, dip[1].figures)

        // p_test at the widest width back at its peak: no fall past the threshold.
        let peakTest = Self.recordedMNIST.map(\.pTest).max()!
        let level = try self.findings(noisy: Self.recordedMNIST.map { r in r.width == 128 ? r.with(pTest: peakTest) : r })
        XCTAssertEqual(level[2].held, false, level[2].figures)

        // The control with a bump: test MSE at width 8 half again above the best narrower width.
        let best = Self.recordedClean.filter { $0.width < 8 }.map(\.testMSE).min()!
        let bump = try self.findings(noisy: Self.recordedMNIST, clean: Self.recordedClean.map { r in r.width == 8 ? r.with(testMSE: 1.5 * best) : r })
        XCTAssertEqual(bump[3].held, false, bump[3].figures)
        // And the noisy sweep read as a control (its labels clean) shows its bump: rule 4 fails there.
        let asControl = try self.findings(noisy: Self.recordedMNIST, clean: Self.recordedMNIST.map { $0.with(noise: 0) })
        XCTAssertEqual(asControl[3].held, false, asControl[3].figures)

        // The width-16 runs flagged: their p is left out and counted.
        let flagged = try self.findings(noisy: Self.recordedMNIST.map { r in r.width == 16 ? r.with(stable: 0) : r })
        XCTAssertTrue(flagged[2].figures.contains("2 of 18 runs left out of p"), flagged[2].figures)
        XCTAssertTrue(flagged[2].figures.contains("no stable run at width 16"), flagged[2].figures)
    }

    /// A test whose sweeps lack runs is "not evaluated", each finding naming its sweep.
    func testMissingSweepsAreNotEvaluated() throws {
        let recorded = try self.findings(noisy: Self.recordedMNIST, clean: [], mnist1d: [])
        XCTAssertEqual(recorded.count, 7)
        XCTAssertEqual(recorded[0..<3].map(\.held), [true, true, true])
        XCTAssertEqual(recorded[3...].map(\.held), [nil, nil, nil, nil])
        XCTAssertTrue(recorded[3].figures.contains("no completed runs in study-double-descent-clean-quick"), recorded[3].figures)
    }

    // MARK: Fixtures

    struct Figures {
        var seed: Int, width: Int, trainMSE: Double, testMSE: Double, pTrain: Double, pTest: Double, stable: Double
        var noise = 0.2, source = "mnist", classes = "[3, 5]", n = 200, d = 64
        init(_ seed: Int, _ width: Int, _ trainMSE: Double, _ testMSE: Double, _ pTrain: Double, _ pTest: Double, _ stable: Double) {
            self.seed = seed; self.width = width; self.trainMSE = trainMSE; self.testMSE = testMSE
            self.pTrain = pTrain; self.pTest = pTest; self.stable = stable
        }

        func with(trainMSE: Double? = nil, testMSE: Double? = nil, pTrain: Double? = nil, pTest: Double? = nil, stable: Double? = nil,
                  noise: Double? = nil) -> Figures {
            var copy = self
            copy.trainMSE = trainMSE ?? self.trainMSE; copy.testMSE = testMSE ?? self.testMSE
            copy.pTrain = pTrain ?? self.pTrain; copy.pTest = pTest ?? self.pTest
            copy.stable = stable ?? self.stable; copy.noise = noise ?? self.noise
            return copy
        }

        /// The same figures as a run on MNIST-1D 0 vs 1 with 15% noise (40 inputs).
        var mnist1d: Figures {
            var copy = self
            copy.source = "mnist1d"; copy.classes = "[0, 1]"; copy.noise = 0.15; copy.d = 40
            return copy
        }
    }

    /// Records the three quick sweeps (a sweep given no runs is left out) into a fresh database
    /// and returns the study's findings on it.
    func findings(noisy: [Figures], clean: [Figures]? = nil, mnist1d: [Figures]? = nil) throws -> [Finding] {
        databases += 1
        let db = path("recorded-\(databases).sqlite")
        for (name, runs) in [("study-double-descent-quick", noisy), ("study-double-descent-clean-quick", clean ?? Self.recordedClean),
                             ("study-double-descent-mnist1d-quick", mnist1d ?? Self.recordedMNIST1D)] where !runs.isEmpty {
            try recordSweep(name, runs: runs.map(Self.run), into: db)
        }
        return try DoubleDescentStudy().findings(try reader(db), size: .quick)
    }

    private var databases = 0

    /// Final values of the quick sweeps' runs (step 5,000), as recorded: MNIST 3 vs 5 with 20% noise.
    static let recordedMNIST: [Figures] = [
        Figures(0, 1, 0.999102, 1.00363, 0.906608, 0.906608, 1),
        Figures(1, 1, 0.508322, 0.657194, 61.5916, 107.886, 1),
        Figures(0, 2, 0.516002, 0.572558, 60.5451, 84.6632, 1),
        Figures(1, 2, 0.35836, 1.13635, 91.7035, 201.016, 1),
        Figures(0, 3, 0.557281, 0.59494, 60.2988, 87.837, 1),
        Figures(1, 3, 0.272495, 0.814329, 122.947, 264.086, 1),
        Figures(0, 5, 0.209995, 1.31898, 144.934, 278.981, 1),
        Figures(1, 5, 0.279715, 0.979545, 118.357, 249.712, 1),
        Figures(0, 8, 0.199088, 1.68295, 152.611, 323.095, 1),
        Figures(1, 8, 0.0409895, 1.73634, 182.608, 414.259, 1),
        Figures(0, 16, 0.0216296, 1.58159, 192.847, 354.495, 1),
        Figures(1, 16, 0.00224115, 1.66838, 199.392, 236.229, 1),
        Figures(0, 32, 0.00151606, 1.38601, 199.353, 213.069, 1),
        Figures(1, 32, 0.00117858, 1.48556, 199.401, 246.2, 1),
        Figures(0, 64, 0.000592904, 0.950721, 199.788, 172.505, 1),
        Figures(1, 64, 6.18652e-05, 1.15745, 199.985, 171.559, 1),
        Figures(0, 128, 0.000331303, 0.926279, 199.869, 157.97, 1),
        Figures(1, 128, 9.16921e-06, 0.979141, 199.997, 158.961, 1),
    ]

    /// The control, without noise and without the smoother (no p).
    static let recordedClean: [Figures] = [
        Figures(0, 1, 0.997501, 0.99746, .nan, .nan, 1).with(noise: 0),
        Figures(1, 1, 0.0982442, 0.32242, .nan, .nan, 1).with(noise: 0),
        Figures(0, 2, 0.131674, 0.391818, .nan, .nan, 1).with(noise: 0),
        Figures(1, 2, 0.0591927, 0.28016, .nan, .nan, 1).with(noise: 0),
        Figures(0, 3, 0.148816, 0.367759, .nan, .nan, 1).with(noise: 0),
        Figures(1, 3, 0.0433937, 0.272715, .nan, .nan, 1).with(noise: 0),
        Figures(0, 5, 0.0695618, 0.342664, .nan, .nan, 1).with(noise: 0),
        Figures(1, 5, 0.092996, 0.337515, .nan, .nan, 1).with(noise: 0),
        Figures(0, 8, 0.0319415, 0.378532, .nan, .nan, 1).with(noise: 0),
        Figures(1, 8, 0.0106564, 0.226262, .nan, .nan, 1).with(noise: 0),
        Figures(0, 16, 0.00905151, 0.334201, .nan, .nan, 1).with(noise: 0),
        Figures(1, 16, 0.00634861, 0.227164, .nan, .nan, 1).with(noise: 0),
        Figures(0, 32, 0.000954837, 0.288232, .nan, .nan, 1).with(noise: 0),
        Figures(1, 32, 0.00205881, 0.218413, .nan, .nan, 1).with(noise: 0),
        Figures(0, 64, 0.000553073, 0.267013, .nan, .nan, 1).with(noise: 0),
        Figures(1, 64, 0.000574642, 0.221234, .nan, .nan, 1).with(noise: 0),
        Figures(0, 128, 0.000163961, 0.238788, .nan, .nan, 1).with(noise: 0),
        Figures(1, 128, 0.000169946, 0.24047, .nan, .nan, 1).with(noise: 0),
    ]

    /// MNIST-1D 0 vs 1 with 15% noise (40 inputs).
    static let recordedMNIST1D: [Figures] = [
        Figures(0, 1, 0.541151, 0.543464, 55.4965, 60.6432, 1).mnist1d,
        Figures(1, 1, 0.508686, 0.326442, 59.7772, 66.1852, 1).mnist1d,
        Figures(0, 2, 0.380212, 0.564881, 105.431, 202.165, 1).mnist1d,
        Figures(1, 2, 0.385441, 0.69035, 110.379, 163.143, 1).mnist1d,
        Figures(0, 3, 0.303276, 1.14337, 122.611, 295.519, 1).mnist1d,
        Figures(1, 3, 0.126983, 1.98414, 168.206, 311.462, 1).mnist1d,
        Figures(0, 5, 0.0317213, 2.05905, 196.165, 322.504, 1).mnist1d,
        Figures(1, 5, 0.0700274, 2.92003, 184.819, 417.812, 1).mnist1d,
        Figures(0, 8, 0.0172888, 1.77986, 198.587, 350.162, 1).mnist1d,
        Figures(1, 8, 0.0474737, 2.10148, 191.286, 334.343, 1).mnist1d,
        Figures(0, 16, 1.41095e-06, 1.68244, 199.992, 247.871, 1).mnist1d,
        Figures(1, 16, 2.16221e-07, 1.08522, 199.999, 249.806, 1).mnist1d,
        Figures(0, 32, 8.51649e-12, 1.49909, 200, 194.337, 1).mnist1d,
        Figures(1, 32, 2.77716e-12, 0.963655, 200, 203.112, 1).mnist1d,
        Figures(0, 64, 1.1476e-12, 1.01553, 200, 168.94, 1).mnist1d,
        Figures(1, 64, 1.47669e-12, 0.998198, 200, 163.274, 1).mnist1d,
        Figures(0, 128, 4.51443e-13, 1.00635, 200, 167.07, 1).mnist1d,
        Figures(1, 128, 3.10649e-13, 0.936473, 200, 171.338, 1).mnist1d,
    ]

    /// Figures the rules print for the recorded sweeps, by finding: seed means worked out by
    /// hand from the fixtures (peak of test MSE (1.68295 + 1.73634)/2 = 1.7096 at width 8,
    /// 66·8 + 1 = 529 parameters; (0.926279 + 0.979141)/2 = 0.9527 at 128, 44% below; p_test
    /// (323.095 + 414.259)/2 = 368.7 at 8, (157.97 + 158.961)/2 = 158.5 at 128; the control's
    /// (0.342664 + 0.337515)/2 = 0.3401 at width 5 against 0.3202 at 3, 6% above; MNIST-1D's
    /// (2.05905 + 2.92003)/2 = 2.490 at width 5, 42·5 + 1 = 211 parameters).
    static let expectedFigures: [(Int, String)] = [
        (0, "peak 1.71 at width 8 (529 parameters, n = 200), 0.9527 at width 128 (44% below the peak)"),
        (1, "p_train 31.25 at width 1 → 199.9 at most"),
        (1, "never below its running maximum"),
        (2, "peak 368.7 at width 8 (529 parameters), 158.5 at width 128 (57% below the peak)"),
        (3, "largest rise above the minimum over narrower widths 6% at width 5"),
        (4, "peak 2.49 at width 5 (211 parameters, n = 200), 0.9714 at width 128 (61% below the peak)"),
        (6, "peak 370.2 at width 5 (211 parameters), 169.2 at width 128 (54% below the peak)"),
    ]

    static func run(_ f: Figures) -> RecordedRun {
        let step = 5_000
        var params = [("model.hidden", "[\(f.width)]"), ("data.n_train", "\(f.n)"), ("data.d", "\(f.d)"), ("data.target", "pm1"),
                      ("data.source", f.source), ("data.classes", f.classes)]
        if f.noise > 0 { params.append(("data.label_noise", "\(f.noise)")) }
        var series: [String: [(step: Int, value: Double)]] = ["train_mse": [(step, f.trainMSE)], "test_mse": [(step, f.testMSE)]]
        if f.pTrain.isFinite {
            series["p_train"] = [(step, f.pTrain)]; series["p_test"] = [(step, f.pTest)]
            series["smoother_stable"] = [(0, 1), (step, f.stable)]
        }
        return RecordedRun(seed: f.seed, params: params, axesJSON: #"{"model.hidden": [\#(f.width)]}"#, series: series)
    }

    /// Per width (ascending), the mean over runs of the key's value at each run's last recorded
    /// step, by plain SQL.
    static func seedMeans(_ path: String, _ key: String) throws -> [(width: Double, mean: Double)] {
        let db = try Database(path: path, mode: .readOnly)
        defer { try? db.close() }
        let select = try db.prepare("""
            SELECT p.value, m.value FROM metrics m
            JOIN metric_keys k ON k.id = m.key_id AND k.name = ?
            JOIN run_params p ON p.run_id = m.run_id AND p.key = 'model.hidden'
            WHERE m.step = (SELECT max(step) FROM metrics l WHERE l.run_id = m.run_id AND l.key_id = m.key_id)
            """).bound([.text(key)])
        var values: [Double: [Double]] = [:]
        while try select.step() {
            let width = Double(select.string(at: 0)!.trimmingCharacters(in: CharacterSet(charactersIn: "[]")))!
            values[width, default: []].append(select.double(at: 1))
        }
        return values.keys.sorted().map { ($0, values[$0]!.reduce(0, +) / Double(values[$0]!.count)) }
    }
}

