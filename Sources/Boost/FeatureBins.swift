import Linalg

/// Histogram bins of the input features (lens.md §9, "Binning"): per feature, increasing cut
/// points taken from the training inputs, at most `maximumBins` bins (≤ 256, so a bin index is
/// one byte). A value's bin is the first cut point it does not exceed, so
///
///     bin(x) ≤ b   ⇔   x ≤ edges[b]
///
/// and a split "bin ≤ b" on binned training rows is the split "x ≤ edges[b]" on raw inputs — the
/// same tree predicts test points from their raw values or from their bins. NaN exceeds every
/// cut point and lands in the last bin (missing values go right).
///
/// Cut points: a feature with at most `maximumBins` distinct training values gets one cut
/// between each pair of neighbours (every exact split is available); otherwise a cut follows the
/// distinct value at which the running count first reaches each multiple of n / maximumBins
/// (quantiles, never splitting a run of equal values). A cut sits at the midpoint of the two
/// values it separates.
///
///     let bins = FeatureBins(training: x, maximumBins: 256)
///     let codes = bins.binned(x)        // n × d bytes, row-major
public struct FeatureBins: Equatable, Sendable {
    /// `edges[f]`: the increasing cut points of feature `f`; it has `edges[f].count + 1` bins.
    public let edges: [[Float]]
    public let maximumBins: Int

    public static let largestBinCount = 256

    public init(edges: [[Float]], maximumBins: Int) {
        precondition(maximumBins >= 2 && maximumBins <= Self.largestBinCount, "bins must be between 2 and 256")
        precondition(edges.allSatisfy { $0.count < maximumBins }, "a feature has more cut points than bins allow")
        self.edges = edges
        self.maximumBins = maximumBins
    }

    /// Cut points from the rows of `x` (n × d), every feature in turn.
    public init(training x: Matrix, maximumBins: Int) {
        precondition(maximumBins >= 2 && maximumBins <= Self.largestBinCount, "bins must be between 2 and 256")
        var column = [Float](repeating: 0, count: x.rows)
        var all: [[Float]] = []
        all.reserveCapacity(x.cols)
        for f in 0..<x.cols {
            var count = 0
            for i in 0..<x.rows where !x[i, f].isNaN { column[count] = x[i, f]; count += 1 }
            all.append(Self.cutPoints(sorted: column[0..<count].sorted(), maximumBins: maximumBins))
        }
        self.init(edges: all, maximumBins: maximumBins)
    }

    static func cutPoints(sorted v: [Float], maximumBins: Int) -> [Float] {
        // Distinct values and their running counts.
        var distinct: [Float] = [], runningCount: [Int] = []
        for (k, value) in v.enumerated() {
            if let last = distinct.last, last == value { runningCount[runningCount.count - 1] = k + 1; continue }
            distinct.append(value)
            runningCount.append(k + 1)
        }
        guard distinct.count > 1 else { return [] }
        func midpoint(_ j: Int) -> Float {
            let a = distinct[j], b = distinct[j + 1]
            let mid = Float((Double(a) + Double(b)) / 2)
            // a ≤ mid < b keeps a left and b right even where the two floats are neighbours.
            return mid < b ? mid : a
        }
        if distinct.count <= maximumBins { return (0..<(distinct.count - 1)).map(midpoint) }
        var cuts: [Float] = []
        let n = Double(v.count), perBin = n / Double(maximumBins)
        var next = 1
        for j in 0..<(distinct.count - 1) where next < maximumBins {
            guard Double(runningCount[j]) >= Double(next) * perBin else { continue }
            cuts.append(midpoint(j))
            while next < maximumBins && Double(next) * perBin <= Double(runningCount[j]) { next += 1 }
        }
        return cuts
    }

    public var featureCount: Int { edges.count }
    /// Bins of feature `f` (cut points + 1).
    public func binCount(_ f: Int) -> Int { edges[f].count + 1 }

    /// The first cut point of feature `f` that `value` does not exceed (binary search), or the
    /// last bin.
    @inline(__always) public func bin(_ value: Float, feature f: Int) -> UInt8 {
        edges[f].withUnsafeBufferPointer { e in
            var lo = 0, hi = e.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if value <= e[mid] { hi = mid } else { lo = mid + 1 }
            }
            return UInt8(truncatingIfNeeded: lo)
        }
    }

    /// The bins of every row of `x`, row-major.
    public func binned(_ x: Matrix) -> BinnedPoints {
        precondition(x.cols == featureCount, "points have \(x.cols) features, the bins \(featureCount)")
        let out = BinnedPoints(rows: x.rows, features: x.cols)
        for i in 0..<x.rows {
            let row = x.row(i), codes = out.row(i)
            for f in 0..<x.cols { codes[f] = bin(row[f], feature: f) }
        }
        return out
    }
}

/// Bin indices of a set of points, one byte per feature, row-major (`rows × features`): the
/// histogram pass reads a row's features contiguously.
public final class BinnedPoints: @unchecked Sendable {
    public let rows: Int
    public let features: Int
    public let codes: UnsafeMutablePointer<UInt8>

    public init(rows: Int, features: Int) {
        self.rows = rows
        self.features = features
        codes = .allocate(capacity: max(rows * features, 1))
        codes.initialize(repeating: 0, count: max(rows * features, 1))
    }

    deinit { codes.deallocate() }

    @inline(__always) public func row(_ i: Int) -> UnsafeMutablePointer<UInt8> { codes + i * features }
    public subscript(i: Int, f: Int) -> UInt8 { codes[i * features + f] }
}
