import Foundation
import Query
import Store

/// Telescoping vs linearized approximation error (lens.md §2–§3): the telescoping model follows
/// the network step by step, so its error stays orders of magnitude below the model linearized
/// at θ_0, and it shrinks with the learning rate (each step's neglected remainder is O(γ²)).
/// SGD and AdamW, three learning rates each, two batch sizes (`examples/study-approx*.yaml`).
public struct ApproxStudy: Study {
    public init() {}
    public let name = "approx"
    public let question = "Does the telescoping model (the network's initial prediction plus every step's first-order change) track the trained network far more closely than the model linearized at initialization, and more closely the smaller the learning rate?"

    public func sweepPresets(_ size: StudySize) -> [String] { [size.preset("study-approx")] }

    public func findings(_ reader: MetricReader, size: StudySize) throws -> [Finding] {
        let sweep = try sweepNames(size)[0]
        let runs = reader.runs(ofSweep: sweep).filter { $0.summary.effectiveStatus == .completed }
        guard !runs.isEmpty else {
            return [Finding(claim: "telescoping error ≪ linearized error", rule: "—", held: nil, figures: "no completed runs in \(sweep)")]
        }
        // Rule 1: every run's final approx_err_lin / approx_err_tel is at least 10.
        let ratios: [Double] = runs.compactMap { reader.number("approx_ratio", $0) }
        let sorted = ratios.sorted()
        let median: Double? = sorted.isEmpty ? nil : sorted[sorted.count / 2]
        let first = Finding(
            claim: "the telescoping error stays orders of magnitude below the linearized one",
            rule: "every run's final approx_ratio = approx_err_lin / approx_err_tel ≥ 10",
            held: ratios.count == runs.count ? ratios.allSatisfy { $0 >= 10 } : nil,
            figures: "approx_ratio over \(ratios.count) runs: min \(figure(sorted.first)), median \(figure(median)), max \(figure(sorted.last))")

        // Rule 2: within each (optimizer, batch size) group, the final telescoping error at the
        // smallest learning rate is below that at the largest (means over seeds).
        var groups: [String: [Double: [Double]]] = [:]
        for run in runs {
            guard let lr = run.number("optimizer.lr"), let error = reader.number("final.approx_err_tel", run) else { continue }
            let key = "\(run.params["optimizer.kind"] ?? "?") b=\(run.params["optimizer.batch_size"] ?? "?")"
            groups[key, default: [:]][lr, default: []].append(error)
        }
        var shrinking = 0
        var described: [String] = []
        for key in groups.keys.sorted() {
            let byRate = groups[key]!
            let rates = byRate.keys.sorted()
            guard let low = rates.first, let high = rates.last, low < high else { continue }
            let lowError = mean(byRate[low]!), highError = mean(byRate[high]!)
            if lowError < highError { shrinking += 1 }
            described.append("\(key): \(figure(lowError)) at γ=\(figure(low)) vs \(figure(highError)) at γ=\(figure(high))")
        }
        let second = Finding(
            claim: "the telescoping error shrinks with the learning rate",
            rule: "in every (optimizer, batch size) group, final approx_err_tel at the smallest γ < at the largest γ (means over seeds)",
            held: described.isEmpty ? nil : shrinking == described.count,
            figures: described.joined(separator: "; "))
        return [first, second]
    }

    public func sections(_ reader: MetricReader, size: StudySize) throws -> [ReportSection] {
        let sweep = try sweepNames(size)[0]
        let runs = reader.runs(ofSweep: sweep).filter { $0.summary.effectiveStatus == .completed }
        let sizes = Set(runs.compactMap { $0.params["optimizer.batch_size"] }).sorted { (Double($0) ?? 0) < (Double($1) ?? 0) }
        var figures: [String] = []
        for measure in ["final.approx_err_tel", "final.approx_err_lin", "approx_ratio"] {
            for size in sizes {
                let selection = RunSelection(sweep: sweep, conditions: ["optimizer.batch_size=\(size)"])
                let plot = PlotRequest.sweep(selection, x: "optimizer.lr", measures: [measure], seriesBy: "optimizer.kind",
                                             logX: true, logY: true, title: "\(measure), batch \(size)")
                figures.append(try plot.svg(reader))
            }
        }
        let ids = runs.prefix(8).map { String($0.id) }
        figures.append(try PlotRequest.curves(runs: ids, keys: ["approx_err_tel"], logY: true, title: "telescoping approximation error over steps").svg(reader))
        figures.append(try PlotRequest.curves(runs: ids, keys: ["approx_err_lin"], logY: true, title: "linearized approximation error over steps").svg(reader))
        let text = "Mean |f_θ(x) − model(x)| over the test points at the end of training by learning rate, a series per optimizer, one plot per batch size (mean ± 95% CI over seeds); then the errors over steps for the first runs."
        return [ReportSection(heading: "Approximation error", text: text, figures: figures, id: "approx")]
    }
}

func mean(_ values: [Double]) -> Double { values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count) }
