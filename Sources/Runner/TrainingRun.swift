import Foundation
import Data
import Learning
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

/// When to write a checkpoint (lens.md §11): every `every` steps, at each step of `at`, and
/// whenever `seconds` of wall time passed since the last one, plus the last step and on a stop.
/// `keep` bounds how many are kept per run after step 0; θ_0 at step 0 and the steps of `at`
/// (where children may spawn, lens.md §11) are always kept.
public struct CheckpointPolicy: Sendable {
    public var every: Int
    public var keep: Int
    public var at: [Int]
    public var seconds: Double
    public init(every: Int, keep: Int = 2, at: [Int] = [], seconds: Double = 60) {
        self.every = every; self.keep = keep; self.at = at; self.seconds = seconds
    }
}

/// The one step loop of tlens (lens.md §0): the learner steps,
/// the lens observes. It knows nothing of storage: the lens's output goes to its sink, and state
/// leaves only through `exportState`.
public final class TrainingLoop {
    public let prepared: PreparedRun
    /// An `MLPLearner` or a `BoostedTreesLearner` (docs/lens.md §11, §9).
    public let learner: Learner
    public let lens: TelescopingLens

    /// The learner of an MLP run (nil for boosted trees).
    public var networkLearner: MLPLearner? { learner as? MLPLearner }

    public init(_ prepared: PreparedRun, sink: LensSink) throws {
        self.prepared = prepared
        // The run's thread count, before any product (its results depend on it).
        ComputeEnvironment.use(threads: prepared.config.threads)
        learner = try prepared.makeLearner()
        lens = try TelescopingLens(learner: learner, problem: prepared.problem, options: prepared.config.lens.options, sink: sink)
    }

    /// θ_0 for the step-0 checkpoint (empty for learners without parameters).
    var initialParameters: UnsafeBufferPointer<Float> {
        guard let network = networkLearner else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: network.initialParameters, count: network.parameterCount)
    }

    /// θ_t and the optimizer's floats for a checkpoint row (empty and nil for boosted trees,
    /// whose whole state is the learner blob).
    var parameters: UnsafeBufferPointer<Float> {
        guard let network = networkLearner else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: network.parameters, count: network.parameterCount)
    }
    var optimizerState: [Float]? { networkLearner?.checkpointableOptimizer.exportState() }

    /// Restores the learner and the lens from a checkpoint's two blobs (lens.md §11).
    public func importState(learner learnerState: [UInt8], lens lensState: [UInt8]) throws {
        try learner.importState(learnerState)
        try lens.importState(lensState)
    }

    public struct Ending {
        public var status: RunStatus
        public var message: String?
        public var stepsCompleted: Int
    }

    /// Runs the remaining steps (from the learner's current one), then records the final state
    /// when the run completed. `afterStep` may throw to abort (a sink error); `shouldStop` is
    /// polled between steps. A stopped run records no final state: it is resumed instead.
    public func run(progress: TrainingProgress? = nil, shouldStop: () -> Bool = { false },
                    afterStep: (Int) throws -> Void = { _ in }) throws -> Ending {
        let total = prepared.config.steps
        var ending = Ending(status: .completed, message: nil, stepsCompleted: learner.stepsTaken)
        let first = learner.stepsTaken + 1
        let start = Date()
        for t in stride(from: first, through: total, by: 1) {
            if shouldStop() { ending.status = .interrupted; ending.message = "stopped by signal after step \(t - 1)"; break }
            let observation = learner.step()
            if !observation.batchLoss.isFinite {
                ending.status = .diverged; ending.message = "loss became \(observation.batchLoss) at step \(t)"
                return ending
            }
            lens.observe(observation)
            ending.stepsCompleted = t
            try afterStep(t)
            progress?.update(step: t, of: total, loss: observation.batchLoss, testMetric: lens.latestTestMetric,
                             stepsPerSecond: Double(t - first + 1) / max(Date().timeIntervalSince(start), 1e-9))
        }
        if ending.status == .completed { lens.finish() }
        return ending
    }
}

/// Trains a prepared run through the lens and records everything through the recorder, with
/// checkpoints; `resume` continues a stopped run from its newest checkpoint.
public final class Trainer {
    let prepared: PreparedRun
    let policy: CheckpointPolicy
    /// Set from a signal handler: the loop stops at the next step boundary, writes a checkpoint
    /// of the last finished step, and the run finishes as `interrupted`.
    nonisolated(unsafe) public static var stopRequested = false
    /// The step in progress, for the signal handler's message.
    nonisolated(unsafe) public static var currentStep = 0

    public init(_ prepared: PreparedRun) {
        self.prepared = prepared
        policy = prepared.config.checkpoint
    }

    /// A new run: the run row, θ_0, the evaluation points, then the steps.
    /// `sweep`, `sweepPoint`: the sweep and point this run trains (linked as the run row is made).
    /// A child (`spawn:` in its config) starts from `spawn`, its parent's state at t′, resolved
    /// from the recorder's database when not given (lens.md §11, "Spawning"); every refusal comes
    /// before the run row exists.
    public func run(recorder: Recorder, codeVersion: String, progress: TrainingProgress?,
                    sweep: String? = nil, sweepPoint: String? = nil, spawn: SpawnOrigin? = nil,
                    onStart: (RunRecorder) -> Void = { _ in }) throws -> TrainOutcome {
        let config = prepared.config
        let origin = try spawn ?? recorder.read { try SpawnOrigin.resolve(prepared, in: $0) }
        var params = [(String, String)]()
        flatten(config.resolved, prefix: "", into: &params)
        // What the numbers depend on besides the config (tlens reproduce compares them).
        params += [("env.gemm", ComputeEnvironment.gemm)]
        var info = RunInfo(name: config.name, sweep: sweep, configJSON: config.resolved.json, seed: config.seed,
                           codeVersion: codeVersion, host: ProcessInfo.processInfo.hostName,
                           dataFingerprint: prepared.split.fingerprint, params: params)
        info.sweepPoint = sweepPoint
        if let origin, origin.linksParent { info.parentRunID = origin.parentID }
        let sink = RecorderSink()
        let loop = try makeLoop(sink: sink, spawn: origin)
        let run = try recorder.startRun(info)
        onStart(run)
        return try record(run: run, sink: sink, loop: loop, progress: progress) {
            try self.start(run, loop, spawn: origin)
        }
    }

    /// The loop at θ_0, or at a child's origin; a refusal is a config error (no run row yet).
    private func makeLoop(sink: RecorderSink, spawn origin: SpawnOrigin?) throws -> TrainingLoop {
        do {
            let loop = try TrainingLoop(prepared, sink: sink)
            if let origin { try loop.spawn(from: origin) }
            return loop
        } catch {
            throw ConfigError(origin.map { "spawn: run \($0.parentID)'s state at step \($0.step) does not fit this run: \(error)" } ?? "\(error)")
        }
    }

    /// What a run records before its first step: θ_0 (stored with every run: the §3 baseline
    /// needs it; any run is checkable from it), a child's starting state as its first resumable
    /// checkpoint with an event naming its parent, and the evaluation points.
    private func start(_ run: RunRecorder, _ loop: TrainingLoop, spawn origin: SpawnOrigin?) throws {
        // A boosted-trees run stores the step-0 row with no parameters.
        try run.checkpoint(step: 0, parameters: loop.initialParameters, optimizerState: nil)
        if let origin {
            if origin.step > 0 { try writeCheckpoint(run, loop, step: origin.step) }
            try run.logEvent(step: origin.step, kind: "spawned",
                             message: "spawned from run \(origin.parentID) at step \(origin.step) with data order seed \(origin.orderSeed)")
        }
        try run.logEvalPoints(split: "train", rowIDs: prepared.evalTrain.map { prepared.split.train.rowIDs[$0] })
        try run.logEvalPoints(split: "test", rowIDs: prepared.testRows.map { prepared.split.test.rowIDs[$0] })
    }

    /// Continues run `id` from its newest checkpoint. Everything that can refuse (status, config,
    /// data, the state blobs) is checked before the database is written. A child stopped before
    /// its first checkpoint was committed starts again from its parent's state.
    public func resume(runID: Int64, recorder: Recorder, force: Bool, progress: TrainingProgress?,
                       onStart: (RunRecorder) -> Void = { _ in }) throws -> TrainOutcome {
        let checkpoint = try recorder.read { db -> RunCheckpoint? in
            guard let summary = try db.run(id: runID) else { throw ConfigError("no run \(runID)") }
            if let refusal = db.resumeRefusal(for: summary, force: force) { throw ConfigError(refusal) }
            return try db.latestResumableCheckpoint(run: runID)
        }
        let origin = checkpoint == nil ? try recorder.read { try SpawnOrigin.resolve(prepared, in: $0) } : nil
        let sink = RecorderSink()
        let loop: TrainingLoop
        do {
            loop = try makeLoop(sink: sink, spawn: origin)
            if let checkpoint, let learnerState = checkpoint.learnerState, let lensState = checkpoint.lensState {
                try loop.importState(learner: learnerState, lens: lensState)
            }
        } catch {
            throw ConfigError("run \(runID) cannot be resumed: \(error)")
        }
        let run = try recorder.resumeRun(id: runID, atStep: checkpoint?.step ?? 0, force: force)
        onStart(run)
        return try record(run: run, sink: sink, loop: loop, progress: progress) {
            if checkpoint == nil {
                try self.start(run, loop, spawn: origin)
            } else {
                try run.logEvalPoints(split: "train", rowIDs: prepared.evalTrain.map { prepared.split.train.rowIDs[$0] })
                try run.logEvalPoints(split: "test", rowIDs: prepared.testRows.map { prepared.split.test.rowIDs[$0] })
            }
        }
    }

    private func record(run: RunRecorder, sink: RecorderSink, loop: TrainingLoop, progress: TrainingProgress?,
                        setup: () throws -> Void) throws -> TrainOutcome {
        var ending = TrainingLoop.Ending(status: .failed, message: nil, stepsCompleted: loop.learner.stepsTaken)
        var lastCheckpointStep = loop.learner.stepsTaken
        do {
            try sink.attach(run, names: loop.lens.scalarKeys.names)
            try setup()
            var lastCheckpointTime = Date()
            let total = prepared.config.steps
            ending = try loop.run(progress: progress, shouldStop: { Trainer.stopRequested }, afterStep: { t in
                Trainer.currentStep = t + 1
                try sink.rethrow()
                // The last step's checkpoint is written after the final state is recorded.
                guard t < total else { return }
                if t % policy.every == 0 || policy.at.contains(t) || Date().timeIntervalSince(lastCheckpointTime) >= policy.seconds {
                    try writeCheckpoint(run, loop, step: t)
                    lastCheckpointStep = t
                    lastCheckpointTime = Date()
                }
            })
            try sink.rethrow()
            if ending.status == .diverged { try run.logEvent(step: ending.stepsCompleted + 1, kind: "diverged", message: ending.message ?? "") }
            // The last finished step, also on a stop, so a resume loses nothing.
            if ending.stepsCompleted != lastCheckpointStep || ending.status == .completed {
                try writeCheckpoint(run, loop, step: ending.stepsCompleted)
            }
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

    private func writeCheckpoint(_ run: RunRecorder, _ loop: TrainingLoop, step: Int) throws {
        try run.checkpoint(step: step, parameters: loop.parameters, optimizerState: loop.optimizerState,
                           learnerState: loop.learner.exportState(), lensState: loop.lens.exportState(), keep: policy.keep,
                           pinned: policy.at)
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

/// Sends the lens's output to a run's recorder, with keys interned once. Attached after the
/// lens is built, so that building it (which can refuse) happens before the run row exists.
final class RecorderSink: LensSink {
    var run: RunRecorder?
    var keys: [MetricKey] = []
    var firstError: Error?

    func attach(_ run: RunRecorder, names: [String]) throws {
        self.run = run
        keys = try names.map { try run.metricKey($0) }
    }

    func scalar(_ key: Int, step: Int, value: Double) {
        do { try run?.log(keys[key], step: step, value: value) } catch { firstError = firstError ?? error }
    }

    func vector(_ kind: VectorKind, split: Split, step: Int, values: UnsafeBufferPointer<Float>) {
        do { try run?.logVector(kind: kind.rawValue, split: split.rawValue, step: step, values: values) }
        catch { firstError = firstError ?? error }
    }

    /// Stored as an event of the run, and shown at once as a warning line.
    func event(step: Int, kind: String, message: String) {
        do { try run?.logEvent(step: step, kind: kind, message: message) } catch { firstError = firstError ?? error }
        FileHandle.standardError.write("\ntlens: warning: \(message)\n".data(using: .utf8)!)
    }

    func rethrow() throws { if let e = firstError { throw e } }
}
