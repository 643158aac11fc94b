import ArgumentParser
import Foundation
import Store

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a database: SQLite's integrity check and tlens's invariants, one line per problem.",
        discussion: """
        Reads only (the file is left byte-identical). Checks SQLite's integrity_check, then that \
        every metric row's run and key exist, completed runs' last_step is their last recorded \
        step, vectors and id blobs are whole arrays with a whole number of values per \
        evaluation point, checkpoint state blobs carry a known header, and sweep points name \
        existing runs. Exit 0 when sound, 1 with one line per problem otherwise.
        """)

    @OptionGroup var database: DatabaseOptions

    func run() throws {
        let path = database.path
        guard FileManager.default.fileExists(atPath: path) else { throw CLIError.noSuchDatabase(path) }
        // Any schema version tlens wrote, read as it is (no migration: check writes nothing).
        let db = try Database(path: path, mode: .readOnly)
        guard try db.scalarInt("SELECT count(*) FROM sqlite_master WHERE name IN ('runs', 'metrics', 'schema_migrations')") == 3 else {
            throw CLIError("\(path): not a tlens database (no runs, metrics and schema_migrations tables)")
        }
        let problems = try db.problems()
        for problem in problems { print("\(path): \(problem)") }
        if problems.isEmpty {
            let runs = try db.scalarInt("SELECT count(*) FROM runs") ?? 0, rows = try db.scalarInt("SELECT count(*) FROM metrics") ?? 0
            print("\(path): ok (\(runs) runs, \(rows) metric rows)")
        } else {
            throw ExitCode(1)
        }
    }
}
