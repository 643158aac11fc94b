import ArgumentParser
import Foundation
import Query

struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Run a named SQL query (queries/*.sql, or your own) with bound parameters.",
        discussion: """
        Named queries are .sql files whose header says what they show and which parameters \
        they take (docs/queries.md). tlens ships final_metrics, sweep_table, \
        approx_error_by_decade, double_descent, grokking_timeline, \
        kernel_weight_norm_by_irregularity and lmc_barrier_by_spawn_step; --list shows them \
        with their parameters and defaults. Your own go in directories given with --queries \
        DIR or in $TLENS_QUERIES (colon-separated); a file of the same name as a shipped \
        query overrides it. Values given with --param are bound, never spliced into the SQL. \
        Reads only, unless --save.

        Examples:
          tlens query --list
          tlens query final_metrics --param run=7
          tlens query sweep_table --param sweep=sweep-lr --param key=test_acc
          tlens query double_descent --param sweep=dd-width --save --label dd
          tlens query grokking_timeline --show
        """)

    @Argument(help: ArgumentHelp("The query's name (tlens query --list shows them).", valueName: "name"))
    var name: String?

    @Flag(help: "List the named queries: name, parameters with defaults, source, description.")
    var list = false

    @Flag(help: "Print the query's file (header and SQL) instead of running it.")
    var show = false

    @OptionGroup var parameters: ParameterOptions

    @Option(name: .customLong("queries"), help: ArgumentHelp("A directory of your own .sql queries (repeatable; searched before $TLENS_QUERIES and the shipped ones).", valueName: "dir"))
    var directories: [String] = []

    @OptionGroup var save: SaveOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: FormatOptions

    func validate() throws {
        if list {
            guard name == nil, !show, parameters.values.isEmpty, !save.save else {
                throw CLIError("--list takes no query name, --show, --param or --save")
            }
        } else if name == nil {
            throw CLIError("name a query to run, or list them with --list")
        }
        if show && (!parameters.values.isEmpty || save.save) { throw CLIError("--show prints the query; it takes no --param or --save") }
    }

    func run() throws {
        let library = try QueryLibrary(directories: QueryLibrary.directories(
            options: directories, environment: ProcessInfo.processInfo.environment["TLENS_QUERIES"]))
        if list {
            for problem in library.problems.values.sorted() {
                FileHandle.standardError.write(Data("tlens: skipped \(problem)\n".utf8))
            }
            output.emit(library.listing())
            return
        }
        let query = try library.query(named: name ?? "")
        if show {
            print(query.sql, terminator: query.sql.hasSuffix("\n") ? "" : "\n")
            return
        }
        let bindings = try query.bindings(try QueryParameters.parse(parameters.values))
        try runAnalysis(AnalysisRequest(query: query, bindings: bindings), database: database, output: output, save: save)
    }
}
