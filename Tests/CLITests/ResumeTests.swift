import Foundation
import Store
import XCTest

/// `tlens resume` after real SIGKILLs: a run killed at arbitrary steps and resumed (killed again
/// while resuming) records every scalar and vector bit for bit as a run that was never stopped
/// (lens.md §11). Three lens/optimizer combinations cover the three smoother engines.
final class ResumeTests: TemporaryDirectoryTestCase {

    /// Small enough for a debug build, long enough to be killed mid-run several times.
    let base = """
        data: {source: digits, classes: [3, 5], target: pm1, n_train: 120}
        model: {hidden: [16]}
        optimizer: {kind: sgd, lr: 0.02, batch_size: 16}
        steps: 400
        lens: {every: 2, reference: 32, eval_test: 40}
        checkpoint: {every: 25}
        """

    /// The run's committed `last_step` (0 before it exists).
    func lastStep(_ db: String) -> Int {
        guard let database = try? Database(path: db, mode: .readOnly),
              let last = try? database.scalarInt("SELECT coalesce(max(last_step), 0) FROM runs WHERE id = 1") else { return 0 }
        return Int(last)
    }

    /// Starts `arguments` and sends `signal` once this process has committed a step ≥ `step` and
    /// beyond where the previous process got (a resumed run starts below that, at its
    /// checkpoint), so the signal never lands before the run is under way. Returns the step.
    func kill(_ arguments: [String], db: String, afterStep step: Int, signal: Int32 = SIGKILL) throws -> Int {
        let previous = lastStep(db)
        let (process, _, _) = try startTLens(arguments + ["--quiet"], in: directory)
        let deadline = Date().addingTimeInterval(120)
        var reached = 0
        while process.isRunning && Date() < deadline {
            reached = lastStep(db)
            if reached >= step && reached > previous { break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        XCTAssertTrue(process.isRunning, "the run ended before step \(step) (reached \(reached)); make it longer")
        Foundation.kill(process.processIdentifier, signal)
        process.waitUntilExit()
        if signal == SIGKILL {
            XCTAssertEqual(process.terminationReason, .uncaughtSignal)
        } else {
            XCTAssertEqual(process.terminationStatus, 130, "an interrupted run exits 130")
            XCTAssertEqual(try Database(path: db, mode: .readOnly).run(id: 1)?.status, .interrupted)
        }
        return reached
    }

    /// (key, step) → value bits, and (kind, split, step) → blob, of run 1.
    func records(_ db: String) throws -> (scalars: [String: UInt64], vectors: [String: [UInt8]]) {
        let database = try Database(path: db, mode: .readOnly)
        var scalars: [String: UInt64] = [:], vectors: [String: [UInt8]] = [:]
        let s = try database.prepare("SELECT k.name, m.step, m.value FROM metrics m JOIN metric_keys k ON k.id = m.key_id WHERE m.run_id = 1")
        while try s.step() { scalars["\(s.string(at: 0) ?? "")@\(s.int64(at: 1))"] = s.isNull(at: 2) ? 0x7FF8_dead : s.double(at: 2).bitPattern }
        let v = try database.prepare("SELECT kind, split, step, data FROM vectors WHERE run_id = 1")
        while try v.step() { vectors["\(v.string(at: 0) ?? "")/\(v.string(at: 1) ?? "")@\(v.int64(at: 2))"] = v.blob(at: 3) ?? [] }
        return (scalars, vectors)
    }

    /// `steps`: long enough that the recorder's commits (every 250 ms) pass each kill point in a
    /// debug build even on a busy machine.
    func assertKilledRunsResumeBitIdentically(_ overrides: [String], steps: Int = 400, killAt fractions: [Double],
                                              signals: [Int32] = [SIGKILL, SIGKILL, SIGKILL], config text: String? = nil,
                                              file: StaticString = #filePath, line: UInt = #line) throws {
        let config = path("run.yaml")
        try (text ?? base).write(toFile: config, atomically: true, encoding: .utf8)
        let train = ["train", "--config", config] + (overrides + ["steps=\(steps)"]).flatMap { ["--set", $0] }
        let reference = path("reference.sqlite"), killed = path("killed.sqlite")
        XCTAssertEqual(try finish(train + ["--db", reference]).0, 0, file: file, line: line)

        // Killed during the first run, then again during each resumed run (a double kill and more).
        var killedAt: [Int] = []
        killedAt.append(try kill(train + ["--db", killed], db: killed, afterStep: Int(Double(steps) * fractions[0]), signal: signals[0]))
        for (fraction, signal) in zip(fractions.dropFirst(), signals.dropFirst()) {
            killedAt.append(try kill(["resume", "1", "--db", killed], db: killed, afterStep: Int(Double(steps) * fraction), signal: signal))
        }
        let (status, stderr) = try finish(["resume", "1", "--db", killed])
        XCTAssertEqual(status, 0, stderr, file: file, line: line)
        XCTAssertEqual(Set(killedAt).count, killedAt.count, "each kill at a different step: \(killedAt)", file: file, line: line)

        let expected = try records(reference), got = try records(killed)
        XCTAssertGreaterThan(expected.scalars.count, 1000, file: file, line: line)
        XCTAssertEqual(got.scalars.count, expected.scalars.count, file: file, line: line)
        XCTAssertEqual(got.vectors.count, expected.vectors.count, file: file, line: line)
        let differing = expected.scalars.filter { got.scalars[$0.key] != $0.value }.map(\.key).sorted()
        XCTAssertTrue(differing.isEmpty, "killed at \(killedAt): \(differing.count) scalars differ, e.g. \(differing.prefix(5))", file: file, line: line)
        let differingVectors = expected.vectors.filter { got.vectors[$0.key] != $0.value }.map(\.key).sorted()
        XCTAssertTrue(differingVectors.isEmpty, "killed at \(killedAt): vectors differ: \(differingVectors.prefix(5))", file: file, line: line)

        // The run kept its id, says where it resumed from, and ended completed.
        let database = try Database(path: killed, mode: .readOnly)
        XCTAssertEqual(try database.runs().map(\.id), [1], file: file, line: line)
        XCTAssertEqual(try database.run(id: 1)?.status, .completed, file: file, line: line)
        XCTAssertEqual(try database.scalarInt("SELECT count(*) FROM events WHERE run_id = 1 AND kind = 'resumed'"),
                       Int64(fractions.count), file: file, line: line)
        XCTAssertEqual(try database.scalarText("PRAGMA integrity_check"), "ok", file: file, line: line)
    }

    func testPlainSGDWithTheExactKernelSmootherResumesBitIdentically() throws {
        try assertKilledRunsResumeBitIdentically([], steps: 1500, killAt: [0.2, 0.45, 0.75])
    }

    /// A Ctrl-C'd run (interrupted, checkpointed at its last step) between two SIGKILLs.
    func testAnInterruptedRunResumesBitIdenticallyToo() throws {
        try assertKilledRunsResumeBitIdentically([], steps: 1500, killAt: [0.2, 0.45, 0.75], signals: [SIGKILL, SIGINT, SIGKILL])
    }

    func testAdamWWithProbesResumesBitIdentically() throws {
        try assertKilledRunsResumeBitIdentically(["optimizer.kind=adamw", "optimizer.lr=0.003", "lens.smoother=probes", "lens.probes=8"],
                                                 steps: 600, killAt: [0.15, 0.4, 0.65])
    }

    func testMomentumSGDWithTheExactLabelSensitivityEngineResumesBitIdentically() throws {
        try assertKilledRunsResumeBitIdentically(["optimizer.momentum=0.9", "data.n_train=48", "optimizer.batch_size=12"],
                                                 steps: 1200, killAt: [0.2, 0.45, 0.7])
    }

    /// Boosted trees (docs/lens.md §9): the trees, f_t, the subsample stream and the exact smoother
    /// over the leaf kernel come back bit for bit.
    func testBoostedTreesResumeBitIdentically() throws {
        let trees = """
            data: {source: tabular, n_train: 120, n_test: 40, d: 4}
            model: {kind: gbt, max_depth: 3, learning_rate: 0.05, subsample: 0.7, bins: 32}
            lens: {every: 2, smoother: exact}
            checkpoint: {every: 25}
            """
        try assertKilledRunsResumeBitIdentically([], steps: 1500, killAt: [0.2, 0.45, 0.75], config: trees)
    }

    func testResumeRefusesACompletedRunAndLeavesTheFileAlone() throws {
        let db = path("done.sqlite")
        let config = path("run.yaml")
        try base.write(toFile: config, atomically: true, encoding: .utf8)
        XCTAssertEqual(try finish(["train", "--config", config, "--set", "steps=20", "--db", db]).0, 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        for (arguments, message) in [(["resume", "1"], "run 1 is completed"), (["resume", "7"], "no run 7")] {
            let (status, stderr) = try finish(arguments + ["--db", db])
            XCTAssertNotEqual(status, 0)
            XCTAssertTrue(stderr.contains(message), stderr)
            XCTAssertEqual(stderr.split(separator: "\n").count, 1, stderr)
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: db)), before)
    }
}
