import Foundation
import Query
import Runner
import Store
import XCTest

/// A scratch folder per test, removed afterwards.
class StudyTestCase: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tlens-study-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func reader(_ path: String) throws -> MetricReader { MetricReader(try RunCatalog(Archive(path: path))) }

    /// Trains every point of a shipped sweep preset in this process, one after another, the way
    /// a `tlens sweep` worker does (register the sweep, claim a point, train it, release it).
    func trainSweep(preset: String, into path: String) throws {
        let text = try XCTUnwrap(Presets.sweepText(named: preset), "preset \(preset) is not shipped")
        let sweep = try SweepSpec.load(text: text, source: "preset \(preset)")
        let recorder = try Recorder(path: path)
        defer { try? recorder.close() }
        let sweepID = try recorder.registerSweep(name: sweep.name, specJSON: sweep.canonicalJSON,
                                                 points: sweep.points.map { ($0.name, $0.tree.json, $0.axesJSON) }, extend: false)
        while let point = try recorder.claimSweepPoint(sweepID: sweepID) {
            defer { try? recorder.releaseSweepPoint(sweepID: sweepID, name: point.name) }
            let prepared = try PreparedRun(try TrainConfig.load(text: point.configJSON, source: point.name))
            let outcome = try Trainer(prepared).run(recorder: recorder, codeVersion: "test", progress: nil, sweep: sweep.name, sweepPoint: point.name)
            XCTAssertEqual(outcome.status, .completed, point.name)
        }
    }

    /// One recorded run of a fixture sweep: its config values and scalar series.
    struct RecordedRun {
        var seed: Int
        var params: [(String, String)]
        /// The sweep axes, `{"model.hidden": [8]}`.
        var axesJSON: String
        var series: [String: [(step: Int, value: Double)]]
    }

    /// Records `runs` as the completed points of sweep `name`, through the Store's recorder, as
    /// `tlens sweep` would have left them: figures measured elsewhere become a database the
    /// study reads like any other.
    func recordSweep(_ name: String, runs: [RecordedRun], into path: String) throws {
        let recorder = try Recorder(path: path)
        defer { try? recorder.close() }
        let points = runs.enumerated().map { i, run in ("\(name) point \(i) seed=\(run.seed)", "{}", run.axesJSON) }
        _ = try recorder.registerSweep(name: name, specJSON: "{}", points: points, extend: false)
        for (point, run) in zip(points, runs) {
            var info = RunInfo(name: point.0, sweep: name, configJSON: "{}", seed: UInt64(run.seed), codeVersion: "test", host: "fixture",
                               dataFingerprint: "f", params: run.params + [("seed", "\(run.seed)")])
            info.sweepPoint = point.0
            let recorded = try recorder.startRun(info)
            for (key, values) in run.series.sorted(by: { $0.key < $1.key }) {
                let id = try recorded.metricKey(key)
                for (step, value) in values { try recorded.log(id, step: step, value: value) }
            }
            try recorded.flush()
            try recorded.finish(status: .completed, error: nil)
        }
    }
}
