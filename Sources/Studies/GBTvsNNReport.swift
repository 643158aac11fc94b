import Foundation
import Query

/// The gbt-vs-nn study's report sections: the paper's two panels (relative MSE and kernel ratio
/// against p) with their table, the learning-rate search, then tlens's own views — error ratio
/// and κ against the kNN-irregular top q%, kernel weight norms against irregularity, and test
/// MSE over training.
struct GBTvsNNReport {
    let comparison: IrregularityComparison
    let mixtures: MixtureComparison
    let search: LearningRateSearch
    let reader: MetricReader

    init(_ comparison: IrregularityComparison, search: LearningRateSearch, reader: MetricReader) {
        self.comparison = comparison
        mixtures = MixtureComparison(comparison)
        self.search = search
        self.reader = reader
    }

    func sections() -> [ReportSection] {
        guard !comparison.settings.isEmpty else {
            return [ReportSection(heading: "Irregular test points", text: "No completed pair of network and trees runs on the same data.", id: "irregular"),
                    searchSection()]
        }
        return [paperPanels(), searchSection(), byIrregularSet(), byPoint(), overTraining()]
    }

    static let pLabel = "p: share of held-out irregular points"

    /// The paper's Fig. 5: relative MSE (top) and kernel ratio (bottom) against p, per data set.
    func paperPanels() -> ReportSection {
        let ps = IrregularMixtures.proportions
        func series(_ label: String, _ stats: [SeedStatistics]) -> PlotSeries {
            PlotSeries(label: label, points: zip(ps, stats).map { Self.point($0, $1) })
        }
        let relative = mixtures.settings.map { series($0.name, $0.statistics(\.relativeMSE)) }
        var ratio: [PlotSeries] = []
        for setting in mixtures.settings {
            ratio.append(series("\(setting.name) network", setting.statistics(\.networkRatio)))
            ratio.append(series("\(setting.name) trees", setting.statistics(\.treesRatio)))
        }
        let figures = [
            SVGPlot.render(relative, options: PlotOptions(
                title: "relative MSE (gap at p / gap at 0)", xLabel: Self.pLabel,
                yLabel: "relative MSE (mean over seeds ± 95% CI)", markers: true)),
            SVGPlot.render(ratio, options: PlotOptions(
                title: "kernel ratio (test max / train max of ‖k_t‖)", xLabel: Self.pLabel,
                yLabel: "kernel ratio (mean over seeds ± 95% CI)", logY: true, markers: true)),
        ]
        let tables = mixtures.settings.map { setting in
            let nn = setting.statistics(\.networkMSE), gbt = setting.statistics(\.treesMSE), rel = setting.statistics(\.relativeMSE)
            let rn = setting.statistics(\.networkRatio), rt = setting.statistics(\.treesRatio)
            return ReportTable(header: ["\(setting.name): p", "MSE network", "MSE trees", "relative MSE", "kernel ratio network", "kernel ratio trees"],
                               rows: ps.indices.map { k in
                                   [figure(ps[k]), Self.cell(nn[k]), Self.cell(gbt[k]), Self.cell(rel[k]), Self.cell(rn[k]), Self.cell(rt[k])]
                               }, numericColumns: Set(0..<6))
        }
        let shapes = mixtures.settings.map { "\($0.name): m = \($0.size) points per set from \($0.regularPool) regular and \($0.irregularPool) irregular test rows, \($0.pairs.count) seeds" }
        let text = """
            The paper's Fig. 5 (§4.2, App. C.2). The top 10% of each data set by |PC1 score − median| (features z-scored over the \
            whole data set) were held out of training; each test set draws round(p·m) of them and the rest from the regular test \
            rows, seeded, the same points for the network and the trees of a seed. ‖k_t(x)‖ is the kernel weight norm ω_t(x) \
            (lens.md (6.2), (9.7)) at every recorded step; the denominator of the kernel ratio is over the training evaluation points. \
            Means over seeds ± 95% CI. \(shapes.joined(separator: "; ")).\(mixtures.withoutHoldout.isEmpty ? "" : " Without held-out rows: \(mixtures.withoutHoldout.joined(separator: ", ")).")
            """
        return ReportSection(heading: "Relative MSE and kernel ratio by proportion of irregular points (paper Fig. 5)", text: text,
                             tables: tables, figures: figures, id: "paper")
    }

    /// Every candidate of the search and its validation MSE; the selected one marked.
    func searchSection() -> ReportSection {
        let rows = search.choices.flatMap { choice in
            choice.candidates.map { candidate in
                [choice.setting, choice.learner == "gbt" ? "trees" : "network", candidate.label,
                 candidate.validationMSE.map { figure($0) } ?? "—",
                 candidate.point.name == choice.selected?.point.name ? "selected" : ""]
            }
        }
        let table = ReportTable(header: ["data", "learner", "candidate", "validation MSE", ""], rows: rows, numericColumns: [3])
        return ReportSection(heading: "Learning-rate search on the validation split", text: """
            Each candidate trained on the training pool minus a validation split (data.validation) and was scored on that split; \
            the main runs use the candidate of least validation MSE per data set and learner (App. C.2 of the paper; docs/studies.md).
            """, tables: [table], id: "search")
    }

    static let qLabel = "q: the top q% most irregular test points"

    /// Error ratio, κ and MSE against q; the numbers as tables.
    func byIrregularSet() -> ReportSection {
        let rows = comparison.settings.map { ($0, comparison.rows($0)) }
        var figures: [String] = []
        let ratio = rows.map { setting, rows in
            PlotSeries(label: setting.name, points: rows.map { PlotPoint(x: $0.percent, y: $0.ratio) })
        }
        figures.append(SVGPlot.render(ratio, options: PlotOptions(
            title: "test MSE network / trees on the most irregular points", xLabel: Self.qLabel,
            yLabel: "MSE ratio (geometric mean over seeds)", logX: true, logY: true, markers: true)))
        var kappa: [PlotSeries] = []
        for (setting, rows) in rows {
            kappa.append(PlotSeries(label: "\(setting.name) network", points: rows.map { Self.point($0.percent, $0.networkKappa) }))
            kappa.append(PlotSeries(label: "\(setting.name) trees", points: rows.map { Self.point($0.percent, $0.treesKappa) }))
        }
        figures.append(SVGPlot.render(kappa, options: PlotOptions(
            title: "normalized maximum kernel weight norm κ", xLabel: Self.qLabel,
            yLabel: "mean κ over the set", logX: true, markers: true)))
        for (setting, rows) in rows {
            let series = [
                PlotSeries(label: "network", points: rows.map { Self.point($0.percent, $0.networkMSE) }),
                PlotSeries(label: "trees", points: rows.map { Self.point($0.percent, $0.treesMSE) }),
            ]
            figures.append(SVGPlot.render(series, options: PlotOptions(
                title: "\(setting.name): test MSE on the top q%", xLabel: Self.qLabel, yLabel: "test MSE",
                logX: true, logY: true, markers: true)))
        }
        let tables = rows.map { setting, rows in
            ReportTable(header: ["\(setting.name): q %", "points", "PC1 held-out", "irregularity", "MSE network", "MSE trees",
                                 "ratio R", "κ̄ network", "κ̄ trees"],
                        rows: rows.map { row in
                            [figure(row.percent), String(row.points), row.injectedShare.map { String(format: "%.0f%%", 100 * $0) } ?? "—",
                             figure(row.meanIrregularity), Self.cell(row.networkMSE), Self.cell(row.treesMSE), figure(row.ratio),
                             Self.cell(row.networkKappa), Self.cell(row.treesKappa)]
                        }, numericColumns: Set(0..<9).subtracting([2]))
        }
        let pairs = comparison.settings.map { "\($0.name) \($0.pairs.count)" }.joined(separator: ", ")
        let text = """
            Test points ranked by irregularity (mean distance to the 10 nearest training inputs after z-scoring, lens.md §10); \
            each set holds the top q% (read the plots from right to left: smaller q, more irregular points). \
            R is the geometric mean over seeds of each seed's MSE_network / MSE_trees on the set; MSE and κ̄ are means over \
            seeds ± 95% CI; "PC1 held-out" is the share of the set that holdout_pc1 kept out of training (the paper's irregular rows). \
            Pairs (network and trees on identical data, one per seed): \(pairs)\(comparison.unpaired > 0 ? "; \(comparison.unpaired) runs without a partner left out" : "").
            """
        return ReportSection(heading: "Error and κ on the most irregular test points by kNN irregularity (tlens extension)", text: text, tables: tables,
                             figures: figures, id: "irregular")
    }

    /// max_t ω against irregularity, train and test points, for the first seed of each setting.
    func byPoint() -> ReportSection {
        var figures: [String] = []
        for setting in comparison.settings {
            guard let pair = setting.pairs.first else { continue }
            for (run, learner) in [(pair.network, "network"), (pair.trees, "trees")] {
                let trainIrregularity = run.trainIrregularity()
                var series = [
                    PlotSeries(label: "train points", points: Self.scatter(trainIrregularity, run.trainMaxOmega)),
                    PlotSeries(label: "test points", points: Self.scatter(run.irregularity, run.testMaxOmega)),
                ]
                if learner == "trees" {
                    let xs = (trainIrregularity + run.irregularity).filter(\.isFinite)
                    if let lo = xs.min(), let hi = xs.max() {
                        series.append(PlotSeries(label: "bound ω ≤ 1", points: [PlotPoint(x: lo, y: 1), PlotPoint(x: hi, y: 1)]))
                    }
                }
                figures.append(SVGPlot.render(series, options: PlotOptions(
                    title: "\(setting.name), \(learner) (seed \(run.seed)): max over recorded steps of ω",
                    xLabel: "irregularity (lens.md §10)", yLabel: "max_t ω_t(x)", logY: learner == "network", markers: true)))
            }
        }
        let text = """
            Each dot is one evaluation point: its irregularity (training points against the other training inputs) and the \
            largest kernel weight norm ω (lens.md (6.2), (9.7)) over the recorded states. A tree's ω is √c/(c + λ_leaf) for the \
            c rows of the point's leaf, never above 1; a network's grows with the distance from the data.
            """
        return ReportSection(heading: "Kernel weight norms by irregularity", text: text, figures: figures, id: "omega")
    }

    /// test_mse over steps (network) and rounds (trees), first seed of each setting.
    func overTraining() -> ReportSection {
        var figures: [String] = []
        for setting in comparison.settings {
            guard let pair = setting.pairs.first else { continue }
            let ids = [pair.network.run.id, pair.trees.run.id].map(String.init)
            if let svg = try? PlotRequest.curves(runs: ids, keys: ["test_mse"], logY: true,
                                                 title: "\(setting.name): test MSE over steps (network) and rounds (trees), seed \(pair.network.seed)").svg(reader) {
                figures.append(svg)
            }
        }
        return ReportSection(heading: "Test MSE over training", text: "One step of SGD for the network, one boosting round for the trees.",
                             figures: figures, id: "training")
    }

    /// Points drawn as dots: a NaN between every two breaks the line (SVGPlot), so each point
    /// is its own round-capped segment.
    static func scatter(_ xs: [Double], _ ys: [Double]) -> [PlotPoint] {
        var points: [PlotPoint] = []
        points.reserveCapacity(2 * xs.count)
        for (x, y) in zip(xs, ys) {
            points.append(PlotPoint(x: x, y: y))
            points.append(PlotPoint(x: .nan, y: .nan))
        }
        return points
    }

    static func point(_ x: Double, _ s: SeedStatistics) -> PlotPoint {
        PlotPoint(x: x, y: s.mean, error: s.ci95.isFinite ? s.ci95 : nil)
    }

    static func cell(_ s: SeedStatistics) -> String {
        GBTvsNNStudy.interval(s)
    }
}
