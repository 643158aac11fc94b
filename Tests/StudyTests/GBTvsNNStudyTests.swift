import Data
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

/// The paper's measures (IrregularMixtures) on made-up vectors, by hand.
final class IrregularMixturesTests: XCTestCase {
    func testMixturesHoldTheProportionOfIrregularPointsDrawnWithoutReplacement() {
        let regular = Array(0..<30), irregular = Array(100..<112)
        let m = IrregularMixtures.size(regular: regular.count, irregular: irregular.count)
        XCTAssertEqual(m, 12)
        XCTAssertEqual(IrregularMixtures.size(regular: 9_000, irregular: 5_394), 4_000)
        let sets = IrregularMixtures.draw(regular: regular, irregular: irregular, size: m, seed: 7)
        XCTAssertEqual(sets.count, IrregularMixtures.proportions.count)
        for (p, set) in zip(IrregularMixtures.proportions, sets) {
            XCTAssertEqual(set.count, m)
            XCTAssertEqual(Set(set).count, m, "no point twice")
            XCTAssertEqual(set.filter { $0 >= 100 }.count, Int((p * Double(m)).rounded()), "p = \(p)")
        }
        XCTAssertEqual(sets.last!.sorted(), irregular, "p = 1 takes the whole irregular pool when it sets m")
        XCTAssertEqual(IrregularMixtures.draw(regular: regular, irregular: irregular, size: m, seed: 7), sets, "seeded")
        XCTAssertNotEqual(IrregularMixtures.draw(regular: regular, irregular: irregular, size: m, seed: 8)[2], sets[2])
    }

    /// (10.3) on made-up MSEs: gaps 0.2, 0.3, 0.6 over the gap 0.2 at p = 0.
    func testRelativeMSEDividesEachGapByTheGapAtZero() {
        let relative = IrregularMixtures.relativeMSE(network: [1.2, 1.5, 2.0], trees: [1.0, 1.2, 1.4])
        for (a, b) in zip(relative, [1.0, 1.5, 3.0]) { XCTAssertEqual(a, b, accuracy: 1e-12) }
        XCTAssertEqual(IrregularMixtures.meanSquaredError([1, 4, 9, 16], [1, 3]), 10)
    }

    /// (10.4) by hand: states [[1, 5, 2, 0.5], [3, 1, 4, 2]] on points {0, 3}: maxima 1 and 3,
    /// mean 2; training states [[2, 1], [1, 0.5]]: maxima 2 and 1, mean 1.5.
    func testKernelRatioIsTheMeanOverStepsOfTheMaximumOverTheSetOverTheSameOnTrainingPoints() {
        let test: [[Float]] = [[1, 5, 2, 0.5], [3, 1, 4, 2]], train: [[Float]] = [[2, 1], [1, 0.5]]
        XCTAssertEqual(IrregularMixtures.kernelRatio(test: test, train: train, points: [0, 3]), 2 / 1.5, accuracy: 1e-12)
        XCTAssertEqual(IrregularMixtures.kernelRatio(test: test, train: train, points: [1, 2]), 4.5 / 1.5, accuracy: 1e-12)
        XCTAssertTrue(IrregularMixtures.kernelRatio(test: test, train: [], points: [0]).isNaN)
    }
}

/// The study's smoke sweeps (the search, then the main runs it selects: a network and boosted
/// trees on diabetes with the PC1 holdout, two seeds), trained in-process once, read back as
/// the study reads them.
final class GBTvsNNStudyTests: XCTestCase {
    nonisolated(unsafe) static var database: String?

    static func train(_ spec: SweepSpec, _ recorder: Recorder) throws {
        for point in spec.points {
            let prepared = try PreparedRun(try TrainConfig.load(text: point.tree.json, source: point.name))
            let outcome = try Trainer(prepared).run(recorder: recorder, codeVersion: "test", progress: nil, sweep: spec.name)
            XCTAssertEqual(outcome.status, .completed, point.name)
        }
    }

    func smokeDatabase() throws -> String {
        if let path = Self.database { return path }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tlens-gvn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("smoke.sqlite").path
        let study = GBTvsNNStudy()
        let preset = study.sweepPresets(.smoke)[0]
        var recorder = try Recorder(path: path)
        try Self.train(try SweepSpec.load(text: try XCTUnwrap(Presets.sweepText(named: preset)), source: preset), recorder)
        try recorder.close()
        let derived = try study.derivedSweeps(try MetricReader(RunCatalog(Archive(path: path))), size: .smoke)
        XCTAssertEqual(derived.count, 1)
        recorder = try Recorder(path: path)
        try Self.train(try SweepSpec.load(text: derived[0], source: "derived"), recorder)
        try recorder.close()
        Self.database = path
        return path
    }

    func reader() throws -> MetricReader { try MetricReader(RunCatalog(Archive(path: try smokeDatabase()))) }

    /// The selected candidate has the least validation MSE, recomputed from its final
    /// predictions and the rebuilt validation split; the main runs carry its settings.
    func testTheSearchSelectsTheLeastValidationMSEAndTheMainRunsUseIt() throws {
        let reader = try reader()
        let db = reader.catalog.archive.database
        let search = try GBTvsNNStudy().search(.smoke, reader)
        XCTAssertEqual(search.choices.map { "\($0.setting) \($0.learner)" }, ["diabetes mlp", "diabetes gbt"])
        for choice in search.choices {
            var recomputed: [(String, Double)] = []
            let runs = reader.runs(ofSweep: "study-gbt-vs-nn-search-smoke")
            for candidate in choice.candidates {
                let run = try XCTUnwrap(runs.first { $0.summary.name == candidate.point.name })
                let config = try TrainConfig.load(text: run.summary.configJSON, source: "run")
                let split = try DataFactory.load(config.data, seed: config.seed)
                XCTAssertEqual(split.test.count, 80, "the search scores the validation split")
                let pred = try XCTUnwrap(try db.vector(run: run.id, kind: "pred", split: "test", step: 60))
                let rows = try XCTUnwrap(try db.evalPoints(run: run.id, split: "test"))
                var position: [Int: Int] = [:]
                for (i, id) in split.test.rowIDs.enumerated() { position[id] = i }
                var sum = 0.0
                for (p, id) in zip(pred, rows) {
                    let e = Double(p) - Double(split.test.targets[try XCTUnwrap(position[id])])
                    sum += e * e
                }
                recomputed.append((candidate.point.name, sum / Double(rows.count)))
            }
            XCTAssertEqual(recomputed.count, 2)
            let best = try XCTUnwrap(recomputed.min { $0.1 < $1.1 })
            XCTAssertEqual(choice.selected?.point.name, best.0)
            XCTAssertEqual(try XCTUnwrap(choice.selected?.validationMSE), best.1, accuracy: 1e-4 * best.1)
        }
        let main = reader.runs(ofSweep: "study-gbt-vs-nn-selected-smoke")
        XCTAssertEqual(main.count, 4)
        let network = try XCTUnwrap(search.choice(setting: "diabetes", learner: "mlp")?.selected)
        let trees = try XCTUnwrap(search.choice(setting: "diabetes", learner: "gbt")?.selected)
        func number(_ tree: ConfigValue, _ section: String, _ key: String) -> Double? {
            switch LearningRateSearch.section(tree, section).flatMap({ LearningRateSearch.section($0, key) }) {
            case .double(let d)?: return d
            case .int(let i)?: return Double(i)
            default: return nil
            }
        }
        for run in main {
            XCTAssertEqual(run.params["data.validation"], "0")
            if run.params["model.kind"] == "gbt" {
                XCTAssertEqual(run.number("model.learning_rate"), number(trees.point.tree, "model", "learning_rate"))
            } else {
                XCTAssertEqual(run.number("optimizer.lr"), number(network.point.tree, "optimizer", "lr"))
            }
        }
    }

    /// The paper's measures on the main runs: the held-out rows are the irregular pool, every
    /// set has m points, and the MSE at p = 1 is the run's own MSE over the held-out rows.
    func testMixturesAreDrawnFromTheHeldOutRowsAndEveryPaperFindingIsEvaluated() throws {
        let reader = try reader()
        let comparison = try GBTvsNNStudy().comparison(.smoke, reader)
        XCTAssertEqual(comparison.settings.map(\.name), ["diabetes"])
        let mixtures = MixtureComparison(comparison)
        let setting = try XCTUnwrap(mixtures.settings.first)
        XCTAssertEqual(setting.irregularPool, 44)
        XCTAssertEqual(setting.regularPool, 80)
        XCTAssertEqual(setting.size, 44)
        XCTAssertEqual(setting.pairs.count, 2)
        let pair = try XCTUnwrap(comparison.settings.first?.pairs.first)
        let irregular = pair.network.injected.indices.filter { pair.network.injected[$0] }
        XCTAssertEqual(setting.pairs[0].networkMSE.last!, pair.network.meanSquaredError(irregular), accuracy: 1e-12)
        XCTAssertEqual(setting.pairs[0].treesMSE.last!, pair.trees.meanSquaredError(irregular), accuracy: 1e-12)
        // Trees: ω = 1/√c ≤ 1 at every point (λ_leaf = 0), so the kernel ratio is at most 1 / the smallest training maximum.
        for figures in setting.pairs { XCTAssertTrue(figures.treesRatio.allSatisfy { $0 > 0 && $0.isFinite }) }

        let findings = try GBTvsNNStudy().findings(reader, size: .smoke)
        XCTAssertEqual(findings.filter { $0.origin == .paper(figure: "Fig. 5") }.count, 4)
        XCTAssertEqual(findings.count, 4 + 3)
        XCTAssertTrue(findings.allSatisfy { $0.held != nil }, "\(findings.map(\.figures))")
        let bound = try XCTUnwrap(findings.last)
        XCTAssertEqual(bound.held, true, bound.figures)
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

    /// The report: the paper's two panels and table first, the search, then tlens's views.
    func testReportHasThePaperPanelsTheSearchAndTheExtensionViews() throws {
        let outcome = try GBTvsNNStudy().outcome(try reader(), size: .smoke)
        let ids = outcome.page.sections.compactMap(\.id)
        XCTAssertEqual(Array(ids.prefix(6)), ["findings", "paper", "search", "irregular", "omega", "training"])
        let paper = try XCTUnwrap(outcome.page.sections.first { $0.id == "paper" })
        XCTAssertEqual(paper.figures.count, 2)
        XCTAssertEqual(paper.tables.map { $0.rows.count }, [IrregularMixtures.proportions.count])
        let search = try XCTUnwrap(outcome.page.sections.first { $0.id == "search" })
        XCTAssertEqual(search.tables[0].rows.count, 4)
        XCTAssertEqual(search.tables[0].rows.filter { $0.last == "selected" }.count, 2)
        XCTAssertEqual(outcome.page.sections.first { $0.id == "irregular" }?.tables.map { $0.rows.count }, [5])
    }
}
