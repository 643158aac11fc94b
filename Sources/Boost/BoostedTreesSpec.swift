/// The hyperparameters of gradient-boosted regression trees (lens.md §9), as a config's `model:`
/// section names them (`model: {kind: gbt, rounds: 200, max_depth: 4, …}`). Ranges are here so
/// that the config validation and the learner refuse the same values.
public struct BoostedTreesSpec: Equatable, Sendable {
    /// Boosting rounds T: one tree per round, one round per step.
    public var rounds = 200
    public var maxDepth = 4
    /// γ, the shrinkage of every tree (XGBoost's eta).
    public var learningRate = 0.1
    /// λ_leaf in the leaf value Σ r / (count + λ_leaf) and in the split gain.
    public var lambdaLeaf = 1.0
    /// Fewest subsample rows on each side of a split (XGBoost's min_child_weight, squared loss).
    public var minLeaf = 1
    /// Share of the training rows each round fits: S_t holds round(subsample · n) of them.
    public var subsample = 1.0
    /// Most histogram bins per feature (FeatureBins; up to 256 a bin index is one byte, beyond
    /// two). Not used by `split: exact`, which gives every distinct training value its own bin.
    public var bins = 256
    /// Split candidates: XGBoost `hist`'s quantile cut points, or every distinct value (lens.md §9).
    public var split = SplitMethod.histogram

    public static let roundsRange = 1...10_000_000
    public static let depthRange = 1...16
    public static let binRange = 2...FeatureBins.largestBinCount

    public init(rounds: Int = 200, maxDepth: Int = 4, learningRate: Double = 0.1, lambdaLeaf: Double = 1,
                minLeaf: Int = 1, subsample: Double = 1, bins: Int = 256, split: SplitMethod = .histogram) {
        self.rounds = rounds; self.maxDepth = maxDepth; self.learningRate = learningRate
        self.lambdaLeaf = lambdaLeaf; self.minLeaf = minLeaf; self.subsample = subsample; self.bins = bins
        self.split = split
    }

    /// The most bins a feature can have on `n` training rows: `bins`, or for `exact` one per
    /// distinct value (at most n, and at most FeatureBins.largestBinCount).
    public func binsPerFeature(trainCount n: Int) -> Int {
        split == .exact ? max(2, min(n, FeatureBins.largestBinCount)) : bins
    }

    /// |S_t| for a training set of `n` rows: at least one row.
    public func subsampleSize(trainCount n: Int) -> Int {
        subsample >= 1 ? n : min(n, max(1, Int((subsample * Double(n)).rounded())))
    }

    /// The first value out of range, as one line naming its config key; nil when all are valid.
    public var problem: String? {
        if !Self.roundsRange.contains(rounds) { return "model.rounds: \(rounds) is out of range; it must be ≥ 1" }
        if !Self.depthRange.contains(maxDepth) {
            return "model.max_depth: \(maxDepth) is out of range; it must be between \(Self.depthRange.lowerBound) and \(Self.depthRange.upperBound)"
        }
        if !(learningRate > 0 && learningRate <= 1) { return "model.learning_rate: \(learningRate) is out of range; it must be > 0 and ≤ 1" }
        if !(lambdaLeaf >= 0 && lambdaLeaf.isFinite) { return "model.lambda_leaf: \(lambdaLeaf) is out of range; it must be ≥ 0" }
        if minLeaf < 1 { return "model.min_leaf: \(minLeaf) is out of range; it must be ≥ 1" }
        if !(subsample > 0 && subsample <= 1) { return "model.subsample: \(subsample) is out of range; it must be > 0 and ≤ 1" }
        if !Self.binRange.contains(bins) {
            return "model.bins: \(bins) is out of range; it must be between \(Self.binRange.lowerBound) and \(Self.binRange.upperBound) (bin indices are at most two bytes)"
        }
        return nil
    }
}
