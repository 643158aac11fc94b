import Foundation
import Query
import Runner
import Store
@testable import Studies
import XCTest

final class IrregularityTests: XCTestCase {
    /// A seeded stream of values in [−1, 1), independent of tlens's generators.
    struct Stream {
        var state: UInt64
        mutating func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Double(state >> 11) / Double(1 << 53) * 2 - 1)
        }
    }

    /// Brute force: z-score with the reference's mean and (population) standard deviation, every
    /// distance, sorted, the mean of the first k.
    func bruteForce(_ points: [[Double]], _ reference: [[Double]], k: Int, leaveOneOut: Bool) -> [Double] {
        let d = reference[0].count, n = Double(reference.count)
        let mean = (0..<d).map { j in reference.map { $0[j] }.reduce(0, +) / n }
        let sd = (0..<d).map { j in (reference.map { ($0[j] - mean[j]) * ($0[j] - mean[j]) }.reduce(0, +) / n).squareRoot() }
        func z(_ x: [Double]) -> [Double] { (0..<d).map { sd[$0] > 0 ? (x[$0] - mean[$0]) / sd[$0] : x[$0] - mean[$0] } }
        return points.enumerated().map { i, x in
            let distances = reference.enumerated().filter { !(leaveOneOut && $0.offset == i) }.map { _, y in
                zip(z(x), z(y)).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
            }.sorted()
            let kept = distances.prefix(k)
            return kept.reduce(0, +) / Double(kept.count)
        }
    }

    func testIrregularityIsTheMeanDistanceToTheTenNearestStandardizedTrainingInputs() {
        var stream = Stream(state: 7)
        let d = 4
        // Columns on different scales (z-scoring matters), one constant (centred only).
        func row() -> [Double] { [Double(stream.next()), 100 * Double(stream.next()) + 3, 2.5, Double(stream.next() * stream.next())] }
        let train = (0..<40).map { _ in row() }
        var test = (0..<9).map { _ in row() }
        test[3][1] += 400   // far out along one feature
        let flat = { (rows: [[Double]]) in rows.flatMap { $0.map(Float.init) } }
        let trainF = flat(train).map(Double.init), testF = flat(test).map(Double.init)
        let asRows = { (x: [Double]) in stride(from: 0, to: x.count, by: d).map { Array(x[$0..<($0 + d)]) } }
        let expected = bruteForce(asRows(testF), asRows(trainF), k: 10, leaveOneOut: false)
        let scores = Irregularity.scores(of: flat(test), against: flat(train), dimension: d)
        for (a, b) in zip(scores, expected) { XCTAssertEqual(a, b, accuracy: 1e-9 * max(1, b)) }
        XCTAssertEqual(Irregularity.mostIrregular(scores, percent: 10), [3], "the point pushed out ranks first")

        let selfScores = Irregularity.scores(of: flat(train), against: flat(train), dimension: d, leaveOneOut: true)
        let selfExpected = bruteForce(asRows(trainF), asRows(trainF), k: 10, leaveOneOut: true)
        for (a, b) in zip(selfScores, selfExpected) { XCTAssertEqual(a, b, accuracy: 1e-9 * max(1, b)) }
        // Fewer candidates than k: the mean over all of them.
        let few = Irregularity.scores(of: [0, 0], against: [3, 4, 6, 8], dimension: 2)
        XCTAssertEqual(few[0], bruteForce([[0, 0]], [[3, 4], [6, 8]], k: 10, leaveOneOut: false)[0], accuracy: 1e-12)
    }

    func testTopSetsHoldTheRoundedShareMostIrregularFirst() {
        let scores: [Double] = [0.5, 3, 1, 3, 2]
        XCTAssertEqual(Irregularity.mostIrregular(scores, percent: 100), [1, 3, 4, 2, 0])
        XCTAssertEqual(Irregularity.mostIrregular(scores, percent: 50), [1, 3, 4])   // round(2.5) = 3
        XCTAssertEqual(Irregularity.mostIrregular(scores, percent: 5), [1])          // at least one
        XCTAssertEqual(Irregularity.setSize(percent: 10, of: 88), 9)
        XCTAssertEqual(Irregularity.setSize(percent: 5, of: 0), 0)
    }

    /// κ(x) = max_t ω_t(x) / mean over training points of max_t ω_t (lens.md (10.1)), by hand.
    func testKappaDividesEachPointsMaximumOverStatesByTheTrainingMean() {
        let train = KernelWeightNorm.maximumOverStates([[1, 2], [3, 0.5]])          // [3, 2], mean 2.5
        let test = KernelWeightNorm.maximumOverStates([[4, 1, 0], [2, 5, 0.25]])    // [4, 5, 0.25]
        XCTAssertEqual(train, [3, 2])
        XCTAssertEqual(KernelWeightNorm.normalizedMaximum(points: test, train: train), [1.6, 2, 0.1])
        XCTAssertTrue(KernelWeightNorm.normalizedMaximum(points: [1], train: [0, 0])[0].isNaN)
    }

    /// The verdicts' test: above 0 beyond the 95% interval over seeds, or the value with one seed.
    func testPositiveMeansAboveZeroBeyondTheInterval() {
        XCTAssertEqual(SeedStatistics([1, 1.1, 0.9]).positive, true)
        XCTAssertEqual(SeedStatistics([1, -0.8, 0.9]).positive, false)   // mean 0.37, ci95 ≈ 2.5
        XCTAssertEqual(SeedStatistics([0.2]).positive, true)
        XCTAssertNil(SeedStatistics([]).positive)
    }
}

/// The study's smoke sweep (four runs: an MLP and boosted trees on tabular and on diabetes),
/// trained in-process once, then read back as the study reads it.
final class GBTvsNNStudyTests: XCTestCase {
    nonisolated(unsafe) static var database: String?

    func smokeDatabase() throws -> String {
        if let path = Self.database { return path }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tlens-gvn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("smoke.sqlite").path
        let preset = GBTvsNNStudy().sweepPresets(.smoke)[0]
        let spec = try SweepSpec.load(text: try XCTUnwrap(Presets.sweepText(named: preset)), source: preset)
        let recorder = try Recorder(path: path)
        for point in spec.points {
            let prepared = try PreparedRun(try TrainConfig.load(text: point.tree.json, source: point.name))
            let outcome = try Trainer(prepared).run(recorder: recorder, codeVersion: "test", progress: nil, sweep: spec.name)
            XCTAssertEqual(outcome.status, .completed, point.name)
        }
        try recorder.close()
        Self.database = path
        return path
    }

    func reader() throws -> MetricReader { try MetricReader(RunCatalog(Archive(path: try smokeDatabase()))) }

    /// A zip over whole sections (`model: {…}`, `optimizer: null`) names its points by
    /// `name_suffix` alone, not by the sections' JSON.
    func testSectionAxesAreNamedByTheirSuffix() throws {
        let preset = GBTvsNNStudy().sweepPresets(.smoke)[0]
        let spec = try SweepSpec.load(text: try XCTUnwrap(Presets.sweepText(named: preset)), source: preset)
        XCTAssertEqual(spec.points.map(\.name), ["tabular-mlp", "tabular-gbt", "diabetes-mlp", "diabetes-gbt"].map { "\(spec.name) \($0) seed=0" })
    }

    /// lens.md (9.7): every ω a tree run recorded, read straight from the vectors table.
    func testTreesRecordedKernelWeightNormsStayAtOrBelowOne() throws {
        let db = try Database(path: try smokeDatabase(), mode: .readOnly)
        let select = try db.prepare("""
            SELECT v.run_id, v.split, v.step FROM vectors v JOIN run_params p ON p.run_id = v.run_id
            WHERE v.kind = 'kwn' AND p.key = 'model.kind' AND p.value = 'gbt'
            """)
        var vectors = 0, largest = -Float.infinity
        while try select.step() {
            let values = try XCTUnwrap(try db.vector(run: select.int64(at: 0), kind: "kwn", split: select.string(at: 1)!, step: Int(select.int64(at: 2))))
            largest = max(largest, values.max() ?? largest)
            vectors += 1
        }
        XCTAssertGreaterThan(vectors, 20)
        XCTAssertLessThanOrEqual(largest, 1 + 1e-6)
        XCTAssertGreaterThan(largest, 0)
    }

    /// The study's core on its smallest setting: the top sets find the injected points, the
    /// all-points MSE is the run's own recorded test_mse, and the network's κ rises with
    /// irregularity past the trees' while the trees' ω stays ≤ 1.
    func testNetworkKappaRisesWithIrregularityWhileTheTreesKernelWeightNormStaysAtOrBelowOne() throws {
        let reader = try reader()
        let comparison = try GBTvsNNStudy().comparison(.smoke, reader)
        XCTAssertEqual(comparison.settings.map(\.name), ["tabular", "diabetes"])
        XCTAssertEqual(comparison.unpaired, 0)
        for setting in comparison.settings {
            let pair = try XCTUnwrap(setting.pairs.first)
            for run in [pair.network, pair.trees] {
                let all = run.meanSquaredError(run.mostIrregular(100))
                let recorded = try XCTUnwrap(reader.number("final.test_mse", run.run))
                XCTAssertEqual(all, recorded, accuracy: 1e-5 * recorded, "\(setting.name) \(run.learner)")
            }
        }
        let tabular = comparison.settings[0]
        let top = comparison.row(tabular, percent: 10), all = comparison.row(tabular, percent: 100)
        XCTAssertEqual(all.injectedShare ?? 0, 0.1, accuracy: 1e-9)
        XCTAssertGreaterThanOrEqual(top.injectedShare ?? 0, 0.5, "the most irregular tenth is mostly the injected points")
        // Measured: κ̄_network 1.38 → 3.94, κ̄_trees 1.01 → 1.31.
        XCTAssertGreaterThan(top.networkKappa.mean, 2 * all.networkKappa.mean)
        XCTAssertGreaterThan(top.networkKappa.mean, 2 * top.treesKappa.mean)

        let findings = GBTvsNNStudy.findings(comparison)
        XCTAssertEqual(findings.count, 5)
        let kappa = try XCTUnwrap(findings.first { $0.claim.hasPrefix("tabular: the network's κ") })
        XCTAssertEqual(kappa.held, true, kappa.figures)
        let bound = try XCTUnwrap(findings.last)
        XCTAssertEqual(bound.held, true, bound.figures)
        XCTAssertTrue(bound.figures.contains("trees 0.5"), bound.figures)   // √c/(c + 1) at c = 1
        XCTAssertTrue(findings.allSatisfy { $0.held != nil }, "\(findings.map(\.figures))")
    }

    /// The report's sections render with their plots and tables.
    func testReportHasTheQGridTablesAndPlots() throws {
        let outcome = try GBTvsNNStudy().outcome(try reader(), size: .smoke)
        let ids = outcome.page.sections.compactMap(\.id)
        XCTAssertEqual(Array(ids.prefix(4)), ["findings", "irregular", "omega", "training"])
        let irregular = try XCTUnwrap(outcome.page.sections.first { $0.id == "irregular" })
        XCTAssertEqual(irregular.tables.map { $0.rows.count }, [5, 5])
        XCTAssertEqual(irregular.figures.count, 4)
        XCTAssertEqual(outcome.page.sections.first { $0.id == "omega" }?.figures.count, 4)
        XCTAssertEqual(outcome.page.sections.first { $0.id == "training" }?.figures.count, 2)
    }
}
