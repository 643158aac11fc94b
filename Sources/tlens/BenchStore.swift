import ArgumentParser
import Foundation
import Store

struct BenchStore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Measure how fast the recorder writes scalars and vectors, and the file's overhead.",
        discussion: """
        Records a synthetic run through the same Recorder a training run uses, into a fresh
        temporary file that is deleted afterwards: STEPS x KEYS scalar points (default 100,000 x 50
        = 5 million), then VECTORS float32 vectors of LENGTH values (default 10,000 x 10,000).
        Each phase is timed from its first log call until a flush has committed it (into the
        WAL; a background thread checkpoints into the database file meanwhile). The final
        checkpoint at close is timed and shown separately.

        Reports scalar points per second, vector megabytes (10^6 bytes) per second, and database
        bytes per payload byte, where payload = 8 bytes per scalar value + 4 bytes per vector
        float. Goals on a 2-core machine: >= 1,000,000 points/s, >= 200 MB/s, overhead < 1.3.
        Build with `swift build -c release` first; debug builds are much slower.
        """)

    @Option(help: "Output format: table or json (one JSON object).")
    var format: OutputFormat = .table
    @Option(help: "Scalar steps.") var steps = 100_000
    @Option(help: "Scalar metric keys per step.") var keys = 50
    @Option(help: "Number of vectors.") var vectors = 10_000
    @Option(help: "Floats per vector.") var length = 10_000
    @Option(help: "Directory for the temporary database (default: the system temp dir).") var directory: String?

    func validate() throws {
        guard format != .csv else { throw ValidationError("--format must be table or json") }
        guard steps > 0, keys > 0, vectors > 0, length > 0 else { throw ValidationError("sizes must be positive") }
    }

    func run() throws {
        let result = try StoreBenchmark.run(steps: steps, keys: keys, vectors: vectors, vectorLength: length,
                                            directory: directory ?? NSTemporaryDirectory())
        switch format {
        case .json:
            let object: [String: Any] = [
                "scalar_points": result.scalarPoints, "metric_keys": result.metricKeys,
                "scalar_seconds": result.scalarSeconds, "scalar_points_per_second": result.scalarPointsPerSecond,
                "vectors": result.vectors, "vector_length": result.vectorLength,
                "vector_seconds": result.vectorSeconds, "close_seconds": result.closeSeconds, "vector_mb_per_second": result.vectorMBPerSecond,
                "database_bytes": result.databaseBytes, "payload_bytes": result.payloadBytes,
                "database_bytes_per_payload_byte": result.overhead, "meets_goals": result.meetsGoals,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        default:
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
