import Foundation
import XCTest
@testable import Query
@testable import Store

/// A fresh directory per test, removed afterwards.
final class QueryTestDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("tlens-query-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A database recorded through the Store's `Recorder` whose every value is a closed-form
/// function of (run, key, step) (`ShippedQueryFixture.value`), so each shipped query's answer can be
/// computed here, in Swift, without SQL.
///
/// - sweep `width`: model.hidden ∈ [16], [8], [64] (spec order, not numeric order) × seeds 0, 1;
/// - sweep `irregular`: data.irregular_fraction ∈ 0, 0.25 × seeds 0, 1;
/// - run `decades`: approx errors at steps 0, 3, 7, 10, 50, 99, 100, 500, 1000 (one NaN);
/// - run `grokking`: train_acc reaches 1 at step 40, test_acc reaches 0.95 at step 120;
/// - run `parent` with three children: two with spawn.step = 20, one without (first step 30).
struct ShippedQueryFixture {
    struct Run {
        var id: Int64
        var name: String
        var sweep: String?
        var params: [String: String]
        var steps: [Int]
        var keys: [String]
        var parent: Int64?
    }

    var runs: [Run] = []
    let path: String

    static let sweepKeys = ["test_mse", "train_mse", "p_train", "p_test", "kwn_max_test", "kwn_mean_test", "approx_err_tel", "approx_err_lin"]

    /// The fixture's value of `key` at `step` of run `id`: distinct for every (run, key, step).
    static func value(run id: Int64, key: String, step: Int) -> Double {
        let k = Double(key.unicodeScalars.reduce(0) { ($0 * 31 + Int($1.value)) % 997 })
        return (Double(id) * 1.25 + k / 100) / (1 + Double(step) / 10) + Double(step) * 1e-4
    }

    init(path: String) throws {
        self.path = path
        let recorder = try Recorder(path: path)
        func record(name: String, sweep: String? = nil, point: String? = nil, parent: Int64? = nil, params: [(String, String)],
                    steps: [Int], keys: [String], value: (Int64, String, Int) -> Double = ShippedQueryFixture.value) throws -> Run {
            var info = RunInfo(name: name, sweep: sweep, parentRunID: parent, configJSON: "{}", seed: 0,
                               codeVersion: "test", host: "test", dataFingerprint: "test", params: params)
            info.sweepPoint = point
            let run = try recorder.startRun(info)
            let interned = try keys.map { try run.metricKey($0) }
            for step in steps {
                for (key, name) in zip(interned, keys) { try run.log(key, step: step, value: value(run.runID, name, step)) }
            }
            try run.finish(status: .completed, error: nil)
            return Run(id: run.runID, name: name, sweep: sweep, params: Dictionary(uniqueKeysWithValues: params), steps: steps, keys: keys, parent: parent)
        }
        let steps = Array(stride(from: 0, through: 150, by: 5))
        for (sweep, axis, values) in [("width", "model.hidden", ["[16]", "[8]", "[64]"]), ("irregular", "data.irregular_fraction", ["0.0", "0.25"])] {
            var points: [(name: String, configJSON: String, axesJSON: String)] = []
            for value in values {
                for seed in 0..<2 {
                    points.append(("\(sweep) \(axis)=\(value) seed=\(seed)", "{}", "{\"\(axis)\": \(value), \"seed\": \(seed)}"))
                }
            }
            _ = try recorder.registerSweep(name: sweep, specJSON: "{}", points: points, extend: false)
            for point in points {
                let value = point.name.split(separator: "=")[1].split(separator: " ")[0]
                let seed = String(point.name.split(separator: "=").last!)
                runs.append(try record(name: point.name, sweep: sweep, point: point.name,
                                       params: [(axis, String(value)), ("seed", seed), ("model.kind", "mlp")],
                                       steps: steps, keys: Self.sweepKeys))
            }
        }
        runs.append(try record(name: "decades", params: [], steps: [0, 3, 7, 10, 50, 99, 100, 500, 1000],
                               keys: ["approx_err_tel", "approx_err_lin"],
                               value: { run, key, step in step == 50 && key == "approx_err_lin" ? .nan : ShippedQueryFixture.value(run: run, key: key, step: step) }))
        runs.append(try record(name: "grokking", params: [], steps: steps, keys: ["train_acc", "test_acc", "p_train", "p_test"],
                               value: { run, key, step in
                                   switch key {
                                   case "train_acc": return min(1, Double(step) / 40)
                                   case "test_acc": return step >= 120 ? 0.95 + Double(step - 120) / 1000 : 0.5 + Double(step) / 1000
                                   default: return ShippedQueryFixture.value(run: run, key: key, step: step)
                                   }
                               }))
        let parent = try record(name: "parent", params: [], steps: [0, 10, 20, 30, 40], keys: ["test_mse"])
        runs.append(parent)
        runs.append(try record(name: "child a", parent: parent.id, params: [("spawn.step", "20")], steps: [20, 30, 40], keys: ["test_mse", "lmc_barrier"]))
        runs.append(try record(name: "child b", parent: parent.id, params: [("spawn.step", "20")], steps: [20, 30, 40], keys: ["test_mse", "lmc_barrier"]))
        runs.append(try record(name: "child c", parent: parent.id, params: [], steps: [30, 40], keys: ["test_mse"]))
        try recorder.close()
    }

    func run(_ name: String) -> Run { runs.first { $0.name == name }! }

    /// The last recorded value of `key` for `run`, as SQLite returns it (NaN is NULL).
    func final(_ run: Run, _ key: String) -> Double? {
        guard run.keys.contains(key), let step = run.steps.last else { return nil }
        return Self.value(run: run.id, key: key, step: step)
    }
}

/// Runs a shipped or given query on `path` (read-only) with `--param`-style arguments.
func runQuery(_ name: String, _ arguments: [(String, String)] = [], on path: String, text: String? = nil) throws -> ResultTable {
    let query = try text.map { try NamedQuery(name: name, text: $0, source: .file("\(name).sql")) } ?? QueryLibrary.shipped(name)
    let request = AnalysisRequest(query: query, bindings: try query.bindings(arguments))
    return try request.execute(on: Archive(path: path), fingerprint: false).table
}

func real(_ value: DatabaseValue?) -> Double? {
    switch value {
    case .real(let r)?: return r
    case .integer(let i)?: return Double(i)
    default: return nil
    }
}

func assertClose(_ actual: Double?, _ expected: Double?, _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    guard let actual, let expected else {
        XCTAssertEqual(actual == nil, expected == nil, "\(message): \(String(describing: actual)) vs \(String(describing: expected))", file: file, line: line)
        return
    }
    XCTAssertEqual(actual, expected, accuracy: 1e-12 * max(1, abs(expected)), message, file: file, line: line)
}
