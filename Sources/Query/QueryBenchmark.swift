import Foundation
import Store

/// `tlens bench query`: a sweep-sized database (200 runs × 5,000 steps × 20 keys = 20 million
/// scalar rows, plus vectors for 10 runs), and the time the query commands take on it: `runs`,
/// `runs --where`, `compare --by` and the shipped named query `sweep_table`.
public enum QueryBenchmark {
    public static let keys = ["train_loss", "train_mse", "test_mse", "train_acc", "test_acc", "approx_err_tel", "approx_err_lin",
                              "p_train", "p_test", "kdrift0", "kvel", "ktrace_train", "ktrace_test", "kalign",
                              "kwn_mean_test", "kwn_max_test", "lr", "grad_norm/1", "grad_norm/2", "update_norm/1"]
    /// The sweep's axes: 10 widths × 5 learning rates × `runs / 50` seeds.
    public static let widths = [8, 16, 32, 48, 64, 96, 128, 256, 512, 1024]
    public static let rates = [0.001, 0.003, 0.01, 0.03, 0.1]

    /// Records the database through the same Recorder a training run uses. Series are smooth
    /// curves with seeded noise, so derived metrics and filters have realistic spreads.
    public static func build(path: String, runs: Int, steps: Int, vectorRuns: Int, vectorPoints: Int = 500) throws {
        let recorder = try Recorder(path: path)
        var points: [(Int64, String, String)] = []
        var noise: UInt64 = 0x9E37_79B9_7F4A_7C15
        func uniform() -> Double {
            noise = noise &* 6364136223846793005 &+ 1442695040888963407
            return Double(noise >> 11) / Double(1 << 53)
        }
        for r in 0..<runs {
            let width = widths[r % widths.count], rate = rates[(r / widths.count) % rates.count], seed = r / (widths.count * rates.count)
            let name = "bench hidden=\(width) lr=\(rate) seed=\(seed)"
            let run = try recorder.startRun(RunInfo(
                name: name, sweep: "bench", configJSON: #"{"model": {"hidden": [\#(width)]}, "optimizer": {"lr": \#(rate)}, "seed": \#(seed)}"#,
                seed: UInt64(seed), codeVersion: "bench", host: "bench", dataFingerprint: "bench",
                params: [("model.hidden", "[\(width)]"), ("optimizer.lr", "\(rate)"), ("seed", "\(seed)"), ("steps", "\(steps)")]))
            let ids = try keys.map { try run.metricKey($0) }
            let floor = 0.1 + 0.3 * exp(-pow(log(Double(width) / 64), 2)) + 0.02 * uniform()
            for step in 0..<steps {
                let decay = exp(-Double(step) * rate / 20)
                for (k, key) in ids.enumerated() {
                    try run.log(key, step: step, value: floor + decay * (1 + Double(k) / 10) + 0.001 * uniform())
                }
            }
            if r < vectorRuns {
                try run.logEvalPoints(split: "test", rowIDs: Array(0..<vectorPoints))
                let values = (0..<vectorPoints).map { Float($0) / Float(vectorPoints) }
                for step in stride(from: 0, to: steps, by: max(1, steps / 50)) {
                    for kind in ["pred", "tel", "lin", "kwn"] {
                        try values.withUnsafeBufferPointer { try run.logVector(kind: kind, split: "test", step: step, values: $0) }
                    }
                }
            }
            try run.flush()
            try run.finish(status: .completed, error: nil)
            points.append((run.runID, name, #"{"model.hidden": [\#(width)], "optimizer.lr": \#(rate), "seed": \#(seed)}"#))
        }
        try recorder.close()
        let db = try Database(path: path, mode: .readWrite)
        let sweep = try db.scalarInt("SELECT id FROM sweeps WHERE name = 'bench'") ?? 0
        try db.transaction {
            for (i, (run, name, axes)) in points.enumerated() {
                try db.execute("INSERT INTO sweep_points(sweep_id, point, name, config_json, axes_json, run_id) VALUES (?, ?, ?, '{}', ?, ?)",
                               [.integer(sweep), .integer(Int64(i + 1)), .text(name), .text(axes), .integer(run)])
            }
        }
        try db.close()
    }

    /// One timed query: what a command does after argument parsing (open, load the catalog,
    /// compute, render), in this process.
    public struct Case {
        public let name: String
        /// The equivalent command line (after `tlens`), for the whole-command timing.
        public let arguments: [String]
        let body: (String) throws -> Int
    }

    public static func cases(threshold: Double, extra: [Case] = []) -> [Case] {
        func reader(_ path: String) throws -> MetricReader { MetricReader(try RunCatalog(Archive(path: path))) }
        return [
            Case(name: "runs", arguments: ["runs"]) { path in
                try Listings.runs(reader(path), selection: RunSelection()).render(.table).utf8.count
            },
            Case(name: "runs --where final.test_mse<…", arguments: ["runs", "--where", "final.test_mse<\(threshold)"]) { path in
                try Listings.runs(reader(path), selection: RunSelection(conditions: ["final.test_mse<\(threshold)"])).render(.table).utf8.count
            },
            Case(name: "compare --sweep --by model.hidden", arguments: ["compare", "--sweep", "bench", "--by", "model.hidden", "--keys", "final.test_mse,final.p_test"]) { path in
                try ComparisonRequest(selection: RunSelection(sweep: "bench"), by: ["model.hidden"], keys: ["final.test_mse", "final.p_test"])
                    .table(reader(path)).render(.table).utf8.count
            },
            Case(name: "query sweep_table --param sweep=bench", arguments: ["query", "sweep_table", "--param", "sweep=bench"]) { path in
                let query = try QueryLibrary.shipped("sweep_table")
                let request = AnalysisRequest(query: query, bindings: try query.bindings([("sweep", "bench")]))
                return try request.execute(on: Archive(path: path), fingerprint: false).table.render(.table).utf8.count
            },
        ] + extra
    }

    /// The plain-SQL floor the cases are compared with: the final test_mse of every run in one
    /// statement, read into Swift.
    public static func baseline(path: String) throws -> Int {
        let db = try Database(path: path, mode: .readOnly)
        let select = try db.prepare("""
            SELECT r.id, (SELECT value FROM metrics WHERE run_id = r.id AND key_id = k.id ORDER BY step DESC LIMIT 1)
            FROM runs r, metric_keys k WHERE k.name = 'test_mse'
            """)
        var rows = 0
        while try select.step() { rows += 1 }
        return rows
    }

    /// The median of `repeats` wall-clock timings of `body`, in seconds.
    public static func median(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
        var times: [Double] = []
        for _ in 0..<max(1, repeats) {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return times.sorted()[times.count / 2]
    }

    public static func run(_ c: Case, path: String) throws -> Int { try c.body(path) }
}
