import Foundation
import Store

/// What a saved analysis read, reduced to a few numbers per table so a rerun can tell whether
/// its inputs changed (docs/queries.md, "Fingerprints").
///
/// Per table the statement read (SQLite's authorizer, at compile time): the row count and
/// `tlens_row_digest` over every column, an order-independent 64-bit sum of per-row hashes
/// (Sources/CVecSQL/row_digest.c). Float vectors and checkpoint state (`vectors.data`,
/// `checkpoints.parameters`, `optimizer_state`, `learner_state`, `lens_state`) enter by their
/// byte length, not their bytes. `metrics`, `vectors`, `eval_points` and `checkpoints` are
/// digested only for the runs in scope, when there is a scope (one index range per run), else
/// whole. The fingerprint is SHA-256 over the parts.
///
/// Cost, measured on this 2-core machine: a whole `metrics` table of 20M rows takes ~2.1 s
/// (~105 ns a row, of which SQLite's scan and column decoding are most: `total(value)` alone
/// takes 1.1 s); within a scope it is proportional to the rows of the runs in it (a run of 1M
/// metric rows: ~0.1 s). Every other table is small.
///
///     let fingerprint = try InputFingerprint(db, tables: ["runs", "metrics"], runs: [7])
public struct InputFingerprint: Codable, Equatable {
    public struct Part: Codable, Equatable {
        public var table: String
        /// The runs whose rows were digested, ascending; nil: the whole table.
        public var runs: [Int64]?
        public var rows: Int64
        /// `tlens_row_digest` as 16 hex digits.
        public var digest: String
    }

    public var parts: [Part]
    /// SHA-256 of the parts, 64 hex digits.
    public var value: String

    /// Tables digested per run when a scope is known: each has `run_id` leading an index.
    static let perRunTables: Set<String> = ["metrics", "vectors", "eval_points", "checkpoints"]
    /// Columns that enter by byte length: bulk float data, megabytes a row.
    static let lengthOnly: Set<String> = ["vectors.data", "checkpoints.parameters", "checkpoints.optimizer_state",
                                          "checkpoints.learner_state", "checkpoints.lens_state"]

    public init(parts: [Part], value: String) {
        self.parts = parts
        self.value = value
    }

    /// Digests `tables` (those that are tables of the main database; views and table-valued
    /// functions are skipped, their tables are reported by name) within `runs` when given.
    public init(_ db: Database, tables: Set<String>, runs: Set<Int64>?) throws {
        var real = Set<String>()
        let list = try db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")
        while try list.step() { if let name = list.string(at: 0) { real.insert(name) } }
        parts = try tables.intersection(real).sorted().map { table in
            let scope = Self.perRunTables.contains(table) ? runs.map { $0.sorted() } : nil
            var columns: [String] = []
            let info = try db.prepare("SELECT name FROM pragma_table_info(?1)").bound([.text(table)])
            while try info.step() {
                let column = info.string(at: 0) ?? ""
                // Within one run's range run_id is constant: the part's run list stands for it.
                if scope != nil && column == "run_id" { continue }
                let quoted = "\"" + column.replacingOccurrences(of: "\"", with: "\"\"") + "\""
                columns.append(Self.lengthOnly.contains("\(table).\(column)") ? "length(\(quoted))" : quoted)
            }
            let quotedTable = "\"" + table.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            let digestSQL = "SELECT count(*), tlens_row_digest(\(columns.joined(separator: ", "))) FROM \(quotedTable)"
            var rows: Int64 = 0, digest: UInt64 = 0
            if let scope {
                let select = try db.prepare(digestSQL + " WHERE run_id = ?1")
                for run in scope {
                    select.reset()
                    select.bind(run, at: 1)
                    guard try select.step() else { continue }
                    rows += select.int64(at: 0)
                    digest &+= UInt64(bitPattern: select.int64(at: 1))
                }
                select.reset()
            } else {
                let select = try db.prepare(digestSQL)
                if try select.step() {
                    rows = select.int64(at: 0)
                    digest = UInt64(bitPattern: select.int64(at: 1))
                }
            }
            let hex = String(digest, radix: 16)
            return Part(table: table, runs: scope, rows: rows, digest: String(repeating: "0", count: 16 - hex.count) + hex)
        }
        var hash = SHA256()
        for part in parts {
            hash.update("\(part.table)|\(part.runs.map { $0.map(String.init).joined(separator: ",") } ?? "*")|\(part.rows)|\(part.digest)\n")
        }
        value = hash.hex
    }

    /// The tables whose part differs from `old`'s (or that only one of them read), in name order.
    public func changedTables(since old: InputFingerprint) -> [String] {
        let names = Set(parts.map(\.table)).union(old.parts.map(\.table)).sorted()
        return names.filter { name in parts.first { $0.table == name } != old.parts.first { $0.table == name } }
    }
}

extension ResultTable {
    /// SHA-256 (64 hex digits) of the columns and every cell with its storage class: equal
    /// exactly when the tables are equal cell for cell (reals by bit pattern).
    public var fingerprint: String {
        var hash = SHA256()
        hash.update(Self.canonicalBytes(columns.map { DatabaseValue.text($0) }))
        for row in rows { hash.update(Self.canonicalBytes(row)) }
        return hash.hex
    }

    /// A row as bytes: per cell a tag, then the value (8 bytes little-endian for numbers, a
    /// length and the bytes for text and blobs), so different rows never give equal bytes.
    static func canonicalBytes(_ row: [DatabaseValue]) -> [UInt8] {
        var bytes: [UInt8] = []
        func append(_ x: UInt64) { for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: x >> UInt64(shift))) } }
        append(UInt64(row.count))
        for value in row {
            switch value {
            case .null: bytes.append(0)
            case .integer(let i): bytes.append(1); append(UInt64(bitPattern: i))
            case .real(let r): bytes.append(2); append(r.bitPattern)
            case .text(let t): bytes.append(3); append(UInt64(t.utf8.count)); bytes += Array(t.utf8)
            case .blob(let b): bytes.append(4); append(UInt64(b.count)); bytes += b
            }
        }
        return bytes
    }
}
