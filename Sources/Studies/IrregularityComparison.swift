import Data
import Foundation
import Query
import Runner
import Store

/// One completed run of the gbt-vs-nn study, as its analysis reads it: the run's data rebuilt
/// from its stored config, and per test evaluation point (in the stored vectors' order) the
/// irregularity, the squared error at the final state, and the kernel weight norms.
struct IrregularityRun {
    var run: CatalogRun
    /// `model.kind`: mlp or gbt.
    var learner: String
    /// `data.source`: the setting the run belongs to.
    var setting: String
    var seed: UInt64
    /// Irregularity of each test evaluation point (lens.md §10).
    var irregularity: [Double]
    /// Whether the generator pushed that test point out on purpose (`tabular`'s irregular rows).
    var injected: [Bool]
    /// `(f_T(x) − y)²` at the final recorded state.
    var squaredError: [Double]
    /// `max_t ω_t(x)` per test and per train evaluation point, and κ per test point (10.1).
    var testMaxOmega: [Double]
    var trainMaxOmega: [Double]
    var kappa: [Double]
    /// The recorded `kwn` vectors, one per recorded state (test and train evaluation points):
    /// the paper's kernel ratio (10.4) takes the maximum over a test set per state.
    var testStates: [[Float]]
    var trainStates: [[Float]]
    /// Positions in the training split of the train evaluation points.
    var trainRows: [Int]
    /// The data as the run trained on it (shared by the runs of one fingerprint).
    var split: DataSplit

    /// The largest ω the run recorded, at any point of either split and any state.
    var largestOmega: Double { max(testMaxOmega.max() ?? -.infinity, trainMaxOmega.max() ?? -.infinity) }

    /// The positions of the top `percent`% most irregular test points.
    func mostIrregular(_ percent: Double) -> [Int] { Irregularity.mostIrregular(irregularity, percent: percent) }

    /// Mean squared error over the test points at `positions`.
    func meanSquaredError(_ positions: [Int]) -> Double { mean(positions.map { squaredError[$0] }) }

    /// Irregularity of each train evaluation point against the other training inputs (for plots).
    func trainIrregularity() -> [Double] {
        let d = split.train.dimension
        let all = Irregularity.scores(of: split.train.features, against: split.train.features, dimension: d, leaveOneOut: true)
        return trainRows.map { all[$0] }
    }
}

/// What the gbt-vs-nn study compares: per setting (data source), the network and boosted-trees
/// runs trained on identical data (equal `data_fingerprint`), and per top-q% set of the most
/// irregular test points the test MSE of each, their ratio, and mean κ (docs/studies.md).
struct IrregularityComparison {
    /// The q grid, in percent of the test points, largest first.
    static let percents: [Double] = [100, 50, 25, 10, 5]
    /// The most irregular set the verdicts compare with all points (docs/studies.md).
    static let verdictPercent = 10.0

    struct Pair { var network: IrregularityRun; var trees: IrregularityRun }
    struct Setting { var name: String; var pairs: [Pair] }

    /// One q of a setting; means over the pairs (seeds).
    struct Row {
        var percent: Double
        var points: Int
        /// Share of the set the generator made irregular (nil for data without injected points).
        var injectedShare: Double?
        var meanIrregularity: Double
        var networkMSE: SeedStatistics
        var treesMSE: SeedStatistics
        /// Geometric mean over seeds of MSE_network / MSE_trees on the set.
        var ratio: Double
        var networkKappa: SeedStatistics
        var treesKappa: SeedStatistics
    }

    var settings: [Setting]
    /// Completed runs without a partner of the other learner on the same data.
    var unpaired: Int
    /// Every run read, for the bound on the trees' ω.
    var runs: [IrregularityRun]

    init(_ reader: MetricReader, sweep: String) throws {
        let completed = reader.runs(ofSweep: sweep).filter { $0.summary.effectiveStatus == .completed }
        var splits: [String: DataSplit] = [:]
        var read: [IrregularityRun] = []
        var scoresByData: [String: [Double]] = [:]
        for run in completed {
            let fingerprint = run.summary.dataFingerprint
            let config = try TrainConfig.load(text: run.summary.configJSON, source: "run \(run.id)'s stored config")
            let split = try splits[fingerprint] ?? DataFactory.load(config.data, seed: config.seed)
            splits[fingerprint] = split
            let scores = scoresByData[fingerprint] ?? Irregularity.scores(of: split.test.features, against: split.train.features,
                                                                          dimension: split.train.dimension)
            scoresByData[fingerprint] = scores
            read.append(try Self.read(run, split: split, testIrregularity: scores, database: reader.catalog.archive.database))
        }
        runs = read
        var bySetting: [String: [Pair]] = [:]
        var unpaired = 0
        for (_, group) in Dictionary(grouping: read, by: { $0.run.summary.dataFingerprint }) {
            let networks = group.filter { $0.learner == "mlp" }, trees = group.filter { $0.learner == "gbt" }
            guard let network = networks.first, let tree = trees.first else { unpaired += group.count; continue }
            unpaired += group.count - 2
            bySetting[network.setting, default: []].append(Pair(network: network, trees: tree))
        }
        // Settings in the order the sweep ran them; seeds in order.
        let first = Dictionary(read.map { ($0.setting, $0.run.id) }, uniquingKeysWith: min)
        settings = bySetting.keys.sorted { (first[$0]!, $0) < (first[$1]!, $1) }.map { name in
            Setting(name: name, pairs: bySetting[name]!.sorted { $0.network.seed < $1.network.seed })
        }
        self.unpaired = unpaired
    }

    /// A run's vectors: the final `pred` on the test points, and `kwn` of every recorded state.
    static func read(_ run: CatalogRun, split: DataSplit, testIrregularity: [Double], database db: Database) throws -> IrregularityRun {
        func evalPositions(_ name: String, _ rowIDs: [Int]) throws -> [Int] {
            guard let ids = try db.evalPoints(run: run.id, split: name) else { throw StudyError("run \(run.id) has no \(name) evaluation points") }
            let position = Dictionary(rowIDs.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
            return try ids.map { id in
                guard let p = position[id] else { throw StudyError("run \(run.id): \(name) row \(id) is not in the rebuilt data (data changed since the run?)") }
                return p
            }
        }
        let testRows = try evalPositions("test", split.test.rowIDs)
        let trainRows = try evalPositions("train", split.train.rowIDs)
        func steps(_ kind: String, _ name: String) throws -> [Int] {
            let select = try db.prepare("SELECT step FROM vectors WHERE run_id = ? AND kind = ? AND split = ? ORDER BY step")
            select.bind(run.id, at: 1)
            select.bind(kind, at: 2)
            select.bind(name, at: 3)
            var result: [Int] = []
            while try select.step() { result.append(Int(select.int64(at: 0))) }
            return result
        }
        func vectors(_ kind: String, _ name: String, at recorded: [Int]) throws -> [[Float]] {
            try recorded.compactMap { try db.vector(run: run.id, kind: kind, split: name, step: $0) }
        }
        guard let last = try steps("pred", "test").last, let pred = try db.vector(run: run.id, kind: "pred", split: "test", step: last),
              pred.count == testRows.count else {
            throw StudyError("run \(run.id) has no final test predictions of one output per point")
        }
        let targets = split.test.targets, c = split.test.targetDimension
        let squaredError = testRows.indices.map { i -> Double in
            let e = Double(pred[i]) - Double(targets[testRows[i] * c]); return e * e
        }
        let testStates = try vectors("kwn", "test", at: try steps("kwn", "test"))
        let trainStates = try vectors("kwn", "train", at: try steps("kwn", "train"))
        let testMax = KernelWeightNorm.maximumOverStates(testStates)
        let trainMax = KernelWeightNorm.maximumOverStates(trainStates)
        guard testMax.count == testRows.count, trainMax.count == trainRows.count else {
            throw StudyError("run \(run.id) recorded no kernel weight norms (kwn) for every evaluation point; the study needs lens.kernel: true")
        }
        let injected = Set(split.irregularTestRowIDs)
        return IrregularityRun(
            run: run, learner: run.params["model.kind"] ?? "mlp",
            setting: LearningRateSearch.settingName(source: run.params["data.source"] ?? "?", path: run.params["data.path"]),
            seed: run.summary.seed, irregularity: testRows.map { testIrregularity[$0] },
            injected: testRows.map { injected.contains(split.test.rowIDs[$0]) }, squaredError: squaredError,
            testMaxOmega: testMax, trainMaxOmega: trainMax,
            kappa: KernelWeightNorm.normalizedMaximum(points: testMax, train: trainMax),
            testStates: testStates, trainStates: trainStates,
            trainRows: trainRows, split: split)
    }

    /// The q grid of one setting.
    func rows(_ setting: Setting) -> [Row] {
        Self.percents.map { row(setting, percent: $0) }
    }

    /// One pair's figures on its top `percent`% set.
    struct PairMeasures {
        var points: Int
        var networkMSE, treesMSE, networkKappa, treesKappa: Double
        var injectedShare, meanIrregularity: Double
        var logRatio: Double { Foundation.log(networkMSE / treesMSE) }
    }

    static func measures(_ pair: Pair, percent: Double) -> PairMeasures {
        let n = pair.network, t = pair.trees
        let setN = n.mostIrregular(percent), setT = t.mostIrregular(percent)
        return PairMeasures(points: setN.count, networkMSE: n.meanSquaredError(setN), treesMSE: t.meanSquaredError(setT),
                            networkKappa: mean(setN.map { n.kappa[$0] }), treesKappa: mean(setT.map { t.kappa[$0] }),
                            injectedShare: Double(setN.filter { n.injected[$0] }.count) / Double(max(setN.count, 1)),
                            meanIrregularity: mean(setN.map { n.irregularity[$0] }))
    }

    /// `value` of each pair (seed) of `setting`, as mean ± 95% CI over the seeds: how the
    /// verdicts compare two sets or two learners on the same data (docs/studies.md).
    func paired(_ setting: Setting, _ value: (Pair) -> Double) -> SeedStatistics {
        SeedStatistics(setting.pairs.map(value))
    }

    func row(_ setting: Setting, percent: Double) -> Row {
        let m = setting.pairs.map { Self.measures($0, percent: percent) }
        let anyInjected = setting.pairs.contains { $0.network.injected.contains(true) }
        return Row(percent: percent, points: m.first?.points ?? 0, injectedShare: anyInjected ? mean(m.map(\.injectedShare)) : nil,
                   meanIrregularity: mean(m.map(\.meanIrregularity)),
                   networkMSE: SeedStatistics(m.map(\.networkMSE)), treesMSE: SeedStatistics(m.map(\.treesMSE)),
                   ratio: Foundation.exp(mean(m.map(\.logRatio))),
                   networkKappa: SeedStatistics(m.map(\.networkKappa)), treesKappa: SeedStatistics(m.map(\.treesKappa)))
    }
}

extension SeedStatistics {
    /// Whether the mean is above 0 beyond its 95% interval over seeds; with one seed, whether
    /// that value is above 0. Nil without values.
    var positive: Bool? {
        switch count {
        case 0: return nil
        case 1: return mean > 0
        default: return mean - ci95 > 0
        }
    }
}
