import ArgumentParser
import Query

/// `--format` of the benchmarks: a table for people, one JSON object for scripts.
enum BenchFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure tlens against this machine's own sgemm and against baselines.",
        discussion: """
        Every benchmark prints ratios measured in one run, because absolute times on shared \
        machines move from run to run. Build with `swift build -c release` first.
        """,
        subcommands: [BenchStore.self, BenchTrain.self, BenchLens.self, BenchCheckpoint.self, BenchQuery.self])
}
