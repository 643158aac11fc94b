import ArgumentParser
import Query

import Foundation
import Store

/// `--format` of the benchmarks: a table for people; for scripts one JSON document, or the same
/// figures as CSV (a row per JSON object, nested objects flattened to `a.b` columns).
enum BenchFormat: String, ExpressibleByArgument, CaseIterable {
    case table, csv, json

    /// Prints a benchmark's JSON result in this format (`.json` or `.csv`).
    func emit(json: String) {
        guard self == .csv, let data = json.data(using: .utf8),
              let parsed = try? JSONSerialization.jsonObject(with: data) else { return print(json) }
        let objects = (parsed as? [[String: Any]]) ?? [(parsed as? [String: Any]) ?? [:]]
        func flatten(_ object: [String: Any], _ prefix: String, into row: inout [String: DatabaseValue]) {
            for (key, value) in object {
                let name = prefix.isEmpty ? key : "\(prefix).\(key)"
                switch value {
                case let nested as [String: Any]: flatten(nested, name, into: &row)
                case let n as NSNumber where String(cString: n.objCType) == "c": row[name] = .integer(n.boolValue ? 1 : 0)
                case let n as NSNumber: row[name] = .real(n.doubleValue)
                case let s as String: row[name] = .text(s)
                case let list as [Any]: row[name] = .text(list.map { "\($0)" }.joined(separator: " "))
                default: row[name] = .null
                }
            }
        }
        let rows = objects.map { object -> [String: DatabaseValue] in var row: [String: DatabaseValue] = [:]; flatten(object, "", into: &row); return row }
        let columns = Set(rows.flatMap(\.keys)).sorted()
        print(ResultTable(columns: columns, rows: rows.map { row in columns.map { row[$0] ?? .null } }).render(.csv), terminator: "")
    }
}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure tlens against this machine's own sgemm and against baselines.",
        discussion: """
        Every benchmark prints ratios measured in one run, because absolute times on shared \
        machines move from run to run. Build with `swift build -c release` first.
        """,
        subcommands: [BenchStore.self, BenchTrain.self, BenchLens.self, BenchCheckpoint.self, BenchQuery.self, BenchGBT.self])
}
