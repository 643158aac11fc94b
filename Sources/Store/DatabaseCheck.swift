import Foundation

extension Database {
    /// Problems with this tlens database, one line each (empty when it is sound): SQLite's own
    /// `integrity_check`, then tlens's invariants — every row's run and metric key exist,
    /// completed runs' `last_step` is their last recorded step, blobs are whole float32 or int32
    /// arrays, vectors hold a whole number of values per evaluation point, checkpoint state
    /// blobs carry a known header, sweep points name existing runs. Reads only.
    ///
    ///     for problem in try db.problems() { print(problem) }
    public func problems() throws -> [String] {
        var found: [String] = []
        let integrity = try prepare("PRAGMA integrity_check")
        while try integrity.step() {
            if let line = integrity.string(at: 0), line != "ok" { found.append("sqlite: \(line)") }
        }
        guard found.isEmpty else { return found }   // the rest reads pages SQLite calls damaged

        func each(_ sql: String, _ describe: (Statement) -> String) throws {
            let s = try prepare(sql)
            while try s.step() { found.append(describe(s)) }
        }
        try each("SELECT DISTINCT run_id FROM metrics WHERE run_id NOT IN (SELECT id FROM runs)") {
            "metrics: rows of run \($0.int64(at: 0)), which does not exist"
        }
        try each("SELECT DISTINCT key_id FROM metrics WHERE key_id NOT IN (SELECT id FROM metric_keys)") {
            "metrics: rows of metric key \($0.int64(at: 0)), which does not exist"
        }
        try each("""
            SELECT r.id, r.last_step, (SELECT max(step) FROM metrics m WHERE m.run_id = r.id) AS top FROM runs r
            WHERE r.status = 'completed' AND top IS NOT NULL AND (r.last_step IS NULL OR r.last_step != top)
            """) { "runs: run \($0.int64(at: 0)) is completed with last_step \($0.isNull(at: 1) ? "NULL" : String($0.int64(at: 1))) but records up to step \($0.int64(at: 2))" }
        try each("SELECT run_id, kind, split, step FROM vectors WHERE length(data) % 4 != 0") {
            "vectors: run \($0.int64(at: 0)) \($0.string(at: 1) ?? "")/\($0.string(at: 2) ?? "") step \($0.int64(at: 3)) is not a whole float32 array"
        }
        try each("""
            SELECT v.run_id, v.kind, v.split, v.step, length(v.data) / 4, length(e.ids) / 4 FROM vectors v
            JOIN eval_points e ON e.run_id = v.run_id AND e.split = v.split
            WHERE length(e.ids) > 0 AND (length(v.data) / 4) % (length(e.ids) / 4) != 0
            """) { "vectors: run \($0.int64(at: 0)) \($0.string(at: 1) ?? "")/\($0.string(at: 2) ?? "") step \($0.int64(at: 3)) holds \($0.int64(at: 4)) values for \($0.int64(at: 5)) evaluation points" }
        try each("SELECT run_id, split FROM eval_points WHERE length(ids) % 4 != 0") {
            "eval_points: run \($0.int64(at: 0)) \($0.string(at: 1) ?? "") is not a whole int32 array"
        }
        try each("""
            SELECT run_id, step FROM checkpoints WHERE length(parameters) % 4 != 0 OR length(coalesce(optimizer_state, x'')) % 4 != 0
            """) { "checkpoints: run \($0.int64(at: 0)) step \($0.int64(at: 1)) has a parameter or optimizer blob that is not whole float32s" }
        if try scalarInt("SELECT count(*) FROM pragma_table_info('checkpoints') WHERE name = 'learner_state'") == 1 {
            let s = try prepare("SELECT run_id, step, learner_state, lens_state FROM checkpoints WHERE learner_state IS NOT NULL OR lens_state IS NOT NULL")
            while try s.step() {
                // Learner blobs: an MLP's or boosted trees' (docs/schema.md, "State blobs").
                for (column, kinds) in [(Int32(2), ["MLPL", "GBTL"]), (3, ["LENS"])] {
                    guard let blob = s.blob(at: column) else { continue }
                    if let problem = Self.stateHeaderProblem(blob, kinds: kinds) {
                        found.append("checkpoints: run \(s.int64(at: 0)) step \(s.int64(at: 1)): \(problem)")
                    }
                }
            }
        }
        try each("SELECT DISTINCT run_id FROM checkpoints WHERE run_id NOT IN (SELECT id FROM runs)") {
            "checkpoints: rows of run \($0.int64(at: 0)), which does not exist"
        }
        if try scalarInt("SELECT count(*) FROM sqlite_master WHERE name = 'sweep_points'") == 1 {
            try each("SELECT s.name, p.name FROM sweep_points p JOIN sweeps s ON s.id = p.sweep_id WHERE p.run_id IS NOT NULL AND p.run_id NOT IN (SELECT id FROM runs)") {
                "sweep_points: '\($0.string(at: 1) ?? "")' of sweep '\($0.string(at: 0) ?? "")' names a run that does not exist"
            }
        }
        return found
    }

    /// The layout version this tlens reads per state kind (docs/schema.md, "State blobs"); GBTL
    /// is v2 since two-byte bins and exact splits (BoostedTreesLearner+State).
    static let stateVersions: [String: UInt32] = ["MLPL": 1, "GBTL": 2, "LENS": 1]

    /// The versioned state blob header (docs/schema.md, "State blobs"): magic, kind, a version
    /// this tlens reads.
    static func stateHeaderProblem(_ blob: [UInt8], kinds: [String]) -> String? {
        let expected = kinds.joined(separator: " or ")
        guard blob.count >= 12, Array(blob[0..<4]) == Array("TLSB".utf8) else { return "\(expected) state has no TLSB header" }
        guard let kind = kinds.first(where: { Array(blob[4..<8]) == Array($0.utf8) }) else {
            return "\(expected) state blob holds \(String(decoding: blob[4..<8], as: UTF8.self)) state"
        }
        let version = blob[8..<12].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let readable = stateVersions[kind] ?? 1
        guard version == readable else { return "\(kind) state has layout version \(version), this tlens reads \(readable)" }
        return nil
    }
}
