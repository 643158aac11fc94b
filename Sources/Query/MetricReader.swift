import Foundation
import Store

/// Evaluates measures for runs of a catalog, reading only what each needs: one index lookup
/// for `final`/`at`, one range aggregate in SQLite for `min`/`max`/`first_*`, one range scan
/// for `auc`. Values are cached per (run, measure), so sorting by and showing a metric reads it
/// once. Statements are prepared once per reader.
///
///     let reader = MetricReader(catalog)
///     let mse = try reader.value(.derived(.final("test_mse")), for: catalog.runs[0])
public final class MetricReader {
    public let catalog: RunCatalog
    private var db: Database { catalog.archive.database }
    private var cache: [CacheKey: DatabaseValue] = [:]
    private var statements: [String: Statement] = [:]

    private struct CacheKey: Hashable { let run: Int64; let measure: Measure }

    public init(_ catalog: RunCatalog) { self.catalog = catalog }

    /// The measure's value for `run`: NULL when the run lacks what it needs (a key it never
    /// recorded, a threshold never reached, a ratio with a zero or missing denominator).
    public func value(_ measure: Measure, for run: CatalogRun) throws -> DatabaseValue {
        let key = CacheKey(run: run.id, measure: measure)
        if let cached = cache[key] { return cached }
        let value: DatabaseValue
        switch measure {
        case .field(let field): value = field.value(of: run)
        case .config(let path):
            if let text = run.params[path] {
                // Numbers compare and sort as numbers; "nan"/"inf" spelled as words stay text.
                let numeric = text.first.map { $0.isNumber || $0 == "-" || $0 == "." } ?? false
                value = numeric ? Double(text).map { .real($0) } ?? .text(text) : .text(text)
            } else { value = .null }
        case .derived(let metric): value = try derived(metric, run: run.id).map { .real($0) } ?? .null
        }
        cache[key] = value
        return value
    }

    /// A number for sorting, grouping axes and plots: numbers as they are, config text read by
    /// `configNumber` (`[64]` is 64); nil otherwise.
    public func number(_ measure: Measure, for run: CatalogRun) throws -> Double? {
        switch try value(measure, for: run) {
        case .integer(let i): return Double(i)
        case .real(let r): return r
        case .text(let t): return configNumber(t)
        default: return nil
        }
    }

    // MARK: Derived metrics (docs/metrics.md, "Derived metrics")

    func derived(_ metric: DerivedMetric, run: Int64) throws -> Double? {
        switch metric {
        case .final(let k): return try final(run, k)
        case .minimum(let k): return try aggregate("min", run, k)
        case .maximum(let k): return try aggregate("max", run, k)
        case .best(let k): return try aggregate(DerivedMetric.largerIsBetter(k) ? "max" : "min", run, k)
        case .bestStep(let k):
            let order = DerivedMetric.largerIsBetter(k) ? "value DESC" : "value ASC"
            return try number("SELECT step FROM metrics WHERE run_id = ?1 AND key_id = ?2 AND value = value ORDER BY \(order), step LIMIT 1", run, k)
        case .mean(let k): return try aggregate("avg", run, k)
        case .area(let k): return try area(run, k)
        case .at(let k, let step):
            return try number("SELECT value FROM metrics WHERE run_id = ?1 AND key_id = ?2 AND step <= ?3 ORDER BY step DESC LIMIT 1", run, k, extra: .integer(Int64(step)))
        case .firstBelow(let k, let x):
            return try number("SELECT min(step) FROM metrics WHERE run_id = ?1 AND key_id = ?2 AND value <= ?3", run, k, extra: .real(x))
        case .firstAbove(let k, let x):
            return try number("SELECT min(step) FROM metrics WHERE run_id = ?1 AND key_id = ?2 AND value >= ?3", run, k, extra: .real(x))
        case .generalizationGap: return try difference(final(run, "test_mse"), final(run, "train_mse"))
        case .generalizationGapAccuracy: return try difference(final(run, "train_acc"), final(run, "test_acc"))
        case .grokkingDelay(let test, let train):
            return try difference(derived(.firstAbove("test_acc", test), run: run), derived(.firstAbove("train_acc", train), run: run))
        case .pRatio: return try ratio(final(run, "p_test"), final(run, "p_train"))
        case .approxRatio: return try ratio(final(run, "approx_err_lin"), final(run, "approx_err_tel"))
        case .kernelDriftEnd: return try final(run, "kdrift0")
        }
    }

    private func final(_ run: Int64, _ key: String) throws -> Double? {
        try number("SELECT value FROM metrics WHERE run_id = ?1 AND key_id = ?2 ORDER BY step DESC LIMIT 1", run, key)
    }

    /// SQLite's aggregate over the series; NaN rows (stored as NULL) are skipped by SQL.
    private func aggregate(_ function: String, _ run: Int64, _ key: String) throws -> Double? {
        try number("SELECT \(function)(value) FROM metrics WHERE run_id = ?1 AND key_id = ?2", run, key)
    }

    /// Trapezoidal rule over recorded steps; a missing (NaN) value drops its two trapezoids.
    private func area(_ run: Int64, _ key: String) throws -> Double? {
        guard let keyID = catalog.keyIDs[key] else { return nil }
        let select = try statement("SELECT step, value FROM metrics WHERE run_id = ?1 AND key_id = ?2 ORDER BY step")
        select.reset()
        select.bind(run, at: 1)
        select.bind(keyID, at: 2)
        var total = 0.0, previous: (step: Double, value: Double)?, any = false
        while try select.step() {
            let step = Double(select.int64(at: 0))
            let value = select.isNull(at: 1) ? Double.nan : select.double(at: 1)
            if let p = previous, p.value.isFinite, value.isFinite {
                total += (step - p.step) * (p.value + value) / 2
                any = true
            }
            previous = (step, value)
        }
        return any ? total : nil
    }

    private func number(_ sql: String, _ run: Int64, _ key: String, extra: DatabaseValue? = nil) throws -> Double? {
        guard let keyID = catalog.keyIDs[key] else { return nil }
        let select = try statement(sql)
        select.reset()
        select.bind(run, at: 1)
        select.bind(keyID, at: 2)
        if let extra { select.bind(extra, at: 3) }
        guard try select.step(), !select.isNull(at: 0) else { return nil }
        let v = select.double(at: 0)
        select.reset()
        return v
    }

    private func statement(_ sql: String) throws -> Statement {
        if let s = statements[sql] { return s }
        let s = try db.prepare(sql)
        statements[sql] = s
        return s
    }

    private func difference(_ a: Double?, _ b: Double?) -> Double? {
        guard let a, let b else { return nil }
        return a - b
    }

    private func ratio(_ a: Double?, _ b: Double?) -> Double? {
        guard let a, let b, b != 0 else { return nil }
        return a / b
    }
}
