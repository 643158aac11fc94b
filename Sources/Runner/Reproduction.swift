import Foundation
import Linalg
import Store

/// `tlens reproduce`: a stored run trained again from its stored config, and every scalar key
/// and vector kind compared step by step with the original.
public enum Reproduction {
    /// The largest difference found for one key (or vector kind/split).
    public struct Difference {
        public var key: String
        public var steps: Int
        public var largest: Double
        public var step: Int?
        /// Steps present in one run and not the other.
        public var missing: Int
        /// A key the copy records and the original never did (newer code): reported, not a failure.
        public var onlyInCopy = false
    }

    /// What differs between the original run's environment and this process's: each a line.
    public static func environmentWarnings(original: RunSummary, params: [String: String], fingerprint: String,
                                           codeVersion: String) -> [String] {
        var warnings: [String] = []
        if original.codeVersion != codeVersion { warnings.append("code version \(original.codeVersion) → \(codeVersion)") }
        if original.host != ProcessInfo.processInfo.hostName { warnings.append("host \(original.host) → \(ProcessInfo.processInfo.hostName)") }
        if params["threads"] == nil { warnings.append("the original's config has no thread count (recorded before runs fixed it); its results may differ in the last bits") }
        if let g = params["env.gemm"], g != ComputeEnvironment.gemm { warnings.append("GEMM \(g) → \(ComputeEnvironment.gemm)") }
        if original.dataFingerprint != fingerprint { warnings.append("data fingerprint \(original.dataFingerprint) → \(fingerprint)") }
        return warnings
    }

    /// Every scalar key and vector kind of run `a` in `da` against run `b` in `db` (but the
    /// weight-averaging keys `lmc_*`, written after training): the largest absolute difference
    /// per key and where. NaN equals NaN; a step in one run only counts as
    /// missing.
    public static func compare(_ da: Database, run a: Int64, _ db: Database, run b: Int64) throws -> [Difference] {
        func scalars(_ d: Database, _ run: Int64) throws -> [String: [Int: Double]] {
            var out: [String: [Int: Double]] = [:]
            let s = try d.prepare("SELECT k.name, m.step, m.value FROM metrics m JOIN metric_keys k ON k.id = m.key_id WHERE m.run_id = ?")
            s.bind([.integer(run)])
            while try s.step() {
                let key = s.string(at: 0) ?? ""
                // Weight averaging's keys are recorded after training, by another command.
                if key.hasPrefix(WeightAveraging.keyPrefix) { continue }
                out[key, default: [:]][Int(s.int64(at: 1))] = s.isNull(at: 2) ? .nan : s.double(at: 2)
            }
            return out
        }
        func vectors(_ d: Database, _ run: Int64) throws -> [String: [Int: [Float]]] {
            var out: [String: [Int: [Float]]] = [:]
            let s = try d.prepare("SELECT kind, split, step, data FROM vectors WHERE run_id = ?")
            s.bind([.integer(run)])
            while try s.step() {
                let bytes = s.blob(at: 3) ?? []
                let values = bytes.withUnsafeBytes { raw in (0..<(bytes.count / 4)).map { raw.load(fromByteOffset: 4 * $0, as: Float.self) } }
                out["\(s.string(at: 0) ?? "")/\(s.string(at: 1) ?? "")", default: [:]][Int(s.int64(at: 2))] = values
            }
            return out
        }
        func differences<T>(_ x: [String: [Int: T]], _ y: [String: [Int: T]], prefix: String, distance: (T, T) -> Double) -> [Difference] {
            Set(x.keys).union(y.keys).sorted().map { key in
                let xs = x[key] ?? [:], ys = y[key] ?? [:]
                var d = Difference(key: prefix + key, steps: Set(xs.keys).union(ys.keys).count, largest: 0, step: nil, missing: 0,
                                   onlyInCopy: x[key] == nil)
                for step in Set(xs.keys).union(ys.keys).sorted() {
                    guard let u = xs[step], let v = ys[step] else { d.missing += 1; d.step = d.step ?? step; continue }
                    let gap = distance(u, v)
                    if gap > d.largest || (gap.isNaN && !d.largest.isNaN) { d.largest = gap; d.step = step }
                }
                return d
            }
        }
        let scalarGap = { (u: Double, v: Double) -> Double in
            if u.bitPattern == v.bitPattern || (u.isNaN && v.isNaN) { return 0 }
            let gap = abs(u - v)
            return gap == 0 ? Double.leastNonzeroMagnitude : gap   // +0 vs −0: not the same bits
        }
        let vectorGap = { (u: [Float], v: [Float]) -> Double in
            guard u.count == v.count else { return .infinity }
            var worst = 0.0
            for (p, q) in zip(u, v) where p.bitPattern != q.bitPattern && !(p.isNaN && q.isNaN) {
                worst = max(worst, max(Double(abs(p - q)), Double.leastNonzeroMagnitude))
            }
            return worst
        }
        return differences(try scalars(da, a), try scalars(db, b), prefix: "", distance: scalarGap)
            + differences(try vectors(da, a), try vectors(db, b), prefix: "vector ", distance: vectorGap)
    }
}

