import Foundation
import Spelling
import Store

/// One row of `analyses` (migration 0004): a request, the result it gave and the fingerprints
/// of both, as `--save` stored them.
public struct SavedAnalysis {
    public var id: Int64
    public var label: String?
    public var request: AnalysisRequest
    public var result: ResultTable
    public var tlensVersion: String
    public var createdAt: Double
    public var inputs: InputFingerprint
    public var resultFingerprint: String

    /// `3` or `3 'baseline'`, for report lines.
    public var title: String { "analysis \(id)" + (label.map { " '\($0)'" } ?? "") }
}

/// Storing, listing and loading saved analyses.
///
///     let id = try SavedAnalyses.save(request, outcome: outcome, label: "baseline", version: "0.1.0", path: "tlens.sqlite")
///     let saved = try SavedAnalyses.load("baseline", from: try Archive(path: "tlens.sqlite"))
public enum SavedAnalyses {
    /// Refuses a label that reads as an id, spans lines, or is taken in `archive`.
    public static func checkLabel(_ label: String, in archive: Archive) throws {
        guard !label.isEmpty, label.count <= 200, !label.contains(where: { $0.isNewline || $0 == "\0" }) else {
            throw QueryError("--label: give a name of 1 to 200 characters on one line")
        }
        guard Int64(label) == nil else { throw QueryError("--label \(label): a label must not be a number (numbers name analyses by id)") }
        if archive.has("analyses"), let id = try archive.database.scalarInt("SELECT id FROM analyses WHERE label = ?1", [.text(label)]) {
            throw QueryError("--label \(RunReference.display(label)): analysis \(id) already has that label")
        }
    }

    /// Stores the analysis: opens `path` for writing, migrating it to the latest schema as
    /// `tlens train` does, and returns the new id.
    public static func save(_ request: AnalysisRequest, outcome: AnalysisOutcome, label: String?, version: String, path: String) throws -> Int64 {
        guard let inputs = outcome.inputs else { throw QueryError("save: the outcome has no input fingerprint") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let params = String(decoding: try encoder.encode(request.parameters.map(StoredBinding.init)), as: UTF8.self)
        let result = String(decoding: try encoder.encode(StoredTable(outcome.table)), as: UTF8.self)
        let inputsJSON = String(decoding: try encoder.encode(inputs.parts), as: UTF8.self)
        let db = try Database.openTLens(path: path, mode: .readWrite)
        defer { try? db.close() }
        do {
            try db.transaction {
                try db.execute("""
                    INSERT INTO analyses(label, kind, name, query, params_json, result_json, result_rows, tlens_version,
                                         created_at, input_fingerprint, inputs_json, result_fingerprint)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, [label.map { .text($0) } ?? .null, .text(request.kind.rawValue), .text(request.name), .text(request.text),
                          .text(params), .text(result), .integer(Int64(outcome.table.rows.count)), .text(version),
                          .real(Date().timeIntervalSince1970), .text(inputs.value), .text(inputsJSON), .text(outcome.table.fingerprint)])
            }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw QueryError("--label \(RunReference.display(label ?? "")): another analysis already has that label")
        }
        return db.lastInsertRowID
    }

    /// `tlens analyses`: id, label, kind, name, created (UTC), rows. A file from before
    /// schema version 4 has none.
    public static func list(_ archive: Archive) throws -> ResultTable {
        var table = ResultTable(columns: ["id", "label", "kind", "name", "created", "rows"])
        guard archive.has("analyses") else { return table }
        let select = try archive.database.prepare("""
            SELECT id, label, kind, name, strftime('%Y-%m-%d %H:%M:%S', created_at, 'unixepoch'), result_rows FROM analyses ORDER BY id
            """)
        while try select.step() { table.rows.append((0..<6).map { select.value(at: Int32($0)) }) }
        return table
    }

    /// The analysis `reference` names: an id, else a label.
    public static func load(_ reference: String, from archive: Archive) throws -> SavedAnalysis {
        guard archive.has("analyses") else {
            throw QueryError("\(archive.path): no saved analyses (schema version \(archive.schemaVersion) predates them; --save creates the table)")
        }
        let db = archive.database
        let columns = "id, label, kind, name, query, params_json, result_json, tlens_version, created_at, inputs_json, input_fingerprint, result_fingerprint"
        var select = try db.prepare("SELECT \(columns) FROM analyses WHERE label = ?1").bound([.text(reference)])
        var found = try select.step()
        if !found, let id = Int64(reference) {
            select = try db.prepare("SELECT \(columns) FROM analyses WHERE id = ?1").bound([.integer(id)])
            found = try select.step()
        }
        guard found else {
            var labels: [String] = []
            let all = try db.prepare("SELECT label FROM analyses WHERE label IS NOT NULL")
            while try all.step() { labels.append(all.string(at: 0) ?? "") }
            let count = try db.scalarInt("SELECT count(*) FROM analyses") ?? 0
            let hint = nearestName(to: reference, in: labels).map { "; did you mean \($0)?" } ?? ""
            throw QueryError("\(archive.path): no analysis '\(RunReference.display(reference))' (\(count) saved; tlens analyses lists them)\(hint)")
        }
        let id = select.int64(at: 0)
        func text(_ i: Int32) -> String { select.string(at: i) ?? "" }
        do {
            let decoder = JSONDecoder()
            guard let kind = AnalysisRequest.Kind(rawValue: text(2)) else { throw QueryError("kind '\(text(2))'") }
            let bindings = try decoder.decode([StoredBinding].self, from: Data(text(5).utf8)).map(\.binding)
            let result = try decoder.decode(StoredTable.self, from: Data(text(6).utf8)).table
            let parts = try decoder.decode([InputFingerprint.Part].self, from: Data(text(9).utf8))
            return SavedAnalysis(id: id, label: select.string(at: 1),
                                 request: AnalysisRequest(kind: kind, name: text(3), text: text(4), parameters: bindings),
                                 result: result, tlensVersion: text(7), createdAt: select.double(at: 8),
                                 inputs: InputFingerprint(parts: parts, value: text(10)), resultFingerprint: text(11))
        } catch {
            throw QueryError("\(archive.path): analysis \(id) cannot be read back (\(error)); was it edited by hand?")
        }
    }
}

/// A value in saved JSON, with its storage class: `{"i": 7}`, `{"r": 0.5}` (non-finite as
/// `"nan"`, `"inf"`, `"-inf"`), `{"t": "text"}`, `{"b": "base64"}`, or `null`.
struct StoredValue: Codable, Equatable {
    var value: DatabaseValue
    init(_ value: DatabaseValue) { self.value = value }

    private enum Key: String, CodingKey { case i, r, t, b }

    init(from decoder: Decoder) throws {
        if try decoder.singleValueContainer().decodeNil() { value = .null; return }
        let c = try decoder.container(keyedBy: Key.self)
        if let i = try c.decodeIfPresent(Int64.self, forKey: .i) { value = .integer(i) }
        else if c.contains(.r) {
            if let word = try? c.decode(String.self, forKey: .r) {
                switch word {
                case "inf": value = .real(.infinity)
                case "-inf": value = .real(-.infinity)
                default: value = .real(.nan)
                }
            } else { value = .real(try c.decode(Double.self, forKey: .r)) }
        }
        else if let t = try c.decodeIfPresent(String.self, forKey: .t) { value = .text(t) }
        else if let b = try c.decodeIfPresent(String.self, forKey: .b), let data = Data(base64Encoded: b) { value = .blob([UInt8](data)) }
        else { throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a stored value")) }
    }

    func encode(to encoder: Encoder) throws {
        if value == .null { var c = encoder.singleValueContainer(); try c.encodeNil(); return }
        var c = encoder.container(keyedBy: Key.self)
        switch value {
        case .integer(let i): try c.encode(i, forKey: .i)
        case .real(let r) where r.isNaN: try c.encode("nan", forKey: .r)
        case .real(let r) where r.isInfinite: try c.encode(r > 0 ? "inf" : "-inf", forKey: .r)
        case .real(let r): try c.encode(r, forKey: .r)
        case .text(let t): try c.encode(t, forKey: .t)
        case .blob(let b): try c.encode(Data(b).base64EncodedString(), forKey: .b)
        case .null: break
        }
    }
}

struct StoredBinding: Codable {
    var name: String
    var value: StoredValue
    init(_ binding: QueryBinding) { name = binding.name; value = StoredValue(binding.value) }
    var binding: QueryBinding { QueryBinding(name: name, value: value.value) }
}

struct StoredTable: Codable {
    var columns: [String]
    var rows: [[StoredValue]]
    init(_ table: ResultTable) { columns = table.columns; rows = table.rows.map { $0.map(StoredValue.init) } }
    var table: ResultTable { ResultTable(columns: columns, rows: rows.map { $0.map(\.value) }) }
}
