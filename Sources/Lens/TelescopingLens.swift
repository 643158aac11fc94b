import Learning
import Linalg
import Nets

/// The lens core (lens.md §11): watches a learner step by step and
/// records what the telescoping lens sees (lens.md §2–§8) — the learner's predictions, the
/// telescoping model `f̃_t = f̃_{t-1} + Δf̃_t` accumulated from the step increments, the
/// linearized baseline where the learner has one, and the smoother's effective parameters.
/// It knows no model type: the learner-specific parts (Jacobian kernels, the linearized model,
/// gradient summaries, smoother engines) come from a `LensInstrument` chosen by what the learner
/// is — a `ParametricLearner` (MLPs) or a `KernelLearner` with its own exact kernel (trees).
///
/// Step convention (lens.md §0): quantities of the *state* after `s` steps (predictions,
/// kernels, Ŝ_s, p) are recorded under step `s`; quantities of *step* t (batch loss, gradient,
/// update, learning rate) under `t`. State `s = t−1` is observed inside step t's pass.
///
///     let lens = try TelescopingLens(learner: learner, problem: problem, options: options, sink: sink)
///     for _ in 1...T { lens.observe(learner.step()) }
///     lens.finish()
public final class TelescopingLens {
    /// Squared loss: the smoother is flagged once p_train exceeds this multiple of n·C (lens.md §8).
    public static let ceilingTolerance = 1.01
    public let scalarKeys = ScalarKeys()
    let keys: LensKeys
    let learner: Learner
    let problem: LensProblem
    let options: LensOptions
    let sink: LensSink
    let outputs: Int
    let points: LensPoints
    let instrument: LensInstrument

    /// Over the evaluation points: the learner's predictions of the state being recorded, the
    /// telescoped model, the linearized model, and this step's increment Δf̃_t.
    let predictions: Matrix, telescoped: Matrix, linearized: Matrix, increment: Matrix

    /// The learner's latest recorded test metric (accuracy for classification, else MSE), for
    /// progress lines.
    public private(set) var latestTestMetric: (name: String, value: Double)?

    public init(learner: Learner, problem: LensProblem, options: LensOptions, sink: LensSink) throws {
        self.learner = learner
        self.problem = problem
        self.options = options
        self.sink = sink
        outputs = learner.outputDimension
        let smootherOn = options.smoother != .off
        points = LensPoints(problem: problem, outputs: outputs, needsKernelPoints: options.kernel || smootherOn,
                            smootherOn: smootherOn)
        let m = points.evalX.rows
        predictions = Matrix(rows: m, cols: outputs)
        telescoped = Matrix(rows: m, cols: outputs)
        linearized = Matrix(rows: m, cols: outputs)
        increment = Matrix(rows: m, cols: outputs)
        if let parametric = learner as? ParametricLearner {
            let layers = (parametric.model as? LayerFactorizedModel)?.layers.count ?? 1
            keys = LensKeys(scalarKeys, layers: layers)
            instrument = try JacobianInstrument(learner: parametric, problem: problem, points: points, options: options,
                                                keys: keys, sink: sink)
        } else if let exact = learner as? KernelLearner {
            keys = LensKeys(scalarKeys, layers: 1)
            instrument = ExactKernelInstrument(learner: exact, problem: problem, points: points, options: options,
                                               keys: keys, sink: sink)
        } else {
            throw LensError("the lens watches parametric learners and learners with an exact step kernel; \(type(of: learner)) is neither")
        }
    }

    func isRecorded(_ step: Int) -> Bool { step % options.every == 0 || step == options.totalSteps }

    // MARK: - One step

    /// Step t, right after the learner took it.
    public func observe(_ o: StepObservation) {
        let t = o.step, s = t - 1
        // f_{t-1} over the evaluation points and Δf̃_t (lens.md (2.2)), kernel inputs for this step.
        instrument.beginStep(o, recordingState: isRecorded(s), predictions: predictions, increment: increment)
        // f̃_0 = f_0 (lens.md (2.1)), from the same pass that scores the network at step 0.
        if t == 1 { telescoped.copy(from: predictions) }
        if isRecorded(s) { recordState(step: s) }
        // Ŝ_{t-1} → Ŝ_t (lens.md §8).
        instrument.advanceSmoother(o)
        // f̃_t = f̃_{t-1} + Δf̃_t (lens.md (2.2)).
        Vec.axpy(telescoped.count, 1, increment.base, telescoped.base)
        if isRecorded(t) {
            sink.scalar(keys.trainLoss, step: t, value: o.batchLoss)
            sink.scalar(keys.lr, step: t, value: o.learningRate)
            // Past the optimizer's own bound, not a fixed 2 (lens.md (8.17)–(8.22)).
            if let reading = instrument.recordStep(o), reading.number > reading.bound.value, instrument.smoother != nil {
                let figures = String(format: "the stability number γ·λ_max(K_BB H)/b is %.4g > %.4g (lr %.3g)",
                                     reading.number, reading.bound.value, o.learningRate)
                smootherLostStability(step: t, reason: "\(figures), the bound of \(reading.bound.rule)")
            }
        }
    }

    /// The first step at which the smoother's recursion stopped being a faithful account
    /// (lens.md (8.15)–(8.22)): from then on `smoother_stable` is 0 and `p` values are not effective
    /// parameters. Sticky, and part of the lens state.
    public private(set) var smootherUnstableSince: Int?

    func smootherLostStability(step: Int, reason: String) {
        guard smootherUnstableSince == nil else { return }
        smootherUnstableSince = step
        sink.event(step: step, kind: "smoother_unstable",
                   message: "the smoother lost stability at step \(step): \(reason); p_train and p_test from here on are flagged smoother_stable = 0 (docs/lens.md (8.15)–(8.22))")
    }

    /// After the last step: records the final state.
    public func finish() {
        learner.predict(points.evalX, into: predictions)
        if learner.stepsTaken == 0 { telescoped.copy(from: predictions) }
        instrument.finalState()
        recordState(step: learner.stepsTaken)
    }

    // MARK: - Recording the state s

    func recordState(step s: Int) {
        let m1 = points.trainEvalCount, m = points.evalX.rows, c = outputs
        let trainRange = 0..<m1, testRange = m1..<m
        let k = keys, evalY = points.evalY
        let hasLinearized = instrument.linearizedPredictions(into: linearized)

        // The learner's, the telescoped and the linearized predictions, scored by Nets' metrics
        // on row views of the evaluation matrix.
        let trainY = evalY.rows(trainRange), testY = evalY.rows(testRange)
        let testMSE = Metrics.mse(outputs: predictions.rows(testRange), targets: testY)
        sink.scalar(k.trainMSE, step: s, value: Metrics.mse(outputs: predictions.rows(trainRange), targets: trainY))
        sink.scalar(k.testMSE, step: s, value: testMSE)
        sink.scalar(k.telTestMSE, step: s, value: Metrics.mse(outputs: telescoped.rows(testRange), targets: testY))
        if hasLinearized { sink.scalar(k.linTestMSE, step: s, value: Metrics.mse(outputs: linearized.rows(testRange), targets: testY)) }
        latestTestMetric = ("test_mse", testMSE)
        if problem.classification {
            let t = problem.decisionThreshold
            let testAccuracy = Metrics.accuracy(outputs: predictions.rows(testRange), targets: testY, decisionThreshold: t)
            sink.scalar(k.trainAcc, step: s, value: Metrics.accuracy(outputs: predictions.rows(trainRange), targets: trainY, decisionThreshold: t))
            sink.scalar(k.testAcc, step: s, value: testAccuracy)
            sink.scalar(k.telTestAcc, step: s, value: Metrics.accuracy(outputs: telescoped.rows(testRange), targets: testY, decisionThreshold: t))
            if hasLinearized {
                sink.scalar(k.linTestAcc, step: s, value: Metrics.accuracy(outputs: linearized.rows(testRange), targets: testY, decisionThreshold: t))
            }
            latestTestMetric = ("test_acc", testAccuracy)
        }
        sink.scalar(k.approxErrTel, step: s, value: meanAbsoluteDifference(predictions, telescoped, testRange))
        sink.scalar(k.approxErrTelTrain, step: s, value: meanAbsoluteDifference(predictions, telescoped, trainRange))
        if hasLinearized {
            sink.scalar(k.approxErrLin, step: s, value: meanAbsoluteDifference(predictions, linearized, testRange))
            sink.scalar(k.approxErrLinTrain, step: s, value: meanAbsoluteDifference(predictions, linearized, trainRange))
        }
        var recorded: [(VectorKind, Matrix)] = [(.pred, predictions), (.tel, telescoped)]
        if hasLinearized { recorded.append((.lin, linearized)) }
        for (kind, matrix) in recorded {
            sink.vector(kind, split: .train, step: s, values: UnsafeBufferPointer(start: matrix.base, count: m1 * c))
            sink.vector(kind, split: .test, step: s, values: UnsafeBufferPointer(start: matrix.row(m1), count: (m - m1) * c))
        }

        if let smoother = instrument.smoother {
            let train = smoother.effectiveParameters(rows: 0..<points.trainCount)
            let test = smoother.effectiveParameters(rows: points.smootherTestRows)
            sink.scalar(k.pTrain, step: s, value: train.value)
            sink.scalar(k.pTest, step: s, value: test.value)
            sink.scalar(k.pSE, step: s, value: train.standardError)
            sink.scalar(k.pTestSE, step: s, value: test.standardError)
            // Under squared loss p_train is at most n·C once the smoother has converged (lens.md
            // (8.4)); well beyond it the recursion has diverged. A converged smoother (Ŝ = I on the
            // training rows) sits at n·C itself, and float rounding or momentum's transient
            // overshoot puts it a hair above, so the flag allows 1% (lens.md §8). (Under
            // cross-entropy Ŝ is the logits' label sensitivity, which grows without bound as the
            // logits saturate: no ceiling, only the stability number.)
            let ceiling = Double(points.trainCount * c)
            if instrument.residualIsSquared && !(train.value <= Self.ceilingTolerance * ceiling) {
                smootherLostStability(step: s, reason: String(format: "p_train %.4g exceeds its ceiling n·C = %.0f", train.value, ceiling))
            }
            sink.scalar(k.smootherStable, step: s, value: smootherUnstableSince == nil ? 1 : 0)
            // smoother_err: |Ŝ_s vec(Y) + c_s − f_s| over the test evaluation points (lens.md (8.6)).
            var err = 0.0
            let testCount = points.testCount
            for i in 0..<testCount {
                let shadow = smoother.shadow(row: points.smootherTestRows.lowerBound + i), f = predictions.row(m1 + i)
                for o in 0..<c { err += Double(abs(shadow[o] - f[o])) }
            }
            sink.scalar(k.smootherErr, step: s, value: testCount > 0 ? err / Double(testCount * c) : 0)
        }
        instrument.recordState(step: s)
    }

    // MARK: - State (lens.md §11)

    static let stateKind = "LENS", stateVersion: UInt32 = 1

    /// Everything the lens carries from step to step, as one versioned blob. Layout v1: the
    /// telescoped predictions f̃_t over the evaluation points, then the instrument's state
    /// (reference kernels, grad_change references, the smoother's state). Predictions,
    /// linearized values and increments are recomputed each step and are not part of it.
    public func exportState() -> [UInt8] {
        var w = StateWriter(kind: Self.stateKind, version: Self.stateVersion, capacity: lastStateBytes)
        w.matrix(telescoped)
        w.integer(smootherUnstableSince ?? -1)
        instrument.export(into: &w)
        lastStateBytes = w.bytes.count
        return w.bytes
    }

    /// Forgets the grad_change reference factors (lens.md §7), so they are captured afresh at
    /// `lens.grad_ref_step`: a child spawned at t′ measures Γ_l(s, t′) against its own start
    /// rather than its parent's reference (lens.md §11, "Spawning").
    public func discardGradientChangeReference() { instrument.discardGradientChangeReference() }

    /// The size of the last exported state: the next export reserves it at once.
    var lastStateBytes = 0

    /// Restores what `exportState` wrote. The blob is checked whole (a validating pass) before
    /// anything changes, so a refused blob leaves the lens as it was.
    public func importState(_ blob: [UInt8]) throws {
        for validating in [true, false] {
            var r = try StateReader(blob, kind: Self.stateKind, version: Self.stateVersion, validating: validating)
            try r.matrix(into: telescoped, what: "the telescoped predictions")
            let unstableSince = try r.integer()
            try instrument.importState(from: &r)
            try r.finish()
            if !validating { smootherUnstableSince = unstableSince >= 0 ? unstableSince : nil }
        }
    }
}

/// The learner-specific half of the lens. One step runs `beginStep`, then (when the state t−1
/// is recorded) `linearizedPredictions` and `recordState`, then `advanceSmoother`, then (when
/// step t is recorded) `recordStep`.
protocol LensInstrument: AnyObject {
    /// f_{t-1} over the evaluation points into `predictions` and Δf̃_t into `increment`;
    /// prepares whatever kernels this step needs.
    func beginStep(_ o: StepObservation, recordingState: Bool, predictions: Matrix, increment: Matrix)
    /// Before `finish` records the final state: prepares its kernels.
    func finalState()
    /// Ŝ_{t-1} → Ŝ_t.
    func advanceSmoother(_ o: StepObservation)
    var smoother: SmootherEngine? { get }
    /// Squared loss: Ŝ is a linear smoother of the labels and p_train ≤ n·C (lens.md (8.3)).
    var residualIsSquared: Bool { get }
    /// The linearized model of the state being recorded (lens.md §3), if the learner has one.
    func linearizedPredictions(into out: Matrix) -> Bool
    /// Kernel statistics and gradient changes of the state s (lens.md §6, §7).
    func recordState(step s: Int)
    /// Per-step summaries of step t (lens.md §7); returns the smoother's stability number
    /// γ_t·λ_max/b for the step and the optimizer's bound on it when it measured one
    /// (lens.md (8.15)–(8.22)).
    func recordStep(_ o: StepObservation) -> StabilityReading?
    func export(into w: inout StateWriter)
    func importState(from r: inout StateReader) throws
    /// Drops the grad_change reference (lens.md §7) so the next state at `grad_ref_step` captures it.
    func discardGradientChangeReference()
}

public struct LensError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}

/// A step's stability number (lens.md (8.16)) beside the bound its optimizer reports for it
/// (lens.md (8.17)–(8.22)): the smoother is flagged once the number passes the bound.
struct StabilityReading {
    let number: Double
    let bound: StabilityBound
}
