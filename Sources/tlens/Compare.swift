import ArgumentParser
import Foundation
import Query

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare runs side by side, or a sweep's groups aggregated over seeds.",
        discussion: """
        With runs named: one row per run with the --keys, and with --baseline RUN the \
        difference from that run (Δ columns).

        With --sweep (and/or --where): runs are grouped by --by (default: the sweep's axes; \
        seeds fall in the same group) and each key is aggregated over a group's runs as mean, \
        standard deviation and 95% confidence interval (Student t). --baseline PATH=VALUE \
        names a group; the Δ columns are differences of means with Welch 95% intervals. \
        --peak reports, per key, where the group mean is largest along the one --by axis and \
        whether that peak is interior (a double-descent peak). Reads only, unless --save \
        (which stores the comparison for tlens rerun).

        Examples:
          tlens compare 3 7 9 --keys final.test_mse,final.p_test --baseline 3
          tlens compare --sweep sweep-lr --keys final.test_mse,approx_ratio
          tlens compare --sweep dd-width --by model.hidden --keys final.test_mse --peak
        """)

    @Argument(help: ArgumentHelp("Runs to compare side by side: ids, uuids (prefixes) or names.", valueName: "run"))
    var runs: [String] = []

    @OptionGroup var selectionOptions: SelectionOptions

    @Option(help: ArgumentHelp("Group by these names (comma-separated; default: the sweep's axes).", valueName: "paths"))
    var by: [String] = []

    @Option(help: ArgumentHelp("Measures to compare (comma-separated, repeatable; default: headline final metrics).", valueName: "names"))
    var keys: [String] = []

    @Option(help: ArgumentHelp("A run, or a group as PATH=VALUE[,PATH=VALUE], to take differences against.", valueName: "run|group"))
    var baseline: String?

    @Flag(help: "Report where each key's group mean peaks along the --by axis.")
    var peak = false

    @OptionGroup var save: SaveOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: FormatOptions

    var request: ComparisonRequest {
        ComparisonRequest(runs: runs, selection: selectionOptions.selection(), by: commaList(by), keys: commaList(keys),
                          baseline: baseline, peak: peak)
    }

    func validate() throws {
        if runs.isEmpty && selectionOptions.sweep == nil && selectionOptions.conditions.isEmpty && by.isEmpty {
            throw ValidationError("name runs to compare, or select them with --sweep / --where (see tlens compare --help)")
        }
    }

    func run() throws {
        // Through the saved-analysis path always: a comparison shown is the one --save stores.
        try runAnalysis(try AnalysisRequest(comparison: request), database: database, output: output, save: save)
    }
}
