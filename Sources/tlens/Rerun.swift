import ArgumentParser
import Foundation
import Query

struct RerunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rerun",
        abstract: "Run a saved analysis again and say whether its result changed.",
        discussion: """
        Runs the saved SQL (or comparison) with its saved parameters on the database as it is \
        now, read-only, and compares the result with the saved one cell by cell. Exit 0 and \
        "unchanged" when they are identical (and a note when the fingerprint of what it \
        read changed but the result did not); exit 4 and the changed cells (row, column, old \
        → new; the first 20, then a count), added and removed rows, and which inputs changed, \
        when they differ. A different tlens version is reported. The saved analysis is never \
        modified. docs/queries.md defines the fingerprints.

        Examples:
          tlens rerun 3
          tlens rerun dd
        """)

    @Argument(help: ArgumentHelp("The analysis: its id or its label.", valueName: "analysis"))
    var analysis: String

    @OptionGroup var database: DatabaseOptions

    func run() throws {
        let archive = try Archive(path: database.path)
        let saved = try SavedAnalyses.load(analysis, from: archive)
        let report = try RerunReport(saved, archive: archive, version: TLens.version)
        for line in report.lines { print(line) }
        if saved.request.kind == .query,
           let library = try? QueryLibrary(directories: QueryLibrary.directories(options: [], environment: ProcessInfo.processInfo.environment["TLENS_QUERIES"])),
           let current = try? library.query(named: saved.request.name), current.sql != saved.request.text {
            print("  note: query \(saved.request.name) has changed since it was saved; the rerun used the saved SQL")
        }
        if report.status != 0 { throw ExitCode(report.status) }
    }
}
