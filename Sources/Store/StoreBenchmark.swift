import Foundation

/// What `StoreBenchmark.run` measured in one run.
public struct StoreBenchmarkResult: Codable {
    public var scalarPoints: Int
    public var metricKeys: Int
    public var scalarSeconds: Double
    public var vectors: Int
    public var vectorLength: Int
    public var vectorSeconds: Double
    /// finish + close after both phases: the final WAL checkpoint into the database file (not
    /// part of either rate; reported so that no work is hidden).
    public var closeSeconds: Double
    /// Bytes of the database file after the recorder closed (WAL checkpointed into it).
    public var databaseBytes: Int64
    /// 8 bytes per scalar value + 4 bytes per vector float: the numbers themselves.
    public var payloadBytes: Int64

    public var scalarPointsPerSecond: Double { Double(scalarPoints) / scalarSeconds }
    /// Vector payload in 10^6 bytes per second.
    public var vectorMBPerSecond: Double { Double(vectors * vectorLength * 4) / 1e6 / vectorSeconds }
    /// Database bytes per payload byte (1.0 would be no overhead at all).
    public var overhead: Double { Double(databaseBytes) / Double(payloadBytes) }

    /// The goals for a 2-core machine, set for the store.
    public static let scalarGoal = 1_000_000.0, vectorGoal = 200.0, overheadGoal = 1.3
    public var meetsGoals: Bool {
        scalarPointsPerSecond >= Self.scalarGoal && vectorMBPerSecond >= Self.vectorGoal && overhead < Self.overheadGoal
    }
}

/// Records a synthetic run through `Recorder` into a fresh temporary file and times it:
/// first `steps × keys` scalars (step-major, as a training loop logs them), then `vectors`
/// float32 vectors of `vectorLength` (cycling kinds pred/tel/lin/kwn and splits train/test).
/// Each phase is timed from its first `log` to the end of the `flush` that commits it (committed
/// = in the WAL; a background thread WAL-checkpoints into the database file meanwhile); the final
/// WAL checkpoint at close is timed separately.
///
///     let result = try StoreBenchmark.run()
///     print(result.scalarPointsPerSecond, result.vectorMBPerSecond, result.overhead)
public enum StoreBenchmark {
    public static func run(steps: Int = 100_000, keys: Int = 50, vectors: Int = 10_000, vectorLength: Int = 10_000,
                           directory: String = NSTemporaryDirectory()) throws -> StoreBenchmarkResult {
        let path = (directory as NSString).appendingPathComponent("tlens-bench-store-\(getpid())-\(UUID().uuidString).sqlite")
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        let recorder = try Recorder(path: path)
        let run = try recorder.startRun(RunInfo(name: "bench-store", configJSON: #"{"bench": "store"}"#, seed: 0,
                                                codeVersion: "bench", host: ProcessInfo.processInfo.hostName,
                                                dataFingerprint: "synthetic"))
        let metricKeys = try (0..<keys).map { try run.metricKey("bench_\($0)") }

        // Scalars: values vary per point so nothing is artificially compressible.
        let scalarStart = DispatchTime.now().uptimeNanoseconds
        var value = 0.5
        for step in 0..<steps {
            for key in metricKeys {
                value = value * 1.000_000_1 + 1e-9
                try run.log(key, step: step, value: value)
            }
        }
        if ProcessInfo.processInfo.environment["TLENS_BENCH_DEBUG"] != nil { print("enqueue done", seconds(since: scalarStart)) }
        try run.flush()
        let scalarSeconds = seconds(since: scalarStart)

        // Vectors: random floats (generated before timing), one element changed per vector.
        var generator = SystemRandomNumberGenerator()
        var data = (0..<vectorLength).map { _ in Float.random(in: -1...1, using: &generator) }
        let kinds = ["pred", "tel", "lin", "kwn"], splits = ["train", "test"]
        let perStep = kinds.count * splits.count
        let vectorStart = DispatchTime.now().uptimeNanoseconds
        for index in 0..<vectors {
            if vectorLength > 0 { data[index % vectorLength] = Float(index) }
            let combination = index % perStep
            try data.withUnsafeBufferPointer {
                try run.logVector(kind: kinds[combination / splits.count], split: splits[combination % splits.count],
                                  step: index / perStep, values: $0)
            }
        }
        try run.flush()
        let vectorSeconds = seconds(since: vectorStart)

        let closeStart = DispatchTime.now().uptimeNanoseconds
        try run.finish(status: .completed, error: nil)
        try recorder.close()
        let closeSeconds = seconds(since: closeStart)
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
        return StoreBenchmarkResult(
            scalarPoints: steps * keys, metricKeys: keys, scalarSeconds: scalarSeconds,
            vectors: vectors, vectorLength: vectorLength, vectorSeconds: vectorSeconds, closeSeconds: closeSeconds,
            databaseBytes: size, payloadBytes: Int64(steps * keys * 8 + vectors * vectorLength * 4))
    }

    private static func seconds(since start: UInt64) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}
