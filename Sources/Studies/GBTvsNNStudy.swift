import Foundation
import Query
import Runner
import Store

/// Boosted trees against a network on irregular test inputs, as the paper runs it (Fig. 5,
/// §4.2, App. C.2; lens.md §9–§10): the most irregular tenth of a tabular data set (largest
/// distance of the first principal component score to its median, `holdout_pc1`) is held out of
/// training; a search on a validation split of the training pool selects each learner's
/// learning rate (`LearningRateSearch`); the network (3 × 64 ReLU, batch 128) and boosted trees
/// then train on the whole training pool at the selected settings, and are scored on test sets
/// mixing a proportion p of the held-out rows (`IrregularMixtures`): relative MSE and kernel
/// ratio against p. tlens's own kNN irregularity and κ (lens.md (10.1)) are read from the same
/// runs as extensions (`examples/study-gbt-vs-nn*.yaml`, docs/studies.md).
public struct GBTvsNNStudy: Study {
    public init() {}
    public let name = "gbt-vs-nn"
    public let question = "As test sets hold a growing proportion p of irregular inputs (held out of training by their first principal component), does a network's error grow relative to boosted trees', and does the network's kernel ratio — the largest kernel weight norm at test points over the largest at training points — rise with p while the trees' kernel stays bounded?"

    public func sweepPresets(_ size: StudySize) -> [String] { [size.preset("study-gbt-vs-nn-search")] }

    /// The main sweep: the template's runs at the selected settings.
    public func derivedSweepNames(_ size: StudySize) -> [String] { [size.preset("study-gbt-vs-nn-selected")] }

    /// The template of the main sweep (seeds, data, lens; its learning rates are replaced).
    func template(_ size: StudySize) throws -> SweepSpec {
        let preset = size.preset("study-gbt-vs-nn")
        guard let text = Presets.sweepText(named: preset) else { throw StudyError("study \(name): preset \(preset) is not shipped") }
        return try SweepSpec.load(text: text, source: "preset \(preset)")
    }

    func search(_ size: StudySize, _ reader: MetricReader) throws -> LearningRateSearch {
        let preset = sweepPresets(size)[0]
        guard let text = Presets.sweepText(named: preset) else { throw StudyError("study \(name): preset \(preset) is not shipped") }
        return LearningRateSearch(reader, spec: try SweepSpec.load(text: text, source: "preset \(preset)"))
    }

    public func derivedSweeps(_ reader: MetricReader, size: StudySize) throws -> [String] {
        [try search(size, reader).mainSweep(template: try template(size), name: derivedSweepNames(size)[0])]
    }

    /// The data sets the template trains on, in its order.
    func expectedSettings(_ size: StudySize) throws -> [String] {
        var names: [String] = []
        for point in try template(size).points {
            let name = LearningRateSearch.setting(point.tree)
            if !names.contains(name) { names.append(name) }
        }
        return names
    }

    func comparison(_ size: StudySize, _ reader: MetricReader) throws -> IrregularityComparison {
        try IrregularityComparison(reader, sweep: derivedSweepNames(size)[0])
    }

    public func findings(_ reader: MetricReader, size: StudySize) throws -> [Finding] {
        let comparison = try comparison(size, reader)
        let expected = try expectedSettings(size)
        return Self.paperFindings(MixtureComparison(comparison), expected: expected) + Self.findings(comparison, expected: expected)
    }

    /// Rules of docs/studies.md: contrasts between p = 1 and p = 0 paired by seed, each above 0
    /// beyond its 95% interval over seeds.
    static func paperFindings(_ mixtures: MixtureComparison, expected: [String]) -> [Finding] {
        let last = IrregularMixtures.proportions.count - 1
        let top = figure(IrregularMixtures.proportions[last])
        var baseline: [Finding] = [], growth: [Finding] = [], rise: [Finding] = [], bounded: [Finding] = []
        let origin = FindingOrigin.paper(figure: "Fig. 5")
        let names = expected + mixtures.settings.map(\.name).filter { !expected.contains($0) }
        for name in names {
            let claims = [
                "\(name): GBTs outperform the neural network already in the absence of irregular examples (p = 0)",
                "\(name): as the test data become more irregular, the performance of the neural network decays faster than that of the GBTs (the MSE gap grows with p)",
                "\(name): the network's kernel ratio rises with the proportion p of irregular examples",
                "\(name): the trees' kernel stays bounded while the network's changes its behaviour: the network's kernel ratio rises more with p than the trees'",
            ]
            let rules = [
                "MSE⁰_NN − MSE⁰_GBT > 0 beyond the 95% interval over seeds (test sets of m points, p = 0)",
                "(MSE^p_NN − MSE^p_GBT) at p = \(top) minus the same at p = 0 > 0 beyond the 95% interval over seeds (with the first claim, relative MSE at p = \(top) above 1)",
                "kernel ratio_NN(p = \(top)) − kernel ratio_NN(p = 0) > 0 beyond the 95% interval over seeds; kernel ratio = mean over recorded steps of the max of ‖k_t(x)‖ over the test set / the same over training points",
                "log(ratio_NN(\(top)) / ratio_NN(0)) − log(ratio_GBT(\(top)) / ratio_GBT(0)) > 0 beyond the 95% interval over seeds",
            ]
            guard let setting = mixtures.settings.first(where: { $0.name == name }), !setting.pairs.isEmpty else {
                let why = mixtures.withoutHoldout.contains(name) ? "the \(name) runs hold no held-out irregular rows (data.holdout_pc1 is 0)"
                                                                   : "no completed network and trees runs on the same \(name) data"
                let missing = claims.indices.map { Finding(claim: claims[$0], rule: rules[$0], held: nil, figures: why, origin: origin) }
                baseline.append(missing[0]); growth.append(missing[1]); rise.append(missing[2]); bounded.append(missing[3])
                continue
            }
            let seeds = setting.pairs.count == 1 ? "1 seed" : "\(setting.pairs.count) seeds"
            let sets = "m = \(setting.size) points per test set (pools: \(setting.regularPool) regular, \(setting.irregularPool) irregular), \(seeds)"
            let network = setting.statistics(\.networkMSE), trees = setting.statistics(\.treesMSE)
            let gap0 = setting.contrast { $0.gap[0] }
            baseline.append(Finding(claim: claims[0], rule: rules[0], held: gap0.positive, figures:
                "MSE⁰: network \(interval(network[0])), trees \(interval(trees[0])); gap \(interval(gap0)); \(sets)", origin: origin))
            let gapGrowth = setting.contrast { $0.gap[last] - $0.gap[0] }
            let relative = setting.statistics(\.relativeMSE)
            growth.append(Finding(claim: claims[1], rule: rules[1], held: gapGrowth.positive, figures:
                "gap at p = \(top) minus gap at p = 0: \(interval(gapGrowth)); relative MSE by p: \(relative.map { figure($0.mean) }.joined(separator: ", ")); MSE at p = \(top): network \(interval(network[last])), trees \(interval(trees[last]))", origin: origin))
            let networkRatio = setting.statistics(\.networkRatio), treesRatio = setting.statistics(\.treesRatio)
            let ratioRise = setting.contrast { $0.networkRatio[last] - $0.networkRatio[0] }
            rise.append(Finding(claim: claims[2], rule: rules[2], held: ratioRise.positive, figures:
                "network kernel ratio by p: \(networkRatio.map { figure($0.mean) }.joined(separator: ", ")); rise \(interval(ratioRise))", origin: origin))
            let relativeRise = setting.contrast {
                Foundation.log($0.networkRatio[last] / $0.networkRatio[0]) - Foundation.log($0.treesRatio[last] / $0.treesRatio[0])
            }
            bounded.append(Finding(claim: claims[3], rule: rules[3], held: relativeRise.positive, figures:
                "trees kernel ratio by p: \(treesRatio.map { figure($0.mean) }.joined(separator: ", ")); network's rise over the trees' \(factor(relativeRise))×", origin: origin))
        }
        return baseline + growth + rise + bounded
    }

    /// The verdicts of docs/studies.md, from the comparison.
    static func findings(_ comparison: IrregularityComparison, expected: [String]) -> [Finding] {
        let q = IrregularityComparison.verdictPercent
        let top = "top \(figure(q))%"
        var errorFindings: [Finding] = [], kappaFindings: [Finding] = []
        let names = expected + comparison.settings.map(\.name).filter { !expected.contains($0) }
        for name in names {
            let errorClaim = "\(name): the network's test error grows relative to the trees' on the test points most irregular by tlens's kNN irregularity"
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
        GBTvsNNReport(try comparison(size, reader), search: try search(size, reader), reader: reader).sections()
    }
}
