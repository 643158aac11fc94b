import Foundation
import Spelling
import Store

/// What `tlens plot` draws, gathered from the store into `PlotSeries` for `SVGPlot`:
///
/// - `curves`: scalar keys over steps for one or more runs (a series per run and key);
/// - `sweep`: a measure (final or derived) against a numeric axis, a point per axis value with
///   the mean over the group's seeds and its 95% interval as an error bar; a series per
///   measure, or per value of `--series` (another axis).
///
///     let svg = try PlotRequest.curves(runs: ["3"], keys: ["test_mse"], logY: true).svg(reader)
public struct PlotRequest {
    public enum Kind {
        case curves(runs: [String], keys: [String], every: Int?)
        case sweep(selection: RunSelection, x: String, measures: [String], seriesBy: String?)
    }
    public var kind: Kind
    public var logX = false
    public var logY = false
    public var title: String?

    public static func curves(runs: [String], keys: [String], every: Int? = nil, logX: Bool = false, logY: Bool = false, title: String? = nil) -> PlotRequest {
        PlotRequest(kind: .curves(runs: runs, keys: keys, every: every), logX: logX, logY: logY, title: title)
    }

    public static func sweep(_ selection: RunSelection, x: String, measures: [String], seriesBy: String? = nil,
                             logX: Bool = false, logY: Bool = false, title: String? = nil) -> PlotRequest {
        PlotRequest(kind: .sweep(selection: selection, x: x, measures: measures, seriesBy: seriesBy), logX: logX, logY: logY, title: title)
    }

    /// The series and axis labels, checked: every run, key and measure must exist.
    public func series(_ reader: MetricReader) throws -> (series: [PlotSeries], options: PlotOptions) {
        switch kind {
        case .curves(let runs, let keys, let every):
            guard !runs.isEmpty else { throw QueryError("plot: name at least one run, or --sweep with --x") }
            guard !keys.isEmpty else { throw QueryError("plot: --key names the keys to draw (e.g. --key test_mse,train_mse)") }
            let ids = try RunReference.resolve(runs, in: reader.catalog)
            let series = try Self.curveSeries(reader, runs: ids, keys: keys, every: every)
            let label = keys.count == 1 ? keys[0] : "value"
            return (series, PlotOptions(title: title ?? keys.joined(separator: ", "), xLabel: "step", yLabel: label, logX: logX, logY: logY))
        case .sweep(let selection, let x, let measures, let seriesBy):
            guard !measures.isEmpty else { throw QueryError("plot: --key names the measures to draw (e.g. --key final.test_mse)") }
            let catalog = reader.catalog
            let xMeasure = try Measure.parse(x, in: catalog)
            let yMeasures = try measures.map { try Measure.parse($0, in: catalog) }
            let split = try seriesBy.map { try Measure.parse($0, in: catalog) }
            let runs = try selection.apply(reader).runs
            guard !runs.isEmpty else { throw QueryError("plot: no runs match") }
            var series: [PlotSeries] = []
            var groups: [(label: String, runs: [CatalogRun])] = [("", runs)]
            if let split {
                let grouping = try Grouping(runs, by: [split], reader: reader)
                groups = grouping.groups.map { ("\(split)=\(TableText.cellText($0.values[0]))", $0.runs) }
            }
            for measure in yMeasures {
                for group in groups {
                    let byX = try Grouping(group.runs, by: [xMeasure], reader: reader)
                    var points: [PlotPoint] = []
                    for g in byX.groups {
                        guard let xValue = try reader.number(xMeasure, for: g.runs[0]) else { continue }
                        let stats = SeedStatistics(try g.runs.map { try reader.number(measure, for: $0) ?? .nan })
                        guard stats.count > 0 else { continue }
                        points.append(PlotPoint(x: xValue, y: stats.mean, error: stats.ci95.isFinite ? stats.ci95 : nil))
                    }
                    let label = [yMeasures.count > 1 || group.label.isEmpty ? measure.description : nil, group.label.isEmpty ? nil : group.label]
                        .compactMap { $0 }.joined(separator: ", ")
                    series.append(PlotSeries(label: label, points: points))
                }
            }
            let yLabel = yMeasures.count == 1 ? yMeasures[0].description : "value"
            return (series, PlotOptions(title: title ?? "\(yMeasures.map(\.description).joined(separator: ", ")) by \(x)",
                                        xLabel: x, yLabel: yLabel, logX: logX, logY: logY))
        }
    }

    public func svg(_ reader: MetricReader) throws -> String {
        let (series, options) = try series(reader)
        return SVGPlot.render(series, options: options)
    }

    /// One series per (run, key); labels say only what differs between series.
    static func curveSeries(_ reader: MetricReader, runs: [Int64], keys: [String], every: Int? = nil) throws -> [PlotSeries] {
        let catalog = reader.catalog
        for key in keys where catalog.keyIDs[key] == nil {
            let hint = nearestName(to: key, in: Array(catalog.keyIDs.keys)).map { "; did you mean \($0)?" } ?? ""
            throw QueryError("\(catalog.archive.path): no metric key '\(RunReference.display(key))'\(hint)")
        }
        var series: [PlotSeries] = []
        for run in runs {
            // A sweep's runs are named "SWEEP axis=value …": the axes alone tell them apart.
            let entry = catalog.runs.first { $0.id == run }
            var name = entry?.summary.name ?? "run \(run)"
            if let sweep = entry?.sweep, name.hasPrefix(sweep + " ") { name.removeFirst(sweep.count + 1) }
            for key in keys {
                var points = try catalog.archive.database.scalars(run: run, key: key).map { PlotPoint(x: Double($0.step), y: $0.value) }
                if let every, every > 1 { points = points.filter { Int($0.x) % every == 0 } }
                guard !points.isEmpty else { continue }
                let label = runs.count == 1 ? key : keys.count == 1 ? name : "\(name): \(key)"
                series.append(PlotSeries(label: label, points: points))
            }
        }
        return series
    }
}
