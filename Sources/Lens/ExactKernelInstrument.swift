import Learning
import Linalg

/// The lens's half for learners that know their own exact step kernel (boosted trees, lens.md
/// §9). Their steps are exact linear smoothers of the residuals, so the telescoped model is the
/// learner's prediction itself (no linearization, no Jacobians, no linearized baseline), and
/// the smoother recursion of lens.md §8 runs on the learner's kernel `A_t(U, B)`, which the
/// learner applies itself (`applyStepKernel`; trees by leaf sums, without forming it) — exact
/// over all n·C label directions, or `lens.probes` Rademacher ones.
///
/// Kernel statistics: the kernel weight norms ω of lens.md (6.2), over every training point,
/// when the learner reports them (`stepKernelWeightNorms`). The state s records the kernel of
/// step s + 1 — the round that state feeds, as an MLP's state records the kernel at θ_s — so the
/// final state, which no round follows, records none. Traces, alignment and drift (lens.md §6)
/// are statements about a symmetric tangent kernel and are not recorded for these learners.
final class ExactKernelInstrument: LensInstrument {
    let learner: KernelLearner
    let points: LensPoints
    let options: LensOptions
    let keys: LensKeys
    let sink: LensSink
    let smoother: SmootherEngine?
    let kernelSmoother: KernelSmoother?
    /// f_{t-1} over U, advanced by the learner's increments: the state being recorded.
    let current: Matrix
    /// ω over the watched points, and whether the state being recorded has a following round.
    let weightNorms: Matrix
    var hasNextRound = true

    init(learner: KernelLearner, problem: LensProblem, points: LensPoints, options: LensOptions,
         keys: LensKeys, sink: LensSink) {
        self.learner = learner
        self.points = points
        self.options = options
        self.keys = keys
        self.sink = sink
        let c = learner.outputDimension, n = problem.trainX.rows
        // U always holds every evaluation point here: the learner reports increments over U.
        let watched = points.kernelX.rows > 0 ? points.kernelX : points.evalX
        learner.watch(watched)
        current = Matrix(rows: watched.rows, cols: c)
        learner.predict(watched, into: current)
        weightNorms = Matrix(rows: options.kernel ? watched.rows : 0, cols: 1)
        kernelSmoother = options.smoother == .off ? nil
            : KernelSmoother(trainCount: n, outputs: c, points: watched.rows, targets: problem.trainY,
                             initialPredictions: current, kernelIncludesStepSize: true,
                             probes: options.smoother == .probes ? (options.probes, options.seed) : nil)
        smoother = kernelSmoother
    }

    /// Rows of the watched set holding the evaluation points.
    var evalRows: [Int] { points.kernelX.rows > 0 ? points.uOfEval : Array(0..<points.evalX.rows) }

    func beginStep(_ o: StepObservation, recordingState: Bool, predictions: Matrix, increment: Matrix) {
        let rows = evalRows
        current.gatherRows(rows, into: predictions)
        learner.lastIncrement.gatherRows(rows, into: increment)
        Vec.axpy(current.count, 1, learner.lastIncrement.base, current.base)
    }

    func finalState() { hasNextRound = false }

    func advanceSmoother(_ o: StepObservation) {
        guard let kernelSmoother else { return }
        // lens.md (8.12) with A_t, which carries the step size: Ŝ_t = Ŝ_{t−1} − A_t(U, B)(Ŝ_{t−1}(B) − E_B).
        kernelSmoother.advance(batch: o.batch, alpha: -1) { residual, out, α in
            learner.applyStepKernel(residual, into: out, alpha: α)
        }
    }

    /// Boosting fits squared loss (lens.md §9).
    var residualIsSquared: Bool { true }
    func linearizedPredictions(into out: Matrix) -> Bool { false }

    /// ω of the kernel of round s + 1 (lens.md (6.2), (9.2)) per evaluation point, with its
    /// mean and maximum per split.
    func recordState(step s: Int) {
        guard options.kernel, hasNextRound,
              learner.stepKernelWeightNorms(into: UnsafeMutableBufferPointer(start: weightNorms.base, count: weightNorms.rows))
        else { return }
        let rows = evalRows, m1 = points.trainEvalCount
        let norms = scratch.matrix(0, rows: 1, cols: rows.count)
        for (k, u) in rows.enumerated() { norms.base[k] = weightNorms.base[u] }
        let train = UnsafeBufferPointer(start: norms.base, count: m1)
        let test = UnsafeBufferPointer(start: norms.base + m1, count: rows.count - m1)
        sink.vector(.kwn, split: .train, step: s, values: train)
        sink.vector(.kwn, split: .test, step: s, values: test)
        sink.scalar(keys.kwnMeanTrain, step: s, value: mean(train.map(Double.init)))
        sink.scalar(keys.kwnMeanTest, step: s, value: mean(test.map(Double.init)))
        sink.scalar(keys.kwnMaxTrain, step: s, value: Double(train.max() ?? 0))
        sink.scalar(keys.kwnMaxTest, step: s, value: Double(test.max() ?? 0))
    }

    let scratch = Workspace()

    func recordStep(_ o: StepObservation) -> StabilityReading? { nil }

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
