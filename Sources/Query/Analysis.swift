import Foundation
import Store

/// What a read command computes, as data that can be saved and run again: a named query's SQL
/// and bindings, `tlens sql`'s text and bindings, or a `ComparisonRequest` (docs/queries.md,
/// "Saved analyses").
///
///     let request = AnalysisRequest(query: query, bindings: try query.bindings([("run", "7")]))
///     let outcome = try request.execute(on: archive, fingerprint: true)
public struct AnalysisRequest: Equatable {
    public enum Kind: String, Codable, CaseIterable {
        case query, compare, sql
    }

    public var kind: Kind
    /// The query's name; for compare its arguments; for sql the text's first line.
    public var name: String
    /// The SQL as run, or the ComparisonRequest as JSON.
    public var text: String
    public var parameters: [QueryBinding]

    public init(kind: Kind, name: String, text: String, parameters: [QueryBinding]) {
        self.kind = kind
        self.name = name
        self.text = text
        self.parameters = parameters
    }

    public init(query: NamedQuery, bindings: [QueryBinding]) {
        self.init(kind: .query, name: query.name, text: query.sql, parameters: bindings)
    }

    public init(sql: String, bindings: [QueryBinding]) {
        let firstLine = sql.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.first { !$0.isEmpty } ?? ""
        self.init(kind: .sql, name: RunReference.display(firstLine), text: sql, parameters: bindings)
    }

    public init(comparison: ComparisonRequest) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(comparison), as: UTF8.self)
        self.init(kind: .compare, name: comparison.commandLine, text: json, parameters: [])
    }

    /// The error context: "query final_metrics", "sql", "compare".
    var context: String { kind == .query ? "query \(name)" : kind.rawValue }

    /// Runs the request on `archive` (read-only) in one read transaction, so the result and
    /// the fingerprint of its inputs see the same snapshot of the file.
    public func execute(on archive: Archive, fingerprint: Bool) throws -> AnalysisOutcome {
        let db = archive.database
        return try db.transaction(.deferred) {
            switch kind {
            case .query, .sql:
                let hint = kind == .sql ? "tlens sql opens the file read-only: pass --write to change it" : "a named query only reads"
                let outcome = try SQLScript(text, parameters: parameters).run(on: db, context: context, readOnlyHint: hint)
                let inputs = fingerprint ? try InputFingerprint(db, tables: outcome.tablesRead, runs: try scope(outcome, db)) : nil
                return AnalysisOutcome(table: outcome.table, inputs: inputs, statements: outcome.statements)
            case .compare:
                let comparison: ComparisonRequest
                do { comparison = try JSONDecoder().decode(ComparisonRequest.self, from: Data(text.utf8)) } catch {
                    throw QueryError("compare: the saved request is not a comparison this tlens reads (\(error))")
                }
                let reader = MetricReader(try RunCatalog(archive))
                let table = try comparison.table(reader)
                var inputs: InputFingerprint?
                if fingerprint {
                    var tables: Set<String> = ["runs", "run_params", "sweeps", "metric_keys", "metrics"]
                    if archive.has("sweep_points") { tables.insert("sweep_points") }
                    inputs = try InputFingerprint(db, tables: tables, runs: try comparison.runsCompared(reader))
                }
                return AnalysisOutcome(table: table, inputs: inputs, statements: 1)
            }
        }
    }

    /// The runs whose rows of the big tables the fingerprint covers: those the result names
    /// (run-id columns), those a `run` parameter (an integer) names, and the runs of the sweep
    /// a `sweep` parameter names; nil (the whole tables) when none of these is there.
    func scope(_ outcome: SQLScript.Outcome, _ db: Database) throws -> Set<Int64>? {
        var runs = outcome.runsMentioned
        for binding in parameters {
            switch (binding.name, binding.value) {
            case ("run", .integer(let id)):
                runs = (runs ?? []).union([id])
            case ("sweep", let value) where value != .null:
                let select = try db.prepare("SELECT r.id FROM runs r JOIN sweeps s ON s.id = r.sweep_id WHERE s.name = ?1").bound([value])
                var ids = runs ?? []
                while try select.step() { ids.insert(select.int64(at: 0)) }
                runs = ids
            default: break
            }
        }
        return runs
    }
}

/// A request's result, and what it read.
public struct AnalysisOutcome {
    public var table: ResultTable
    /// nil when not asked for.
    public var inputs: InputFingerprint?
    public var statements: Int
}

extension ComparisonRequest {
    /// The `tlens compare` arguments that make this request, for listings.
    public var commandLine: String {
        var parts = runs
        if let sweep { parts += ["--sweep", sweep] }
        if let status { parts += ["--status", status] }
        for condition in conditions { parts += ["--where", condition] }
        if !by.isEmpty { parts += ["--by", by.joined(separator: ",")] }
        if !keys.isEmpty { parts += ["--keys", keys.joined(separator: ",")] }
        if let baseline { parts += ["--baseline", baseline] }
        if peak { parts.append("--peak") }
        return parts.joined(separator: " ")
    }

    /// The runs the comparison reads: those named (and the baseline run), or those selected.
    func runsCompared(_ reader: MetricReader) throws -> Set<Int64> {
        if !runs.isEmpty {
            var ids = Set(try RunReference.resolve(runs, in: reader.catalog))
            if let baseline { ids.insert(try RunReference.resolve(baseline, in: reader.catalog)) }
            return ids
        }
        return Set(try RunSelection(sweep: sweep, status: status, conditions: conditions).apply(reader).runs.map(\.id))
    }
}
