import Foundation

/// A run's saved state at one step (docs/schema.md, "checkpoints").
public struct RunCheckpoint {
    public var step: Int
    public var parameters: [Float]
    public var optimizerState: [Float]?
    public var learnerState: [UInt8]?
    public var lensState: [UInt8]?
}

extension Database {
    /// The newest checkpoint of `run` that holds a learner state (step 0's θ_0 row holds none),
    /// or nil when the run has none yet.
    public func latestResumableCheckpoint(run: Int64) throws -> RunCheckpoint? {
        try checkpoint(where: "run_id = ? AND learner_state IS NOT NULL ORDER BY step DESC LIMIT 1", [.integer(run)])
    }

    /// `run`'s checkpoint at exactly `step`, or nil (a spawned child starts from it, lens.md §11).
    public func checkpoint(run: Int64, step: Int) throws -> RunCheckpoint? {
        try checkpoint(where: "run_id = ? AND step = ?", [.integer(run), .integer(Int64(step))])
    }

    /// The steps at which `run` has a checkpoint, in order.
    public func checkpointSteps(run: Int64) throws -> [Int] {
        let select = try prepare("SELECT step FROM checkpoints WHERE run_id = ? ORDER BY step")
        select.bind(run, at: 1)
        var steps: [Int] = []
        while try select.step() { steps.append(Int(select.int64(at: 0))) }
        return steps
    }

    /// The ids of the runs named `name`, oldest first.
    public func runIDs(named name: String) throws -> [Int64] {
        let select = try prepare("SELECT id FROM runs WHERE name = ? ORDER BY id")
        select.bind(name, at: 1)
        var ids: [Int64] = []
        while try select.step() { ids.append(select.int64(at: 0)) }
        return ids
    }

    private func checkpoint(where condition: String, _ arguments: [DatabaseValue]) throws -> RunCheckpoint? {
        let select = try prepare("""
            SELECT step, parameters, optimizer_state, learner_state, lens_state FROM checkpoints WHERE \(condition)
            """)
        select.bind(arguments)
        guard try select.step() else { return nil }
        func floats(_ i: Int32) -> [Float]? {
            guard let bytes = select.blob(at: i) else { return nil }
            return bytes.withUnsafeBytes { raw in (0..<(bytes.count / 4)).map { raw.load(fromByteOffset: 4 * $0, as: Float.self) } }
        }
        return RunCheckpoint(step: Int(select.int64(at: 0)), parameters: floats(1) ?? [], optimizerState: floats(2),
                             learnerState: select.blob(at: 3), lensState: select.blob(at: 4))
    }

    /// Why `run` cannot be resumed, or nil when it can: a `crashed` or `interrupted` run can;
    /// `diverged` and `failed` ones only with `force`; `completed` and live `running` ones never.
    public func resumeRefusal(for run: RunSummary, force: Bool) -> String? {
        switch run.effectiveStatus {
        case .crashed, .interrupted: return nil
        case .diverged, .failed:
            return force ? nil : "run \(run.id) \(run.effectiveStatus.rawValue)\(run.error.map { ": \($0)" } ?? ""); resuming repeats the same steps (add --force to resume it anyway)"
        case .completed: return "run \(run.id) is completed: there is nothing to resume"
        case .running where processIsGone(run: run.id):
            return nil
        case .running:
            let age = run.heartbeatAt.map { String(format: "%.0f s ago", Date().timeIntervalSince1970 - $0) } ?? "never"
            return "run \(run.id) is running (last heartbeat \(age)); it can be resumed once its process has stopped"
        }
    }
}

extension Database {
    /// Whether run `id`'s recording process is known to be gone: it ran on this host and its pid
    /// no longer exists (a SIGKILL, a crash). Its heartbeat may still look fresh for a few seconds.
    func processIsGone(run id: Int64) -> Bool {
        guard let row = try? prepare("SELECT host, pid FROM runs WHERE id = ?") else { return false }
        row.bind(id, at: 1)
        guard (try? row.step()) == true, !row.isNull(at: 1), let host = row.string(at: 0) else { return false }
        return Database.processIsGone(host: host, pid: pid_t(truncatingIfNeeded: row.int64(at: 1)))
    }

    /// Whether process `pid` of `host` is known to no longer exist: it ran on this host and no
    /// process has that id. A process of another host cannot be checked: it counts as alive.
    static func processIsGone(host: String, pid: pid_t) -> Bool {
        host == ProcessInfo.processInfo.hostName && pid > 0 && pid != getpid() && kill(pid, 0) == -1 && errno == ESRCH
    }
}

extension Recorder {
    /// Reopens run `id` at checkpoint step `step` in one transaction: rows recorded after it are
    /// discarded (metrics, vectors, later checkpoints), the run is `running` again with its id,
    /// and a `resumed` event says from where. Refuses, writing nothing, when the run's status
    /// does not allow it or its newest resumable checkpoint is no longer `step`.
    public func resumeRun(id: Int64, atStep step: Int, force: Bool) throws -> RunRecorder {
        let uuid: String = try withConnection { db in
            try db.transaction(.immediate) {
                guard let run = try db.run(id: id) else {
                    throw DatabaseError(code: .SQLITE_NOTFOUND, message: "no run \(id)", path: path)
                }
                if let refusal = db.resumeRefusal(for: run, force: force) {
                    throw DatabaseError(code: .SQLITE_CONSTRAINT, message: refusal, path: path)
                }
                let latest = try db.latestResumableCheckpoint(run: id)?.step ?? 0
                guard latest == step else {
                    throw DatabaseError(code: .SQLITE_CONSTRAINT, message: "run \(id) changed while resuming (its newest checkpoint is at step \(latest), not \(step))", path: path)
                }
                let was = run.effectiveStatus == .running ? "crashed" : run.effectiveStatus.rawValue
                // Rows of state s are re-recorded by the resumed step s+1 (INSERT OR REPLACE, same
                // values); without a checkpoint the run starts over from θ_0.
                let after = Int64(step)
                try db.execute("DELETE FROM metrics WHERE run_id = ? AND step > ?", [.integer(id), .integer(after)])
                try db.execute("DELETE FROM vectors WHERE run_id = ? AND step > ?", [.integer(id), .integer(after)])
                try db.execute("DELETE FROM checkpoints WHERE run_id = ? AND step > ?", [.integer(id), .integer(after)])
                if step == 0 {
                    try db.execute("DELETE FROM metrics WHERE run_id = ?", [.integer(id)])
                    try db.execute("DELETE FROM vectors WHERE run_id = ?", [.integer(id)])
                }
                let now = Date().timeIntervalSince1970
                try db.execute("""
                    UPDATE runs SET status = 'running', error = NULL, finished_at = NULL, heartbeat_at = ?,
                                    last_step = ?, host = ?, pid = ? WHERE id = ?
                    """, [.real(now), .integer(after), .text(ProcessInfo.processInfo.hostName),
                          .integer(Int64(getpid())), .integer(id)])
                try db.execute("INSERT INTO events(run_id, step, time, kind, message) VALUES (?, ?, ?, 'resumed', ?)",
                               [.integer(id), .integer(after), .real(now),
                                .text("resumed from the checkpoint at step \(step) (was \(was))")])
                return run.uuid
            }
        }
        let slot = queue.addSlot(runID: id)
        return RunRecorder(recorder: self, runID: id, uuid: uuid, slot: slot)
    }

    /// Reads through the recorder's own connection (the file is already open and migrated).
    public func read<T>(_ body: (Database) throws -> T) throws -> T { try withConnection(body) }
}
