import Foundation
import Data
import Lens
import Linalg
import Nets
import Store

/// How a run ended.
public struct TrainOutcome {
    public var runID: Int64
    public var uuid: String
    public var status: RunStatus
    public var stepsCompleted: Int
    public var error: String?
}

/// Progress of a run, for a terminal line (step, loss, test metric, steps/s, ETA).
public protocol TrainingProgress: AnyObject {
    func update(step: Int, of total: Int, loss: Double, testMetric: (name: String, value: Double)?, stepsPerSecond: Double)
    func finish()
}

/// The step loop (docs/lens.md §0, §2): batch → forward/backward at
/// θ_{t-1} → the optimizer proposes Δθ_t → the lens's pass at θ_{t-1} → θ_t = θ_{t-1} + Δθ_t.
/// It knows nothing of storage: whatever the lens sees goes to its sink.
public final class TrainingLoop {
    public let prepared: PreparedRun
    public let lens: TelescopingLens
    /// θ, updated in place; θ_0 until the first step.
    public let parameters: FloatBuffer

    public init(_ prepared: PreparedRun, sink: LensSink) throws {
        self.prepared = prepared
        parameters = FloatBuffer(prepared.model.initialParameters(seed: prepared.config.seed))
        lens = try TelescopingLens(model: prepared.model, optimizer: prepared.optimizer, problem: prepared.problem,
                                   initialParameters: parameters.base, options: prepared.config.lens.options, sink: sink)
    }

    public struct Ending {
        public var status: RunStatus
        public var message: String?
        public var stepsCompleted: Int
    }

    /// Runs every step, then records the final state. `afterStep` may throw to abort (a sink
    /// error); `shouldStop` is polled between steps.
    public func run(progress: TrainingProgress? = nil, shouldStop: () -> Bool = { false },
                    afterStep: (Int) throws -> Void = { _ in }) throws -> Ending {
        let config = prepared.config, model = prepared.model, optimizer = prepared.optimizer
        let n = prepared.split.train.count, b = config.optimizer.batchSize, c = model.outputDimension
        let count = model.parameterCount, θ = parameters
        let gradient = FloatBuffer(count: count), update = FloatBuffer(count: count)
        let batchX = Matrix(rows: b, cols: prepared.trainX.cols), batchY = Matrix(rows: b, cols: c)
        let seeds = Matrix(rows: b, cols: c)
        var order = RandomSource(seed: config.seed, stream: .dataOrder)
        var permutation = order.permutation(n), cursor = 0
        var batch = [Int](repeating: 0, count: b)
        var ending = Ending(status: .completed, message: nil, stepsCompleted: 0)
        let start = Date()

        for t in stride(from: 1, through: config.steps, by: 1) {
            if shouldStop() { ending.status = .interrupted; ending.message = "stopped by signal after step \(t - 1)"; break }
            // Minibatches walk a fresh seeded permutation each epoch.
            if cursor + b > n { permutation = order.permutation(n); cursor = 0 }
            for k in 0..<b { batch[k] = permutation[cursor + k] }
            cursor += b
            prepared.trainX.gatherRows(batch, into: batchX)
            prepared.trainY.gatherRows(batch, into: batchY)

            let outputs = model.forward(batchX, parameters: θ.base)
            let loss = config.loss.loss(outputs: outputs, targets: batchY)
            if !loss.isFinite {
                ending.status = .diverged; ending.message = "loss became \(loss) at step \(t)"
                return ending
            }
            config.loss.outputGradient(outputs: outputs, targets: batchY, into: seeds)
            model.vjp(seeds: seeds, into: gradient.base, beta: 0)
            optimizer.proposeUpdate(parameters: θ.base, gradient: gradient.base, update: update.base, step: t)
            lens.observe(step: t, parameters: θ.base, update: update.base, gradient: gradient.base,
                         batch: batch, learningRate: optimizer.learningRate(step: t), batchLoss: loss)
            Vec.axpy(count, 1, update.base, θ.base)
            ending.stepsCompleted = t
            try afterStep(t)
            if let progress, t % 10 == 0 || t == config.steps {
                progress.update(step: t, of: config.steps, loss: loss, testMetric: lens.latestTestMetric,
                                stepsPerSecond: Double(t) / max(Date().timeIntervalSince(start), 1e-9))
            }
        }
        lens.finish(step: ending.stepsCompleted, parameters: θ.base)
        return ending
    }
}

/// Trains a prepared run through the lens and records everything through the recorder.
public final class Trainer {
    let prepared: PreparedRun
    /// Set from a signal handler: the loop stops at the next step boundary, flushes, and the
    /// run finishes as `interrupted`.
    nonisolated(unsafe) public static var stopRequested = false

    public init(_ prepared: PreparedRun) { self.prepared = prepared }

    public func run(recorder: Recorder, codeVersion: String, progress: TrainingProgress?) throws -> TrainOutcome {
        let config = prepared.config
        var params = [(String, String)]()
        flatten(config.resolved, prefix: "", into: &params)
        let info = RunInfo(name: config.name, configJSON: config.resolved.json, seed: config.seed,
                           codeVersion: codeVersion, host: ProcessInfo.processInfo.hostName,
                           dataFingerprint: prepared.split.fingerprint, params: params)
        let run = try recorder.startRun(info)
        var ending = TrainingLoop.Ending(status: .failed, message: nil, stepsCompleted: 0)
        do {
            let sink = RecorderSink(run)
            let loop = try TrainingLoop(prepared, sink: sink)
            try sink.resolveKeys(loop.lens.scalarKeys.names)
            let count = prepared.model.parameterCount
            // θ_0 is stored with every run (the §3 baseline needs it; any run is checkable from it).
            try run.checkpoint(step: 0, parameters: UnsafeBufferPointer(start: loop.parameters.base, count: count), optimizerState: nil)
            try run.logEvalPoints(split: "train", rowIDs: prepared.evalTrain.map { prepared.split.train.rowIDs[$0] })
            try run.logEvalPoints(split: "test", rowIDs: prepared.testRows.map { prepared.split.test.rowIDs[$0] })
            ending = try loop.run(progress: progress, shouldStop: { Trainer.stopRequested }, afterStep: { _ in try sink.rethrow() })
            try sink.rethrow()
            if ending.status == .diverged { try run.logEvent(step: ending.stepsCompleted + 1, kind: "diverged", message: ending.message ?? "") }
            try run.checkpoint(step: ending.stepsCompleted, parameters: UnsafeBufferPointer(start: loop.parameters.base, count: count),
                               optimizerState: prepared.optimizer.exportState())
        } catch {
            progress?.finish()
            try? run.finish(status: .failed, error: "\(error)")
            throw error
        }
        progress?.finish()
        try run.finish(status: ending.status, error: ending.message)
        return TrainOutcome(runID: run.runID, uuid: run.uuid, status: ending.status,
                            stepsCompleted: ending.stepsCompleted, error: ending.message)
    }
}

/// Flattened `section.key = value` pairs for `run_params` (filtering runs in SQL).
func flatten(_ value: ConfigValue, prefix: String, into out: inout [(String, String)]) {
    switch value {
    case .map(let entries): for (k, v) in entries { flatten(v, prefix: join(prefix, k), into: &out) }
    case .null: break
    case .string(let s): out.append((prefix, s))
    default: out.append((prefix, value.json))
    }
}

/// Sends the lens's output to a run's recorder, with keys interned once.
final class RecorderSink: LensSink {
    let run: RunRecorder
    var keys: [MetricKey] = []
    var firstError: Error?

    init(_ run: RunRecorder) { self.run = run }

    func resolveKeys(_ names: [String]) throws { keys = try names.map { try run.metricKey($0) } }

    func scalar(_ key: Int, step: Int, value: Double) {
        do { try run.log(keys[key], step: step, value: value) } catch { firstError = firstError ?? error }
    }

    func vector(_ kind: VectorKind, split: Split, step: Int, values: UnsafeBufferPointer<Float>) {
        do { try run.logVector(kind: kind.rawValue, split: split.rawValue, step: step, values: values) }
        catch { firstError = firstError ?? error }
    }

    func rethrow() throws { if let e = firstError { throw e } }
}
