import Foundation
import Store

/// How two results of one analysis differ, cell by cell (docs/queries.md, "tlens rerun").
/// Rows are paired first when identical, then by an equal first cell (the key column of most
/// tables), then by position; rows left over were added or removed.
///
///     let diff = ResultDiff(old: saved.result, new: outcome.table)
///     diff.changes.first   // row 3 [key=test_mse] value: 0.0768 → 0.5
public struct ResultDiff {
    public struct CellChange: Equatable {
        /// 1-based row in the new result.
        public var row: Int
        public var column: String
        public var old: DatabaseValue
        public var new: DatabaseValue
    }

    public var columnsChanged: Bool
    public var changes: [CellChange] = []
    /// 1-based rows of the new result with no counterpart in the old.
    public var added: [Int] = []
    /// 1-based rows of the old result with no counterpart in the new.
    public var removed: [Int] = []

    public var isEmpty: Bool { !columnsChanged && changes.isEmpty && added.isEmpty && removed.isEmpty }

    public init(old: ResultTable, new: ResultTable) {
        columnsChanged = old.columns != new.columns
        if columnsChanged { return }
        var identical: [[UInt8]: [Int]] = [:]
        for (index, row) in old.rows.enumerated() { identical[ResultTable.canonicalBytes(row), default: []].append(index) }
        var oldLeft = Set(old.rows.indices)
        var newLeft: [Int] = []
        for (index, row) in new.rows.enumerated() {
            let bytes = ResultTable.canonicalBytes(row)
            if let match = identical[bytes]?.first {
                identical[bytes]!.removeFirst()
                oldLeft.remove(match)
            } else {
                newLeft.append(index)
            }
        }
        var pairs: [(old: Int, new: Int)] = []
        var stillNew: [Int] = []
        for n in newLeft {
            // An equal first cell (the key column of most tables) pairs a changed row.
            if !new.columns.isEmpty, let o = oldLeft.sorted().first(where: { same(old.rows[$0][0], new.rows[n][0]) }) {
                pairs.append((o, n))
                oldLeft.remove(o)
            } else {
                stillNew.append(n)
            }
        }
        // Then a row at the same position in both (a value changed in place); the rest were
        // added or removed.
        for n in stillNew where oldLeft.contains(n) {
            pairs.append((n, n))
            oldLeft.remove(n)
        }
        let paired = Set(pairs.map(\.new))
        added = stillNew.filter { !paired.contains($0) }.map { $0 + 1 }
        removed = oldLeft.sorted().map { $0 + 1 }
        for (o, n) in pairs.sorted(by: { $0.new < $1.new }) {
            for (c, column) in new.columns.enumerated() where !same(old.rows[o][c], new.rows[n][c]) {
                changes.append(CellChange(row: n + 1, column: column, old: old.rows[o][c], new: new.rows[n][c]))
            }
        }
    }

    private func same(_ a: DatabaseValue, _ b: DatabaseValue) -> Bool {
        if case .real(let x) = a, case .real(let y) = b { return x.bitPattern == y.bitPattern }
        return a == b
    }
}

/// What `tlens rerun` found: the saved analysis, its result now, and the report lines.
public struct RerunReport {
    public let saved: SavedAnalysis
    public let outcome: AnalysisOutcome
    public let diff: ResultDiff
    /// Exit status: 0 when the result is identical, 4 when it changed.
    public var status: Int32 { diff.isEmpty ? 0 : 4 }
    /// At most this many changed cells are listed, then a count.
    public static let shownChanges = 20

    /// Runs `saved` again on `archive` (read-only; the saved row is not touched).
    public init(_ saved: SavedAnalysis, archive: Archive, version: String) throws {
        self.saved = saved
        outcome = try saved.request.execute(on: archive, fingerprint: true)
        diff = ResultDiff(old: saved.result, new: outcome.table)
        self.version = version
    }

    private let version: String

    public var lines: [String] {
        var lines: [String] = []
        let new = outcome.table
        let short = { (fingerprint: String) in String(fingerprint.prefix(12)) }
        let inputs = outcome.inputs.map { $0.changedTables(since: saved.inputs) } ?? []
        let what = "\(saved.title) (\(saved.request.kind.rawValue) \(saved.request.name))"
        if diff.isEmpty {
            lines.append("\(what): unchanged (\(new.rows.count) rows, fingerprint \(short(saved.resultFingerprint)))")
            if !inputs.isEmpty {
                lines.append("  its inputs changed (\(inputs.joined(separator: ", "))) but the result did not")
            }
        } else {
            lines.append("\(what): changed (\(saved.result.rows.count) → \(new.rows.count) rows, fingerprint \(short(saved.resultFingerprint)) → \(short(new.fingerprint)))")
            if diff.columnsChanged {
                lines.append("  columns: \(saved.result.columns.joined(separator: ", ")) → \(new.columns.joined(separator: ", "))")
            }
            for change in diff.changes.prefix(Self.shownChanges) {
                lines.append("  row \(change.row)\(rowLabel(new, change.row)), \(change.column): \(Self.text(change.old)) → \(Self.text(change.new))")
            }
            if diff.changes.count > Self.shownChanges {
                lines.append("  … and \(diff.changes.count - Self.shownChanges) more changed cells (\(diff.changes.count) in all)")
            }
            if !diff.added.isEmpty {
                lines.append("  rows added: \(diff.added.count) (\(diff.added.prefix(10).map { "row \($0)\(rowLabel(new, $0))" }.joined(separator: ", "))\(diff.added.count > 10 ? ", …" : ""))")
            }
            if !diff.removed.isEmpty {
                lines.append("  rows removed: \(diff.removed.count) (\(diff.removed.prefix(10).map { "old row \($0)\(rowLabel(saved.result, $0))" }.joined(separator: ", "))\(diff.removed.count > 10 ? ", …" : ""))")
            }
            lines.append(inputs.isEmpty ? "  inputs: unchanged fingerprint (the change is in what the inputs do not cover)"
                                        : "  inputs changed: \(inputs.joined(separator: ", "))")
        }
        if saved.tlensVersion != version {
            lines.append("  saved with tlens \(saved.tlensVersion), rerun with \(version)")
        }
        return lines
    }

    /// ` [key=test_mse]`: the row's first cell, when it is text or an integer.
    private func rowLabel(_ table: ResultTable, _ row: Int) -> String {
        guard !table.columns.isEmpty, row >= 1, row <= table.rows.count else { return "" }
        switch table.rows[row - 1][0] {
        case .text(let t): return " [\(table.columns[0])=\(RunReference.display(t))]"
        case .integer(let i): return " [\(table.columns[0])=\(i)]"
        default: return ""
        }
    }

    /// A value in full precision (the difference may be in the last digit).
    static func text(_ value: DatabaseValue) -> String {
        switch value {
        case .null: return "NULL"
        case .integer(let i): return String(i)
        case .real(let r): return "\(r)"
        case .text(let t): return "'\(RunReference.display(t))'"
        case .blob(let b): return "<\(b.count) bytes>"
        }
    }
}
