import Foundation
import Query

/// The gbt-vs-nn study's report sections: error ratio and κ against q, a table per setting,
/// kernel weight norms against irregularity, and test MSE over training.
struct GBTvsNNReport {
    let comparison: IrregularityComparison
    let reader: MetricReader

    init(_ comparison: IrregularityComparison, reader: MetricReader) {
        self.comparison = comparison
        self.reader = reader
    }

    func sections() -> [ReportSection] {
        guard !comparison.settings.isEmpty else {
            return [ReportSection(heading: "Irregular test points", text: "No completed pair of network and trees runs on the same data.", id: "irregular")]
        }
        return [byIrregularSet(), byPoint(), overTraining()]
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
            ReportTable(header: ["\(setting.name): q %", "points", "injected", "irregularity", "MSE network", "MSE trees",
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
            seeds ± 95% CI; "injected" is the share of the set that the tabular generator pushed out on purpose. \
            Pairs (network and trees on identical data, one per seed): \(pairs)\(comparison.unpaired > 0 ? "; \(comparison.unpaired) runs without a partner left out" : "").
            """
        return ReportSection(heading: "Error and κ on the most irregular test points", text: text, tables: tables,
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
