import ArgumentParser
import Foundation
import Query

extension OutputFormat: ExpressibleByArgument {}

/// `--format table|csv|json`, shared by every listing command.
struct FormatOptions: ParsableArguments {
    @Option(help: "Output: table (fits the terminal), csv (RFC 4180) or json (one document).")
    var format: OutputFormat = .table

    /// Writes `table` to stdout in the chosen format; tables fit the terminal when stdout is one.
    func emit(_ table: ResultTable) {
        print(table.render(format, width: terminalWidth()), terminator: "")
    }
}

/// The filters `runs` and `compare` share.
struct SelectionOptions: ParsableArguments {
    @Option(help: "Only runs of this sweep.")
    var sweep: String?

    @Option(help: "Only runs with this status: running, completed, failed, diverged, interrupted or crashed.")
    var status: String?

    @Option(name: .customLong("where"), help: ArgumentHelp(
        "Keep runs where PATH OP VALUE holds (repeatable; all must hold). PATH is a run field, a config path or a derived metric; OP is one of = != < <= > >= ~ (glob).",
        valueName: "path OP value"))
    var conditions: [String] = []

    func selection(sort: String? = nil, limit: Int? = nil) -> RunSelection {
        RunSelection(sweep: sweep, status: status, conditions: conditions, sort: sort, limit: limit)
    }
}

/// Opens the database for reading (never migrating or writing) and loads its runs.
func openCatalog(_ database: DatabaseOptions) throws -> MetricReader {
    MetricReader(try RunCatalog(Archive(path: database.path)))
}

/// `a,b` and repeated options alike: `--keys a,b --keys c` is a, b, c.
func commaList(_ values: [String]) -> [String] {
    values.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
}
