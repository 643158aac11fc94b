import ArgumentParser
import Foundation
import Query

struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Scalar series of one or more runs, one row per recorded step.",
        discussion: """
        Columns: run (when several runs are named), step, then one column per key. Steps \
        are the recorded ones (lens.every thins state keys); a key without a row at a step \
        shows as empty. docs/metrics.md defines every key. Reads only.

        Examples:
          tlens metrics 3 --key train_loss,test_mse --every 100
          tlens metrics 3 7 --key approx_err_tel --from 1000 --to 2000 --format csv
        """)

    @Argument(help: ArgumentHelp("Runs: ids, uuids (prefixes) or names.", valueName: "run"))
    var runs: [String] = []

    @Option(name: .customLong("key"), help: ArgumentHelp("Metric keys (comma-separated, repeatable).", valueName: "keys"))
    var keys: [String] = []

    @Option(help: "Only steps that are multiples of N.")
    var every: Int?

    @Option(help: "First step to show.")
    var from: Int?

    @Option(help: "Last step to show.")
    var to: Int?

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: FormatOptions

    func validate() throws {
        if runs.isEmpty { throw ValidationError("name at least one run (id, uuid or name)") }
        if commaList(keys).isEmpty { throw ValidationError("--key: name at least one metric key (e.g. --key test_mse)") }
    }

    func run() throws {
        let reader = try openCatalog(database)
        output.emit(try Listings.metrics(reader, runs: runs, keys: commaList(keys), every: every, from: from, to: to))
    }
}
