import Foundation
import Spelling
import Store

/// One `--where path OP value` condition. The value is compared in Swift or bound as an SQL
/// parameter (`GLOB`); no user text ever becomes SQL.
///
///     let c = try RunCondition.parse("final.test_mse<0.1", in: catalog)
///     try c.matches(run, reader)
public struct RunCondition {
    public enum Operator: String, CaseIterable {
        case equal = "=", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">=", glob = "~"
    }
    public let measure: Measure
    public let op: Operator
    public let value: String

    /// Splits at the first operator character: names never contain `<>=!~`, values may.
    public static func parse(_ text: String, in catalog: RunCatalog) throws -> RunCondition {
        let operatorCharacters: Set<Character> = ["<", ">", "=", "!", "~"]
        guard let start = text.firstIndex(where: operatorCharacters.contains) else {
            throw QueryError("--where '\(RunReference.display(text))': write PATH OP VALUE with OP one of = != < <= > >= ~ (glob), e.g. --where 'final.test_mse<0.1'")
        }
        var end = text.index(after: start)
        if end < text.endIndex, text[end] == "=", text[start] != "~" { end = text.index(after: end) }
        var symbol = String(text[start..<end])
        if symbol == "==" { symbol = "=" }
        guard let op = Operator(rawValue: symbol) else {
            throw QueryError("--where '\(RunReference.display(text))': unknown operator '\(symbol)'; use = != < <= > >= ~")
        }
        let path = String(text[..<start]).trimmingCharacters(in: .whitespaces)
        guard !path.isEmpty else { throw QueryError("--where '\(RunReference.display(text))': no name before '\(symbol)'") }
        let measure = try Measure.parse(path, in: catalog)
        let value = String(text[end...]).trimmingCharacters(in: .whitespaces)
        // Ordering a number against text would silently compare strings; say so instead.
        let ordering: Set<Operator> = [.less, .lessOrEqual, .greater, .greaterOrEqual]
        if ordering.contains(op), measure.isNumeric, Double(value) == nil {
            throw QueryError("--where '\(RunReference.display(text))': \(measure) is a number; '\(RunReference.display(value))' is not")
        }
        return RunCondition(measure: measure, op: op, value: value)
    }

    /// SQL semantics for missing values: a run without the value matches no condition.
    public func matches(_ run: CatalogRun, _ reader: MetricReader) throws -> Bool {
        let stored = try reader.value(measure, for: run)
        if stored == .null { return false }
        if op == .glob {
            let glob = try reader.catalog.archive.database.prepare("SELECT ?1 GLOB ?2")
            glob.bind([.text(TableText.cellText(stored)), .text(value)])
            do {
                return try glob.step() && glob.int64(at: 0) == 1
            } catch let error as DatabaseError {
                throw QueryError("--where \(measure)~…: \(error.message)")
            }
        }
        let order: ComparisonResult
        if let left = try reader.number(measure, for: run), let right = Double(value) {
            order = left < right ? .orderedAscending : left > right ? .orderedDescending : .orderedSame
        } else {
            let left = TableText.cellText(stored)
            order = left < value ? .orderedAscending : left > value ? .orderedDescending : .orderedSame
        }
        switch op {
        case .equal: return order == .orderedSame
        case .notEqual: return order != .orderedSame
        case .less: return order == .orderedAscending
        case .lessOrEqual: return order != .orderedDescending
        case .greater: return order == .orderedDescending
        case .greaterOrEqual: return order != .orderedAscending
        case .glob: return false
        }
    }
}

/// `--sort NAME` (ascending) or `--sort -NAME` (descending); runs without the value go last.
public struct RunOrder {
    public let measure: Measure
    public let descending: Bool

    /// `NAME`, `NAME:asc`, `NAME:desc`, or `-NAME` (descending; on the command line write
    /// `--sort=-NAME`, since a separate `-NAME` reads as an option).
    public static func parse(_ text: String, in catalog: RunCatalog) throws -> RunOrder {
        var name = text, descending = false
        if name.hasPrefix("-") { name.removeFirst(); descending = true }
        if name.hasSuffix(":desc") { name.removeLast(5); descending = true } else if name.hasSuffix(":asc") { name.removeLast(4) }
        return RunOrder(measure: try Measure.parse(name, in: catalog), descending: descending)
    }

    public func sorted(_ runs: [CatalogRun], _ reader: MetricReader) throws -> [CatalogRun] {
        struct Key { let missing: Bool; let number: Double?; let text: String; let position: Int }
        let keyed = try runs.enumerated().map { position, run -> (CatalogRun, Key) in
            let value = try reader.value(measure, for: run)
            return (run, Key(missing: value == .null, number: try reader.number(measure, for: run),
                             text: TableText.cellText(value), position: position))
        }
        // Missing values last in either direction; numbers as numbers, else text; ties keep
        // the listing's order (ids).
        return keyed.sorted { a, b in
            let (x, y) = (a.1, b.1)
            if x.missing != y.missing { return y.missing }
            if let l = x.number, let r = y.number, l != r { return descending ? l > r : l < r }
            if (x.number == nil || y.number == nil), x.text != y.text { return descending ? x.text > y.text : x.text < y.text }
            return x.position < y.position
        }.map(\.0)
    }
}

/// Which runs a listing shows: `--sweep`, `--status`, `--where`..., `--sort`, `--limit`.
public struct RunSelection {
    public var sweep: String?
    public var status: String?
    public var conditions: [String] = []
    public var sort: String?
    public var limit: Int?

    public init(sweep: String? = nil, status: String? = nil, conditions: [String] = [], sort: String? = nil, limit: Int? = nil) {
        self.sweep = sweep
        self.status = status
        self.conditions = conditions
        self.sort = sort
        self.limit = limit
    }

    static let statuses = ["running", "completed", "failed", "diverged", "interrupted", "crashed"]

    /// The selected runs, in order, and the measures the selection used (a listing shows them).
    public func apply(_ reader: MetricReader) throws -> (runs: [CatalogRun], used: [Measure]) {
        let catalog = reader.catalog
        var runs = try sweep.map { try catalog.runs(ofSweep: $0) } ?? catalog.runs
        if let status {
            guard Self.statuses.contains(status) else {
                let hint = nearestName(to: status, in: Self.statuses).map { "; did you mean \($0)?" } ?? ""
                throw QueryError("--status '\(RunReference.display(status))': not a status (\(Self.statuses.joined(separator: ", ")))\(hint)")
            }
            runs = runs.filter { $0.summary.effectiveStatus.rawValue == status }
        }
        let parsed = try conditions.map { try RunCondition.parse($0, in: catalog) }
        let order = try sort.map { try RunOrder.parse($0, in: catalog) }
        for condition in parsed { runs = try runs.filter { try condition.matches($0, reader) } }
        if let order { runs = try order.sorted(runs, reader) }
        if let limit {
            guard limit >= 0 else { throw QueryError("--limit \(limit): must be 0 or more") }
            runs = Array(runs.prefix(limit))
        }
        return (runs, parsed.map(\.measure) + (order.map { [$0.measure] } ?? []))
    }
}
