import Foundation
import Spelling
import Store

/// One stored run as the query commands see it: its row, flattened config and sweep axes.
public struct CatalogRun {
    public var summary: RunSummary
    /// The sweep's name, if the run belongs to one.
    public var sweep: String?
    /// `run_params`: config path → stored text ("0.05", "[256]", "sgd").
    public var params: [String: String]
    /// The sweep point's axis values (`sweep_points.axes_json`), seed excluded, in spec order.
    public var axes: [(path: String, value: String)]

    public var id: Int64 { summary.id }

    /// A config value as a number: `value_num`'s reading of it, or the single element of a
    /// one-element list (`model.hidden: [64]` plots as 64).
    public func number(_ path: String) -> Double? {
        guard let text = params[path] else { return nil }
        return configNumber(text)
    }
}

/// `text` as a number when it is one, or a one-element list of one.
func configNumber(_ text: String) -> Double? {
    if let v = Double(text) { return v }
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    if trimmed.hasPrefix("["), trimmed.hasSuffix("]") {
        let inner = trimmed.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
        if !inner.contains(","), let v = Double(inner) { return v }
    }
    return nil
}

/// Every run of an archive with what `--where`, `--sort`, axes and derived metrics need.
/// Loading is three queries whatever the number of runs (200 runs: a few milliseconds).
public struct RunCatalog {
    public let archive: Archive
    public private(set) var runs: [CatalogRun]
    /// Metric key name → `metric_keys.id`.
    public let keyIDs: [String: Int64]
    /// Every config path some run has.
    public let paramPaths: Set<String>

    public init(_ archive: Archive) throws {
        self.archive = archive
        let db = archive.database
        var sweeps: [Int64: String] = [:]
        let selectSweeps = try db.prepare("SELECT id, name FROM sweeps")
        while try selectSweeps.step() { sweeps[selectSweeps.int64(at: 0)] = selectSweeps.string(at: 1) }

        var params: [Int64: [String: String]] = [:]
        var paths = Set<String>()
        let selectParams = try db.prepare("SELECT run_id, key, value FROM run_params")
        while try selectParams.step() {
            let key = selectParams.string(at: 1) ?? ""
            params[selectParams.int64(at: 0), default: [:]][key] = selectParams.string(at: 2) ?? ""
            paths.insert(key)
        }
        var axes: [Int64: [(String, String)]] = [:]
        if archive.has("sweep_points") {
            let selectAxes = try db.prepare("SELECT run_id, axes_json FROM sweep_points WHERE run_id IS NOT NULL")
            while try selectAxes.step() {
                axes[selectAxes.int64(at: 0)] = Self.axisValues(selectAxes.string(at: 1) ?? "{}")
            }
        }
        var keys: [String: Int64] = [:]
        let selectKeys = try db.prepare("SELECT id, name FROM metric_keys")
        while try selectKeys.step() { keys[selectKeys.string(at: 1) ?? ""] = selectKeys.int64(at: 0) }

        runs = try db.runs().map { summary in
            CatalogRun(summary: summary, sweep: summary.sweepID.flatMap { sweeps[$0] },
                       params: params[summary.id] ?? [:], axes: axes[summary.id] ?? [])
        }
        keyIDs = keys
        paramPaths = paths
    }

    /// The axes of `axes_json` in the order written (JSONSerialization loses order), seed
    /// excluded: seeds are what aggregation averages over, not an axis.
    static func axisValues(_ json: String) -> [(String, String)] {
        guard let data = json.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) as? [String: Any] else { return [] }
        let order = object.keys.sorted { (json.range(of: "\"\($0)\"")?.lowerBound ?? json.endIndex) < (json.range(of: "\"\($1)\"")?.lowerBound ?? json.endIndex) }
        return order.filter { $0 != "seed" }.map { key in (key, Self.text(object[key] as Any)) }
    }

    /// A JSON value as `run_params` writes it (numbers as Python/YAML would print them).
    static func text(_ value: Any) -> String {
        switch value {
        // JSONSerialization gives booleans as NSNumber with objCType "c" (a char).
        case let n as NSNumber where String(cString: n.objCType) == "c": return n.boolValue ? "true" : "false"
        case let n as NSNumber: return humanNumber(n.doubleValue)
        case let s as String: return s
        case let list as [Any]: return "[" + list.map { text($0) }.joined(separator: ", ") + "]"
        default:
            let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
    }

    /// Keeps the runs for which `keep` is true.
    public mutating func filter(_ keep: (CatalogRun) throws -> Bool) rethrows {
        runs = try runs.filter(keep)
    }

    /// The runs of sweep `name`, or an error naming the sweeps there are.
    public func runs(ofSweep name: String) throws -> [CatalogRun] {
        let names = Set(runs.compactMap(\.sweep))
        guard names.contains(name) else {
            let known = names.sorted()
            let hint = nearestName(to: name, in: known).map { "; did you mean \($0)?" }
                ?? (known.isEmpty ? " (the database has no sweeps)" : "; sweeps: " + known.prefix(8).joined(separator: ", "))
            throw QueryError("\(archive.path): no sweep '\(name)'\(hint)")
        }
        return runs.filter { $0.sweep == name }
    }
}
