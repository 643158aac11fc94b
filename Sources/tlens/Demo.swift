import ArgumentParser
import Foundation
import Query
import Runner

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The main job: train the digits 3-vs-5 example through the full lens.",
        discussion: """
        Trains the shipped preset digits-3v5 (a one-hidden-layer ReLU MLP on the built-in UCI \
        digits, plain SGD, exact smoother, kernel statistics) into the database, then prints \
        the run's headline figures and a stock sqlite3 query that reads them back.
        """)

    @OptionGroup var database: DatabaseOptions

    @Option(name: .customLong("set"), help: ArgumentHelp("Override one config value (repeatable).", valueName: "key.path=value"))
    var overrides: [String] = []

    @Flag(name: .long, help: "No progress line.")
    var quiet = false

    func run() throws {
        let outcome = try TrainCommand.train(try TrainCommand.prepare(configPath: nil, preset: "digits-3v5", overrides: overrides, name: nil),
                                             databasePath: database.path, quiet: quiet)
        // Headline figures through the shipped named query (queries/final_metrics.sql).
        let query = try QueryLibrary.shipped("final_metrics")
        let table = try AnalysisRequest(query: query, bindings: query.bindings([("run", String(outcome.runID))]))
            .execute(on: Archive(path: database.path), fingerprint: false).table
        var finals: [String: Double] = [:]
        for row in table.rows {
            if case .text(let key) = row[0], case .real(let value) = row[2] { finals[key] = value }
        }
        func final(_ key: String) -> String { finals[key].map { String(format: "%.4g", $0) } ?? "—" }
        print("run \(outcome.uuid) (id \(outcome.runID)): \(outcome.status.rawValue) after \(outcome.stepsCompleted) steps into \(database.path)")
        print("")
        for line in Self.table([["", "network", "telescoped", "linearized"],
                                ["test accuracy", final("test_acc"), final("tel_test_acc"), final("lin_test_acc")],
                                ["test mse", final("test_mse"), final("tel_test_mse"), final("lin_test_mse")]]) {
            print("  " + line)
        }
        print("  approx. error (mean |f − model| on test)  telescoped \(final("approx_err_tel"))   linearized \(final("approx_err_lin"))")
        print("  effective parameters  p_train \(final("p_train"))   p_test \(final("p_test"))")
        print("")
        print("Read them back with stock sqlite3:")
        print("""
          sqlite3 \(database.path) "SELECT k.name, m.step, m.value FROM metrics m JOIN metric_keys k ON k.id = m.key_id \\
            WHERE m.run_id = \(outcome.runID) AND k.name IN ('test_acc','tel_test_acc','lin_test_acc','p_train','p_test') \\
            AND m.step = (SELECT max(step) FROM metrics WHERE run_id = m.run_id AND key_id = m.key_id)"
        """)
    }

    /// Rows as aligned columns, each as wide as its widest cell: the first (labels) left-aligned,
    /// the others (numbers, and their headers) right-aligned.
    static func table(_ rows: [[String]]) -> [String] {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, cell in
                let padding = String(repeating: " ", count: widths[c] - cell.count)
                return c == 0 ? cell + padding : padding + cell
            }.joined(separator: "   ")
        }
    }
}
