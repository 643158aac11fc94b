import Foundation
import Query
import Store

/// Boosted trees against a network on irregular test inputs (lens.md §9–§10): a tree's kernel
/// row is non-negative and sums to at most 1, so its kernel weight norm ω stays ≤ 1 however far
/// an input lies from the data, while a network's grows there; the question is whether the
/// network's error grows relative to the trees' with it. An MLP and boosted trees train on the
/// same data (the tabular generator with injected irregular test points, and diabetes), and
/// every test point is ranked by irregularity (`examples/study-gbt-vs-nn*.yaml`,
/// docs/studies.md).
public struct GBTvsNNStudy: Study {
    public init() {}
    public let name = "gbt-vs-nn"
    public let question = "On the test points least like the training data, does a network's error grow relative to boosted trees', and does its normalized maximum kernel weight norm κ grow while the trees' kernel weight norm stays at or below 1?"

    public func sweepPresets(_ size: StudySize) -> [String] { [size.preset("study-gbt-vs-nn")] }

    func comparison(_ size: StudySize, _ reader: MetricReader) throws -> IrregularityComparison {
        try IrregularityComparison(reader, sweep: try sweepNames(size)[0])
    }

    public func findings(_ reader: MetricReader, size: StudySize) throws -> [Finding] {
        Self.findings(try comparison(size, reader))
    }

    /// The verdicts of docs/studies.md, from the comparison.
    static func findings(_ comparison: IrregularityComparison) -> [Finding] {
        let q = IrregularityComparison.verdictPercent
        let top = "top \(figure(q))%"
        var errorFindings: [Finding] = [], kappaFindings: [Finding] = []
        let expected = ["tabular", "diabetes"]
        let names = expected + comparison.settings.map(\.name).filter { !expected.contains($0) }
        for name in names {
            let errorClaim = "\(name): the network's test error grows relative to the trees' on the most irregular test points"
            let errorRule = "R(\(figure(q))%) > R(100%) beyond the 95% interval over seeds of log R_s(\(figure(q))%) − log R_s(100%); R_s(q) = MSE_network / MSE_trees of seed s on the top q% most irregular test points, R(q) their geometric mean"
            let kappaClaim = "\(name): the network's κ grows with irregularity, past the trees'"
            let kappaRule = "κ̄_network(\(figure(q))%) − κ̄_network(100%) > 0 and κ̄_network(\(figure(q))%) − κ̄_trees(\(figure(q))%) > 0, each beyond its 95% interval over seeds; κ̄ = mean of κ over the set"
            guard let setting = comparison.settings.first(where: { $0.name == name }), !setting.pairs.isEmpty else {
                let missing = "no completed network and trees runs on the same \(name) data"
                errorFindings.append(Finding(claim: errorClaim, rule: errorRule, held: nil, figures: missing))
                kappaFindings.append(Finding(claim: kappaClaim, rule: kappaRule, held: nil, figures: missing))
                continue
            }
            let all = comparison.row(setting, percent: 100), irregular = comparison.row(setting, percent: q)
            let smallest = comparison.row(setting, percent: IrregularityComparison.percents.last!)
            let seeds = setting.pairs.count == 1 ? "1 seed" : "\(setting.pairs.count) seeds"
            func measures(_ pair: IrregularityComparison.Pair, _ percent: Double) -> IrregularityComparison.PairMeasures {
                IrregularityComparison.measures(pair, percent: percent)
            }
            // Rule (a): log R_s(q) − log R_s(100%) per seed, above 0 beyond its 95% interval.
            let growth = comparison.paired(setting) { measures($0, q).logRatio - measures($0, 100).logRatio }
            errorFindings.append(Finding(
                claim: errorClaim, rule: errorRule, held: growth.positive,
                figures: "R = \(figure(all.ratio)) on all \(all.points) points, \(figure(irregular.ratio)) on the \(top) (\(irregular.points) points; \(figure(smallest.ratio)) on the top \(figure(smallest.percent))%); R(\(figure(q))%)/R(100%) = \(Self.factor(growth)) over \(seeds); MSE network / trees on the \(top): \(figure(irregular.networkMSE.mean)) / \(figure(irregular.treesMSE.mean))"))
            // Rule (b): the network's κ̄ rises from all points to the set, and ends above the trees'.
            let rise = comparison.paired(setting) { measures($0, q).networkKappa - measures($0, 100).networkKappa }
            let gap = comparison.paired(setting) { measures($0, q).networkKappa - measures($0, q).treesKappa }
            let held: Bool? = rise.positive.flatMap { r in gap.positive.map { r && $0 } }
            kappaFindings.append(Finding(
                claim: kappaClaim, rule: kappaRule, held: held,
                figures: "κ̄_network \(figure(all.networkKappa.mean)) on all points → \(figure(irregular.networkKappa.mean)) on the \(top) (rise \(Self.interval(rise))); κ̄_trees \(figure(all.treesKappa.mean)) → \(figure(irregular.treesKappa.mean)); network − trees on the \(top): \(Self.interval(gap)) (\(seeds))"))
        }
        return errorFindings + kappaFindings + [treesBoundFinding(comparison)]
    }

    /// `exp(mean)` of a log-ratio statistic with its 95% interval: "0.87 (0.75–1.01)".
    static func factor(_ s: SeedStatistics) -> String {
        s.ci95.isFinite ? "\(figure(Foundation.exp(s.mean))) (95% CI \(figure(Foundation.exp(s.mean - s.ci95)))–\(figure(Foundation.exp(s.mean + s.ci95))))"
                        : figure(Foundation.exp(s.mean))
    }

    /// A mean with its 95% interval, the interval to two digits: "2.406 ± 0.48".
    static func interval(_ s: SeedStatistics) -> String {
        s.ci95.isFinite ? "\(figure(s.mean)) ± \(String(format: "%.2g", s.ci95))" : figure(s.mean)
    }

    /// The bound ω ≤ 1 of lens.md (9.7) on every kernel weight norm the trees recorded.
    static func treesBoundFinding(_ comparison: IrregularityComparison) -> Finding {
        let trees = comparison.runs.filter { $0.learner == "gbt" }, networks = comparison.runs.filter { $0.learner == "mlp" }
        let largest = trees.map(\.largestOmega).max()
        let networkLargest = networks.map(\.largestOmega).max()
        let q = IrregularityComparison.verdictPercent
        let kappas = comparison.settings.map { "\($0.name) \(figure(comparison.row($0, percent: q).treesKappa.mean))" }
        return Finding(
            claim: "the trees' kernel weight norm stays at or below 1",
            rule: "every ω the trees recorded (every evaluation point of both splits, every recorded round) ≤ 1 + 10⁻⁶",
            held: largest.map { $0 <= 1 + 1e-6 },
            figures: "largest ω: trees \(figure(largest)) over \(trees.count) runs, network \(figure(networkLargest)) over \(networks.count) runs; the trees' κ̄ on the top \(figure(q))% (normalized by the training points' mean, so not bounded by 1): \(kappas.isEmpty ? "—" : kappas.joined(separator: ", "))")
    }

    public func sections(_ reader: MetricReader, size: StudySize) throws -> [ReportSection] {
        GBTvsNNReport(try comparison(size, reader), reader: reader).sections()
    }
}
