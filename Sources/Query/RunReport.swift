import Foundation
import Store

/// `tlens report`: one self-contained HTML page for some runs or a sweep — the headline table,
/// then plots of loss and accuracy, network vs telescoped vs linearized test error,
/// approximation errors, kernel statistics and effective parameters (docs/query.md, "report").
/// A section whose keys no run recorded is left out, with a line saying so.
///
///     let html = try ReportRequest(runs: ["3", "7"]).page(reader).html()
public struct ReportRequest {
    public var runs: [String]
    public var selection: RunSelection?
    public var title: String?
    /// Curves are drawn for at most this many runs (a sweep's first seed of each point first).
    public var maxCurves = 12

    public init(runs: [String] = [], selection: RunSelection? = nil, title: String? = nil) {
        self.runs = runs
        self.selection = selection
        self.title = title
    }

    public func page(_ reader: MetricReader) throws -> ReportPage {
        let catalog = reader.catalog
        var selected: [CatalogRun]
        if let selection {
            selected = try selection.apply(reader).runs
        } else {
            guard !runs.isEmpty else { throw QueryError("report: name runs, or --sweep S") }
            let ids = try RunReference.resolve(runs, in: catalog)
            selected = ids.map { id in catalog.runs.first { $0.id == id }! }
        }
        guard !selected.isEmpty else { throw QueryError("report: no runs match") }
        let ids = selected.map(\.id)
        let sweep = selection?.sweep
        var sections: [ReportSection] = []
        var omitted: [String] = []

        // Headline: the runs table (and, for a sweep, the grouped comparison and its peaks).
        let shown = try Listings.table(of: selected, reader)
        var headline = ReportSection(heading: "Runs", text: summaryText(selected, sweep: sweep), tables: [Self.reportTable(shown)], figures: [], id: "runs")
        var axes: [String] = []
        for run in selected { for axis in run.axes.map(\.path) where !axes.contains(axis) { axes.append(axis) } }
        if !axes.isEmpty {
            let request = ComparisonRequest(runs: [], selection: RunSelection(sweep: sweep, conditions: selection?.conditions ?? []),
                                            by: axes, keys: headlineKeys(reader, ids))
            headline.tables.append(Self.compactGroups(try request.table(reader), keys: request.keys))
        }
        sections.append(headline)

        // For a sweep: final metrics against each numeric axis, mean ± 95% CI over seeds.
        if let sweepSelection = selection, !axes.isEmpty {
            var figures: [String] = []
            for axis in axes where try selected.contains(where: { try reader.number(.config(axis), for: $0) != nil }) {
                for keys in [["final.test_mse", "final.train_mse"], ["final.p_train", "final.p_test"], ["approx_ratio"], ["final.test_acc"]] {
                    let present = keys.filter { name in (try? Measure.parse(name, in: catalog)).map { m in
                        (try? selected.contains { try reader.number(m, for: $0) != nil }) ?? false } ?? false }
                    guard !present.isEmpty else { continue }
                    let others = axes.filter { $0 != axis }
                    let request = PlotRequest.sweep(sweepSelection, x: axis, measures: present, seriesBy: present.count == 1 ? others.first : nil,
                                                    logX: true, logY: false)
                    figures.append(try request.svg(reader))
                }
            }
            if !figures.isEmpty {
                sections.append(ReportSection(heading: "Along the sweep axes", text: "Each point is the mean over the seeds of one axis value; bars are 95% confidence intervals (Student t).", tables: [], figures: figures, id: "axes"))
            }
        }

        // Curves over steps.
        let curveRuns = Array(curveSelection(selected).prefix(maxCurves))
        let curveIDs = curveRuns.map(\.id)
        let note = curveRuns.count < selected.count ? "Curves for \(curveRuns.count) of \(selected.count) runs (the first seed of each sweep point)." : nil
        func figure(_ keys: [String], title: String, logY: Bool, runs: [Int64]? = nil) throws -> String? {
            let present = keys.filter { catalog.keyIDs[$0] != nil }
            guard !present.isEmpty else { return nil }
            let series = try PlotRequest.curveSeries(reader, runs: runs ?? curveIDs, keys: present)
            guard !series.isEmpty else { return nil }
            return SVGPlot.render(series, options: PlotOptions(title: title, xLabel: "step", yLabel: present.count == 1 ? present[0] : "value", logX: false, logY: logY))
        }
        func section(_ heading: String, _ id: String, _ text: String?, _ figures: [String?]) {
            let drawn = figures.compactMap { $0 }
            if drawn.isEmpty { omitted.append(heading) } else {
                sections.append(ReportSection(heading: heading, text: [text, note].compactMap { $0 }.joined(separator: " "), tables: [], figures: drawn, id: id))
            }
        }
        section("Loss and accuracy", "loss", "Batch loss at each step; mean squared error and accuracy on the evaluation points at recorded states.", [
            try figure(["train_loss"], title: "batch loss", logY: true),
            try figure(["test_mse"], title: "test MSE", logY: true),
            try figure(["train_mse"], title: "train MSE", logY: true),
            try figure(["test_acc"], title: "test accuracy", logY: false),
        ])
        section("Network, telescoped and linearized", "models",
                "The network f_θ, the telescoping model f̃ (the sum of every step's first-order change) and the linearized model f_lin around θ_0, on the test points.",
                try curveIDs.prefix(4).map { id in
                    try figure(["test_mse", "tel_test_mse", "lin_test_mse"], title: "test MSE: \(catalog.runs.first { $0.id == id }?.summary.name ?? "run \(id)")", logY: true, runs: [id])
                })
        section("Approximation error", "approx",
                "Mean |f_θ − model| on the test points: the telescoping error stays orders of magnitude below the linearized one.", [
                    try figure(["approx_err_tel"], title: "telescoping approximation error", logY: true),
                    try figure(["approx_err_lin"], title: "linearized approximation error", logY: true),
                ])
        section("Tangent kernel", "kernel", "Kernel trace, drift from K(θ_0), velocity between recorded states, and kernel–target alignment.", [
            try figure(["ktrace_train"], title: "kernel trace (train)", logY: true),
            try figure(["kdrift0"], title: "kernel drift from θ_0", logY: false),
            try figure(["kvel"], title: "kernel velocity", logY: true),
            try figure(["kalign"], title: "kernel–target alignment", logY: false),
        ])
        section("Effective parameters", "p", "p_train and p_test: the effective number of parameters the smoother uses on training and test inputs.", [
            try figure(["p_train"], title: "p_train", logY: false),
            try figure(["p_test"], title: "p_test", logY: false),
        ])
        if !omitted.isEmpty {
            sections[0].text = [sections[0].text, "Not recorded by these runs: \(omitted.joined(separator: ", "))."].compactMap { $0 }.joined(separator: " ")
        }
        let heading = title ?? (sweep.map { "tlens report: sweep \($0)" } ?? "tlens report: " + selected.map { $0.summary.name ?? "run \($0.id)" }.prefix(4).joined(separator: ", "))
        return ReportPage(title: heading, subtitle: "\(catalog.archive.path) · \(selected.count) run\(selected.count == 1 ? "" : "s") · written \(isoTime(Date().timeIntervalSince1970))",
                          sections: sections)
    }

    private func summaryText(_ runs: [CatalogRun], sweep: String?) -> String {
        var counts: [String: Int] = [:]
        for run in runs { counts[run.summary.effectiveStatus.rawValue, default: 0] += 1 }
        let statuses = counts.keys.sorted().map { "\(counts[$0]!) \($0)" }.joined(separator: ", ")
        return (sweep.map { "Sweep \($0): " } ?? "") + "\(runs.count) run\(runs.count == 1 ? "" : "s") (\(statuses))."
    }

    private func headlineKeys(_ reader: MetricReader, _ ids: [Int64]) -> [String] {
        let recorded = (try? Listings.recordedKeys(reader.catalog, runs: Set(ids))) ?? []
        return Listings.headline.filter { recorded.contains(String($0.dropFirst("final.".count))) }
    }

    /// A sweep's first seed of each point first, then the rest; otherwise the runs as given.
    private func curveSelection(_ runs: [CatalogRun]) -> [CatalogRun] {
        guard runs.contains(where: { !$0.axes.isEmpty }) else { return runs }
        var seen = Set<String>()
        var first: [CatalogRun] = [], rest: [CatalogRun] = []
        for run in runs {
            let point = run.axes.map { "\($0.path)=\($0.value)" }.joined(separator: ",")
            if seen.insert(point).inserted { first.append(run) } else { rest.append(run) }
        }
        return first + rest
    }

    /// The grouped comparison for people: a key's mean, sd and ci95 columns become one cell
    /// `mean ± ci95`, so the table fits a page.
    static func compactGroups(_ table: ResultTable, keys: [String]) -> ReportTable {
        let keyColumns = Set(keys.flatMap { [$0, "\($0) sd", "\($0) n", "\($0) ci95"] })
        let leading = table.columns.indices.filter { !keyColumns.contains(table.columns[$0]) }
        var header = leading.map { table.columns[$0] }
        header += keys.map { "\($0) (mean ± 95% CI)" }
        let rows = table.rows.map { row -> [String] in
            var cells = leading.map { TableText.cellText(row[$0]) }
            for key in keys {
                guard let m = table.columns.firstIndex(of: key), let c = table.columns.firstIndex(of: "\(key) ci95") else { continue }
                let mean = { if case .real(let x) = row[m] { return String(format: "%.4g", x) }; return TableText.cellText(row[m]) }()
                if case .real(let ci) = row[c] { cells.append("\(mean) ± \(String(format: "%.2g", ci))") } else { cells.append(mean) }
            }
            return cells
        }
        return ReportTable(header: header, rows: rows, numericColumns: Set(leading.indices.filter { table.columns[leading[$0]] == "runs" }).union(leading.count..<header.count))
    }

    /// A result table as report text: numbers as the table format shows them, right-aligned.
    public static func reportTable(_ table: ResultTable) -> ReportTable {
        let numeric = Set(table.columns.indices.filter { c in
            !table.rows.isEmpty && table.rows.allSatisfy { row in
                switch row[c] { case .integer, .real, .null: return true; default: return false }
            }
        })
        return ReportTable(header: table.columns, rows: table.rows.map { $0.map(TableText.cellText) }, numericColumns: numeric)
    }
}
