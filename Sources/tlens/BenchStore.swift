import ArgumentParser
import Query
import Foundation
import Store

struct BenchStore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Measure how fast the recorder writes scalars and vectors, and the file's overhead.",
        discussion: """
        Records a synthetic run through the same Recorder a training run uses, into a fresh \
        temporary file that is deleted afterwards: STEPS × KEYS scalar points (default \
        100,000 × 50 = 5 million), then VECTORS float32 vectors of LENGTH values (default \
        10,000 × 10,000). Each phase is timed from its first log call until a flush has committed \
        it (into the WAL; a background thread checkpoints into the database file meanwhile). The \
        final checkpoint at close is timed and shown separately.

        Reports scalar points per second, vector megabytes (10^6 bytes) per second, and database \
        bytes per payload byte, where payload = 8 bytes per scalar value + 4 bytes per vector \
        float. Goals on a 2-core machine: ≥ 1,000,000 points/s, ≥ 200 MB/s, overhead < 1.3.

        With --writers, instead: N recording processes on one file, each writing STEPS × KEYS \
        scalars of its own run, timed from a common barrier until the last has committed; \
        every row is counted back.

        Build with `swift build -c release` first; debug builds are much slower.
        """)

    @Option(help: "table, json (one object) or csv (the same figures, one row).")
    var format: BenchFormat = .table
    @Option(help: "Scalar steps.") var steps = 100_000
    @Option(help: "Scalar metric keys per step.") var keys = 50
    @Option(help: "Number of vectors.") var vectors = 10_000
    @Option(help: "Floats per vector.") var length = 10_000
    @Option(help: "Directory for the temporary database (default: the system temp dir).") var directory: String?
    @Option(help: ArgumentHelp("Instead: aggregate scalar rows/s with this many recording processes on one file, e.g. 1,2,8,32.",
                               valueName: "n,n,…"))
    var writers: String?
    @Option(help: .hidden) var child: String?

    func validate() throws {
        guard steps > 0, keys > 0, vectors > 0, length > 0 else { throw ValidationError("sizes must be positive") }
    }

    func run() throws {
        if let child { return try writeAsChild(child) }
        if let writers { return try measureWriters(writers) }
        let result = try StoreBenchmark.run(steps: steps, keys: keys, vectors: vectors, vectorLength: length,
                                            directory: directory ?? NSTemporaryDirectory())
        switch format {
        case .json, .csv:
            let object: [String: Any] = [
                "scalar_points": result.scalarPoints, "metric_keys": result.metricKeys,
                "scalar_seconds": result.scalarSeconds, "scalar_points_per_second": result.scalarPointsPerSecond,
                "vectors": result.vectors, "vector_length": result.vectorLength,
                "vector_seconds": result.vectorSeconds, "close_seconds": result.closeSeconds, "vector_mb_per_second": result.vectorMBPerSecond,
                "database_bytes": result.databaseBytes, "payload_bytes": result.payloadBytes,
                "database_bytes_per_payload_byte": result.overhead, "meets_goals": result.meetsGoals,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            format.emit(json: String(decoding: data, as: UTF8.self))
        case .table:
            func row(_ name: String, _ value: String, _ goal: String) -> String {
                name.padding(toLength: 34, withPad: " ", startingAt: 0) + value.padding(toLength: 16, withPad: " ", startingAt: 0) + goal
            }
            print(row("measure", "value", "goal"))
            print(row("scalar points/s", String(format: "%.0f", result.scalarPointsPerSecond), ">= 1000000"))
            print(row("vector MB/s", String(format: "%.1f", result.vectorMBPerSecond), ">= 200"))
            print(row("database bytes per payload byte", String(format: "%.3f", result.overhead), "< 1.3"))
            print(row("scalar points", "\(result.scalarPoints)", "in \(String(format: "%.2f", result.scalarSeconds)) s"))
            print(row("vector floats", "\(result.vectors * result.vectorLength)", "in \(String(format: "%.2f", result.vectorSeconds)) s"))
            print(row("database / payload bytes", "\(result.databaseBytes)", "/ \(result.payloadBytes)"))
            print(row("final checkpoint and close", String(format: "%.2f s", result.closeSeconds), "(not in the rates)"))
        }
    }
}

extension BenchStore {
    /// One writer process: waits for the barrier file, then records `steps × keys` scalars of
    /// its own run and finishes it.
    func writeAsChild(_ path: String) throws {
        let recorder = try Recorder(path: path)
        let run = try recorder.startRun(RunInfo(name: "writer-\(getpid())", configJSON: "{}", seed: 0, codeVersion: "bench",
                                                host: ProcessInfo.processInfo.hostName, dataFingerprint: "none"))
        let metricKeys = try (0..<keys).map { try run.metricKey("w\($0)") }
        while !FileManager.default.fileExists(atPath: path + ".go") { usleep(1000) }
        for step in 0..<steps { for (k, key) in metricKeys.enumerated() { try run.log(key, step: step, value: Double(step * keys + k)) } }
        try run.finish(status: .completed, error: nil)
        try recorder.close()
    }

    /// Aggregate rows per second with N writer processes on one file, for each N: timed from a
    /// barrier all have reached until the last has committed and exited; every row counted back.
    func measureWriters(_ list: String) throws {
        let counts = list.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !counts.isEmpty, counts.allSatisfy({ (1...256).contains($0) }) else { throw CLIError("--writers: expected counts 1…256, e.g. 1,2,8,32") }
        let folder = URL(fileURLWithPath: directory ?? NSTemporaryDirectory()).appendingPathComponent("tlens-bench-writers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var rows: [(writers: Int, rows: Int, seconds: Double, errors: Int)] = []
        for count in counts {
            let path = folder.appendingPathComponent("writers-\(count).sqlite").path
            try Database.openTLens(path: path).close()
            let children = try (0..<count).map { _ -> (Process, Pipe) in
                let p = Process(), err = Pipe()
                p.executableURL = executable
                p.arguments = ["bench", "store", "--child", path, "--steps", String(steps), "--keys", String(keys)]
                p.standardError = err
                try p.run()
                return (p, err)
            }
            // Every run row exists before the barrier opens, so the writers overlap.
            while (try Database(path: path, mode: .readOnly).scalarInt("SELECT count(*) FROM runs") ?? 0) < count { usleep(2000) }
            let start = Date()
            guard FileManager.default.createFile(atPath: path + ".go", contents: Data()) else { throw CLIError("\(folder.path): cannot write the barrier file") }
            var errors = 0
            for (p, err) in children {
                let text = err.fileHandleForReading.readDataToEndOfFile()
                p.waitUntilExit()
                if p.terminationStatus != 0 || !text.isEmpty { errors += 1 }
            }
            let seconds = Date().timeIntervalSince(start)
            let stored = Int(try Database(path: path, mode: .readOnly).scalarInt("SELECT count(*) FROM metrics") ?? 0)
            if stored != count * steps * keys { errors += 1 }
            rows.append((count, stored, seconds, errors))
        }
        switch format {
        case .json, .csv:
            format.emit(json: "[" + rows.map { "{\"writers\": \($0.writers), \"rows\": \($0.rows), \"seconds\": \($0.seconds), \"rows_per_second\": \(Double($0.rows) / $0.seconds), \"errors\": \($0.errors)}" }.joined(separator: ", ") + "]")
        case .table:
            print("writers      rows   seconds   rows/s (all writers)   errors")
            for r in rows {
                print(String(format: "%7d %9d %9.2f %14.0f %14d", r.writers, r.rows, r.seconds, Double(r.rows) / r.seconds, r.errors))
            }
        }
        if rows.contains(where: { $0.errors > 0 }) { throw ExitCode(1) }
    }
}
