import Linalg

/// How a node's split candidates are chosen (lens.md §9, "Binning"): `histogram` takes the
/// quantile cut points of XGBoost's `hist` method, at most `bins` per feature; `exact` a cut
/// between every pair of neighbouring distinct training values, at their midpoint (XGBoost's
/// `exact`, scikit-learn's GradientBoostingRegressor), through the same histogram grower.
public enum SplitMethod: String, Sendable, CaseIterable {
    case histogram = "hist"
    case exact
}

/// Histogram bins of the input features (lens.md §9, "Binning"): per feature, increasing cut
/// points taken from the training inputs, at most `FeatureBins.largestBinCount` bins (a bin
/// index is one byte up to 256 bins, two bytes beyond). A value's bin is the first cut point it
/// does not exceed, so
///
///     bin(x) ≤ b   ⇔   x ≤ edges[b]                                              lens.md (9.3)
///
/// and a split "bin ≤ b" on binned training rows is the split "x ≤ edges[b]" on raw inputs — the
/// same tree predicts test points from their raw values or from their bins. NaN exceeds every
/// cut point and lands in the last bin (missing values go right).
///
/// Cut points (`histogram`, lens.md (9.3a)): XGBoost's rule on the exact weighted quantile
/// summary of the feature (`cutPoints`): a feature with at most `maximumBins` distinct values
/// gets a bin for each; otherwise the summary is pruned to `maximumBins + 1` values at evenly
/// spaced ranks, and each kept value but the smallest (and the largest, which falls in the last
/// bin) starts a bin. XGBoost splits "x < c" at a kept value c; here the cut point is the float
/// just below c, the same split in (9.3)'s form. `exact`: a cut at the midpoint of every pair of
/// neighbouring distinct values.
///
///     let bins = FeatureBins(training: x, maximumBins: 256)
///     let codes = bins.binned(x)        // n × d bin indices, row-major, one byte each
public struct FeatureBins: Equatable, Sendable {
    /// `edges[f]`: the increasing cut points of feature `f`; it has `edges[f].count + 1` bins.
    public let edges: [[Float]]
    public let maximumBins: Int

    /// Bin indices are at most two bytes.
    public static let largestBinCount = 65_535
    /// Up to this many bins a bin index is one byte.
    public static let largestByteBinCount = 256

    public init(edges: [[Float]], maximumBins: Int) {
        precondition(maximumBins >= 2 && maximumBins <= Self.largestBinCount, "bins must be between 2 and \(Self.largestBinCount)")
        precondition(edges.allSatisfy { $0.count < maximumBins }, "a feature has more cut points than bins allow")
        self.edges = edges
        self.maximumBins = maximumBins
    }

    /// Cut points from the rows of `x` (n × d), every feature in turn. `exact` needs at most
    /// `largestBinCount` distinct values per feature (`exactProblem` says which feature has more).
    public init(training x: Matrix, maximumBins: Int, split: SplitMethod = .histogram) {
        var all: [[Float]] = []
        all.reserveCapacity(x.cols)
        Self.forEachSortedFeature(x) { _, sorted in
            switch split {
            case .histogram: all.append(Self.cutPoints(sorted: sorted, maximumBins: maximumBins))
            case .exact: all.append(Self.midpoints(sorted: sorted))
            }
        }
        let bins = split == .exact ? max(2, (all.map(\.count).max() ?? 0) + 1) : maximumBins
        self.init(edges: all, maximumBins: bins)
    }

    /// Why `exact` cannot bin `x` (a feature with more distinct values than bin indices hold), as
    /// one line naming the config key, or nil.
    public static func exactProblem(_ x: Matrix) -> String? {
        var problem: String?
        forEachSortedFeature(x) { f, sorted in
            guard problem == nil else { return }
            let distinct = Distinct(sorted: sorted).values.count
            if distinct > largestBinCount {
                problem = "model.split: exact needs at most \(largestBinCount) distinct values per feature (two-byte bin indices); feature \(f + 1) has \(distinct) in the training data; use model.split: hist with model.bins"
            }
        }
        return problem
    }

    static func forEachSortedFeature(_ x: Matrix, _ body: (Int, [Float]) -> Void) {
        var column = [Float](repeating: 0, count: x.rows)
        for f in 0..<x.cols {
            var count = 0
            for i in 0..<x.rows where !x[i, f].isNaN { column[count] = x[i, f]; count += 1 }
            body(f, column[0..<count].sorted())
        }
    }

    /// The distinct values of a sorted column and how many rows hold each.
    struct Distinct {
        var values: [Float] = [], counts: [Int] = []
        init(sorted v: [Float]) {
            for value in v {
                if let last = values.last, last == value { counts[counts.count - 1] += 1; continue }
                values.append(value)
                counts.append(1)
            }
        }
    }

    /// `exact`: the midpoint of every pair of neighbouring distinct values (XGBoost's exact and
    /// scikit-learn split there), kept at or above the lower one where the two floats are neighbours.
    static func midpoints(sorted v: [Float]) -> [Float] {
        let distinct = Distinct(sorted: v).values
        guard distinct.count > 1 else { return [] }
        return (0..<(distinct.count - 1)).map { j in
            let a = distinct[j], b = distinct[j + 1]
            let mid = Float((Double(a) + Double(b)) / 2)
            return mid < b ? mid : a
        }
    }

    /// `histogram` (lens.md (9.3a)): XGBoost's `hist` cut points (WQSummary::SetPrune to
    /// `maximumBins + 1` entries, then AddCutPoint) on the exact summary of the column, whose
    /// entry for distinct value v_j has weight w_j (its row count), rmin_j the rows below it and
    /// rmax_j = rmin_j + w_j. The prune keeps the smallest and largest values and, for
    /// k = 1 … maximumBins − 1, the value whose rank interval holds k·(rmin_last − rmax_0)/maximumBins
    /// + rmax_0 (the nearer of two neighbours). Bins start at the kept values 2 … maximumBins of
    /// the pruned list, so the largest value starts no bin of its own when the summary was pruned.
    /// Ranks are float32, as in XGBoost, so the same ties resolve the same way. XGBoost's sketch
    /// approximates this summary once a column exceeds its buffer (thousands of rows at 256 bins);
    /// tlens always computes it exactly.
    static func cutPoints(sorted v: [Float], maximumBins: Int) -> [Float] {
        let distinct = Distinct(sorted: v)
        let size = distinct.values.count
        guard size > 1 else { return [] }
        var kept: [Int]
        if size <= maximumBins + 1 {
            kept = Array(0..<size)
        } else {
            var rmin = [Float](repeating: 0, count: size), weight = [Float](repeating: 0, count: size)
            var below = 0
            for j in 0..<size { rmin[j] = Float(below); weight[j] = Float(distinct.counts[j]); below += distinct.counts[j] }
            func rmax(_ j: Int) -> Float { rmin[j] + weight[j] }
            let begin = rmax(0), range = rmin[size - 1] - rmax(0), steps = Float(maximumBins)
            kept = [0]
            var i = 1, last = 0
            for k in 1..<maximumBins {
                let dx2: Float = 2 * ((Float(k) * range) / steps + begin)
                while i < size - 1 && dx2 >= rmax(i + 1) + rmin[i + 1] { i += 1 }
                if i == size - 1 { break }
                // RMinNext(i) + RMaxPrev(i + 1): the rank between entries i and i + 1, doubled.
                let pick = dx2 < (rmin[i] + weight[i]) + (rmax(i + 1) - weight[i + 1]) ? i : i + 1
                if pick != last { kept.append(pick); last = pick }
            }
            if last != size - 1 { kept.append(size - 1) }
        }
        // Bins start at kept values 1 ..< min(kept, maximumBins); the cut below each is the float
        // just under it, so x ≤ cut ⇔ x < value (XGBoost's split), for every float x.
        var cuts: [Float] = []
        for j in 1..<min(kept.count, maximumBins) {
            let cut = distinct.values[kept[j]].nextDown
            if cuts.last.map({ cut > $0 }) ?? true { cuts.append(cut) }
        }
        return cuts
    }

    public var featureCount: Int { edges.count }
    /// Bins of feature `f` (cut points + 1).
    public func binCount(_ f: Int) -> Int { edges[f].count + 1 }
    /// Bytes per bin index: one up to 256 bins, two beyond.
    public var codeWidth: Int { (edges.map(\.count).max() ?? 0) < Self.largestByteBinCount ? 1 : 2 }

    /// The first cut point of feature `f` that `value` does not exceed (binary search), or the
    /// last bin.
    @inline(__always) public func bin(_ value: Float, feature f: Int) -> Int {
        edges[f].withUnsafeBufferPointer { e in
            var lo = 0, hi = e.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if value <= e[mid] { hi = mid } else { lo = mid + 1 }
            }
            return lo
        }
    }

    /// The bins of every row of `x`, row-major, `codeWidth` bytes each.
    public func binned(_ x: Matrix) -> BinnedPoints {
        precondition(x.cols == featureCount, "points have \(x.cols) features, the bins \(featureCount)")
        let out = BinnedPoints(rows: x.rows, features: x.cols, width: codeWidth)
        for i in 0..<x.rows {
            let row = x.row(i)
            for f in 0..<x.cols { out.set(i, f, bin(row[f], feature: f)) }
        }
        return out
    }
}

/// Bin indices of a set of points, row-major (`rows × features`), one byte each when every
/// feature has at most 256 bins and two bytes otherwise: the histogram pass reads a row's
/// features contiguously, and the byte layout halves the memory it streams.
public final class BinnedPoints: @unchecked Sendable {
    public let rows: Int
    public let features: Int
    /// 1 (UInt8 indices) or 2 (UInt16).
    public let width: Int
    let storage: UnsafeMutableRawPointer

    public init(rows: Int, features: Int, width: Int = 1) {
        precondition(width == 1 || width == 2, "a bin index is one or two bytes")
        self.rows = rows
        self.features = features
        self.width = width
        let bytes = max(rows * features, 1) * width
        storage = .allocate(byteCount: bytes, alignment: 8)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
    }

    deinit { storage.deallocate() }

    /// The indices as `Code` (UInt8 when `width` is 1, UInt16 when 2).
    @inline(__always) func codes<Code: FixedWidthInteger & UnsignedInteger>(_: Code.Type) -> UnsafeMutablePointer<Code> {
        storage.assumingMemoryBound(to: Code.self)
    }

    public subscript(i: Int, f: Int) -> Int {
        width == 1 ? Int(codes(UInt8.self)[i * features + f]) : Int(codes(UInt16.self)[i * features + f])
    }

    func set(_ i: Int, _ f: Int, _ bin: Int) {
        if width == 1 { codes(UInt8.self)[i * features + f] = UInt8(bin) } else { codes(UInt16.self)[i * features + f] = UInt16(bin) }
    }

    /// The leaf row `i` falls in.
    @inline(__always) public func leaf(of tree: RegressionTree, row i: Int) -> Int {
        width == 1 ? tree.leaf(binned: codes(UInt8.self) + i * features) : tree.leaf(binned: codes(UInt16.self) + i * features)
    }
}
