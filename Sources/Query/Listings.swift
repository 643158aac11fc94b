import Foundation
import Spelling
import Store

/// The tables behind `tlens runs` and `tlens metrics`.
public enum Listings {
    /// Headline metrics `runs` shows when `--keys` is not given: those any listed run recorded.
    static let headline = ["final.train_loss", "final.test_mse", "final.test_acc", "final.approx_err_tel", "final.p_test"]

    /// One row per selected run: id, name, status (crashed shown as such), last step, the
    /// sweep axes of the listed runs, then `keys` (default: the headline metrics) and any
    /// measure `--where`/`--sort` used that is not already a column.
    ///
    ///     let table = try Listings.runs(reader, selection: RunSelection(sort: "final.test_mse"))
    public static func runs(_ reader: MetricReader, selection: RunSelection, keys: [String]? = nil) throws -> ResultTable {
        let (runs, used) = try selection.apply(reader)
        return try table(of: runs, reader, keys: keys, extra: used)
    }

    /// The `runs` table of these runs, in this order.
    static func table(of runs: [CatalogRun], _ reader: MetricReader, keys: [String]? = nil, extra used: [Measure] = []) throws -> ResultTable {
        let catalog = reader.catalog
        var measures: [Measure] = [.field(.id), .field(.name), .field(.status), .field(.lastStep)]
        var axes: [String] = []
        for run in runs { for axis in run.axes.map(\.path) where !axes.contains(axis) { axes.append(axis) } }
        measures += axes.filter { catalog.paramPaths.contains($0) }.map { .config($0) }
        if let keys {
            measures += try keys.map { try Measure.parse($0, in: catalog) }
        } else {
            let listed = Set(runs.map(\.id))
            let recorded = try recordedKeys(catalog, runs: listed)
            measures += headline.compactMap { name in
                let key = String(name.dropFirst("final.".count))
                return recorded.contains(key) ? .derived(.final(key)) : nil
            }
        }
        for measure in used where !measures.contains(measure) { measures.append(measure) }
        var table = ResultTable(columns: measures.map(\.description))
        for run in runs { table.rows.append(try measures.map { try reader.value($0, for: run) }) }
        return table
    }

    /// The metric keys recorded by any of `runs` (one indexed probe per key).
    static func recordedKeys(_ catalog: RunCatalog, runs: Set<Int64>) throws -> Set<String> {
        guard !runs.isEmpty else { return [] }
        let probe = try catalog.archive.database.prepare("SELECT 1 FROM metrics WHERE run_id = ? AND key_id = ? LIMIT 1")
        var found = Set<String>()
        for name in headline.map({ String($0.dropFirst("final.".count)) }) {
            guard let keyID = catalog.keyIDs[name] else { continue }
            for run in runs {
                probe.reset()
                probe.bind(run, at: 1)
                probe.bind(keyID, at: 2)
                if try probe.step() { found.insert(name); probe.reset(); break }
            }
        }
        return found
    }

    /// Scalar series of one or more runs side by side: columns run (when more than one), step,
    /// then one column per key; a step where a key has no row shows NULL.
    ///
    ///     try Listings.metrics(reader, runs: ["3"], keys: ["train_loss", "test_mse"], every: 100)
    public static func metrics(_ reader: MetricReader, runs arguments: [String], keys: [String],
                               every: Int? = nil, from: Int? = nil, to: Int? = nil) throws -> ResultTable {
        let catalog = reader.catalog
        guard !arguments.isEmpty else { throw QueryError("name at least one run (id, uuid or name)") }
        guard !keys.isEmpty else { throw QueryError("--key: name at least one metric key") }
        if let every, every < 1 { throw QueryError("--every \(every): must be 1 or more") }
        if let from, let to, from > to { throw QueryError("--from \(from) is after --to \(to)") }
        let ids = try RunReference.resolve(arguments, in: catalog)
        let keyIDs = try keys.map { key -> Int64 in
            guard let id = catalog.keyIDs[key] else {
                let hint = nearestName(to: key, in: Array(catalog.keyIDs.keys)).map { "; did you mean \($0)?" } ?? ""
                throw QueryError("\(catalog.archive.path): no metric key '\(RunReference.display(key))'\(hint)")
            }
            return id
        }
        let many = ids.count > 1
        var table = ResultTable(columns: (many ? ["run"] : []) + ["step"] + keys)
        let select = try catalog.archive.database.prepare("""
            SELECT step, value FROM metrics WHERE run_id = ?1 AND key_id = ?2 AND step BETWEEN ?3 AND ?4 ORDER BY step
            """)
        for run in ids {
            var byStep: [Int64: [DatabaseValue]] = [:]
            for (k, keyID) in keyIDs.enumerated() {
                select.reset()
                select.bind([.integer(run), .integer(keyID), .integer(Int64(from ?? 0)), .integer(Int64(to ?? Int.max))])
                while try select.step() {
                    let step = select.int64(at: 0)
                    if let every, step % Int64(every) != 0 { continue }
                    byStep[step, default: [DatabaseValue](repeating: .null, count: keys.count)][k] =
                        select.isNull(at: 1) ? .null : .real(select.double(at: 1))
                }
            }
            for step in byStep.keys.sorted() {
                table.rows.append((many ? [.integer(run)] : []) + [.integer(step)] + byStep[step]!)
            }
        }
        return table
    }
}
