import Linalg

/// What trains (lens.md §11). A learner owns everything that
/// decides its future — parameters or trees, optimizer buffers and counters, every random
/// stream, the epoch permutation and cursor, the schedule position — and exports and imports it
/// as one versioned blob (lens.md §11), so a run resumed from a checkpoint continues exactly.
///
///     let observation = try learner.step()         // θ_{t-1} → θ_t
///     lens.observe(observation)
///     let blob = learner.exportState()             // with the lens's, one checkpoint
public protocol Learner: AnyObject {
    /// C, the number of outputs.
    var outputDimension: Int { get }
    /// Steps taken so far: the t of the current state.
    var stepsTaken: Int { get }
    /// Predictions of the current state over `x` (m × C), written into `out`.
    func predict(_ x: Matrix, into out: Matrix)
    /// Takes step t = stepsTaken + 1 and reports it. When the batch loss is not finite the
    /// learner does not move (the runner ends the run as diverged at that step).
    func step() -> StepObservation
    func exportState() -> [UInt8]
    /// Restores what `exportState` wrote; refuses a blob of another kind, version or size.
    func importState(_ blob: [UInt8]) throws
}

/// One step as the learner saw it (lens.md §0). The object and its arrays belong to the
/// learner and are overwritten by its next step.
public final class StepObservation {
    /// t: this observation moved the state from t − 1 to t.
    public var step = 0
    /// Training-set indices of B_t.
    public var batch: [Int] = []
    /// L_t(θ_{t-1}) on the batch.
    public var batchLoss = 0.0
    /// γ_t exactly as the schedule defines it (not rounded to float32).
    public var learningRate = 0.0

    public init() {}
}

/// Learners whose step is an exact linear smoother of the residuals with a kernel they know
/// (gradient-boosted trees, lens.md §9):
///
///     f_t(x) = f_{t-1}(x) − Σ_{i∈B_t} A_t(x, x_i) (f_{t-1}(x_i) − y_i)        (9.1)
///
/// `A_t` carries the step size. Such a learner reports its own prediction increments (no
/// linearization is involved, so the telescoped model equals the learner's predictions) and
/// its own step kernel, which drives the lens's smoother (lens.md §8).
public protocol KernelLearner: Learner {
    /// The points the lens watches, declared once before the first step.
    func watch(_ points: Matrix)
    /// `f_t − f_{t-1}` over the watched points after the last step (m × C).
    var lastIncrement: Matrix { get }
    /// `A_t(watched, B_t)` of the last step, `(m·C) × (b·C)`, row `x·C + c`, column `j·C + c'`.
    func stepKernel(into out: Matrix)
    /// `out += α A_t(watched, B_t) r` for `r` of `b·C` rows (one per batch entry and output, in
    /// batch order) and any number of columns; `out` has `m·C` rows. The lens's smoother runs on
    /// this (lens.md (8.12)); a learner whose kernel has structure (trees: leaf sums) applies it
    /// without forming it. The default forms `stepKernel` and multiplies, allocating the kernel.
    func applyStepKernel(_ r: Matrix, into out: Matrix, alpha: Float)
    /// Kernel weight norms ω(x) of lens.md (6.2) over every training point, of the last step's
    /// kernel without its step size (K_t = A_t / γ_t), for the m watched points; false when the
    /// learner does not know them (the default), and the lens then records none.
    func stepKernelWeightNorms(into out: UnsafeMutableBufferPointer<Float>) -> Bool
}

extension KernelLearner {
    public func applyStepKernel(_ r: Matrix, into out: Matrix, alpha: Float) {
        let kernel = Matrix(rows: out.rows, cols: r.rows)
        stepKernel(into: kernel)
        gemm(kernel, r, into: out, alpha: alpha, beta: 1)
    }

    public func stepKernelWeightNorms(into out: UnsafeMutableBufferPointer<Float>) -> Bool { false }
}
