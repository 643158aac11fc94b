import ArgumentParser
import Foundation
import Query

struct AnalysesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyses",
        abstract: "List the saved analyses (tlens query|compare|sql --save).",
        discussion: """
        One row per saved analysis: id, label, kind (query, compare or sql), name (the \
        query's name, the compare arguments or the SQL's first line), when it was saved \
        (UTC) and how many rows it gave. tlens rerun ID|LABEL runs one again. Reads only.
        """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
        output.emit(try SavedAnalyses.list(Archive(path: database.path)))
    }
}
