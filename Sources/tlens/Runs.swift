import ArgumentParser
import Foundation
import Query

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List stored runs with their status, sweep axes and headline metrics.",
        discussion: """
        One row per run: id, name, status ('crashed' for a running run whose heartbeat \
        stopped), last recorded step, the sweep axes of the listed runs, and the final value \
        of headline metrics (or the --keys you name). Measures used by --where and --sort \
        are shown too. Reads only.

        Names are run fields (id, name, status, sweep, seed, last_step, host, created, \
        duration), config paths (optimizer.lr, model.hidden) and derived metrics \
        (final.test_mse, best.test_acc, at.test_mse@1000, first_below.test_mse:0.1, auc.test_mse, \
        gen_gap, grokking_delay, p_ratio, approx_ratio, kdrift_end; docs/metrics.md).

        Examples:
          tlens runs
          tlens runs --sweep sweep-lr --sort final.test_mse:desc
          tlens runs --where 'optimizer.lr<=0.01' --where status=completed --format csv
          tlens runs --where 'name~*seed=1' --keys final.p_train,p_ratio --limit 5
        """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var selectionOptions: SelectionOptions

    @Option(help: ArgumentHelp("Sort by this name, ascending; NAME:desc for descending (e.g. final.test_acc:desc).", valueName: "name"))
    var sort: String?

    @Option(help: "Show at most this many runs.")
    var limit: Int?

    @Option(help: ArgumentHelp("Columns to show instead of the headline metrics (comma-separated, repeatable).", valueName: "names"))
    var keys: [String] = []

    @OptionGroup var output: FormatOptions

    func run() throws {
        let reader = try openCatalog(database)
        let list = commaList(keys)
        output.emit(try Listings.runs(reader, selection: selectionOptions.selection(sort: sort, limit: limit),
                                      keys: list.isEmpty ? nil : list))
    }
}
