import Foundation
import Spelling
import Store

/// Anything a query command can show, filter on, sort by, group by or plot for one run: a run
/// field, a config path, or a derived metric (docs/metrics.md, "Derived metrics").
///
///     try Measure.parse("final.test_mse", in: catalog)     // .derived(.final("test_mse"))
///     try Measure.parse("optimizer.lr", in: catalog)       // .config("optimizer.lr")
///     try Measure.parse("status", in: catalog)             // .field(.status)
public enum Measure: Hashable, CustomStringConvertible {
    case field(RunField)
    case config(String)
    case derived(DerivedMetric)

    /// Whether values are always numbers (derived metrics and numeric run fields); config
    /// values may be either.
    public var isNumeric: Bool {
        switch self {
        case .derived: return true
        case .field(let f): return [.id, .seed, .lastStep, .duration, .parent].contains(f)
        case .config: return false
        }
    }

    public var description: String {
        switch self {
        case .field(let f): return f.rawValue
        case .config(let path): return path
        case .derived(let d): return d.description
        }
    }

    /// Parses a measure name, checking that its config path or metric keys exist somewhere in
    /// the catalog; an unknown name is an error naming the nearest valid one.
    public static func parse(_ text: String, in catalog: RunCatalog) throws -> Measure {
        let name = text.trimmingCharacters(in: .whitespaces)
        if let field = RunField(rawValue: name) { return .field(field) }
        if catalog.paramPaths.contains(name) { return .config(name) }
        if let derived = try DerivedMetric.parse(name) {
            for key in derived.keys where catalog.keyIDs[key] == nil {
                let hint = nearestName(to: key, in: Array(catalog.keyIDs.keys)).map { "; did you mean \(name.replacingOccurrences(of: key, with: $0))?" } ?? ""
                throw QueryError("unknown metric key '\(RunReference.display(key))' in \(RunReference.display(name))\(hint)")
            }
            return .derived(derived)
        }
        let candidates = RunField.allCases.map(\.rawValue) + catalog.paramPaths.sorted()
            + catalog.keyIDs.keys.sorted().map { "final.\($0)" } + DerivedMetric.named
        let hint = nearestName(to: name, in: candidates).map { "; did you mean \($0)?" }
            ?? "; a name is a run field (\(RunField.allCases.map(\.rawValue).joined(separator: ", "))), a config path (optimizer.lr) or a derived metric (final.test_mse; docs/metrics.md)"
        throw QueryError("unknown name '\(RunReference.display(name))'\(hint)")
    }
}

/// The columns of `runs` itself, by the names a user types.
public enum RunField: String, CaseIterable, Hashable {
    case id, uuid, name, status, sweep, seed, host
    /// The last step with recorded rows (`runs.last_step`).
    case lastStep = "last_step"
    case codeVersion = "code_version"
    /// `runs.created_at`, ISO 8601 UTC.
    case created
    /// Seconds from start to finish (or to the last heartbeat for a run that has not finished).
    case duration
    case parent

    func value(of run: CatalogRun) -> DatabaseValue {
        let s = run.summary
        switch self {
        case .id: return .integer(s.id)
        case .uuid: return .text(s.uuid)
        case .name: return s.name.map { .text($0) } ?? .null
        case .status: return .text(s.effectiveStatus.rawValue)
        case .sweep: return run.sweep.map { .text($0) } ?? .null
        case .seed: return .integer(Int64(bitPattern: s.seed))
        case .host: return .text(s.host)
        case .lastStep: return s.lastStep.map { .integer(Int64($0)) } ?? .null
        case .codeVersion: return .text(s.codeVersion)
        case .created: return .text(isoTime(s.createdAt))
        case .duration:
            guard let start = s.startedAt, let end = s.finishedAt ?? s.heartbeatAt else { return .null }
            return .real((end - start).rounded(toPlaces: 1))
        case .parent: return s.parentRunID.map { .integer($0) } ?? .null
        }
    }
}

func isoTime(_ seconds: Double) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(from: Date(timeIntervalSince1970: seconds))
}

extension Double {
    func rounded(toPlaces places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (self * scale).rounded() / scale
    }
}

/// A number computed from a run's recorded scalar series (docs/metrics.md, "Derived metrics").
/// Steps are the recorded ones: a series thinned by `lens.every` is read as recorded.
public enum DerivedMetric: Hashable, CustomStringConvertible {
    /// The value at the last recorded step.
    case final(String)
    case minimum(String), maximum(String)
    /// `min` for losses and errors, `max` for keys where larger is better (accuracies, `kalign`).
    case best(String)
    /// The first step at which `best` is reached.
    case bestStep(String)
    /// Plain mean over recorded steps.
    case mean(String)
    /// Trapezoidal area under the curve over recorded steps, `Σ (s_{i+1} − s_i)(v_i + v_{i+1})/2`.
    case area(String)
    /// The value at the last recorded step ≤ the step given.
    case at(String, step: Int)
    /// The first recorded step with value ≤ (below) or ≥ (above) the threshold.
    case firstBelow(String, Double), firstAbove(String, Double)
    /// `final.test_mse − final.train_mse`.
    case generalizationGap
    /// `final.train_acc − final.test_acc`.
    case generalizationGapAccuracy
    /// `first_above.test_acc:test − first_above.train_acc:train` (defaults 0.95 and 0.99).
    case grokkingDelay(test: Double, train: Double)
    /// `final.p_test / final.p_train`.
    case pRatio
    /// `final.approx_err_lin / final.approx_err_tel`.
    case approxRatio
    /// `final.kdrift0`: the kernel's relative distance from K(θ_0) at the end.
    case kernelDriftEnd

    /// The whole-name metrics, for help and suggestions.
    static let named = ["gen_gap", "gen_gap_acc", "grokking_delay", "p_ratio", "approx_ratio", "kdrift_end"]

    public var description: String {
        switch self {
        case .final(let k): return "final.\(k)"
        case .minimum(let k): return "min.\(k)"
        case .maximum(let k): return "max.\(k)"
        case .best(let k): return "best.\(k)"
        case .bestStep(let k): return "best_step.\(k)"
        case .mean(let k): return "mean.\(k)"
        case .area(let k): return "auc.\(k)"
        case .at(let k, let s): return "at.\(k)@\(s)"
        case .firstBelow(let k, let x): return "first_below.\(k):\(humanNumber(x))"
        case .firstAbove(let k, let x): return "first_above.\(k):\(humanNumber(x))"
        case .generalizationGap: return "gen_gap"
        case .generalizationGapAccuracy: return "gen_gap_acc"
        case .grokkingDelay(let t, let r): return t == 0.95 && r == 0.99 ? "grokking_delay" : "grokking_delay:\(humanNumber(t)):\(humanNumber(r))"
        case .pRatio: return "p_ratio"
        case .approxRatio: return "approx_ratio"
        case .kernelDriftEnd: return "kdrift_end"
        }
    }

    /// The scalar keys the metric reads.
    public var keys: [String] {
        switch self {
        case .final(let k), .minimum(let k), .maximum(let k), .best(let k), .bestStep(let k), .mean(let k),
             .area(let k), .at(let k, _), .firstBelow(let k, _), .firstAbove(let k, _): return [k]
        case .generalizationGap: return ["test_mse", "train_mse"]
        case .generalizationGapAccuracy: return ["train_acc", "test_acc"]
        case .grokkingDelay: return ["test_acc", "train_acc"]
        case .pRatio: return ["p_test", "p_train"]
        case .approxRatio: return ["approx_err_lin", "approx_err_tel"]
        case .kernelDriftEnd: return ["kdrift0"]
        }
    }

    /// Whether larger values of `key` are better (for `best`).
    static func largerIsBetter(_ key: String) -> Bool {
        key.hasSuffix("_acc") || key == "kalign"
    }

    /// Parses a derived metric name; nil when `text` has no derived-metric form at all, an
    /// error when it has one but a malformed parameter.
    static func parse(_ text: String) throws -> DerivedMetric? {
        func number(_ s: Substring, _ what: String) throws -> Double {
            guard let v = Double(s), v.isFinite else { throw QueryError("\(text): \(what) '\(RunReference.display(String(s)))' is not a number") }
            return v
        }
        if text.hasPrefix("grokking_delay") {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts[0] == "grokking_delay" else { return nil }
            switch parts.count {
            case 1: return .grokkingDelay(test: 0.95, train: 0.99)
            case 3: return .grokkingDelay(test: try number(parts[1], "test accuracy threshold"), train: try number(parts[2], "train accuracy threshold"))
            default: throw QueryError("\(RunReference.display(text)): write grokking_delay or grokking_delay:TEST:TRAIN (thresholds, e.g. grokking_delay:0.9:0.99)")
            }
        }
        switch text {
        case "gen_gap": return .generalizationGap
        case "gen_gap_acc": return .generalizationGapAccuracy
        case "p_ratio": return .pRatio
        case "approx_ratio": return .approxRatio
        case "kdrift_end": return .kernelDriftEnd
        default: break
        }
        guard let dot = text.firstIndex(of: "."), dot != text.startIndex else { return nil }
        let head = text[..<dot], rest = String(text[text.index(after: dot)...])
        guard !rest.isEmpty else { return nil }
        switch head {
        case "final": return .final(rest)
        case "min": return .minimum(rest)
        case "max": return .maximum(rest)
        case "best": return .best(rest)
        case "best_step": return .bestStep(rest)
        case "mean": return .mean(rest)
        case "auc": return .area(rest)
        case "at":
            guard let at = rest.lastIndex(of: "@"), let step = Int(rest[rest.index(after: at)...]), step >= 0 else {
                throw QueryError("\(RunReference.display(text)): write at.KEY@STEP (e.g. at.test_mse@1000)")
            }
            return .at(String(rest[..<at]), step: step)
        case "first_below", "first_above":
            guard let colon = rest.lastIndex(of: ":") else {
                throw QueryError("\(RunReference.display(text)): write \(head).KEY:THRESHOLD (e.g. first_below.test_mse:0.1)")
            }
            let key = String(rest[..<colon]), x = try number(rest[rest.index(after: colon)...], "threshold")
            return head == "first_below" ? .firstBelow(key, x) : .firstAbove(key, x)
        default: return nil
        }
    }
}
