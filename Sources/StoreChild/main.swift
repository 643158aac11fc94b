import Foundation
import Store

// A recording process for the Store crash and concurrency tests.
//
//   StoreChild DB STEPS KEYS [--vector N] [--flush-every K] [--finish] [--wait-for PATH]
//
// Logs STEPS steps (STEPS = 0: until killed) of KEYS scalars "k0".."k{KEYS-1}" with value
// step * 1000 + key index (so a reader can check every value independently), plus an optional
// N-float vector per step. Prints "run ID" first, then "committed STEP" each time a flush has
// made STEP durable, and "done" after finishing the run as completed. With --wait-for, logging
// starts only once PATH exists (a barrier so that two children really record at the same time).
let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 3, let steps = Int(arguments[1]), let keyCount = Int(arguments[2]) else {
    FileHandle.standardError.write("usage: StoreChild DB STEPS KEYS [--vector N] [--flush-every K] [--finish] [--wait-for PATH]\n".data(using: .utf8)!)
    exit(2)
}
func option(_ name: String) -> Int? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return Int(arguments[index + 1])
}
let vectorLength = option("--vector") ?? 0
let flushEvery = option("--flush-every") ?? 50
setvbuf(stdout, nil, _IOLBF, 0)

do {
    let recorder = try Recorder(path: arguments[0])
    let run = try recorder.startRun(RunInfo(name: "child-\(getpid())", configJSON: #"{"child": true}"#, seed: 7,
                                            codeVersion: "test", host: "localhost", dataFingerprint: "none"))
    print("run \(run.runID)")
    if let index = arguments.firstIndex(of: "--wait-for"), index + 1 < arguments.count {
        while !FileManager.default.fileExists(atPath: arguments[index + 1]) { usleep(1000) }
    }
    let keys = try (0..<keyCount).map { try run.metricKey("k\($0)") }
    var vector = [Float](repeating: 0, count: vectorLength)
    var step = 0
    while steps == 0 || step < steps {
        for (index, key) in keys.enumerated() { try run.log(key, step: step, value: Double(step * 1000 + index)) }
        if vectorLength > 0 {
            for i in 0..<vectorLength { vector[i] = Float(step) + Float(i) / 8 }
            try vector.withUnsafeBufferPointer { try run.logVector(kind: "pred", split: "test", step: step, values: $0) }
        }
        if (step + 1) % flushEvery == 0 {
            try run.flush()
            print("committed \(run.lastCommittedStep ?? -1)")
        }
        step += 1
    }
    if arguments.contains("--finish") {
        try run.finish(status: .completed, error: nil)
        try recorder.close()
        print("done")
    }
} catch {
    FileHandle.standardError.write("StoreChild: \(error)\n".data(using: .utf8)!)
    exit(1)
}
