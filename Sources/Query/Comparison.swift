import Foundation
import Store

/// What `tlens compare` computes, as data (so a saved comparison can be rerun exactly):
/// runs side by side, or runs grouped by axes with each metric aggregated over the seeds of a
/// group, with differences against a baseline run or group (docs/metrics.md, "Comparisons").
///
///     // tlens compare --sweep dd-width --by model.hidden --keys final.test_mse,final.p_test
///     let request = ComparisonRequest(selection: RunSelection(sweep: "dd-width"), by: ["model.hidden"],
///                                     keys: ["final.test_mse", "final.p_test"])
///     let table = try request.table(reader)
public struct ComparisonRequest: Codable, Equatable {
    /// Runs named on the command line (ids, uuids, names); empty means "use the selection".
    public var runs: [String] = []
    public var sweep: String?
    public var status: String?
    public var conditions: [String] = []
    /// Group by these measures (default for a sweep: its axes).
    public var by: [String] = []
    public var keys: [String] = []
    /// A run (side by side) or `path=value[,path=value]` group to subtract.
    public var baseline: String?
    /// Report, per key, where the group mean peaks along the single `by` axis.
    public var peak = false

    public init(runs: [String] = [], selection: RunSelection = RunSelection(), by: [String] = [], keys: [String] = [],
                baseline: String? = nil, peak: Bool = false) {
        self.runs = runs
        sweep = selection.sweep
        status = selection.status
        conditions = selection.conditions
        self.by = by
        self.keys = keys
        self.baseline = baseline
        self.peak = peak
    }

    public func table(_ reader: MetricReader) throws -> ResultTable {
        let catalog = reader.catalog
        let keys = try (self.keys.isEmpty ? Listings.headline : self.keys).map { try Measure.parse($0, in: catalog) }
        if !runs.isEmpty {
            guard by.isEmpty, sweep == nil, conditions.isEmpty else {
                throw QueryError("compare: name runs, or select them with --sweep/--where and group with --by, not both")
            }
            return try sideBySide(reader, ids: RunReference.resolve(runs, in: catalog), keys: keys)
        }
        let selection = RunSelection(sweep: sweep, status: status, conditions: conditions)
        let selected = try selection.apply(reader).runs
        guard !selected.isEmpty else { throw QueryError("compare: no runs match") }
        var groupBy = try by.map { try Measure.parse($0, in: catalog) }
        if groupBy.isEmpty {
            var axes: [String] = []
            for run in selected { for axis in run.axes.map(\.path) where !axes.contains(axis) { axes.append(axis) } }
            guard !axes.isEmpty else { throw QueryError("compare: give --by PATH (the selected runs have no sweep axes), or name runs to compare side by side") }
            groupBy = axes.map { .config($0) }
        }
        let groups = try Grouping(selected, by: groupBy, reader: reader)
        return peak ? try groups.peaks(keys, reader) : try groups.table(keys, reader, baseline: baseline)
    }

    private func sideBySide(_ reader: MetricReader, ids: [Int64], keys: [Measure]) throws -> ResultTable {
        let runs = ids.map { id in reader.catalog.runs.first { $0.id == id }! }
        var base: CatalogRun?
        if let baseline {
            let id = try RunReference.resolve(baseline, in: reader.catalog)
            guard let run = reader.catalog.runs.first(where: { $0.id == id }) else { throw QueryError("no run \(id)") }
            base = run
        }
        var columns = ["id", "name"]
        for key in keys { columns += [key.description] + (base == nil ? [] : ["Δ \(key)"]) }
        var table = ResultTable(columns: columns)
        for run in runs {
            var row: [DatabaseValue] = [.integer(run.id), run.summary.name.map { .text($0) } ?? .null]
            for key in keys {
                row.append(try reader.value(key, for: run))
                if let base {
                    let (x, b) = (try reader.number(key, for: run), try reader.number(key, for: base))
                    row.append(x.flatMap { x in b.map { .real(x - $0) } } ?? .null)
                }
            }
            table.rows.append(row)
        }
        return table
    }
}

/// Runs split into groups by the values of some measures (seeds fall in the same group).
struct Grouping {
    let by: [Measure]
    /// Groups in order of their axis values (numbers numerically).
    let groups: [(values: [DatabaseValue], runs: [CatalogRun])]

    init(_ runs: [CatalogRun], by: [Measure], reader: MetricReader) throws {
        self.by = by
        var order: [[DatabaseValue]] = []
        var members: [[DatabaseValue]: [CatalogRun]] = [:]
        for run in runs {
            let values = try by.map { try reader.value($0, for: run) }
            if members[values] == nil { order.append(values) }
            members[values, default: []].append(run)
        }
        let sortKey = { (values: [DatabaseValue]) -> [(Double?, String)] in
            values.map { value in
                switch value {
                case .integer(let i): return (Double(i), "")
                case .real(let r): return (r, "")
                case .text(let t): return (configNumber(t), t)
                default: return (nil, "")
                }
            }
        }
        order.sort { a, b in
            for (x, y) in zip(sortKey(a), sortKey(b)) {
                if let l = x.0, let r = y.0, l != r { return l < r }
                if x.1 != y.1 { return x.1 < y.1 }
            }
            return false
        }
        groups = order.map { ($0, members[$0]!) }
    }

    func statistics(_ key: Measure, _ runs: [CatalogRun], _ reader: MetricReader) throws -> SeedStatistics {
        SeedStatistics(try runs.map { try reader.number(key, for: $0) ?? .nan })
    }

    /// One row per group: the axis values, the number of runs, then per key the mean over the
    /// group's runs, its standard deviation and 95% CI half-width; with a baseline group, the
    /// difference of means and its Welch 95% CI half-width.
    func table(_ keys: [Measure], _ reader: MetricReader, baseline: String?) throws -> ResultTable {
        let base = try baseline.map { try baselineGroup($0, reader) }
        var columns = by.map(\.description) + ["runs"]
        for key in keys {
            columns += ["\(key)", "\(key) sd", "\(key) n", "\(key) ci95"]
            if base != nil { columns += ["\(key) Δ", "\(key) Δ ci95"] }
        }
        var table = ResultTable(columns: columns)
        for group in groups {
            var row = group.values + [.integer(Int64(group.runs.count))]
            for key in keys {
                let s = try statistics(key, group.runs, reader)
                row += [number(s.mean), number(s.standardDeviation), .integer(Int64(s.count)), number(s.ci95)]
                if let base {
                    let b = try statistics(key, base.runs, reader)
                    row += [number(s.mean - b.mean), number(welchHalfWidth(s, b))]
                }
            }
            table.rows.append(row)
        }
        return table
    }

    /// For one numeric axis: per key, the axis value where the group mean is largest, and
    /// whether that peak is interior (both ends of the axis lower) — the double-descent
    /// signature along a width or sample-size axis (docs/metrics.md).
    func peaks(_ keys: [Measure], _ reader: MetricReader) throws -> ResultTable {
        guard by.count == 1 else { throw QueryError("compare --peak: group by exactly one axis (--by PATH)") }
        var table = ResultTable(columns: ["key", "axis", "peak_at", "peak_mean", "first_mean", "last_mean", "interior"])
        for key in keys {
            let means = try groups.map { try statistics(key, $0.runs, reader).mean }
            guard let best = means.indices.filter({ means[$0].isFinite }).max(by: { means[$0] < means[$1] }) else {
                table.rows.append([.text(key.description), .text(by[0].description), .null, .null, .null, .null, .null])
                continue
            }
            let interior = best > 0 && best < means.count - 1 && means[0] < means[best] && means[means.count - 1] < means[best]
            table.rows.append([.text(key.description), .text(by[0].description), groups[best].values[0], number(means[best]),
                               number(means[0]), number(means[means.count - 1]), .integer(interior ? 1 : 0)])
        }
        return table
    }

    /// `path=value[,path=value]`, matching a group's axis values as text or numbers.
    func baselineGroup(_ text: String, _ reader: MetricReader) throws -> (values: [DatabaseValue], runs: [CatalogRun]) {
        var wanted: [String: String] = [:]
        for part in text.split(separator: ",") {
            let pieces = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pieces.count == 2 else { throw QueryError("--baseline '\(RunReference.display(text))': write PATH=VALUE[,PATH=VALUE] naming a group (e.g. model.hidden=64)") }
            guard by.contains(where: { $0.description == pieces[0] }) else {
                throw QueryError("--baseline: '\(RunReference.display(pieces[0]))' is not a grouping axis (\(by.map(\.description).joined(separator: ", ")))")
            }
            wanted[pieces[0]] = pieces[1]
        }
        let match = groups.first { group in
            zip(by, group.values).allSatisfy { measure, value in
                guard let want = wanted[measure.description] else { return true }
                let shown = TableText.cellText(value)
                if shown == want { return true }
                if let w = Double(want), let v = configNumber(shown) { return w == v }
                return false
            }
        }
        guard let match else { throw QueryError("--baseline '\(RunReference.display(text))': no group has those values") }
        return match
    }

    private func number(_ x: Double) -> DatabaseValue { x.isFinite ? .real(x) : .null }

    /// Half-width of the Welch 95% interval for a difference of two means.
    private func welchHalfWidth(_ a: SeedStatistics, _ b: SeedStatistics) -> Double {
        guard a.count >= 2, b.count >= 2 else { return .nan }
        let va = a.standardDeviation * a.standardDeviation / Double(a.count)
        let vb = b.standardDeviation * b.standardDeviation / Double(b.count)
        guard va + vb > 0 else { return 0 }
        let df = (va + vb) * (va + vb) / (va * va / Double(a.count - 1) + vb * vb / Double(b.count - 1))
        return studentTQuantile(0.975, degreesOfFreedom: df) * (va + vb).squareRoot()
    }
}
