import Linalg

/// How Ŝ is computed (lens.md §8).
public enum SmootherMode: String, CaseIterable, Sendable {
    /// Ŝ itself: kernel products for plain SGD, unit label directions otherwise.
    case exact
    /// Rademacher label directions: unbiased `p` with a standard error, any optimizer.
    case probes
    case off
}

/// Which tangent-kernel path to use (lens.md §5).
public enum KernelPathChoice: String, CaseIterable, Sendable {
    /// Layer Gram matrices when the model factorizes and there is no preconditioner; explicit
    /// Jacobian rows when they fit the memory budget; VJP/JVP columns otherwise.
    case auto
    case layerGram = "layer_gram"
    case explicit
    case vjpJvp = "vjp_jvp"
}

/// The lens's knobs (`lens:` in a config). Defaults are the documented ones.
public struct LensOptions: Sendable {
    /// Record every `every` steps (the telescoping sum itself advances every step).
    public var every = 1
    /// Kernel statistics of §6 at recorded steps.
    public var kernel = true
    /// Gauss–Newton sharpness and the smoother's stability number at recorded steps (lens.md (8.15)–(8.16)).
    public var sharpness = true
    public var kernelPath = KernelPathChoice.auto
    /// Size of the train reference subset R for kernel statistics and `grad_change`.
    public var referenceSize = 256
    public var smoother = SmootherMode.exact
    public var probes = 32
    /// Exact smoothers that would need more than this are refused at validation.
    public var memoryBudgetBytes = 4.0 * 1024 * 1024 * 1024
    /// t' of `grad_change/l = Γ_l(t, t')` (lens.md §7).
    public var gradReferenceStep = 0
    /// w of `grad_msc/l` (lens.md (7.8)): the paper's gradient change over the w steps after
    /// `gradReferenceStep`, recorded once, at the first recorded state ≥ t' + w; 0 = not recorded.
    /// A config's default is one epoch, ⌈n/b⌉ steps.
    public var gradMSCWindow = 0
    /// How many test evaluation points (the first ones) `grad_msc/l` averages over: the paper's 256.
    public static let gradMSCPoints = 256
    /// Steps the run will take, so the last one is always recorded.
    public var totalSteps = 0
    public var seed: UInt64 = 0

    public init() {}
}

/// The data a lens watches. Targets are `n × C` (regression, ±1, or one-hot).
public struct LensProblem {
    public var trainX: Matrix
    public var trainY: Matrix
    public var testX: Matrix
    public var testY: Matrix
    /// Training rows whose predictions are recorded as the `train` split, in that order.
    public var evalTrain: [Int]
    /// Training rows of the kernel reference set R (and the `grad_change` probe set).
    public var reference: [Int]
    /// Accuracy is recorded (argmax for C > 1, `f ≥ decisionThreshold` for C = 1).
    public var classification: Bool
    /// Where one output is cut into two classes: 0 for ±1 targets, ½ for {0, 1} targets
    /// (`DataSplit.decisionThreshold`, from the data's target encoding).
    public var decisionThreshold: Float

    public init(trainX: Matrix, trainY: Matrix, testX: Matrix, testY: Matrix,
                evalTrain: [Int], reference: [Int], classification: Bool, decisionThreshold: Float = 0) {
        self.trainX = trainX; self.trainY = trainY; self.testX = testX; self.testY = testY
        self.evalTrain = evalTrain; self.reference = reference; self.classification = classification
        self.decisionThreshold = decisionThreshold
    }
}

/// Per-point vector kinds and splits (docs/metrics.md).
public enum VectorKind: String, Sendable { case pred, tel, lin, kwn }
public enum Split: String, Sendable { case train, test }

/// Where the lens sends what it sees. Keys are indices into `TelescopingLens.scalarKeys`,
/// resolved once, so the step loop passes integers, never strings.
public protocol LensSink: AnyObject {
    func scalar(_ key: Int, step: Int, value: Double)
    func vector(_ kind: VectorKind, split: Split, step: Int, values: UnsafeBufferPointer<Float>)
    /// Something a person must be told once (e.g. the smoother losing stability, lens.md (8.15)–(8.16)):
    /// stored as an event of the run and shown as a warning.
    func event(step: Int, kind: String, message: String)
}

/// A sink that keeps nothing: what the benchmarks time the lens against (no storage cost).
public final class DiscardingSink: LensSink {
    public init() {}
    public func scalar(_ key: Int, step: Int, value: Double) {}
    public func vector(_ kind: VectorKind, split: Split, step: Int, values: UnsafeBufferPointer<Float>) {}
}

extension LensSink {
    public func event(step: Int, kind: String, message: String) {}
}
