import Foundation
import Store

/// Everything `tlens show RUN` reports about one run, as named sections of tables: the run,
/// its provenance, its status history and events, the keys and vectors it recorded with their
/// step ranges, storage used, checkpoints, and the resolved config.
///
///     let details = try RunDetails(run: 3, catalog: catalog)
///     print(details.render(.table, width: 100))
public struct RunDetails {
    public let run: CatalogRun
    public var sections: [(title: String, table: ResultTable)] = []
    /// `runs.config_json`: the resolved config, every default filled in.
    public let configJSON: String

    public init(run id: Int64, catalog: RunCatalog) throws {
        guard let run = catalog.runs.first(where: { $0.id == id }) else { throw QueryError("no run \(id)") }
        self.run = run
        configJSON = run.summary.configJSON
        let db = catalog.archive.database
        let s = run.summary

        func pairs(_ rows: [(String, DatabaseValue)]) -> ResultTable {
            ResultTable(columns: ["field", "value"], rows: rows.map { [.text($0.0), $0.1] })
        }
        func optional(_ t: Double?) -> DatabaseValue { t.map { .text(isoTime($0)) } ?? .null }
        func text(_ t: String?) -> DatabaseValue { t.map { .text($0) } ?? .null }
        func integer(_ i: Int64?) -> DatabaseValue { i.map { .integer($0) } ?? .null }
        var fields: [(String, DatabaseValue)] = []
        fields.append(("id", .integer(s.id)))
        fields.append(("uuid", .text(s.uuid)))
        fields.append(("name", text(s.name)))
        fields.append(("status", .text(s.effectiveStatus.rawValue)))
        fields.append(("sweep", text(run.sweep)))
        fields.append(("parent", integer(s.parentRunID)))
        fields.append(("seed", .integer(Int64(bitPattern: s.seed))))
        fields.append(("last_step", integer(s.lastStep.map(Int64.init))))
        fields.append(("steps (config)", text(run.params["steps"])))
        fields.append(("duration_s", RunField.duration.value(of: run)))
        fields.append(("error", text(s.error)))
        for axis in run.axes { fields.append(("axis \(axis.path)", .text(axis.value))) }
        sections.append(("run", pairs(fields)))

        // runs.pid arrived with schema version 2.
        let pid = catalog.archive.schemaVersion >= 2 ? try db.scalarInt("SELECT pid FROM runs WHERE id = ?", [.integer(id)]) : nil
        sections.append(("provenance", pairs([
            ("code_version", .text(s.codeVersion)), ("host", .text(s.host)), ("pid", pid.map { .integer($0) } ?? .null),
            ("data_fingerprint", .text(s.dataFingerprint)),
            ("threads", run.params["threads"].map { .text($0) } ?? .null),
            ("gemm", run.params["env.gemm"].map { .text($0) } ?? .null),
        ])))

        // Status history: the row's own times, then every event, in time order.
        var history = ResultTable(columns: ["time", "step", "event", "message"])
        history.rows.append([.text(isoTime(s.createdAt)), .null, .text("created"), .text("")])
        if let started = s.startedAt { history.rows.append([.text(isoTime(started)), .null, .text("started"), .text("")]) }
        let events = try db.prepare("SELECT time, step, kind, message FROM events WHERE run_id = ? ORDER BY time, id")
        events.bind(id, at: 1)
        while try events.step() {
            history.rows.append([.text(isoTime(events.double(at: 0))), events.value(at: 1), events.value(at: 2), events.value(at: 3)])
        }
        if let finished = s.finishedAt {
            history.rows.append([.text(isoTime(finished)), s.lastStep.map { .integer(Int64($0)) } ?? .null, .text(s.status.rawValue), .text(s.error ?? "")])
        } else if s.effectiveStatus.rawValue == "crashed" {
            history.rows.append([optional(s.heartbeatAt), s.lastStep.map { .integer(Int64($0)) } ?? .null, .text("crashed"), .text("last heartbeat; resume with: tlens resume \(id)")])
        }
        sections.append(("history", history))

        var keys = ResultTable(columns: ["key", "first_step", "last_step", "rows", "final"])
        let selectKeys = try db.prepare("""
            SELECT k.name, min(m.step), max(m.step), count(*),
                   (SELECT value FROM metrics WHERE run_id = ?1 AND key_id = k.id ORDER BY step DESC LIMIT 1)
            FROM metrics m JOIN metric_keys k ON k.id = m.key_id WHERE m.run_id = ?1 GROUP BY k.id ORDER BY k.name
            """)
        selectKeys.bind(id, at: 1)
        while try selectKeys.step() { keys.rows.append((0..<5).map { selectKeys.value(at: Int32($0)) }) }
        sections.append(("keys", keys))

        var vectors = ResultTable(columns: ["kind", "split", "first_step", "last_step", "count", "bytes"])
        let selectVectors = try db.prepare("""
            SELECT kind, split, min(step), max(step), count(*), sum(length(data)) FROM vectors
            WHERE run_id = ? GROUP BY kind, split ORDER BY kind, split
            """)
        selectVectors.bind(id, at: 1)
        while try selectVectors.step() { vectors.rows.append((0..<6).map { selectVectors.value(at: Int32($0)) }) }
        sections.append(("vectors", vectors))

        var checkpoints = ResultTable(columns: ["step", "created", "parameters_bytes", "learner_state_bytes", "lens_state_bytes"])
        let hasState = catalog.archive.schemaVersion >= 2
        let selectCheckpoints = try db.prepare("""
            SELECT step, created_at, length(parameters), \(hasState ? "length(learner_state), length(lens_state)" : "NULL, NULL")
            FROM checkpoints WHERE run_id = ? ORDER BY step
            """)
        selectCheckpoints.bind(id, at: 1)
        while try selectCheckpoints.step() {
            checkpoints.rows.append([selectCheckpoints.value(at: 0), .text(isoTime(selectCheckpoints.double(at: 1))),
                                     selectCheckpoints.value(at: 2), selectCheckpoints.value(at: 3), selectCheckpoints.value(at: 4)])
        }
        sections.append(("checkpoints", checkpoints))

        // Storage: row counts and blob bytes this run owns. A metric row costs about 20 bytes
        // in its WITHOUT ROWID b-tree (three varints and a double, plus cell overhead).
        let metricRows = try db.scalarInt("SELECT count(*) FROM metrics WHERE run_id = ?", [.integer(id)]) ?? 0
        let vectorBytes = try db.scalarInt("SELECT coalesce(sum(length(data)), 0) FROM vectors WHERE run_id = ?", [.integer(id)]) ?? 0
        let checkpointBytes = try db.scalarInt("""
            SELECT coalesce(sum(length(parameters) + coalesce(length(optimizer_state), 0)\(hasState ? " + coalesce(length(learner_state), 0) + coalesce(length(lens_state), 0)" : "")), 0)
            FROM checkpoints WHERE run_id = ?
            """, [.integer(id)]) ?? 0
        sections.append(("storage", ResultTable(columns: ["what", "rows", "bytes"], rows: [
            [.text("metrics"), .integer(metricRows), .integer(metricRows * 20)],
            [.text("vectors"), .integer(Int64(vectors.rows.count)), .integer(vectorBytes)],
            [.text("checkpoints"), .integer(Int64(checkpoints.rows.count)), .integer(checkpointBytes)],
            [.text("total"), .null, .integer(metricRows * 20 + vectorBytes + checkpointBytes)],
        ])))
    }

    /// Table format: each section under its title, then the config as indented JSON. CSV: one
    /// long table (section, row, column, value). JSON: one object with a member per section
    /// (rows as objects) and `config` as stored.
    public func render(_ format: OutputFormat, width: Int? = nil) -> String {
        switch format {
        case .table:
            var out = ""
            for (title, table) in sections where !table.rows.isEmpty {
                out += "\(title)\n" + indent(table.render(.table, width: width.map { $0 - 2 })) + "\n"
            }
            return out + "config (resolved)\n" + indent(prettyJSON(configJSON))
        case .csv:
            // One RFC 4180 table in long form: every cell of every section is a row
            // (section, row number, column, value); the config is one more row.
            var long = ResultTable(columns: ["section", "row", "column", "value"])
            for (title, table) in sections {
                for (r, row) in table.rows.enumerated() {
                    for (c, value) in row.enumerated() { long.rows.append([.text(title), .integer(Int64(r + 1)), .text(table.columns[c]), value]) }
                }
            }
            long.rows.append([.text("config"), .integer(1), .text("config_json"), .text(configJSON)])
            return long.render(.csv)
        case .json:
            var out = "{\n"
            for (title, table) in sections {
                let body = table.render(.json).trimmingCharacters(in: .whitespacesAndNewlines)
                out += "  \(jsonString(title)): \(body.replacingOccurrences(of: "\n", with: "\n  ")),\n"
            }
            // The stored text is JSON tlens checked before inserting; a file edited by hand may
            // hold anything, which then goes in as a string so the document stays valid.
            let valid = configJSON.data(using: .utf8).flatMap { try? JSONSerialization.jsonObject(with: $0) } != nil
            let config = valid ? configJSON : jsonString(configJSON)
            return out + "  \"config\": \(config)\n}\n"
        }
    }

    private func indent(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "  " + $0 }.joined(separator: "\n")
    }

    private func prettyJSON(_ json: String) -> String {
        guard let data = json.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data),
              let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]) else { return json + "\n" }
        return String(decoding: pretty, as: UTF8.self) + "\n"
    }
}
