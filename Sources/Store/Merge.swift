import Foundation

/// What `merge` did.
public struct MergeReport {
    public var added = 0, superseded = 0, skipped = 0
    public init() {}
}

extension Database {
    /// Merges the tlens database at `source` into this one (docs/cluster.md): runs deduplicated
    /// by uuid (a copy that got further — completed, or a later last_step — supersedes a stale
    /// one), ids remapped, sweeps joined by name, metric keys unified by name, sweep points
    /// linked to the remapped runs. All in one transaction: if anything fails, this database is
    /// unchanged. The source is only read; it must be sound (`problems()` empty) and at this
    /// tlens's schema version.
    public func merge(from source: String) throws -> MergeReport {
        let src = try Database(path: source, mode: .readOnly)
        let version = Int(try src.scalarInt("PRAGMA user_version") ?? 0)
        guard try src.scalarInt("SELECT count(*) FROM sqlite_master WHERE name IN ('runs', 'metrics', 'schema_migrations')") == 3 else {
            throw DatabaseError(code: .SQLITE_NOTADB, message: "not a tlens database", path: source)
        }
        guard version == Migrator.latestVersion else {
            throw DatabaseError(code: .SQLITE_MISMATCH, message: "schema version \(version), this tlens merges version \(Migrator.latestVersion) (\(version > Migrator.latestVersion ? "made by a newer tlens" : "open it with this tlens once to migrate it"))", path: source)
        }
        if let problem = try src.problems().first {
            throw DatabaseError(code: .SQLITE_CORRUPT, message: "refused by check: \(problem)", path: source)
        }
        try src.close()

        try execute("ATTACH DATABASE ? AS src", [.text(source)])
        defer { try? execute("DETACH DATABASE src") }
        var report = MergeReport()
        try transaction(.immediate) {
            try execute("INSERT OR IGNORE INTO metric_keys(name) SELECT name FROM src.metric_keys")
            try execute("""
                INSERT OR IGNORE INTO sweeps(name, spec_json, created_at) SELECT name, spec_json, created_at FROM src.sweeps
                """)
            let runs = try prepare("""
                SELECT id, uuid, status, coalesce(last_step, -1) FROM src.runs ORDER BY id
                """)
            var mapped: [Int64: Int64] = [:]
            while try runs.step() {
                let sourceID = runs.int64(at: 0), uuid = runs.string(at: 1) ?? "", status = runs.string(at: 2) ?? ""
                let lastStep = runs.int64(at: 3)
                if let existing = try prepare("SELECT id, status, coalesce(last_step, -1) FROM runs WHERE uuid = ?").bound([.text(uuid)]).firstRow() {
                    let id = existing.int64(at: 0), theirs = existing.string(at: 1) ?? "", theirStep = existing.int64(at: 2)
                    // The copy that got further wins; an equal copy adds nothing.
                    let better = (status == "completed" && theirs != "completed") || (theirs != "completed" && lastStep > theirStep)
                    guard better else { report.skipped += 1; continue }
                    try deleteRun(id)
                    report.superseded += 1
                } else {
                    report.added += 1
                }
                try execute("""
                    INSERT INTO runs(uuid, name, sweep_id, parent_run_id, config_json, seed, status, created_at, started_at,
                                     finished_at, heartbeat_at, last_step, code_version, host, data_fingerprint, error, pid)
                    SELECT r.uuid, r.name, (SELECT m.id FROM sweeps m JOIN src.sweeps s ON s.name = m.name WHERE s.id = r.sweep_id),
                           (SELECT m.id FROM runs m JOIN src.runs p ON p.uuid = m.uuid WHERE p.id = r.parent_run_id),
                           r.config_json, r.seed, r.status, r.created_at, r.started_at, r.finished_at, r.heartbeat_at,
                           r.last_step, r.code_version, r.host, r.data_fingerprint, r.error, r.pid
                    FROM src.runs r WHERE r.id = ?
                    """, [.integer(sourceID)])
                let id = lastInsertRowID
                mapped[sourceID] = id
                for (table, columns) in [("run_params", "key, value, value_num"), ("eval_points", "split, ids"),
                                         ("vectors", "kind, split, step, data"),
                                         ("checkpoints", "step, parameters, optimizer_state, created_at, learner_state, lens_state"),
                                         ("events", "step, time, kind, message")] {
                    try execute("INSERT INTO \(table)(run_id, \(columns)) SELECT ?, \(columns) FROM src.\(table) WHERE run_id = ?",
                                [.integer(id), .integer(sourceID)])
                }
                try execute("""
                    INSERT INTO metrics(run_id, key_id, step, value)
                    SELECT ?, k.id, m.step, m.value FROM src.metrics m
                    JOIN src.metric_keys sk ON sk.id = m.key_id JOIN metric_keys k ON k.name = sk.name
                    WHERE m.run_id = ?
                    """, [.integer(id), .integer(sourceID)])
            }
            runs.reset()
            // Sweep points: joined by sweep and point name; a point gets the merged run.
            let points = try prepare("""
                SELECT s.name, p.point, p.name, p.config_json, p.axes_json, p.run_id FROM src.sweep_points p
                JOIN src.sweeps s ON s.id = p.sweep_id
                """)
            while try points.step() {
                let sweepID = try scalarInt("SELECT id FROM sweeps WHERE name = ?", [.text(points.string(at: 0) ?? "")]) ?? 0
                let runID: DatabaseValue = points.isNull(at: 5) ? .null : mapped[points.int64(at: 5)].map { .integer($0) } ?? .null
                try execute("""
                    INSERT INTO sweep_points(sweep_id, point, name, config_json, axes_json, run_id) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT(sweep_id, name) DO UPDATE SET run_id = coalesce(excluded.run_id, run_id)
                    """, [.integer(sweepID), .integer(points.int64(at: 1)), .text(points.string(at: 2) ?? ""),
                          .text(points.string(at: 3) ?? "{}"), .text(points.string(at: 4) ?? "{}"), runID])
            }
            points.reset()
        }
        return report
    }

    /// Removes run `id` and every row that belongs to it.
    func deleteRun(_ id: Int64) throws {
        for table in ["metrics", "vectors", "eval_points", "checkpoints", "events", "run_params"] {
            try execute("DELETE FROM \(table) WHERE run_id = ?", [.integer(id)])
        }
        try execute("UPDATE sweep_points SET run_id = NULL WHERE run_id = ?", [.integer(id)])
        try execute("DELETE FROM runs WHERE id = ?", [.integer(id)])
    }
}
