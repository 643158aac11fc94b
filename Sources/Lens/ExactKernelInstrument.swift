import Learning
import Linalg

/// The lens's half for learners that know their own exact step kernel (boosted trees, lens.md
/// §9). Their steps are exact linear smoothers of the residuals, so the telescoped model is the
/// learner's prediction itself (no linearization, no Jacobians, no linearized baseline), and
/// the smoother recursion of lens.md §8 runs on the learner's kernel `A_t(U, B)`.
final class ExactKernelInstrument: LensInstrument {
    let learner: KernelLearner
    let points: LensPoints
    let options: LensOptions
    let smoother: SmootherEngine?
    /// f_{t-1} over U, advanced by the learner's increments: the state being recorded.
    let current: Matrix
    let stepKernel: Matrix

    init(learner: KernelLearner, problem: LensProblem, points: LensPoints, options: LensOptions) {
        self.learner = learner
        self.points = points
        self.options = options
        let c = learner.outputDimension, n = problem.trainX.rows
        // U always holds every evaluation point here: the learner reports increments over U.
        let watched = points.kernelX.rows > 0 ? points.kernelX : points.evalX
        learner.watch(watched)
        current = Matrix(rows: watched.rows, cols: c)
        learner.predict(watched, into: current)
        let b = options.smoother == .off ? 0 : problem.trainX.rows
        stepKernel = Matrix(rows: watched.rows * c, cols: b * c)
        smoother = options.smoother == .off ? nil
            : KernelSmoother(trainCount: n, outputs: c, points: watched.rows, targets: problem.trainY,
                             initialPredictions: current, kernelIncludesStepSize: true)
    }

    /// Rows of the watched set holding the evaluation points.
    var evalRows: [Int] { points.kernelX.rows > 0 ? points.uOfEval : Array(0..<points.evalX.rows) }

    func beginStep(_ o: StepObservation, recordingState: Bool, predictions: Matrix, increment: Matrix) {
        let rows = evalRows
        current.gatherRows(rows, into: predictions)
        learner.lastIncrement.gatherRows(rows, into: increment)
        Vec.axpy(current.count, 1, learner.lastIncrement.base, current.base)
    }

    func finalState() {}

    func advanceSmoother(_ o: StepObservation) {
        guard let smoother else { return }
        let k = stepKernel.columns(0..<(o.batch.count * learner.outputDimension))
        learner.stepKernel(into: k)
        smoother.advance(step: o.step, parameters: nil, batch: o.batch, learningRate: 1, kernelToBatch: k)
    }

    /// Boosting fits squared loss (lens.md §9).
    var residualIsSquared: Bool { true }
    func linearizedPredictions(into out: Matrix) -> Bool { false }
    func recordState(step s: Int) {}
    func recordStep(_ o: StepObservation) -> Double? { nil }

    /// Trees have no layer Jacobians: no grad_change, nothing to drop.
    func discardGradientChangeReference() {}

    func export(into w: inout StateWriter) {
        w.matrix(current)
        w.bool(smoother != nil)
        smoother?.export(into: &w)
    }

    func importState(from r: inout StateReader) throws {
        try r.matrix(into: current, what: "the learner's predictions over U")
        guard try r.bool() == (smoother != nil) else { throw StateError("LENS state: smoother state does not match this run") }
        try smoother?.importState(from: &r)
    }
}
