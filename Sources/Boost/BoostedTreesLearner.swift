import Learning
import Linalg

/// Gradient-boosted regression trees under squared loss as a `KernelLearner` (lens.md §9): one
/// step is one boosting round. `f_0 = mean(y)`; round t draws the subsample S_t (stream
/// `subsample` of the seed), fits a tree h_t to the gradients `g_i = f_{t−1}(x_i) − y_i` on S_t
/// (TreeGrower), and moves every prediction by `γ h_t`, whose leaf values are
/// `γ Σ_{i∈leaf∩S_t} r_i / (|leaf ∩ S_t| + λ_leaf)`, `r = −g`. That is (9.1) with the step
/// kernel
///
///     A_t(x, x_i) = γ · 1{i ∈ S_t, leaf_t(x) = leaf_t(x_i)} / (|leaf_t(x) ∩ S_t| + λ_leaf)   (γ K^GBT_t, (9.2))
///
/// so the lens gets the exact increments and this kernel, and needs no Jacobian.
///
///     let learner = try BoostedTreesLearner(spec: BoostedTreesSpec(rounds: 200), trainX: x, trainY: y, seed: 0)
///     for _ in 0..<200 { _ = learner.step() }
///     learner.predict(testX, into: predictions)
public final class BoostedTreesLearner: KernelLearner {
    public let spec: BoostedTreesSpec
    /// Cut points from the training inputs, fixed for the run.
    public let bins: FeatureBins
    public var outputDimension: Int { 1 }
    public internal(set) var stepsTaken = 0
    /// h_1 … h_t, each with its leaf values γ h (lens.md §9).
    public internal(set) var trees: [RegressionTree] = []
    /// f_0 = mean(y) over the training rows.
    public internal(set) var initialPrediction: Float

    let trainX: Matrix, trainY: Matrix
    let trainCodes: BinnedPoints
    let grower: TreeGrower
    let settings: TreeGrower.Settings
    /// f_t over the training rows, advanced by each tree's leaf values in round order — the same
    /// float additions `predict` makes, so the two agree bit for bit.
    let fitted: FloatBuffer
    /// g_i = f_{t−1}(x_i) − y_i of the rows of S_t (other entries are stale).
    let gradients: FloatBuffer
    var subsampleStream: RandomSource
    let observation = StepObservation()

    /// Of the last round: each training row's leaf, each leaf's kernel weight γ/(count + λ).
    var leafOfTrain: [Int32]
    var leafWeights: [Float] = []
    /// The watched points (lens.md §0, U): their bins, taken once, and of the last round their
    /// leaves and the increment γ h_t.
    var watchedCodes = BinnedPoints(rows: 0, features: 0)
    var leafOfWatched: [Int32] = []
    var increment = Matrix(rows: 0, cols: 1)
    /// Per-leaf sums of residual rows in `applyStepKernel`.
    let scratch = Workspace()

    /// `threads`: how many threads build histograms (at most 2; the trees do not depend on it).
    public init(spec: BoostedTreesSpec, trainX: Matrix, trainY: Matrix, seed: UInt64, threads: Int = 1) throws {
        if let problem = spec.problem { throw TreeError(problem) }
        guard trainY.cols == 1 else {
            throw TreeError("boosted trees fit one output (C = 1); the targets have \(trainY.cols) columns")
        }
        guard trainX.rows == trainY.rows, trainX.rows > 0 else {
            throw TreeError("boosted trees need training rows: \(trainX.rows) inputs, \(trainY.rows) targets")
        }
        self.spec = spec
        self.trainX = trainX
        self.trainY = trainY
        let n = trainX.rows
        if spec.split == .exact, let problem = FeatureBins.exactProblem(trainX) {
            throw TreeError(problem)
        }
        bins = FeatureBins(training: trainX, maximumBins: spec.bins, split: spec.split)
        trainCodes = bins.binned(trainX)
        grower = TreeGrower(points: trainCodes, bins: bins, threads: threads)
        settings = TreeGrower.Settings(maxDepth: spec.maxDepth, lambda: spec.lambdaLeaf, minLeaf: spec.minLeaf,
                                       learningRate: Float(spec.learningRate))
        var sum = 0.0
        for i in 0..<n { sum += Double(trainY[i, 0]) }
        initialPrediction = Float(sum / Double(n))
        fitted = FloatBuffer(count: n)
        fitted.base.initialize(repeating: initialPrediction, count: n)
        gradients = FloatBuffer(count: n)
        subsampleStream = RandomSource(seed: seed, stream: .subsample)
        leafOfTrain = [Int32](repeating: 0, count: n)
        observation.batch.reserveCapacity(spec.subsampleSize(trainCount: n))
    }

    public var trainCount: Int { trainX.rows }

    /// min(2^max_depth, |S_t|): no tree has more leaves.
    var maximumLeaves: Int { min(1 << spec.maxDepth, spec.subsampleSize(trainCount: trainX.rows)) }

    /// f_t over `x`: f_0 plus every tree's leaf value, in round order.
    public func predict(_ x: Matrix, into out: Matrix) {
        precondition(x.cols == bins.featureCount && out.rows == x.rows, "predict: \(x.rows)×\(x.cols) points for \(bins.featureCount) features")
        for i in 0..<x.rows {
            var f = initialPrediction
            let point = x.row(i)
            for tree in trees { f += tree.leafValue[tree.leaf(point: point)] }
            out[i, 0] = f
        }
    }

    public func step() -> StepObservation {
        let t = stepsTaken + 1, n = trainX.rows
        observation.step = t
        drawSubsample(into: &observation.batch)
        // L_t = (1/|S_t|) Σ_{S_t} ½ g_i² (lens.md (0.2)) and the gradients the tree fits.
        var loss = 0.0
        let g = gradients.base, f = fitted.base
        for i in observation.batch {
            let gi = f[i] - trainY[i, 0]
            g[i] = gi
            loss += Double(gi * gi) / 2
        }
        observation.batchLoss = loss / Double(observation.batch.count)
        observation.learningRate = spec.learningRate
        guard observation.batchLoss.isFinite else { return observation }

        let tree = grower.grow(gradients: g, rows: observation.batch, settings: settings)
        // f_t = f_{t−1} + γ h_t on every training row (lens.md (9.1)).
        for i in 0..<n {
            let leaf = trainCodes.leaf(of: tree, row: i)
            leafOfTrain[i] = Int32(leaf)
            f[i] += tree.leafValue[leaf]
        }
        for u in 0..<watchedCodes.rows {
            let leaf = watchedCodes.leaf(of: tree, row: u)
            leafOfWatched[u] = Int32(leaf)
            increment[u, 0] = tree.leafValue[leaf]
        }
        leafWeights.removeAll(keepingCapacity: true)
        for count in tree.leafCount { leafWeights.append(Float(spec.learningRate / (Double(count) + spec.lambdaLeaf))) }
        trees.append(tree)
        stepsTaken = t
        return observation
    }

    /// S_t in increasing row order: all rows, or round(subsample · n) of them by selection
    /// sampling (Knuth's Algorithm S: row i is taken with probability still-needed / still-left),
    /// one uniform draw per row from the `subsample` stream.
    func drawSubsample(into batch: inout [Int]) {
        let n = trainX.rows, m = spec.subsampleSize(trainCount: n)
        batch.removeAll(keepingCapacity: true)
        if m == n { batch.append(contentsOf: 0..<n); return }
        for i in 0..<n where batch.count < m {
            if subsampleStream.uniform() * Double(n - i) < Double(m - batch.count) { batch.append(i) }
        }
    }

    // MARK: - The lens's view (lens.md §9, (9.1)–(9.2))

    public func watch(_ points: Matrix) {
        watchedCodes = bins.binned(points)
        leafOfWatched = [Int32](repeating: 0, count: points.rows)
        increment = Matrix(rows: points.rows, cols: 1)
    }

    public var lastIncrement: Matrix { increment }

    /// `A_t(U, S_t)`, `m × |S_t|`: γ/(|leaf ∩ S_t| + λ) where point and row share a leaf, else 0.
    public func stepKernel(into out: Matrix) {
        let batch = observation.batch
        for u in 0..<watchedCodes.rows {
            let leaf = leafOfWatched[u], weight = leafWeights[Int(leaf)], row = out.row(u)
            for (j, i) in batch.enumerated() { row[j] = leafOfTrain[i] == leaf ? weight : 0 }
        }
    }

    /// `out += α A_t(U, S_t) r` through leaf sums: the rows of r are added up per leaf, and every
    /// watched point takes its leaf's sum times γ/(count + λ) — O((|S_t| + |U|)·k) instead of
    /// the dense product's O(|U|·|S_t|·k).
    public func applyStepKernel(_ r: Matrix, into out: Matrix, alpha: Float) {
        let batch = observation.batch, k = r.cols
        precondition(r.rows == batch.count && out.rows == watchedCodes.rows && out.cols == k, "applyStepKernel: shapes do not match the last round")
        // Sized for the most leaves a tree can have, so later, bushier trees reuse the storage.
        let sums = scratch.matrix(0, rows: maximumLeaves, cols: k).rows(0..<leafWeights.count)
        sums.fill(0)
        for (j, i) in batch.enumerated() { Vec.axpy(k, 1, r.row(j), sums.row(Int(leafOfTrain[i]))) }
        for u in 0..<watchedCodes.rows {
            let leaf = Int(leafOfWatched[u])
            Vec.axpy(k, alpha * leafWeights[leaf], sums.row(leaf), out.row(u))
        }
    }

    /// ω_t(x) = ‖[K^GBT_t(x, x_i)]_{i=1…n}‖ (lens.md (6.2) over every training point, (9.2)):
    /// the row has |leaf ∩ S_t| entries 1/(|leaf ∩ S_t| + λ), so ω = √count / (count + λ) ≤ 1.
    public func stepKernelWeightNorms(into out: UnsafeMutableBufferPointer<Float>) -> Bool {
        guard let tree = trees.last else { return false }
        for u in 0..<watchedCodes.rows {
            let count = Double(tree.leafCount[Int(leafOfWatched[u])])
            out[u] = Float(count.squareRoot() / (count + spec.lambdaLeaf))
        }
        return true
    }

    /// The leaf of each watched point in the last round, for tests.
    public var lastWatchedLeaves: [Int] { leafOfWatched.map(Int.init) }
}
