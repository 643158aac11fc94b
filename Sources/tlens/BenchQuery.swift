import ArgumentParser
import Foundation
import Query
import Store

struct BenchQuery: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Time the query commands on a sweep-sized database (goal: each under 0.3 s).",
        discussion: """
        Builds a database of RUNS runs x STEPS steps x 20 keys (default 200 x 5,000 = 20 \
        million scalar rows) plus vectors for 10 runs, through the recorder a training run \
        uses, then times `runs`, `runs --where final.test_mse<…`, `compare --sweep … --by …` \
        and a named query: in this process (open, load, compute, render; median of 5) and as \
        whole `tlens` commands (process start included; median of 3). The ratio column \
        divides each in-process time by a plain-SQL floor measured in the same run: one \
        statement reading every run's final test_mse. Build with `swift build -c release`.

        --keep PATH keeps the database (and reuses it if it exists).
        """)

    @Option(help: "Runs in the sweep.") var runs = 200
    @Option(help: "Steps per run.") var steps = 5000
    @Option(help: ArgumentHelp("Keep the database at this path (reused when it exists).", valueName: "path")) var keep: String?
    @OptionGroup var output: FormatOptions

    func validate() throws {
        guard runs > 0, steps > 0 else { throw ValidationError("--runs and --steps must be positive") }
    }

    func run() throws {
        let temporary = keep == nil ? NSTemporaryDirectory() + "tlens-bench-query-\(getpid()).sqlite" : nil
        let path = keep ?? temporary!
        defer { if let temporary { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: temporary + suffix) } } }
        var buildSeconds = 0.0
        if !FileManager.default.fileExists(atPath: path) {
            FileHandle.standardError.write(Data("building \(runs) runs × \(steps) steps × \(QueryBenchmark.keys.count) keys into \(path)…\n".utf8))
            buildSeconds = try QueryBenchmark.median(1) { try QueryBenchmark.build(path: path, runs: runs, steps: steps, vectorRuns: min(10, runs)) }
        }
        // The threshold keeps about half the runs: the median final test_mse.
        let reader = MetricReader(try RunCatalog(Archive(path: path)))
        let finals = try reader.catalog.runs.compactMap { try reader.number(.derived(.final("test_mse")), for: $0) }.sorted()
        let threshold = finals.isEmpty ? 1 : (finals[finals.count / 2] * 1e4).rounded() / 1e4
        let floor = try QueryBenchmark.median(5) { _ = try QueryBenchmark.baseline(path: path) }
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var table = ResultTable(columns: ["query", "in-process s", "command s", "× SQL floor", "goal"])
        for c in QueryBenchmark.cases(threshold: threshold) {
            let inProcess = try QueryBenchmark.median(5) { _ = try QueryBenchmark.run(c, path: path) }
            let command = try QueryBenchmark.median(3) { try runCommand(binary, c.arguments + ["--db", path]) }
            table.rows.append([.text(c.name), .real(rounded(inProcess)), .real(rounded(command)), .real(rounded(inProcess / floor, 1)),
                               .text(max(inProcess, command) < 0.3 ? "< 0.3 s: met" : "< 0.3 s: NOT met")])
        }
        table.rows.append([.text("plain SQL floor (final test_mse of every run)"), .real(rounded(floor)), .null, .real(1), .null])
        if buildSeconds > 0 { table.rows.append([.text("building the database"), .real(rounded(buildSeconds, 1)), .null, .null, .null]) }
        output.emit(table)
    }

    private func rounded(_ x: Double, _ places: Double = 4) -> Double { (x * pow(10, places)).rounded() / pow(10, places) }

    private func runCommand(_ binary: URL, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CLIError("bench query: `tlens \(arguments.joined(separator: " "))` failed: \(String(decoding: message, as: UTF8.self))")
        }
    }
}
