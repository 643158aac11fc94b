import Foundation
import XCTest
@testable import Query
@testable import Store

/// A database built by the Store's own recorder with series given by closed forms, so every
/// derived metric has an independent expected value computed here, in the test.
///
/// Sweep "dd": model.hidden ∈ {4, 8, 16, 32} × seed ∈ {0, 1, 2}; 12 runs, steps 0, 10, …, 100.
///   test_mse(s)  = a + b·exp(−s/40) + 0.01·seed    with a = peak(hidden)
///   train_mse(s) = 0.5·exp(−s/30)
///   train_acc(s) = min(1, s/50)          (≥ 0.99 first at s = 50)
///   test_acc(s)  = min(1, s/80)          (≥ 0.95 first at s = 80)
///   p_train = hidden, p_test = hidden/2 + seed, approx_err_tel = 1e-4, approx_err_lin = 1e-2 · (1 + seed)
///   kdrift0(s) = s / 1000
/// Run 13: "lonely", no sweep, status interrupted, only train_loss, with an event.
final class QueryFixture {
    let directory: URL
    let path: String
    static let hiddens = [4, 8, 16, 32]
    static let seeds = [0, 1, 2]
    static let steps = Array(stride(from: 0, through: 100, by: 10))
    /// The test MSE floor by width: a peak at 16 (interior), the double-descent signature.
    static func floor(_ hidden: Int) -> Double { [4: 0.30, 8: 0.45, 16: 0.60, 32: 0.20][hidden]! }

    static func testMSE(hidden: Int, seed: Int, step: Int) -> Double {
        floor(hidden) + 0.5 * exp(-Double(step) / 40) + 0.01 * Double(seed)
    }
    static func trainMSE(step: Int) -> Double { 0.5 * exp(-Double(step) / 30) }
    static func trainAcc(step: Int) -> Double { min(1, Double(step) / 50) }
    static func testAcc(step: Int) -> Double { min(1, Double(step) / 80) }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tlens-query-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("fixture.sqlite").path
        let recorder = try Recorder(path: path)
        var point = 0
        var axes: [(Int64, String, String)] = []
        for hidden in Self.hiddens {
            for seed in Self.seeds {
                point += 1
                let name = "dd hidden=\(hidden) seed=\(seed)"
                let run = try recorder.startRun(RunInfo(
                    name: name, sweep: "dd", configJSON: #"{"model": {"hidden": [\#(hidden)]}, "seed": \#(seed)}"#,
                    seed: UInt64(seed), codeVersion: "test", host: "fixture", dataFingerprint: "f",
                    params: [("model.hidden", "[\(hidden)]"), ("optimizer.lr", "0.05"), ("seed", "\(seed)"), ("steps", "100")]))
                let keys = try ["test_mse", "train_mse", "train_acc", "test_acc", "p_train", "p_test", "approx_err_tel", "approx_err_lin", "kdrift0"].map { try run.metricKey($0) }
                for step in Self.steps {
                    let values = [Self.testMSE(hidden: hidden, seed: seed, step: step), Self.trainMSE(step: step),
                                  Self.trainAcc(step: step), Self.testAcc(step: step), Double(hidden),
                                  Double(hidden) / 2 + Double(seed), 1e-4, 1e-2 * Double(1 + seed), Double(step) / 1000]
                    for (key, value) in zip(keys, values) { try run.log(key, step: step, value: value) }
                }
                try run.flush()
                try run.finish(status: .completed, error: nil)
                axes.append((run.runID, name, #"{"model.hidden": [\#(hidden)], "seed": \#(seed)}"#))
            }
        }
        let lonely = try recorder.startRun(RunInfo(name: "lonely", configJSON: "{}", seed: 7, codeVersion: "test", host: "fixture",
                                                   dataFingerprint: "f", params: [("optimizer.lr", "0.1")]))
        let loss = try lonely.metricKey("train_loss")
        for step in 1...5 { try lonely.log(loss, step: step, value: 1 / Double(step)) }
        try lonely.logEvent(step: 3, kind: "resumed", message: "resumed from step 3")
        try lonely.flush()
        try lonely.finish(status: .interrupted, error: nil)
        try recorder.close()

        // Sweep points as `tlens sweep` writes them (the recorder links runs; the test adds rows).
        let db = try Database(path: path, mode: .readWrite)
        let sweep = try db.scalarInt("SELECT id FROM sweeps WHERE name = 'dd'")!
        for (i, (run, name, axesJSON)) in axes.enumerated() {
            try db.execute("INSERT INTO sweep_points(sweep_id, point, name, config_json, axes_json, run_id) VALUES (?, ?, ?, '{}', ?, ?)",
                           [.integer(sweep), .integer(Int64(i + 1)), .text(name), .text(axesJSON), .integer(run)])
        }
        try db.close()
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func reader() throws -> MetricReader { MetricReader(try RunCatalog(Archive(path: path))) }

    /// SHA-256-free but byte-exact: the file's bytes (and its -wal, if any).
    func snapshot() throws -> [Data] {
        try [path, path + "-wal"].map { FileManager.default.fileExists(atPath: $0) ? try Data(contentsOf: URL(fileURLWithPath: $0)) : Data() }
    }
}
