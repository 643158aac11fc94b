import Foundation
import Query
import Store

/// A measure's seed means along one numeric sweep axis, as `tlens compare --sweep S --by AXIS
/// --keys MEASURE` computes them (docs/metrics.md, "Aggregating over seeds"), and where the
/// mean peaks, as `--peak` reports it.
///
///     let mse = try AxisProfile(reader, sweep: "study-double-descent-quick", axis: "model.hidden",
///                               measure: "final.test_mse")
///     mse.points   // [(x: 2, mean: 0.43, runs: 2), (x: 4, …), …] in axis order
struct AxisProfile {
    struct Point { var x: Double; var mean: Double; var runs: Int }
    /// One point per axis value that has the measure in at least one selected run.
    var points: [Point]
    /// Axis values whose runs all lack the measure (or were left out by the conditions).
    var missing: [Double]
    /// From `ComparisonRequest(peak: true)`: the axis value with the largest mean, and whether
    /// it is strictly inside the axis with both ends lower.
    var peak: (x: Double, mean: Double, interior: Bool)?

    /// `conditions` select runs as `--where` does (`final.smoother_stable=1`).
    init(_ reader: MetricReader, sweep: String, axis: String, measure: String, conditions: [String] = []) throws {
        let everyValue = Set(reader.runs(ofSweep: sweep).compactMap { $0.number(axis) })
        let selection = RunSelection(sweep: sweep, status: "completed", conditions: conditions)
        guard !(try selection.apply(reader).runs.isEmpty) else {
            points = []; missing = everyValue.sorted(); peak = nil
            return
        }
        let grouped = try ComparisonRequest(selection: selection, by: [axis], keys: [measure]).table(reader)
        var points: [Point] = []
        for row in grouped.rows.indices {
            guard let x = Self.number(grouped.value(row: row, column: axis)),
                  let mean = Self.number(grouped.value(row: row, column: measure)),
                  let runs = Self.number(grouped.value(row: row, column: "\(measure) n")) else { continue }
            points.append(Point(x: x, mean: mean, runs: Int(runs)))
        }
        self.points = points
        missing = everyValue.subtracting(points.map(\.x)).sorted()
        let peaks = try ComparisonRequest(selection: selection, by: [axis], keys: [measure], peak: true).table(reader)
        if let x = Self.number(peaks.value(row: 0, column: "peak_at")), let mean = Self.number(peaks.value(row: 0, column: "peak_mean")) {
            peak = (x, mean, Self.number(peaks.value(row: 0, column: "interior")) == 1)
        } else {
            peak = nil
        }
    }

    var first: Point? { points.first }
    var last: Point? { points.last }

    func mean(at x: Double) -> Double? { points.first { $0.x == x }?.mean }

    /// Numbers and config text (`[16]` reads as 16).
    static func number(_ value: DatabaseValue?) -> Double? {
        switch value {
        case .integer(let i)?: return Double(i)
        case .real(let r)?: return r
        case .text(let t)?:
            let inner = t.trimmingCharacters(in: CharacterSet(charactersIn: "[] "))
            return inner.contains(",") ? nil : Double(inner)
        default: return nil
        }
    }
}
