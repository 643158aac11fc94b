import Foundation
import Spelling

/// A point of a sweep that a worker now holds.
public struct ClaimedSweepPoint {
    public var name: String
    public var configJSON: String
    /// The point's run when it has one (to resume), nil for a point not yet started.
    public var runID: Int64?
}

/// Where a sweep stands, from the database alone.
public struct SweepStatus {
    public var name: String
    public var total = 0, completed = 0, diverged = 0, failed = 0, running = 0, stopped = 0, pending = 0
    /// Mean wall time of the completed runs (seconds), for an ETA.
    public var meanSeconds: Double?
    public var done: Int { completed + diverged + failed }
}

extension Recorder {
    /// This process, as it signs its claims.
    public static var workerIdentity: String { "\(ProcessInfo.processInfo.hostName):\(getpid())" }

    /// Records sweep `name` and its points, in one transaction. A sweep already stored with
    /// another spec is refused unless `extend`, which adds the new points and keeps every
    /// existing one (and its run). Points already present are left as they are: re-running a
    /// sweep is idempotent.
    public func registerSweep(name: String, specJSON: String, points: [(name: String, configJSON: String, axesJSON: String)],
                              extend: Bool) throws -> Int64 {
        try withConnection { db in
            try db.transaction(.immediate) {
                let now = Date().timeIntervalSince1970
                let sweepID: Int64
                if let row = try db.prepare("SELECT id, spec_json FROM sweeps WHERE name = ?").bound([.text(name)]).firstRow() {
                    sweepID = row.int64(at: 0)
                    if row.string(at: 1) != specJSON {
                        guard extend else {
                            throw DatabaseError(code: .SQLITE_CONSTRAINT, message: "sweep '\(name)' is stored with a different spec; run it with --extend to add the new points (its runs are kept), or give the sweep another name", path: path)
                        }
                        try db.execute("UPDATE sweeps SET spec_json = ? WHERE id = ?", [.text(specJSON), .integer(sweepID)])
                    }
                } else {
                    try db.execute("INSERT INTO sweeps(name, spec_json, created_at) VALUES (?, ?, ?)", [.text(name), .text(specJSON), .real(now)])
                    sweepID = db.lastInsertRowID
                }
                let next = (try db.scalarInt("SELECT coalesce(max(point), 0) FROM sweep_points WHERE sweep_id = ?", [.integer(sweepID)]) ?? 0) + 1
                let insert = try db.prepare("""
                    INSERT OR IGNORE INTO sweep_points(sweep_id, point, name, config_json, axes_json) VALUES (?, ?, ?, ?, ?)
                    """)
                var position = next
                for point in points {
                    insert.bind([.integer(sweepID), .integer(position), .text(point.name), .text(point.configJSON), .text(point.axesJSON)])
                    try insert.execute()
                    if db.changes == 1 { position += 1 }
                }
                return sweepID
            }
        }
    }

    /// Claims the next point of the sweep for this process, atomically: one not started, or
    /// one whose run crashed or was interrupted (to resume), held by no live worker. Nil when
    /// none is left. Claims of a worker whose process is gone on this host are void.
    /// `excluding`: points this worker already failed on (it does not retry them).
    public func claimSweepPoint(sweepID: Int64, excluding: Set<String> = []) throws -> ClaimedSweepPoint? {
        try withConnection { db in
            try db.transaction(.immediate) {
                let select = try db.prepare("""
                    SELECT p.name, p.config_json, p.run_id, p.claimed_by FROM sweep_points p
                    LEFT JOIN runs_view r ON r.id = p.run_id
                    WHERE p.sweep_id = ? AND (p.run_id IS NULL OR r.effective_status IN ('running', 'crashed', 'interrupted'))
                    ORDER BY p.point
                    """).bound([.integer(sweepID)])
                var claim: ClaimedSweepPoint?
                while try select.step() {
                    let name = select.string(at: 0) ?? "", runID: Int64? = select.isNull(at: 2) ? nil : select.int64(at: 2)
                    if excluding.contains(name) { continue }
                    if let holder = select.string(at: 3), !Self.claimIsVoid(holder) { continue }
                    if let runID, let run = try db.run(id: runID), run.effectiveStatus == .running, !db.processIsGone(run: runID) { continue }
                    claim = ClaimedSweepPoint(name: name, configJSON: select.string(at: 1) ?? "{}", runID: runID)
                    break
                }
                select.reset()
                guard let claim else { return nil }
                try db.execute("UPDATE sweep_points SET claimed_by = ?, claimed_at = ? WHERE sweep_id = ? AND name = ?",
                               [.text(Self.workerIdentity), .real(Date().timeIntervalSince1970), .integer(sweepID), .text(claim.name)])
                return claim
            }
        }
    }

    /// Gives the point back once its run ended (any status).
    public func releaseSweepPoint(sweepID: Int64, name: String) throws {
        try withConnection { db in
            try db.execute("UPDATE sweep_points SET claimed_by = NULL, claimed_at = NULL WHERE sweep_id = ? AND name = ? AND claimed_by = ?",
                           [.integer(sweepID), .text(name), .text(Self.workerIdentity)])
        }
    }

    /// A claim by a process that no longer exists on this host. Claims from other hosts are
    /// honoured: a SQLite file is not shared across machines (docs/cluster.md).
    static func claimIsVoid(_ holder: String) -> Bool {
        guard let colon = holder.lastIndex(of: ":"), let pid = pid_t(holder[holder.index(after: colon)...]) else { return true }
        return Database.processIsGone(host: String(holder[..<colon]), pid: pid)
    }
}

extension Database {
    /// Whether a live worker (of any `tlens sweep` command on this file) holds a point of the sweep.
    public func sweepHasLiveClaims(named name: String) throws -> Bool {
        guard let id = try sweepID(named: name) else { return false }
        let select = try prepare("SELECT claimed_by FROM sweep_points WHERE sweep_id = ? AND claimed_by IS NOT NULL").bound([.integer(id)])
        while try select.step() { if let holder = select.string(at: 0), !Recorder.claimIsVoid(holder) { return true } }
        return false
    }

    public func sweepID(named name: String) throws -> Int64? {
        try scalarInt("SELECT id FROM sweeps WHERE name = ?", [.text(name)])
    }

    /// The stored sweep whose name is nearest to `name` (Spelling's closeness rule), for a
    /// "did you mean" when `name` matched none.
    ///
    ///     try db.nearestSweepName(to: "swep-lr")   // "sweep-lr"
    public func nearestSweepName(to name: String) throws -> String? {
        let select = try prepare("SELECT name FROM sweeps ORDER BY id")
        var names: [String] = []
        while try select.step() { names.append(select.string(at: 0) ?? "") }
        return nearestName(to: name, in: names)
    }

    /// Counts of the sweep's points by where their runs stand.
    public func sweepStatus(named name: String) throws -> SweepStatus? {
        guard let id = try sweepID(named: name) else { return nil }
        var status = SweepStatus(name: name)
        let select = try prepare("""
            SELECT r.effective_status, r.finished_at - r.started_at FROM sweep_points p
            LEFT JOIN runs_view r ON r.id = p.run_id WHERE p.sweep_id = ?
            """).bound([.integer(id)])
        var seconds: [Double] = []
        while try select.step() {
            status.total += 1
            switch select.string(at: 0) {
            case nil: status.pending += 1
            case "completed":
                status.completed += 1
                if !select.isNull(at: 1) { seconds.append(select.double(at: 1)) }
            case "diverged": status.diverged += 1
            case "failed": status.failed += 1
            case "running": status.running += 1
            default: status.stopped += 1
            }
        }
        status.meanSeconds = seconds.isEmpty ? nil : seconds.reduce(0, +) / Double(seconds.count)
        return status
    }
}
