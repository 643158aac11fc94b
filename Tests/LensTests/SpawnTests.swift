import Foundation
import Runner
import Store
import XCTest

/// Spawning (lens.md §11): a child starts from its parent's checkpoint at t′. Checked against the
/// parent itself: with the parent's own data order a child must record exactly the parent's rows
/// from t′ on, so every part of the state it copied (θ, optimizer buffers, the lens's f̃, kernel
/// references and smoother, the data order) is pinned down bit for bit.
final class SpawnTests: XCTestCase {
    var directory: URL!
    var database: String { directory.appendingPathComponent("spawn.sqlite").path }

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tlens-spawn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// Momentum SGD with the exact kernel smoother and kernel statistics: every part of the lens
    /// state is live. Checkpoints kept at the spawn steps only.
    static let parent = """
        data: {source: digits, classes: [3, 5], target: pm1, n_train: 60, n_test: 30}
        model: {hidden: [12, 8]}
        optimizer: {kind: sgd, lr: 0.05, batch_size: 10, momentum: 0.9}
        steps: 30
        lens: {every: 1, reference: 16, eval_test: 20}
        """

    @discardableResult
    func train(_ yaml: String, _ overrides: [String]) throws -> TrainOutcome {
        let recorder = try Recorder(path: database)
        defer { try? recorder.close() }
        let prepared = try PreparedRun(try TrainConfig.load(text: yaml, source: "test", overrides: overrides))
        return try Trainer(prepared).run(recorder: recorder, codeVersion: "test", progress: nil)
    }

    /// (key or vector kind/split) → step → value bits.
    func records(_ run: Int64) throws -> [String: [Int: [UInt8]]] {
        let db = try Database(path: database, mode: .readOnly)
        defer { try? db.close() }
        var out: [String: [Int: [UInt8]]] = [:]
        let s = try db.prepare("SELECT k.name, m.step, m.value FROM metrics m JOIN metric_keys k ON k.id = m.key_id WHERE m.run_id = ?")
        s.bind([.integer(run)])
        while try s.step() {
            let bits = s.isNull(at: 2) ? UInt64.max : s.double(at: 2).bitPattern
            out[s.string(at: 0) ?? "", default: [:]][Int(s.int64(at: 1))] = withUnsafeBytes(of: bits) { Array($0) }
        }
        let v = try db.prepare("SELECT kind, split, step, data FROM vectors WHERE run_id = ?")
        v.bind([.integer(run)])
        while try v.step() { out["vector \(v.string(at: 0) ?? "")/\(v.string(at: 1) ?? "")", default: [:]][Int(v.int64(at: 2))] = v.blob(at: 3) ?? [] }
        return out
    }

    /// The child's records equal the parent's from `step` on, key by key and step by step, except
    /// the keys in `except`; returns the keys compared.
    func assertContinuesParent(child: Int64, parent: Int64, from step: Int, except: (String) -> Bool = { _ in false },
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let mine = try records(child), theirs = try records(parent)
        var compared = 0
        for (key, series) in theirs where !except(key) {
            // Step quantities of step t′ describe the parent's own step t′: the child starts after it.
            let expected = series.filter { $0.key > step || ($0.key == step && mine[key]?[step] != nil) }
            XCTAssertEqual(mine[key]?.count ?? 0, expected.count, "\(key): steps recorded", file: file, line: line)
            for (s, bits) in expected {
                XCTAssertEqual(mine[key]?[s], bits, "\(key) at step \(s)", file: file, line: line)
                compared += 1
            }
        }
        XCTAssertGreaterThan(compared, 500, file: file, line: line)
        XCTAssertNotNil(mine["test_mse"]?[step], "the child records its first state, θ_t′", file: file, line: line)
    }

    func testAChildWithItsParentsDataOrderRecordsExactlyTheParentsSteps() throws {
        for (label, overrides) in [("momentum SGD, exact smoother", [String]()),
                                   ("AdamW, probes", ["optimizer.kind=adamw", "optimizer.momentum=0", "lens.smoother=probes", "lens.probes=4"])] {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
            let parent = try train(Self.parent, overrides + ["name=parent", "checkpoint.at=[12]", "checkpoint.every=100"])
            XCTAssertEqual(parent.status, .completed, label)
            // Inheriting the parent's grad_change reference (step 0): every key must match.
            let same = try train(Self.parent, overrides + ["name=same", "spawn.parent=parent", "spawn.step=12", "lens.grad_ref_step=0"])
            XCTAssertEqual(same.stepsCompleted, 30, label)
            try assertContinuesParent(child: same.runID, parent: parent.runID, from: 12)
            // From step 0 (θ_0 and fresh state) as well, by id.
            let fromStart = try train(Self.parent, overrides + ["name=start", "spawn.parent=\(parent.runID)", "spawn.step=0"])
            try assertContinuesParent(child: fromStart.runID, parent: parent.runID, from: 0)

            // The default reference is the spawn step: Γ(s, 12) from step 13 on, the rest unchanged.
            let measured = try train(Self.parent, overrides + ["name=measured", "spawn.parent=parent", "spawn.step=12"])
            // grad_msc (lens.md (7.8)) shares that reference: one value, an epoch after step 12.
            try assertContinuesParent(child: measured.runID, parent: parent.runID, from: 12,
                                      except: { $0.hasPrefix("grad_change/") || $0.hasPrefix("grad_msc/") })
            let window = try XCTUnwrap(records(parent.runID)["grad_msc/1"]?.keys.first, label)
            let childSteps = try records(measured.runID)["grad_msc/1"].map { Array($0.keys) } ?? []
            XCTAssertEqual(childSteps, [12 + window], label)
            let change = try records(measured.runID)["grad_change/1"] ?? [:]
            XCTAssertEqual(change.keys.min(), 13, "\(label): grad_change against θ_12 starts at step 13")
            XCTAssertNotEqual(change[30], try records(parent.runID)["grad_change/1"]?[30], label)

            // Another order seed: the same state at 12, other batches after it.
            let other = try train(Self.parent, overrides + ["name=other", "spawn.parent=parent", "spawn.step=12", "spawn.order_seed=7"])
            let mine = try records(other.runID), theirs = try records(parent.runID)
            XCTAssertEqual(mine["test_mse"]?[12], theirs["test_mse"]?[12], label)
            XCTAssertNotEqual(mine["train_loss"]?[13], theirs["train_loss"]?[13], "\(label): step 13 draws another batch")

            let db = try Database(path: database, mode: .readOnly)
            XCTAssertEqual(try db.run(id: same.runID)?.parentRunID, parent.runID)
            XCTAssertEqual(try db.checkpointSteps(run: parent.runID), [0, 12, 30], "checkpoint.at keeps 12 from pruning")
            XCTAssertEqual(try db.scalarText("SELECT message FROM events WHERE run_id = ? AND kind = 'spawned'", [.integer(other.runID)]),
                           "spawned from run \(parent.runID) at step 12 with data order seed 7")
            XCTAssertEqual(try db.scalarText("SELECT value FROM run_params WHERE run_id = ? AND key = 'spawn.step'", [.integer(other.runID)]), "12")
            try db.close()
        }
    }

    /// Stops the loop after a given step, as Ctrl-C would.
    final class StopAfter: TrainingProgress {
        let step: Int
        init(_ step: Int) { self.step = step }
        func update(step: Int, of total: Int, loss: Double, testMetric: (name: String, value: Double)?, stepsPerSecond: Double) {
            if step == self.step { Trainer.stopRequested = true }
        }
        func finish() {}
    }

    /// A child is resumed like any run: from its newest checkpoint, or — stopped before its
    /// starting state was committed — by spawning again; either way it records what an
    /// uninterrupted child records.
    func testAStoppedChildResumesToTheRecordsOfOneThatNeverStopped() throws {
        try train(Self.parent, ["name=parent", "checkpoint.at=[12]", "checkpoint.every=100"])
        let child = ["name=child", "spawn.parent=parent", "spawn.step=12", "spawn.order_seed=3", "checkpoint.every=4"]
        let whole = try train(Self.parent, child)
        let prepared = try PreparedRun(try TrainConfig.load(text: Self.parent, source: "test", overrides: child))

        let recorder = try Recorder(path: database)
        defer { Trainer.stopRequested = false; try? recorder.close() }
        let stopped = try Trainer(prepared).run(recorder: recorder, codeVersion: "test", progress: StopAfter(18))
        Trainer.stopRequested = false
        XCTAssertEqual(stopped.status, .interrupted)
        XCTAssertEqual(stopped.stepsCompleted, 18)
        var resumed = try Trainer(prepared).resume(runID: stopped.runID, recorder: recorder, force: false, progress: nil)
        XCTAssertEqual(resumed.status, .completed)
        XCTAssertEqual(try records(resumed.runID), try records(whole.runID))

        // No resumable checkpoint left (as if it died before its first commit): spawned again.
        let early = try Trainer(prepared).run(recorder: recorder, codeVersion: "test", progress: StopAfter(14))
        Trainer.stopRequested = false
        try recorder.flush()
        let db = try Database(path: database, mode: .readWrite)
        try db.execute("DELETE FROM checkpoints WHERE run_id = ? AND step > 0", [.integer(early.runID)])
        try db.close()
        resumed = try Trainer(prepared).resume(runID: early.runID, recorder: recorder, force: false, progress: nil)
        XCTAssertEqual(resumed.status, .completed)
        XCTAssertEqual(try records(resumed.runID), try records(whole.runID))
    }

    /// Every refusal is one line naming the key to change, and leaves no run row.
    func testInvalidSpawnConfigsAreRefusedWithOneLineAndNoRunRow() throws {
        try train(Self.parent, ["name=parent", "checkpoint.at=[12]", "checkpoint.every=100"])
        try train(Self.parent, ["name=twin", "steps=2"])
        try train(Self.parent, ["name=twin", "steps=2"])
        let diverged = try train(Self.parent, ["name=wild", "optimizer.lr=1e12", "optimizer.momentum=0"])
        XCTAssertEqual(diverged.status, .diverged)
        let child = ["name=child", "spawn.parent=parent", "spawn.step=12"]
        let cases: [([String], String)] = [
            (["spawn.parent=nobody"], "spawn.parent: no run named 'nobody' in "),
            (["spawn.parent=99"], "spawn.parent: no run 99 in "),
            (["spawn.parent=twin"], "spawn.parent: 2 runs are named 'twin' (ids 2, 3); give the parent's id"),
            (["spawn.parent=wild"], "spawn.parent: run 4 is diverged; a child spawns from a completed run"),
            (["spawn.step=5"], "spawn.step: parent run 1 has no checkpoint at step 5 (its checkpoints: 0, 12, 30); train the parent with checkpoint.at listing the spawn steps"),
            (["spawn.step=30"], "spawn.step: 30 is not before the run's last step (steps: 30)"),
            (["lens.every=5"], "spawn.step: 12 is not a recorded state of the lens (lens.every: 5)"),
            (["optimizer.lr=0.1"], "optimizer.lr: 0.1 differs from parent run 1's 0.05; a child keeps its parent's seed, data, model, loss, optimizer and lens"),
            (["seed=3"], "seed: 3 differs from parent run 1's 0"),
            (["model.hidden=[12]"], "model.hidden: [12] differs"),
            (["lens.eval_test=10"], "lens.eval_test: 10 differs"),
            (["lens.grad_ref_step=5"], "lens.grad_ref_step: 5 is before spawn.step 12, so the child would inherit its parent's grad_change reference, but parent run 1 measured from step 0"),
            (["spawn.order_seed=-1"], "spawn.order_seed: -1 is out of range"),
            (["spawn.parent=[1]"], "spawn.parent: expected a run's name or id, got a list"),
            (["spawn.stpe=3"], "spawn.stpe: unknown key; did you mean 'spawn.step'?"),
        ]
        let runs = { () throws -> Int64 in
            let db = try Database(path: self.database, mode: .readOnly)
            defer { try? db.close() }
            return try db.scalarInt("SELECT count(*) FROM runs") ?? -1
        }
        let before = try runs()
        for (overrides, expected) in cases {
            do {
                try train(Self.parent, child + overrides)
                XCTFail("\(overrides): accepted")
            } catch {
                let message = "\(error)"
                XCTAssertTrue(message.hasPrefix(expected), "\(overrides): \(message)")
                XCTAssertFalse(message.contains(where: \.isNewline), "\(overrides): \(message)")
            }
            XCTAssertEqual(try runs(), before, "\(overrides): a run row was written")
        }
        // A spawn section without a parent.
        XCTAssertThrowsError(try TrainConfig.load(text: Self.parent + "\nspawn: {step: 3}\n", source: "test")) {
            XCTAssertEqual("\($0)", "spawn.parent: missing; give the run to spawn from, by name or id")
        }
    }
}
