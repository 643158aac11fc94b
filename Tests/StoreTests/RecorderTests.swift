import XCTest
@testable import Store

final class RecorderTests: XCTestCase {
    var directory: TemporaryDirectory!
    override func setUpWithError() throws { directory = try TemporaryDirectory() }

    private func info(_ name: String = "test") -> RunInfo {
        RunInfo(name: name, sweep: "sweep-a", configJSON: #"{"lr": 0.05, "hidden": [256]}"#, seed: UInt64.max - 1,
                codeVersion: "git:abc", host: "host-1", dataFingerprint: "sha256:00",
                params: [("optimizer.lr", "0.05"), ("model.activation", "relu")])
    }

    /// A deterministic stream of awkward doubles/floats (splitmix64), independent of the code under test.
    private struct Bits: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    func testWhatIsLoggedIsWhatIsReadBack() throws {
        let path = directory.path("roundtrip.sqlite")
        let recorder = try Recorder(path: path)
        let run = try recorder.startRun(info())
        let keys = try ["train_loss", "test_acc", "grad_norm/0"].map { try run.metricKey($0) }
        XCTAssertEqual(try run.metricKey("train_loss"), keys[0], "interned once")
        var bits = Bits(state: 42)
        var expectedScalars: [[Double]] = Array(repeating: [], count: keys.count)
        var expectedVectors: [[Float]] = []
        for step in 0..<300 {
            for (index, key) in keys.enumerated() {
                var value = Double(bitPattern: bits.next())
                if !value.isFinite { value = Double(step) }   // SQLite stores NaN as NULL
                expectedScalars[index].append(value)
                try run.log(key, step: step, value: value)
            }
            if step % 10 == 0 {
                // Raw bit patterns, including NaN payloads, infinities, -0 and subnormals.
                var vector = (0..<257).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: bits.next())) }
                vector += [-0.0, .infinity, .leastNonzeroMagnitude, .nan]
                expectedVectors.append(vector)
                try vector.withUnsafeBufferPointer { try run.logVector(kind: "pred", split: "test", step: step, values: $0) }
            }
        }
        try [Float]().withUnsafeBufferPointer { try run.logVector(kind: "tel", split: "train", step: 0, values: $0) }
        try run.logEvalPoints(split: "test", rowIDs: [5, 0, 2_000_000_000, 7])
        try run.logEvent(step: 3, kind: "note", message: "héllo")
        let theta: [Float] = [1, -2, 0.5]
        try theta.withUnsafeBufferPointer { try run.checkpoint(step: 299, parameters: $0, optimizerState: [9]) }
        try run.flush()
        XCTAssertEqual(run.lastCommittedStep, 299)
        try run.finish(status: .completed, error: nil)
        try recorder.close()

        let db = try Database.openTLens(path: path, mode: .readOnly)
        for (index, key) in keys.enumerated() {
            let series = try db.scalars(run: run.runID, key: key.name)
            XCTAssertEqual(series.map(\.step), Array(0..<300))
            XCTAssertEqual(series.map { $0.value.bitPattern }, expectedScalars[index].map(\.bitPattern))
        }
        for (offset, expected) in expectedVectors.enumerated() {
            let stored = try db.vector(run: run.runID, kind: "pred", split: "test", step: offset * 10)
            XCTAssertEqual(stored?.map(\.bitPattern), expected.map(\.bitPattern))
        }
        XCTAssertEqual(try db.vector(run: run.runID, kind: "tel", split: "train", step: 0), [])
        XCTAssertNil(try db.vector(run: run.runID, kind: "pred", split: "test", step: 1))
        // The documented byte layout, checked in SQL: 1.0f is 0x3F800000, stored little-endian.
        XCTAssertEqual(try db.scalarText("SELECT hex(parameters) FROM checkpoints WHERE run_id = ?", [.integer(run.runID)]),
                       "0000803F000000C00000003F")
        XCTAssertEqual(try db.scalarText("SELECT hex(ids) FROM eval_points WHERE run_id = ?", [.integer(run.runID)]),
                       "05000000000000000094357707000000")
        XCTAssertEqual(try db.evalPoints(run: run.runID, split: "test"), [5, 0, 2_000_000_000, 7])
        XCTAssertEqual(try db.scalarText("SELECT kind || ':' || step || ':' || message FROM events"), "note:3:héllo")

        let summary = try XCTUnwrap(try db.run(id: run.runID))
        XCTAssertEqual(summary.status, .completed)
        XCTAssertEqual(summary.effectiveStatus, .completed)
        XCTAssertEqual(summary.lastStep, 299)
        XCTAssertEqual(summary.seed, UInt64.max - 1)
        XCTAssertNotNil(summary.finishedAt)
        XCTAssertEqual(try db.scalarText("SELECT name FROM sweeps WHERE id = ?", [.integer(summary.sweepID ?? -1)]), "sweep-a")
        XCTAssertEqual(try db.scalarText("SELECT value_num FROM run_params WHERE key = 'optimizer.lr'"), "0.05")
        XCTAssertEqual(try db.scalarInt("SELECT value_num IS NULL FROM run_params WHERE key = 'model.activation'"), 1)
    }

    func testSmallQueueAppliesBackPressureWithoutLosingRows() throws {
        var options = Recorder.Options()
        options.batchBytes = 1024
        options.capacityBytes = 4096
        let path = directory.path("pressure.sqlite")
        let recorder = try Recorder(path: path, options: options)
        let run = try recorder.startRun(info())
        let key = try run.metricKey("x")
        for step in 0..<20_000 { try run.log(key, step: step, value: Double(step) * 0.25) }
        try run.finish(status: .completed, error: nil)
        try recorder.close()
        let db = try Database.openTLens(path: path, mode: .readOnly)
        // Sum of 0.25 * k for k < n is 0.25 * n(n-1)/2.
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM metrics"), 20_000)
        XCTAssertEqual(try db.scalarText("SELECT sum(value) FROM metrics"), String(0.25 * 20_000 * 19_999 / 2))
    }

    func testCommitsWithoutFlushWithinAFewHundredMilliseconds() throws {
        let path = directory.path("timer.sqlite")
        let recorder = try Recorder(path: path)
        let run = try recorder.startRun(info())
        let key = try run.metricKey("x")
        for step in 0..<5 { try run.log(key, step: step, value: 1) }
        let reader = try Database.openTLens(path: path, mode: .readOnly)
        let deadline = Date().addingTimeInterval(3)
        var seen: Int64 = 0
        while Date() < deadline {
            seen = try reader.scalarInt("SELECT count(*) FROM metrics") ?? 0
            if seen == 5 { break }
            usleep(20_000)
        }
        XCTAssertEqual(seen, 5)
        // Step 4 is not known to be complete until a later step or a flush.
        XCTAssertEqual(run.lastCommittedStep, 3)
        XCTAssertEqual(try reader.run(id: run.runID)?.lastStep, 3)
        try run.finish(status: .diverged, error: "loss is NaN")
        XCTAssertEqual(try reader.run(id: run.runID)?.lastStep, 4)
        XCTAssertEqual(try reader.run(id: run.runID)?.status, .diverged)
        XCTAssertEqual(try reader.run(id: run.runID)?.error, "loss is NaN")
    }

    func testHeartbeatTicksWhileIdleAndStopsAfterFinish() throws {
        var options = Recorder.Options()
        options.heartbeatInterval = 0.1
        let path = directory.path("heartbeat.sqlite")
        let recorder = try Recorder(path: path, options: options)
        let run = try recorder.startRun(info())
        let reader = try Database.openTLens(path: path, mode: .readOnly)
        let first = try XCTUnwrap(try reader.run(id: run.runID)?.heartbeatAt)
        usleep(450_000)
        let later = try XCTUnwrap(try reader.run(id: run.runID)?.heartbeatAt)
        XCTAssertGreaterThan(later - first, 0.2)
        XCTAssertEqual(try reader.effectiveStatus(run: run.runID, staleAfter: 0.3), .running)
        try run.finish(status: .interrupted, error: nil)
        XCTAssertEqual(try reader.effectiveStatus(run: run.runID, staleAfter: 0), .interrupted, "only running runs can read as crashed")
    }

    /// One rule for "crashed": what Swift reports is the view's `effective_status`, computed
    /// here by hand from the stored heartbeat against the view's documented 10 s.
    func testEffectiveStatusIsTheViewsVerdict() throws {
        let path = directory.path("stale.sqlite")
        let recorder = try Recorder(path: path)
        let live = try recorder.startRun(info("live")), stale = try recorder.startRun(info("stale"))
        let done = try recorder.startRun(info("done"))
        try done.finish(status: .completed, error: nil)
        try recorder.close()   // leaves `live` and `stale` running, as a killed process would
        let db = try Database.openTLens(path: path, mode: .readWrite)
        let now = Date().timeIntervalSince1970
        try db.execute("UPDATE runs SET heartbeat_at = ? WHERE id = ?", [.real(now - 5), .integer(live.runID)])
        try db.execute("UPDATE runs SET heartbeat_at = ? WHERE id = ?", [.real(now - 15), .integer(stale.runID)])
        try db.execute("UPDATE runs SET heartbeat_at = ? WHERE id = ?", [.real(now - 15), .integer(done.runID)])
        XCTAssertEqual(try db.effectiveStatus(run: live.runID), .running)
        XCTAssertEqual(try db.effectiveStatus(run: stale.runID), .crashed)
        XCTAssertEqual(try db.effectiveStatus(run: done.runID), .completed)
        for run in try db.runs() {
            XCTAssertEqual(run.effectiveStatus.rawValue,
                           try db.scalarText("SELECT effective_status FROM runs_view WHERE id = ?", [.integer(run.id)]))
        }
    }

    func testWriterErrorIsSurfacedOnTheNextCall() throws {
        let path = directory.path("error.sqlite")
        let recorder = try Recorder(path: path)
        let run = try recorder.startRun(info())
        // Another connection deletes the run: the next vector violates its foreign key.
        try Database.openTLens(path: path).execute("DELETE FROM runs WHERE id = ?", [.integer(run.runID)])
        try [Float(1)].withUnsafeBufferPointer { try run.logVector(kind: "pred", split: "test", step: 0, values: $0) }
        let error = assertDatabaseError(try run.flush())
        XCTAssertEqual(error?.extendedResultCode, .SQLITE_CONSTRAINT_FOREIGNKEY)
        XCTAssertNotNil(assertDatabaseError(try run.log(run.metricKey("x"), step: 1, value: 0)))
        XCTAssertNotNil(assertDatabaseError(try recorder.close()))
    }

    func testInvalidConfigJSONIsRefused() throws {
        let recorder = try Recorder(path: directory.path("json.sqlite"))
        var bad = info()
        bad.configJSON = "{lr: 0.05"
        XCTAssertEqual(assertDatabaseError(try recorder.startRun(bad))?.message, "run config is not valid JSON")
    }
}
