import ArgumentParser
import Foundation
import Query
import Store

struct SQLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sql",
        abstract: "Run SQL on the database, read-only unless --write, with tlens's vector functions.",
        discussion: """
        The statements (separated by ;) run in order in one transaction, and the rows of the \
        last are printed. The file is opened read-only (SQLITE_OPEN_READONLY): a statement \
        that would write fails and the file stays byte-identical. With --write it is opened \
        read-write and the statements commit together, or not at all if one fails. BEGIN, \
        COMMIT and SAVEPOINT are refused (tlens holds the transaction). Parameters are \
        written :NAME and given with --param NAME=VALUE. vec_len, vec_get, vec_mean, \
        vec_norm, vec_mae, vec_each and the other vector functions are available \
        (docs/schema.md). --save stores a read-only statement's result for tlens rerun.

        Examples:
          tlens sql "SELECT id, name, effective_status FROM runs_view"
          tlens sql "SELECT step, vec_mean(data) FROM vectors WHERE run_id = 3"
          tlens sql --write "UPDATE runs SET name = :n WHERE id = 3" --param n=base
        """)

    @Argument(help: ArgumentHelp("SQL statements, separated by ;.", valueName: "sql"))
    var sql: String

    @Flag(help: "Open the database read-write and commit the statements' changes.")
    var write = false

    @OptionGroup var parameters: ParameterOptions
    @OptionGroup var save: SaveOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: FormatOptions

    func validate() throws {
        if write && save.save { throw CLIError("--save stores a read-only analysis; it cannot be combined with --write") }
    }

    func run() throws {
        let bindings = try parameters.bindings()
        guard write else {
            try runAnalysis(AnalysisRequest(sql: sql, bindings: bindings), database: database, output: output, save: save)
            return
        }
        // The same checks as a read (a tlens file of a version this binary knows), then a
        // read-write connection that migrates nothing.
        _ = try Archive(path: database.path)
        let db = try Database(path: database.path, mode: .readWrite)
        let outcome = try db.transaction(.immediate) { try SQLScript(sql, parameters: bindings).run(on: db, context: "sql") }
        try db.close()
        if !outcome.table.columns.isEmpty { output.emit(outcome.table) }
        FileHandle.standardError.write(Data("tlens: sql: \(outcome.changes) row\(outcome.changes == 1 ? "" : "s") changed\n".utf8))
    }
}
