import ArgumentParser
import Foundation
import Query
import Spelling

@main
struct TLens: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tlens",
        abstract: "Train networks through the telescoping lens and record every step into SQLite.",
        discussion: """
        tlens records, at every training step, a network's telescoped predictions \
        f̃_t(x) = f̃_{t-1}(x) + J_{t-1}(x)Δθ_t, its tangent-kernel statistics, gradient summaries \
        and effective number of parameters into one SQLite file (default ./tlens.sqlite, or \
        --db PATH, or the TLENS_DB environment variable). Stored runs are plain tables: read \
        them with tlens, with stock sqlite3, or with Python (docs/schema.md, docs/metrics.md).
        """,
        version: "0.1.0",
        subcommands: [Train.self, Resume.self, Sweep.self, SweepWorker.self, Merge.self, Reproduce.self, PresetsCommand.self, Check.self,
                      RunsCommand.self, Show.self, MetricsCommand.self, Compare.self, QueryCommand.self, SQLCommand.self,
                      AnalysesCommand.self, RerunCommand.self, Export.self, Plot.self, Report.self, StudyCommand.self, Demo.self, Bench.self,
                      DataExport.self])

    static let version = "0.1.0"
}

/// Where the database lives: --db, else $TLENS_DB, else ./tlens.sqlite.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "SQLite file to use (default: $TLENS_DB or ./tlens.sqlite).")
    var db: String?

    var path: String { db ?? ProcessInfo.processInfo.environment["TLENS_DB"] ?? "tlens.sqlite" }
}


/// Errors reach the user as one line on stderr and a non-zero exit.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }

    /// `PATH: no such database`, with the nearest file name beside it for a typo.
    static func noSuchDatabase(_ path: String) -> CLIError {
        CLIError(Archive.noSuchDatabase(path))
    }
}
