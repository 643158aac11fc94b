import Foundation
import Store

/// What every listing command produces: named columns and rows of SQLite values, rendered for
/// people (`table`) or programs (`csv`, `json`) by `ResultTable.render(_:width:)`.
///
///     var table = ResultTable(columns: ["id", "final.test_mse"])
///     table.rows.append([.integer(1), .real(0.0768)])
///     print(table.render(.table, width: 80))
public struct ResultTable: Equatable {
    public var columns: [String]
    public var rows: [[DatabaseValue]]

    public init(columns: [String], rows: [[DatabaseValue]] = []) {
        self.columns = columns
        self.rows = rows
    }

    /// The cell of `column` in row `row`, or nil if there is no such column.
    public func value(row: Int, column: String) -> DatabaseValue? {
        columns.firstIndex(of: column).map { rows[row][$0] }
    }
}

/// The three output formats every listing command takes (`--format`).
public enum OutputFormat: String, CaseIterable, Sendable {
    /// Aligned columns that fit the terminal: numbers right-aligned, the widest text column
    /// truncated with "…" rather than a row wrapped.
    case table
    /// RFC 4180: comma-separated, CRLF line ends, fields with `,` `"` CR or LF quoted and `"`
    /// doubled; a header row; NULL as an empty field; NaN as `NaN`.
    case csv
    /// One JSON document: an array with one object per row, keys in column order, numbers as
    /// numbers, NULL and non-finite numbers as null, blobs as base64 strings.
    case json
}

extension ResultTable {
    /// The table in `format`. `width` bounds `.table` output (nil: unbounded).
    public func render(_ format: OutputFormat, width: Int? = nil) -> String {
        switch format {
        case .table: return TableText(self).render(width: width)
        case .csv: return csv()
        case .json: return json()
        }
    }

    private func csv() -> String {
        var out = csvRow(columns.map { .text($0) })
        for row in rows { out += csvRow(row) }
        return out
    }

    private func json() -> String {
        var out = "["
        for (r, row) in rows.enumerated() { out += (r == 0 ? "\n  " : ",\n  ") + jsonObject(columns, row) }
        out += rows.isEmpty ? "]\n" : "\n]\n"
        return out
    }
}

/// One RFC 4180 record with its CRLF: fields with `,` `"` CR or LF quoted and `"` doubled;
/// NULL as an empty field, NaN as `NaN`, blobs as base64.
func csvRow(_ values: [DatabaseValue]) -> String {
    func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
    return values.map { value -> String in
        switch value {
        case .null: return ""
        case .integer(let i): return String(i)
        case .real(let r): return r.isNaN ? "NaN" : r.isInfinite ? (r > 0 ? "Inf" : "-Inf") : exactNumber(r)
        case .text(let s): return field(s)
        case .blob(let b): return Data(b).base64EncodedString()
        }
    }.joined(separator: ",") + "\r\n"
}

/// One JSON object with `columns` as keys in order.
func jsonObject(_ columns: [String], _ values: [DatabaseValue]) -> String {
    var out = "{"
    for (c, value) in values.enumerated() { out += (c == 0 ? "" : ", ") + jsonString(columns[c]) + ": " + jsonValue(value) }
    return out + "}"
}

/// `value` as a JSON literal: numbers as numbers (shortest round-trip digits), non-finite and
/// NULL as null, blobs as base64 strings.
func jsonValue(_ value: DatabaseValue) -> String {
    switch value {
    case .null: return "null"
    case .integer(let i): return String(i)
    case .real(let r): return r.isFinite ? exactNumber(r) : "null"
    case .text(let s): return jsonString(s)
    case .blob(let b): return jsonString(Data(b).base64EncodedString())
    }
}

/// The shortest decimal that reads back as the same Double (Swift's description), with
/// integral values written without ".0" only when they are exactly representable integers.
func exactNumber(_ r: Double) -> String {
    if r == r.rounded(), abs(r) < 1e15 { return String(Int64(r)) }
    return "\(r)"
}

/// A number for a person: six significant digits, no trailing zeros, exponent when tiny or huge.
public func humanNumber(_ r: Double) -> String {
    if r.isNaN { return "NaN" }
    if r.isInfinite { return r > 0 ? "inf" : "-inf" }
    if r == r.rounded(), abs(r) < 1e9 { return String(Int64(r)) }
    return String(format: "%.6g", r)
}

/// Aligned text columns that fit a terminal width.
struct TableText {
    let table: ResultTable
    init(_ table: ResultTable) { self.table = table }

    func render(width: Int?) -> String {
        let columns = table.columns.count
        guard columns > 0 else { return "" }
        // Cells as one line each: a newline or tab inside a value would break the row.
        var cells = table.rows.map { row in row.map(Self.cellText) }
        var header = table.columns.map(Self.oneLine)
        var numeric = [Bool](repeating: true, count: columns)
        for c in 0..<columns {
            numeric[c] = table.rows.allSatisfy { row in
                switch row[c] { case .integer, .real, .null: return true; default: return false }
            } && !table.rows.isEmpty
        }
        var widths = (0..<columns).map { c in cells.reduce(header[c].count) { max($0, $1[c].count) } }
        let separator = 2
        var shown = columns
        if let width {
            // Shrink the widest text column, one character at a time, down to 12 (a status or
            // a short name stays whole); numbers are never truncated (a cut number is a wrong
            // number).
            var total = widths.reduce(0, +) + separator * (columns - 1)
            while total > width {
                guard let c = (0..<columns).filter({ !numeric[$0] && widths[$0] > 12 }).max(by: { widths[$0] < widths[$1] }) else { break }
                widths[c] -= 1
                total -= 1
            }
            for c in 0..<columns where !numeric[c] {
                for r in cells.indices { cells[r][c] = Self.truncate(cells[r][c], to: widths[c]) }
            }
            // Then a number column's header wider than its numbers loses its start, down to 10
            // ("…batch_size", "…approx_err_tel"): the end of a key path names it best.
            let valueWidths = (0..<columns).map { c in cells.reduce(0) { max($0, $1[c].count) } }
            while total > width {
                guard let c = (0..<columns).filter({ numeric[$0] && widths[$0] > max(valueWidths[$0], 10) })
                    .max(by: { widths[$0] - valueWidths[$0] < widths[$1] - valueWidths[$1] }) else { break }
                widths[c] -= 1
                total -= 1
            }
            for c in 0..<columns where header[c].count > widths[c] {
                header[c] = "…" + String(header[c].suffix(max(0, widths[c] - 1)))
            }
            // Still too wide: whole columns go from the right (never a wrapped row), and a
            // last line says so.
            while total > width, shown > 1 {
                shown -= 1
                total -= widths[shown] + separator
            }
        }
        let hidden = columns - shown
        func line(_ row: [String], header: Bool) -> String {
            var out = ""
            for c in 0..<shown {
                let text = header ? Self.truncate(row[c], to: widths[c]) : row[c]
                let pad = String(repeating: " ", count: max(0, widths[c] - text.count))
                let cell = numeric[c] ? pad + text : text + (c == shown - 1 ? "" : pad)
                out += (c == 0 ? "" : String(repeating: " ", count: separator)) + cell
            }
            return out
        }
        var out = line(header, header: true) + "\n"
        for row in cells { out += line(row, header: false) + "\n" }
        if hidden > 0 {
            out += "(\(hidden) more column\(hidden == 1 ? "" : "s") not shown: \(table.columns[shown...].prefix(3).joined(separator: ", "))\(hidden > 3 ? ", …" : ""); widen the terminal or use --format csv)\n"
        }
        return out
    }

    static func cellText(_ value: DatabaseValue) -> String {
        switch value {
        case .null: return "—"
        case .integer(let i): return String(i)
        case .real(let r): return humanNumber(r)
        case .text(let s): return oneLine(s)
        case .blob(let b): return "<\(b.count) bytes>"
        }
    }

    static func oneLine(_ s: String) -> String {
        guard s.contains(where: { $0.isNewline || $0 == "\t" || $0 == "\0" }) else { return s }
        return String(s.map { $0.isNewline || $0 == "\t" ? " " : $0 == "\0" ? "␀" : $0 })
    }

    static func truncate(_ s: String, to width: Int) -> String {
        s.count <= width ? s : String(s.prefix(max(0, width - 1))) + "…"
    }
}

/// The terminal's width in columns when stdout is a terminal: $COLUMNS, else the tty's size;
/// nil when stdout is a file or pipe (output then is never truncated).
public func terminalWidth() -> Int? {
    if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), columns > 0 { return columns }
    guard isatty(STDOUT_FILENO) == 1 else { return nil }
    var size = winsize()
    guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
    return Int(size.ws_col)
}
