import Foundation
import Spelling

/// The preprocessing of the paper's tabular experiments (Appendix C.2: "log transformations of
/// skewed features and target rescaling") on named feature columns: `log_features` and
/// `log_target`, shared by `diamonds` and `csv` (data/README.md, "Tabular preprocessing").
/// Decided and applied on the data as read, before any split, so every split of a file sees the
/// same columns transformed (as the benchmark's transformed OpenML copies do).
enum TabularPreprocessing {
    /// `auto` logs a column when it is right-skewed past this sample skewness (Fisher–Pearson
    /// g₁ = m₃ / m₂^{3/2}): the usual "highly skewed" line (|g₁| > 1, Bulmer 1979).
    static let skewnessThreshold = 1.0

    enum LogFeatures: Equatable { case none, auto, named([String]) }

    /// The option's value: `none`, `auto`, or a list of feature column names.
    static func logFeatures(_ value: DataValue?) -> LogFeatures {
        switch value {
        case nil, .string("none")?, .list([.string("none")])?: return .none
        case .string("auto")?, .list([.string("auto")])?: return .auto
        case .string(let name)?: return .named([name])
        case .list(let items)?: return .named(items.compactMap { if case .string(let s) = $0 { return s }; return nil })
        default: return .none
        }
    }

    static func skewness(_ x: [Double]) -> Double {
        let n = Double(x.count)
        let mean = x.reduce(0, +) / n
        var m2 = 0.0, m3 = 0.0
        for v in x { let d = v - mean; m2 += d * d; m3 += d * d * d }
        m2 /= n; m3 /= n
        return m2 > 0 ? m3 / pow(m2, 1.5) : 0
    }

    /// The feature columns `auto` logs: non-negative, more than two distinct values (a 0/1
    /// column gains nothing), and skewness above `skewnessThreshold`.
    static func skewedColumns(_ d: Dataset) -> [Int] {
        (0..<d.dimension).filter { j in
            let column = (0..<d.count).map { Double(d.features[$0 * d.dimension + j]) }
            var distinct = Set<Double>()
            for v in column where distinct.count < 3 { distinct.insert(v) }
            guard column.allSatisfy({ $0 >= 0 }), distinct.count > 2 else { return false }
            return skewness(column) > skewnessThreshold
        }
    }

    /// The columns `log_features` names, checked against `names` (the feature columns of `d`).
    static func columns(_ choice: LogFeatures, of d: Dataset, names: [String], location: String) throws -> [Int] {
        switch choice {
        case .none: return []
        case .auto: return skewedColumns(d)
        case .named(let wanted):
            return try wanted.map { name in
                if let j = names.firstIndex(of: name) { return j }
                var message = "no feature column named \"\(name)\""
                if let near = nearestName(to: name, in: names) { message += "; did you mean \"\(near)\"?" }
                throw DataError(location, option: "log_features", message + " (features: " + names.joined(separator: ", ") + ")")
            }
        }
    }

    /// Features in `columns` become ln(1 + x) (zeros stay 0, so count-like columns keep their
    /// floor); with `logTarget` the target becomes ln(y). Values outside the logs' domains are
    /// refused with the row they are on.
    static func apply(_ d: Dataset, columns: [Int], names: [String], logTarget: Bool, location: String) throws -> Dataset {
        var out = d
        for j in columns {
            for i in 0..<d.count {
                let x = d.features[i * d.dimension + j]
                guard x > -1 else {
                    throw DataError(location, option: "log_features",
                                    "column \"\(names[j])\" has \(x) in data row \(d.rowIDs[i] + 1); ln(1 + x) needs x > −1")
                }
                out.features[i * d.dimension + j] = Float(log1p(Double(x)))
            }
        }
        if logTarget {
            guard d.labels == nil, d.targetDimension > 0 else {
                throw DataError(location, option: "log_target", "needs a regression target; this data has class labels")
            }
            for (k, y) in d.targets.enumerated() {
                guard y > 0 else {
                    throw DataError(location, option: "log_target",
                                    "target \(y) in data row \(d.rowIDs[k / d.targetDimension] + 1) is not positive; ln(y) needs y > 0")
                }
                out.targets[k] = Float(log(Double(y)))
            }
        }
        return out
    }

    /// `log_features` and `log_target` of `o` on `d`, whose feature columns are `names`;
    /// the columns are decided on `d` (or `decideOn`, the training file of a train/test pair).
    static func apply(_ o: ResolvedOptions, to d: Dataset, names: [String], decideOn: Dataset? = nil, location: String) throws -> Dataset {
        let choice = logFeatures(o.optionalValue("log_features"))
        let columns = try columns(choice, of: decideOn ?? d, names: names, location: location)
        return try apply(d, columns: columns, names: names, logTarget: o.optionalBool("log_target") ?? false, location: location)
    }
}
