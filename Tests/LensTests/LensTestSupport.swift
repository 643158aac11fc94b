import Lens
import Linalg
import Runner
import XCTest

/// Keeps what a lens emits in memory, keyed by name, so tests read series without a database.
final class MemorySink: LensSink {
    var names: [String] = []
    var scalars: [String: [(step: Int, value: Double)]] = [:]
    var vectors: [String: [Int: [Float]]] = [:]
    var events: [(step: Int, kind: String, message: String)] = []

    func event(step: Int, kind: String, message: String) { events.append((step, kind, message)) }

    func scalar(_ key: Int, step: Int, value: Double) {
        scalars[names[key], default: []].append((step, value))
    }

    func vector(_ kind: VectorKind, split: Split, step: Int, values: UnsafeBufferPointer<Float>) {
        vectors["\(kind.rawValue)/\(split.rawValue)", default: [:]][step] = Array(values)
    }

    func last(_ key: String, file: StaticString = #filePath, line: UInt = #line) -> Double {
        guard let v = scalars[key]?.last?.value else {
            XCTFail("no values recorded for \(key)", file: file, line: line)
            return .nan
        }
        return v
    }
}

/// Trains `yaml` through the lens in memory and returns what it recorded.
func trainInMemory(_ yaml: String, overrides: [String] = []) throws -> (MemorySink, TrainingLoop) {
    let config = try TrainConfig.load(text: yaml, source: "test", overrides: overrides)
    let prepared = try PreparedRun(config)
    let sink = MemorySink()
    let loop = try TrainingLoop(prepared, sink: sink)
    sink.names = loop.lens.scalarKeys.names
    let ending = try loop.run()
    XCTAssertEqual(ending.status, .completed, ending.message ?? "")
    return (sink, loop)
}

func maxRelativeError(_ a: Matrix, _ b: Matrix) -> Double {
    var num = 0.0, den = 0.0
    for i in 0..<a.rows {
        for j in 0..<a.cols {
            num = max(num, Double(abs(a[i, j] - b[i, j])))
            den = max(den, Double(abs(b[i, j])))
        }
    }
    return num / max(den, 1e-30)
}

func randomMatrix(_ rows: Int, _ cols: Int, seed: UInt64, scale: Double = 1) -> Matrix {
    var rng = RandomSource(seed: seed, stream: .other)
    let m = Matrix(rows: rows, cols: cols)
    for i in 0..<rows { for j in 0..<cols { m[i, j] = Float(rng.normal() * scale) } }
    return m
}
