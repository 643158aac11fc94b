import Foundation
import Learning
import Lens
import Linalg
import Nets
import Store

/// `tlens bench checkpoint`: what checkpoints cost on the MLP [64, 512, 512, 1] with the exact
/// smoother over n = 1,000 (plain SGD, batch 128, 1,000 test points, kernel statistics on 256),
/// each figure against the lens step measured in the same run: the state's size, the time to
/// export it and commit it through the recorder, its share of a 1,000-step run at the default
/// `checkpoint.every` (50 steps), and what a resume costs (read the newest checkpoint, build the
/// learner and lens, import both blobs).
public enum CheckpointBenchmark {
    public struct Result: Sendable {
        public var stepMilliseconds: Double
        public var learnerBytes: Int
        public var lensBytes: Int
        public var exportMilliseconds: Double
        public var commitMilliseconds: Double
        public var readMilliseconds: Double
        public var buildMilliseconds: Double
        public var importMilliseconds: Double
        public static let defaultEvery = 50

        public var writeMilliseconds: Double { exportMilliseconds + commitMilliseconds }
        /// Checkpoint time over the steps between two checkpoints at the default cadence.
        public var shareOfRun: Double { writeMilliseconds / (Double(Self.defaultEvery) * stepMilliseconds) }
        public var resumeMilliseconds: Double { readMilliseconds + buildMilliseconds + importMilliseconds }
    }



    public static func run(steps: Int = 10) throws -> Result {
        let d = 64, n = 1000, testCount = 1000
        var rng = RandomSource(seed: 1, stream: .other)
        func points(_ m: Int, _ cols: Int) -> Matrix {
            let x = Matrix(rows: m, cols: cols)
            for i in 0..<x.count { x.base[i] = Float(rng.normal()) }
            return x
        }
        let trainX = points(n, d), trainY = points(n, 1), testX = points(testCount, d), testY = points(testCount, 1)
        var options = LensOptions()
        options.smoother = .exact
        options.referenceSize = 256
        options.totalSteps = 1_000_000
        let problem = LensProblem(trainX: trainX, trainY: trainY, testX: testX, testY: testY,
                                  evalTrain: Array(0..<n), reference: Array(0..<256), classification: false)
        func build() throws -> (MLPLearner, TelescopingLens) {
            let model = MLP(MLPSpec(inputDimension: d, hidden: [512, 512], outputDimension: 1, activation: .relu))
            let learner = try MLPLearner(model: model, loss: .mse, optimizer: OptimizerSpec(kind: .sgd, lr: 0.01),
                                         trainX: trainX, trainY: trainY, batchSize: 128, seed: 0)
            return (learner, try TelescopingLens(learner: learner, problem: problem, options: options, sink: DiscardingSink()))
        }
        let (learner, lens) = try build()
        for _ in 0..<2 { lens.observe(learner.step()) }
        var stepMs = Double.infinity
        for _ in 0..<max(steps, 1) { stepMs = min(stepMs, milliseconds { lens.observe(learner.step()) }) }

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tlens-bench-checkpoint-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("bench.sqlite").path
        let recorder = try Recorder(path: path)
        let run = try recorder.startRun(RunInfo(configJSON: "{}", seed: 0, codeVersion: "bench", host: "bench", dataFingerprint: "bench"))
        var learnerBlob: [UInt8] = [], lensBlob: [UInt8] = []
        let exportMs = milliseconds {
            learnerBlob = learner.exportState()
            lensBlob = lens.exportState()
        }
        let commitMs = try milliseconds {
            try run.checkpoint(step: learner.stepsTaken, parameters: UnsafeBufferPointer(start: learner.parameters, count: learner.parameterCount),
                               optimizerState: learner.checkpointableOptimizer.exportState(),
                               learnerState: learnerBlob, lensState: lensBlob, keep: 2)
            try run.flush()
        }
        try run.finish(status: .completed, error: nil)
        try recorder.close()

        var checkpoint: RunCheckpoint?
        let readMs = try milliseconds {
            let db = try Database(path: path, mode: .readOnly)
            checkpoint = try db.latestResumableCheckpoint(run: run.runID)
            try db.close()
        }
        var fresh: (MLPLearner, TelescopingLens)!
        let buildMs = try milliseconds { fresh = try build() }
        let importMs = try milliseconds {
            try fresh.0.importState(checkpoint?.learnerState ?? [])
            try fresh.1.importState(checkpoint?.lensState ?? [])
        }
        guard fresh.1.exportState() == lensBlob else { throw LensError("bench checkpoint: the restored lens differs from the saved one") }
        return Result(stepMilliseconds: stepMs, learnerBytes: learnerBlob.count, lensBytes: lensBlob.count,
                      exportMilliseconds: exportMs, commitMilliseconds: commitMs, readMilliseconds: readMs,
                      buildMilliseconds: buildMs, importMilliseconds: importMs)
    }
}
