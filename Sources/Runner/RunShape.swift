import Boost
/// Everything a run's cost depends on, as plain numbers: the cost model reads nothing else, so
/// it does not move when the config, the lens or the nets are rewritten.
/// `RunShape(config:trainCount:testCount:)` (RunShape+Config.swift) fills one from a config.
///
///     var shape = RunShape(trainCount: 1438, outputs: 10, inputDimension: 64, hidden: [256],
///                          batchSize: 100, steps: 1000, evalTrain: 1438, evalTest: 359)
///     shape.smoother = .probes
///     print(RunCostModel.estimate(shape).line)
public struct RunShape: Sendable, Equatable {
    public enum Smoother: String, Sendable, CaseIterable { case exact, probes, off }
    /// The kernel path after `auto` is resolved (telescoping.md §5).
    public enum KernelPath: String, Sendable, CaseIterable {
        case layerGram = "layer_gram", explicit, vjpJvp = "vjp_jvp"
    }

    /// n, C, d.
    public var trainCount: Int
    public var outputs: Int
    public var inputDimension: Int
    public var hidden: [Int]
    public var bias: Bool
    /// b and T.
    public var batchSize: Int
    public var steps: Int
    /// m₁ and m₂: evaluation points actually used (a config's `0 = all` already resolved).
    public var evalTrain: Int
    public var evalTest: Int
    /// Kernel statistics (telescoping.md §6) against a reference set of `referenceSize` (≤ n).
    public var kernelStatistics: Bool
    public var referenceSize: Int
    /// `lens.every`: states recorded every this many steps (and at the last).
    public var every: Int
    public var smoother: Smoother
    public var probes: Int
    /// No momentum, decay, clipping or preconditioner: the exact smoother runs on kernel
    /// products (telescoping.md §8); otherwise on one VJP+JVP per label direction.
    public var plainSGD: Bool
    /// The optimizer has a diagonal preconditioner (Adam, AdamW).
    public var preconditioned: Bool
    /// P-sized buffers the optimizer keeps (0 plain SGD, 1 SGD momentum, 3 Adam: m, v, P).
    public var optimizerBuffers: Int
    /// P-sized state per label direction (the sensitivity rule's momentum: 0 or 1).
    public var sensitivityBuffers: Int
    public var kernelPath: KernelPath
    /// Boosted trees (RunCostModel prices them by TreeCostModel); nil for an MLP. For trees,
    /// `batchSize` is the subsample |S_t|, `hidden` is empty and `referenceSize` 0.
    public var trees: TreeShape?

    /// What a boosted-trees run's cost depends on besides the point counts (docs/lens.md §9).
    public struct TreeShape: Sendable, Equatable {
        public var maxDepth: Int
        /// Most bins per feature: `model.bins`, or for `split: exact` the most a feature can have
        /// (min(n, 65,535): every distinct training value).
        public var bins: Int
        public var subsampled: Bool
        public init(maxDepth: Int, bins: Int, subsampled: Bool) {
            self.maxDepth = maxDepth; self.bins = bins; self.subsampled = subsampled
        }
        /// Bytes per bin index (FeatureBins.codeWidth): one up to 256 bins, two beyond.
        public var codeWidth: Int { bins <= FeatureBins.largestByteBinCount ? 1 : 2 }
    }

    public init(trainCount: Int, outputs: Int, inputDimension: Int, hidden: [Int], bias: Bool = true,
                batchSize: Int, steps: Int, evalTrain: Int, evalTest: Int,
                kernelStatistics: Bool = true, referenceSize: Int = 256, every: Int = 1,
                smoother: Smoother = .exact, probes: Int = 32, plainSGD: Bool = true, preconditioned: Bool = false,
                optimizerBuffers: Int = 0, sensitivityBuffers: Int = 0, kernelPath: KernelPath = .layerGram) {
        self.trainCount = trainCount; self.outputs = outputs; self.inputDimension = inputDimension
        self.hidden = hidden; self.bias = bias; self.batchSize = batchSize; self.steps = steps
        self.evalTrain = evalTrain; self.evalTest = evalTest
        self.kernelStatistics = kernelStatistics; self.referenceSize = min(referenceSize, trainCount)
        self.every = max(every, 1); self.smoother = smoother; self.probes = probes
        self.plainSGD = plainSGD; self.preconditioned = preconditioned
        self.optimizerBuffers = optimizerBuffers; self.sensitivityBuffers = sensitivityBuffers
        self.kernelPath = kernelPath
    }

    /// `[d, hidden…, C]`.
    public var widths: [Int] { [inputDimension] + hidden + [outputs] }

    /// P = Σ_l d_{l-1}·d_l (+ d_l with biases).
    public var parameterCount: Int {
        let w = widths
        return (1..<w.count).reduce(0) { $0 + w[$1 - 1] * w[$1] + (bias ? w[$1] : 0) }
    }

    /// m = m₁ + m₂, the points of every forward+JVP pass.
    public var evaluationPointCount: Int { evalTrain + evalTest }

    /// |U|, the kernel points (TelescopingLens.init): every training point when a smoother runs,
    /// else the union of the evaluation and reference rows — both prefixes of one seeded order
    /// (PreparedRun), so the union is the longer one — then the test points; none without
    /// kernels or smoother.
    public var kernelPointCount: Int {
        if smoother != .off { return trainCount + evalTest }
        if kernelStatistics { return min(max(evalTrain, referenceSize), trainCount) + evalTest }
        return 0
    }

    /// Which smoother engine runs and over how many label directions.
    public enum SmootherEngine: Equatable, Sendable {
        case none
        /// Ŝ through `K(U, B)(Ŝ_B − E_B)` (KernelSmoother).
        case kernelProducts
        /// One VJP and one JVP per direction (LabelSensitivityEngine): n·C unit directions for
        /// exact, `probes` Rademacher ones otherwise.
        case sensitivities(directions: Int)
    }

    public var smootherEngine: SmootherEngine {
        switch smoother {
        case .off: return .none
        case .exact: return plainSGD ? .kernelProducts : .sensitivities(directions: trainCount * outputs)
        case .probes: return .sensitivities(directions: probes)
        }
    }

    /// Share of steps whose state is recorded: s ∈ 0..<T with s % every == 0, plus the final
    /// state at T (TelescopingLens.isRecorded, finish).
    public var recordedFraction: Double {
        guard steps > 0 else { return 1 }
        return Double((steps - 1) / every + 2) / Double(steps)
    }

    /// `auto` as TelescopingLens.init resolves it: layer Gram for an MLP without preconditioner,
    /// explicit Jacobian rows when `4·|U|·C·P` bytes fit the budget, VJP/JVP columns otherwise.
    public static func automaticKernelPath(preconditioned: Bool, kernelPoints u: Int, outputs c: Int,
                                           parameters p: Int, memoryBudgetBytes: Double) -> KernelPath {
        if !preconditioned { return .layerGram }
        return 4 * Double(u * c) * Double(p) <= memoryBudgetBytes ? .explicit : .vjpJvp
    }
}
