import Dispatch
import Linalg

/// Grows one regression tree on binned training rows, depth-wise to `maxDepth`, with split
/// finding on gradient histograms (lens.md §9, "Split finding"). Squared loss: every row's
/// hessian is 1, so a histogram bin holds the sum of the gradients `g_i = f_{t−1}(x_i) − y_i` of
/// its rows and their count, and a split of a node with sums (G, n) into (G_L, n_L), (G_R, n_R)
/// gains
///
///     G_L²/(n_L + λ) + G_R²/(n_R + λ) − G²/(n + λ)
///
/// (twice the drop of the regularized squared loss, as in XGBoost). Each node takes the split
/// of largest gain over every feature and cut point with at least `minLeaf` rows on each side
/// — the first feature, then the lowest bin, on ties — and only if it gains more than
/// `minimumGain`; otherwise it stays a leaf.
///
/// Per level, the smaller child of every split has its histogram built from its rows and the
/// larger takes its parent's minus the smaller's (the subtraction trick: each level reads at
/// most half the rows). Rows live in one index array, each node a contiguous range of it,
/// partitioned stably in place, so a level's work is a few passes over contiguous memory and
/// nothing is allocated per row. Histograms are built on `threads` threads, each owning a share
/// of the features: every feature's sums are added in the same row order whatever the thread
/// count, so the tree does not depend on it.
///
///     let grower = TreeGrower(points: codes, bins: bins, threads: 2)
///     let tree = grower.grow(gradients: g, rows: subsample, settings: settings)
public final class TreeGrower {
    public struct Settings: Sendable {
        public var maxDepth: Int
        public var lambda: Double
        public var minLeaf: Int
        /// γ, folded into the leaf values (`RegressionTree.leafValue` is γ h_t).
        public var learningRate: Float
        public init(maxDepth: Int, lambda: Double, minLeaf: Int, learningRate: Float) {
            self.maxDepth = maxDepth; self.lambda = lambda; self.minLeaf = minLeaf; self.learningRate = learningRate
        }
    }

    /// Gains at or below this do not split (XGBoost's kRtEps).
    public static let minimumGain = 1e-6
    /// Rows × features below which one thread builds a histogram: the fork and join of a second
    /// thread cost more than they save on smaller nodes (measured: `tlens bench gbt`).
    public static let parallelWork = 1 << 15

    let points: BinnedPoints
    let bins: FeatureBins
    let features: Int
    /// Per feature: its first histogram slot; `totalBins` slots in all, 2 doubles each (Σg, count).
    let binOffsets: [Int]
    let binCounts: [Int]
    let totalBins: Int
    public let threads: Int

    /// Row ids (training rows), each node a contiguous range; the partition's spill-over.
    let index: UnsafeMutablePointer<Int32>
    let spill: UnsafeMutablePointer<Int32>
    /// Histograms of the level being split and of the next one (grow-only).
    var levelHistograms: HistogramStore
    var nextHistograms: HistogramStore
    /// Per node of the tree being grown: its row range.
    var nodeBegin: [Int] = [], nodeEnd: [Int] = []
    var current: [Int] = [], next: [Int] = [], currentSums: [Double] = [], nextSums: [Double] = []
    var currentSlots: [Int] = [], nextSlots: [Int] = []

    public init(points: BinnedPoints, bins: FeatureBins, threads: Int = 1) {
        precondition(points.features == bins.featureCount, "binned points and bins disagree on the features")
        self.points = points
        self.bins = bins
        features = points.features
        binCounts = (0..<features).map(bins.binCount)
        var offsets: [Int] = [], total = 0
        for f in 0..<features { offsets.append(total); total += binCounts[f] }
        binOffsets = offsets
        totalBins = total
        self.threads = max(1, min(threads, 2))
        index = .allocate(capacity: max(points.rows, 1))
        spill = .allocate(capacity: max(points.rows, 1))
        levelHistograms = HistogramStore(slotSize: 2 * total)
        nextHistograms = HistogramStore(slotSize: 2 * total)
    }

    deinit {
        index.deallocate()
        spill.deallocate()
        levelHistograms.storage.deallocate()
        nextHistograms.storage.deallocate()
    }

    /// One tree fitted to `gradients` (indexed by training row) on the training rows `rows`.
    public func grow(gradients g: UnsafePointer<Float>, rows: [Int], settings: Settings) -> RegressionTree {
        precondition(!rows.isEmpty, "a tree needs at least one row")
        var tree = RegressionTree()
        let root = tree.appendNode()
        nodeBegin.removeAll(keepingCapacity: true); nodeEnd.removeAll(keepingCapacity: true)
        nodeBegin.append(0); nodeEnd.append(rows.count)
        var rootSum = 0.0
        for (k, i) in rows.enumerated() { index[k] = Int32(truncatingIfNeeded: i); rootSum += Double(g[i]) }

        current.removeAll(keepingCapacity: true); currentSums.removeAll(keepingCapacity: true)
        currentSlots.removeAll(keepingCapacity: true)
        current.append(root); currentSums.append(rootSum); currentSlots.append(0)
        if settings.maxDepth > 0 {
            levelHistograms.reserve(slots: 1)
            buildHistogram(levelHistograms.slot(0), begin: 0, end: rows.count, gradients: g)
        }

        for depth in 0..<settings.maxDepth {
            next.removeAll(keepingCapacity: true); nextSums.removeAll(keepingCapacity: true)
            nextSlots.removeAll(keepingCapacity: true)
            let childrenSplit = depth + 1 < settings.maxDepth
            var splitParents: [(slot: Int, left: Int)] = []
            for (k, node) in current.enumerated() {
                let begin = nodeBegin[node], end = nodeEnd[node]
                guard let best = bestSplit(levelHistograms.slot(currentSlots[k]), count: end - begin,
                                           sum: currentSums[k], settings: settings) else { continue }
                let left = tree.split(node, feature: best.feature, bin: best.bin,
                                      threshold: bins.edges[best.feature][Int(best.bin)])
                let middle = partition(begin: begin, end: end, feature: best.feature, bin: best.bin)
                assert(middle - begin == best.leftCount, "the partition disagrees with the histogram")
                nodeBegin.append(begin); nodeEnd.append(middle)
                nodeBegin.append(middle); nodeEnd.append(end)
                next.append(left); next.append(left + 1)
                nextSums.append(best.leftSum); nextSums.append(currentSums[k] - best.leftSum)
                nextSlots.append(2 * splitParents.count); nextSlots.append(2 * splitParents.count + 1)
                splitParents.append((currentSlots[k], left))
            }
            if next.isEmpty { break }
            if childrenSplit {
                // The smaller child from its rows, the larger by subtraction from the parent.
                nextHistograms.reserve(slots: next.count)
                for (p, parent) in splitParents.enumerated() {
                    let left = parent.left, right = left + 1
                    let leftRows = nodeEnd[left] - nodeBegin[left], rightRows = nodeEnd[right] - nodeBegin[right]
                    let small = leftRows <= rightRows ? left : right
                    let smallSlot = nextHistograms.slot(2 * p + (small == left ? 0 : 1))
                    let largeSlot = nextHistograms.slot(2 * p + (small == left ? 1 : 0))
                    buildHistogram(smallSlot, begin: nodeBegin[small], end: nodeEnd[small], gradients: g)
                    let parentSlot = levelHistograms.slot(parent.slot)
                    for j in 0..<(2 * totalBins) { largeSlot[j] = parentSlot[j] - smallSlot[j] }
                }
                swap(&levelHistograms, &nextHistograms)
            }
            swap(&current, &next); swap(&currentSums, &nextSums); swap(&currentSlots, &nextSlots)
        }

        // Leaf values from the leaves' own rows (lens.md (9.1)): γ Σ r / (count + λ), r = −g.
        for node in 0..<tree.nodeCount where tree.feature[node] < 0 {
            var sum = 0.0
            for k in nodeBegin[node]..<nodeEnd[node] { sum += Double(g[Int(index[k])]) }
            let count = nodeEnd[node] - nodeBegin[node]
            let value = Double(settings.learningRate) * -sum / (Double(count) + settings.lambda)
            tree.setLeaf(node, value: Float(value), count: count)
        }
        return tree
    }

    struct Split { var feature: Int; var bin: UInt16; var gain: Double; var leftCount: Int; var leftSum: Double }

    /// The best split of a node from its histogram, or nil.
    func bestSplit(_ h: UnsafeMutablePointer<Double>, count n: Int, sum G: Double, settings: Settings) -> Split? {
        let minLeaf = Double(settings.minLeaf), λ = settings.lambda, total = Double(n)
        guard n >= 2 * settings.minLeaf else { return nil }
        let parentScore = G * G / (total + λ)
        var best: Split?
        var bestGain = Self.minimumGain
        for f in 0..<features {
            let hist = h + 2 * binOffsets[f]
            var leftSum = 0.0, leftCount = 0.0
            for b in 0..<(binCounts[f] - 1) {
                leftSum += hist[2 * b]
                leftCount += hist[2 * b + 1]
                if leftCount < minLeaf { continue }
                let rightCount = total - leftCount
                if rightCount < minLeaf { break }
                let rightSum = G - leftSum
                let gain = leftSum * leftSum / (leftCount + λ) + rightSum * rightSum / (rightCount + λ) - parentScore
                if gain > bestGain {
                    bestGain = gain
                    best = Split(feature: f, bin: UInt16(b), gain: gain, leftCount: Int(leftCount), leftSum: leftSum)
                }
            }
        }
        return best
    }

    /// Σg and counts per (feature, bin) over the rows `index[begin..<end]`.
    func buildHistogram(_ h: UnsafeMutablePointer<Double>, begin: Int, end: Int, gradients g: UnsafePointer<Float>) {
        h.initialize(repeating: 0, count: 2 * totalBins)
        let work = (end - begin) * features
        if threads > 1 && work >= Self.parallelWork && features > 1 {
            let half = features / 2
            DispatchQueue.concurrentPerform(iterations: 2) { part in
                accumulate(h, begin: begin, end: end, features: part == 0 ? 0..<half : half..<features, gradients: g)
            }
        } else {
            accumulate(h, begin: begin, end: end, features: 0..<features, gradients: g)
        }
    }

    private func accumulate(_ h: UnsafeMutablePointer<Double>, begin: Int, end: Int, features range: Range<Int>,
                            gradients g: UnsafePointer<Float>) {
        if points.width == 1 {
            accumulate(h, points.codes(UInt8.self), begin: begin, end: end, features: range, gradients: g)
        } else {
            accumulate(h, points.codes(UInt16.self), begin: begin, end: end, features: range, gradients: g)
        }
    }

    @inline(__always)
    private func accumulate<Code: FixedWidthInteger & UnsignedInteger>(
        _ h: UnsafeMutablePointer<Double>, _ codes: UnsafeMutablePointer<Code>, begin: Int, end: Int,
        features range: Range<Int>, gradients g: UnsafePointer<Float>) {
        let d = features
        binOffsets.withUnsafeBufferPointer { offsets in
            for k in begin..<end {
                let i = Int(index[k]), gi = Double(g[i]), row = codes + i * d
                for f in range {
                    let slot = h + 2 * (offsets[f] + Int(row[f]))
                    slot[0] += gi
                    slot[1] += 1
                }
            }
        }
    }

    /// Stable partition of `index[begin..<end]`: rows with bin ≤ `bin` first. Returns the split point.
    func partition(begin: Int, end: Int, feature f: Int, bin: UInt16) -> Int {
        points.width == 1
            ? partition(points.codes(UInt8.self), begin: begin, end: end, feature: f, bin: UInt8(bin))
            : partition(points.codes(UInt16.self), begin: begin, end: end, feature: f, bin: bin)
    }

    @inline(__always)
    private func partition<Code: FixedWidthInteger & UnsignedInteger>(
        _ codes: UnsafeMutablePointer<Code>, begin: Int, end: Int, feature f: Int, bin: Code) -> Int {
        let d = features
        var write = begin, spilled = 0
        for k in begin..<end {
            let i = index[k]
            if codes[Int(i) * d + f] <= bin { index[write] = i; write += 1 } else { spill[spilled] = i; spilled += 1 }
        }
        (index + write).update(from: spill, count: spilled)
        return write
    }
}

/// Grow-only storage of per-node histograms, `slotSize` doubles each.
struct HistogramStore {
    let slotSize: Int
    private(set) var storage: UnsafeMutablePointer<Double>
    private(set) var capacity = 0

    init(slotSize: Int) {
        self.slotSize = slotSize
        storage = .allocate(capacity: 1)
    }

    mutating func reserve(slots: Int) {
        guard slots > capacity else { return }
        storage.deallocate()
        capacity = max(slots, 2 * capacity)
        storage = .allocate(capacity: capacity * slotSize)
    }

    func slot(_ k: Int) -> UnsafeMutablePointer<Double> { storage + k * slotSize }
}
