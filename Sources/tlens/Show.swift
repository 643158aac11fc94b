import ArgumentParser
import Foundation
import Query

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Everything stored about one run: config, provenance, history, keys, storage, checkpoints.",
        discussion: """
        RUN is an id, a uuid (or a unique prefix of one) or a run name. Sections: the run \
        (status, sweep, axes, seed, steps), provenance (code version, host, pid, data \
        fingerprint, threads, GEMM backend), history (created, started, every event such as \
        'resumed' or 'smoother_unstable', finished), the scalar keys recorded with their step \
        ranges and final values, vectors, checkpoints, storage used, and the resolved config. \
        Reads only.

        Examples:
          tlens show 3
          tlens show 'sweep-lr lr=0.01 seed=1' --format json
        """)

    @Argument(help: ArgumentHelp("The run: id, uuid (prefix) or name.", valueName: "run"))
    var runArgument: String

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
        let reader = try openCatalog(database)
        let id = try RunReference.resolve(runArgument, in: reader.catalog)
        print(try RunDetails(run: id, catalog: reader.catalog).render(output.format, width: terminalWidth()), terminator: "")
    }
}
