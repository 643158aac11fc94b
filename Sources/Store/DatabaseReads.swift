import Foundation

/// One row of `runs`, with the status a reader should show.
public struct RunSummary {
    public var id: Int64
    public var uuid: String
    public var name: String?
    public var sweepID: Int64?
    public var parentRunID: Int64?
    public var configJSON: String
    public var seed: UInt64
    public var status: RunStatus
    /// `effective_status` of `runs_view`: `crashed` when `status` is `running` but the heartbeat
    /// is stale.
    public var effectiveStatus: EffectiveRunStatus
    public var createdAt: Double
    public var startedAt: Double?
    public var finishedAt: Double?
    public var heartbeatAt: Double?
    public var lastStep: Int?
    public var codeVersion: String
    public var host: String
    public var dataFingerprint: String
    public var error: String?
}

extension Database {
    // One rule for "crashed": the view `runs_view` (migrations/0001_initial.sql) is the only
    // definition, because stock `sqlite3` and Python readers see runs through it and tlens must
    // show the same status they do. Swift never recomputes it: it reads `effective_status` from
    // the view. The Recorder only writes `status` and `heartbeat_at`; staleness is a read-time
    // verdict, so the rule belongs with the readers, in SQL.

    /// Every run, oldest first.
    ///
    ///     for run in try db.runs() { print(run.id, run.effectiveStatus) }
    public func runs(staleAfter: Double? = nil) throws -> [RunSummary] {
        try runs(where: "1", [], staleAfter: staleAfter)
    }

    /// One run by id, or nil.
    public func run(id: Int64, staleAfter: Double? = nil) throws -> RunSummary? {
        try runs(where: "id = ?", [.integer(id)], staleAfter: staleAfter).first
    }

    /// The status to show for `run`: `effective_status` of `runs_view` (the recorded status, or
    /// `crashed` for a `running` run whose heartbeat is stale).
    ///
    ///     try db.effectiveStatus(run: 3)   // .crashed once a SIGKILLed run's heartbeat is stale
    ///
    /// `staleAfter` is for tests only, which cannot wait for the view's threshold: it applies the
    /// view's rule with another number of seconds. It goes once the threshold is a stored
    /// constant a test can lower in its own file.
    public func effectiveStatus(run: Int64, staleAfter: Double? = nil) throws -> EffectiveRunStatus? {
        try self.run(id: run, staleAfter: staleAfter)?.effectiveStatus
    }

    private func runs(where condition: String, _ arguments: [DatabaseValue], staleAfter: Double?) throws -> [RunSummary] {
        let select = try prepare("""
            SELECT id, uuid, name, sweep_id, parent_run_id, config_json, seed, status, created_at,
                   started_at, finished_at, heartbeat_at, last_step, code_version, host,
                   data_fingerprint, error, effective_status
            FROM runs_view WHERE \(condition) ORDER BY id
            """)
        select.bind(arguments)
        let now = Date().timeIntervalSince1970
        var result: [RunSummary] = []
        while try select.step() {
            func optionalInt(_ i: Int32) -> Int64? { select.isNull(at: i) ? nil : select.int64(at: i) }
            func optionalReal(_ i: Int32) -> Double? { select.isNull(at: i) ? nil : select.double(at: i) }
            let stored = select.string(at: 7) ?? ""
            guard let status = RunStatus(rawValue: stored) else {
                throw DatabaseError(code: .SQLITE_MISMATCH, message: "run has unknown status '\(stored)'", sql: select.sql, path: path)
            }
            let heartbeat = optionalReal(11)
            let shown = select.string(at: 17) ?? ""
            guard var effective = EffectiveRunStatus(rawValue: shown) else {
                throw DatabaseError(code: .SQLITE_MISMATCH, message: "runs_view has unknown effective_status '\(shown)'", sql: select.sql, path: path)
            }
            if let staleAfter {
                // Tests only (see effectiveStatus): the view's rule with their threshold.
                effective = status == .running && (heartbeat ?? -.infinity) < now - staleAfter
                    ? .crashed : EffectiveRunStatus(rawValue: status.rawValue)!
            }
            result.append(RunSummary(
                id: select.int64(at: 0), uuid: select.string(at: 1) ?? "", name: select.string(at: 2),
                sweepID: optionalInt(3), parentRunID: optionalInt(4), configJSON: select.string(at: 5) ?? "",
                seed: UInt64(bitPattern: select.int64(at: 6)), status: status, effectiveStatus: effective,
                createdAt: select.double(at: 8), startedAt: optionalReal(9), finishedAt: optionalReal(10),
                heartbeatAt: heartbeat, lastStep: optionalInt(12).map { Int($0) },
                codeVersion: select.string(at: 13) ?? "", host: select.string(at: 14) ?? "",
                dataFingerprint: select.string(at: 15) ?? "", error: select.string(at: 16)))
        }
        return result
    }

    /// One scalar series, ordered by step (an index range scan of `metrics`).
    ///
    ///     let loss = try db.scalars(run: 1, key: "train_loss")   // [(step: 0, value: 2.3), ...]
    public func scalars(run: Int64, key: String) throws -> [(step: Int, value: Double)] {
        let select = try prepare("""
            SELECT m.step, m.value FROM metrics m
            WHERE m.run_id = ? AND m.key_id = (SELECT id FROM metric_keys WHERE name = ?)
            ORDER BY m.step
            """)
        select.bind(run, at: 1)
        select.bind(key, at: 2)
        var series: [(step: Int, value: Double)] = []
        while try select.step() {
            series.append((Int(select.int64(at: 0)), select.isNull(at: 1) ? .nan : select.double(at: 1)))
        }
        return series
    }

    /// One stored vector decoded from float32 little-endian, or nil if absent.
    ///
    ///     let pred = try db.vector(run: 1, kind: "pred", split: "test", step: 100)
    public func vector(run: Int64, kind: String, split: String, step: Int) throws -> [Float]? {
        let select = try prepare("SELECT data FROM vectors WHERE run_id = ? AND kind = ? AND split = ? AND step = ?")
        select.bind(run, at: 1)
        select.bind(kind, at: 2)
        select.bind(split, at: 3)
        select.bind(step, at: 4)
        guard try select.step() else { return nil }
        return try select.withBlob(at: 0) { bytes in
            guard bytes.count % 4 == 0 else {
                throw DatabaseError(code: .SQLITE_MISMATCH, message: "vector blob of \(bytes.count) bytes is not float32", sql: select.sql, path: path)
            }
            return [Float](unsafeUninitializedCapacity: bytes.count / 4) { buffer, count in
                if bytes.count > 0 { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: bytes) }
                count = bytes.count / 4
            }
        }
    }

    /// The dataset row of each evaluation point of `split` (int32 little-endian), or nil.
    public func evalPoints(run: Int64, split: String) throws -> [Int]? {
        let select = try prepare("SELECT ids FROM eval_points WHERE run_id = ? AND split = ?")
        select.bind(run, at: 1)
        select.bind(split, at: 2)
        guard try select.step() else { return nil }
        return select.withBlob(at: 0) { bytes in
            (0..<bytes.count / 4).map { Int(bytes.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }
        }
    }
}
