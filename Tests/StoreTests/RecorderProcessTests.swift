import XCTest
@testable import Store

/// Real processes: one killed with SIGKILL mid-run, two recording into one file at once.
final class RecorderProcessTests: XCTestCase {
    var directory: TemporaryDirectory!
    override func setUpWithError() throws { directory = try TemporaryDirectory() }

    func testKilledRecorderLeavesEveryReportedStepAndReadsAsCrashed() throws {
        let path = directory.path("killed.sqlite")
        let keys = 4
        let child = try ChildProcess(arguments: [path, "0", "\(keys)", "--vector", "64", "--flush-every", "20"])
        XCTAssertEqual(child.readLine()?.hasPrefix("run "), true)
        var reported: [Int] = []
        while reported.count < 5, let line = child.readLine() {
            if line.hasPrefix("committed "), let step = Int(line.dropFirst("committed ".count)) { reported.append(step) }
        }
        child.kill()
        XCTAssertEqual(reported.count, 5)
        XCTAssertEqual(reported, reported.sorted())
        let lastReported = try XCTUnwrap(reported.last)

        let db = try Database.openTLens(path: path)
        XCTAssertEqual(try db.scalarText("PRAGMA integrity_check"), "ok")
        let run = try XCTUnwrap(try db.runs().last)
        XCTAssertEqual(run.status, .running)
        XCTAssertGreaterThanOrEqual(run.lastStep ?? -1, lastReported)
        for index in 0..<keys {
            let series = try db.scalars(run: run.id, key: "k\(index)")
            XCTAssertGreaterThanOrEqual(series.count, lastReported + 1)
            // Every stored row is a complete, correct row, independent of how far the child got.
            for (offset, point) in series.enumerated() {
                XCTAssertEqual(point.step, offset)
                XCTAssertEqual(point.value, Double(point.step * 1000 + index))
            }
        }
        let vector = try XCTUnwrap(try db.vector(run: run.id, kind: "pred", split: "test", step: lastReported))
        XCTAssertEqual(vector, (0..<64).map { Float(lastReported) + Float($0) / 8 })

        // The heartbeat stopped with the process: stale after 0.5 s, not yet by runs_view's 10 s.
        XCTAssertEqual(try db.effectiveStatus(run: run.id), .running)
        usleep(1_200_000)
        XCTAssertEqual(try db.effectiveStatus(run: run.id, staleAfter: 0.5), .crashed)
        XCTAssertEqual(try db.runs(staleAfter: 0.5).last?.effectiveStatus, .crashed)
    }

    func testTwoProcessesRecordingIntoOneFileLoseNothing() throws {
        try assertWritersLoseNothing(processes: 2, steps: 1500, keys: 10, vector: 256)
    }

    /// 32 recording processes on one file on this 2-core machine: the writer path (busy
    /// timeout, retries with backoff on SQLITE_BUSY, short transactions, WAL) lets no lock error
    /// reach any of them, and every row arrives.
    func testThirtyTwoProcessesRecordingIntoOneFileLoseNothing() throws {
        try assertWritersLoseNothing(processes: 32, steps: 1000, keys: 10, vector: 64)
    }

    func assertWritersLoseNothing(processes: Int, steps: Int, keys: Int, vector: Int,
                                  file: StaticString = #filePath, line: UInt = #line) throws {
        let path = directory.path("shared-\(processes).sqlite")
        // Create the schema first so the children start on a migrated file (they would also
        // cope with migrating concurrently; that is not what this test is about).
        try Database.openTLens(path: path).close()
        let go = directory.path("go-\(processes)")
        let children = try (0..<processes).map { _ in
            try ChildProcess(arguments: [path, "\(steps)", "\(keys)", "--vector", "\(vector)", "--flush-every", "10",
                                         "--finish", "--wait-for", go])
        }
        // Every run exists before any logs a step, so the writers overlap.
        var runIDs: [Int64] = []
        for child in children {
            if let line = child.readLine(), line.hasPrefix("run "), let id = Int64(line.dropFirst(4)) { runIDs.append(id) }
        }
        XCTAssertTrue(FileManager.default.createFile(atPath: go, contents: Data()), file: file, line: line)
        for child in children {
            let result = child.finish()
            XCTAssertEqual(result.status, 0, result.stderr, file: file, line: line)
            XCTAssertEqual(result.stderr, "", "no error (in particular no SQLITE_BUSY) reaches the child", file: file, line: line)
            XCTAssertEqual(result.lines.last, "done", file: file, line: line)
        }
        XCTAssertEqual(Set(runIDs).count, processes, file: file, line: line)

        let db = try Database.openTLens(path: path, mode: .readOnly)
        XCTAssertEqual(try db.scalarText("PRAGMA integrity_check"), "ok", file: file, line: line)
        for runID in runIDs {
            XCTAssertEqual(try db.effectiveStatus(run: runID), .completed, file: file, line: line)
            XCTAssertEqual(try db.run(id: runID)?.lastStep, steps - 1, file: file, line: line)
            XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM metrics WHERE run_id = ?", [.integer(runID)]), Int64(steps * keys),
                           file: file, line: line)
            // Closed form of Σ_step Σ_key (1000·step + key).
            let expected = 1000 * keys * steps * (steps - 1) / 2 + steps * keys * (keys - 1) / 2
            XCTAssertEqual(try db.scalarInt("SELECT CAST(sum(value) AS INTEGER) FROM metrics WHERE run_id = ?", [.integer(runID)]),
                           Int64(expected), file: file, line: line)
            XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM vectors WHERE run_id = ? AND length(data) = ?",
                                            [.integer(runID), .integer(Int64(vector * 4))]), Int64(steps), file: file, line: line)
        }
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM metric_keys"), Int64(keys), "the processes share interned keys",
                       file: file, line: line)
        // The runs really overlapped in time (otherwise this test proves nothing).
        let runs = try db.runs()
        let lastStart = runs.compactMap(\.startedAt).max() ?? .infinity, firstFinish = runs.compactMap(\.finishedAt).min() ?? 0
        XCTAssertLessThan(lastStart, firstFinish, "every run started before any finished", file: file, line: line)
    }
}
