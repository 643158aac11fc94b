import Learning
import Linalg

// MARK: - State (lens.md §11, §9; docs/schema.md, "checkpoints")

extension BoostedTreesLearner {
    static let stateKind = "GBTL", stateVersion: UInt32 = 2

    /// Layout v2: rounds taken; the hyperparameters the trees were grown with (max_depth,
    /// min_leaf, bins, split (0 hist, 1 exact) as integers; learning_rate, lambda_leaf, subsample as doubles); the
    /// training row count and, per feature, its cut points; f_0; f_t over the training rows; the
    /// `subsample` stream (state, increment, spare normal); then per tree its node arrays
    /// (feature, split bin, threshold, child) and leaf arrays (value, count).
    ///
    /// The trees are what `predict` needs for any point after a resume; f_t over the training rows
    /// is what the next gradients read (equal to f_0 + Σ leaf values, the same additions).
    /// v1 (before 16-bit bins and exact splits) had no split field and cut points by an older
    /// rule; a v1 blob is refused with one line naming both versions (StateReader).
    public func exportState() -> [UInt8] {
        var w = StateWriter(kind: Self.stateKind, version: Self.stateVersion)
        w.integer(stepsTaken)
        w.integer(spec.maxDepth); w.integer(spec.minLeaf); w.integer(spec.bins); w.integer(Self.splitCode(spec.split))
        w.double(spec.learningRate); w.double(spec.lambdaLeaf); w.double(spec.subsample)
        w.integer(trainX.rows)
        w.integer(bins.featureCount)
        for edges in bins.edges { w.floats(edges) }
        w.floats([initialPrediction])
        w.floats(fitted.base, count: trainX.rows)
        let s = subsampleStream.snapshot
        w.unsigned(s.state); w.unsigned(s.increment)
        w.bool(s.spareNormal != nil); w.double(s.spareNormal ?? 0)
        w.integer(trees.count)
        for tree in trees {
            w.integers(tree.feature.map(Int.init))
            w.integers(tree.splitBin.map(Int.init))
            w.floats(tree.threshold)
            w.integers(tree.child.map(Int.init))
            w.floats(tree.leafValue)
            w.integers(tree.leafCount.map(Int.init))
        }
        return w.bytes
    }

    static func splitCode(_ split: SplitMethod) -> Int { split == .exact ? 1 : 0 }

    /// Restores what `exportState` wrote for this run: the same hyperparameters and training data
    /// (its cut points must equal the ones recomputed here). Everything is read and checked
    /// before anything changes, so a refused blob leaves the learner as it was.
    public func importState(_ blob: [UInt8]) throws {
        let kind = Self.stateKind
        var r = try StateReader(blob, kind: kind, version: Self.stateVersion)
        let steps = try r.integer()
        let depth = try r.integer(), minLeaf = try r.integer(), binCount = try r.integer(), split = try r.integer()
        let rate = try r.double(), lambda = try r.double(), subsample = try r.double()
        guard depth == spec.maxDepth, minLeaf == spec.minLeaf, binCount == spec.bins, split == Self.splitCode(spec.split),
              rate == spec.learningRate, lambda == spec.lambdaLeaf, subsample == spec.subsample else {
            let grownSplit = split == 1 ? "exact" : split == 0 ? "hist" : "\(split)"
            throw StateError("\(kind) state: grown with max_depth \(depth), min_leaf \(minLeaf), bins \(binCount), split \(grownSplit), learning_rate \(rate), lambda_leaf \(lambda), subsample \(subsample); this run has max_depth \(spec.maxDepth), min_leaf \(spec.minLeaf), bins \(spec.bins), split \(spec.split.rawValue), learning_rate \(spec.learningRate), lambda_leaf \(spec.lambdaLeaf), subsample \(spec.subsample)")
        }
        let n = try r.integer(), features = try r.integer()
        guard n == trainX.rows, features == bins.featureCount else {
            throw StateError("\(kind) state: trained on \(n) rows of \(features) features; this run has \(trainX.rows) rows of \(bins.featureCount)")
        }
        for f in 0..<features {
            guard try r.floats(what: "the cut points of feature \(f)") == bins.edges[f] else {
                throw StateError("\(kind) state: the cut points of feature \(f) differ from this run's training data")
            }
        }
        let f0 = try r.floats(count: 1, what: "f_0")[0]
        let predictions = try r.floats(count: n, what: "the training predictions")
        let state = try r.unsigned(), increment = try r.unsigned()
        let hasSpare = try r.bool(), spare = try r.double()
        let treeCount = try r.integer()
        guard steps >= 0, treeCount == steps else {
            throw StateError("\(kind) state: \(treeCount) trees for \(steps) rounds")
        }
        var restored: [RegressionTree] = []
        for k in 0..<treeCount {
            let feature = try r.integers(what: "tree \(k + 1)'s split features")
            let splitBin = try r.integers(what: "tree \(k + 1)'s split bins")
            let threshold = try r.floats(what: "tree \(k + 1)'s thresholds")
            let child = try r.integers(what: "tree \(k + 1)'s children")
            let leafValue = try r.floats(what: "tree \(k + 1)'s leaf values")
            let leafCount = try r.integers(what: "tree \(k + 1)'s leaf counts")
            guard splitBin.allSatisfy({ (0..<bins.maximumBins).contains($0) }), leafCount.allSatisfy({ (0...n).contains($0) }),
                  feature.allSatisfy({ (-1..<features).contains($0) }), child.allSatisfy({ $0 >= 0 && $0 <= Int(Int32.max) }) else {
                throw StateError("\(kind) state: tree \(k + 1) holds values outside its ranges")
            }
            do {
                restored.append(try RegressionTree(feature: feature.map(Int32.init), splitBin: splitBin.map { UInt16($0) },
                                                   threshold: threshold, child: child.map(Int32.init), leafValue: leafValue,
                                                   leafCount: leafCount.map(Int32.init), featureCount: features))
            } catch {
                throw StateError("\(kind) state: tree \(k + 1): \(error)")
            }
        }
        try r.finish()

        stepsTaken = steps
        initialPrediction = f0
        fitted.base.update(from: predictions, count: n)
        subsampleStream = RandomSource(snapshot: (state, increment, hasSpare ? spare : nil))
        trees = restored
    }
}
