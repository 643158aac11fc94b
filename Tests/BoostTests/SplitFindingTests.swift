@testable import Boost
import Linalg
import XCTest

/// The histogram grower against an exact split search done the slow way: every feature sorted,
/// every threshold between two distinct values tried (or only those a set of cut points
/// allows), the same gain rule (lens.md §9).
final class SplitFindingTests: XCTestCase {
    /// Points with two continuous features and one of six integer levels (runs of equal values).
    func sample(_ n: Int, seed: UInt64) -> (Matrix, [Float]) {
        var rng = RandomSource(seed: seed, stream: .other)
        let x = Matrix(rows: n, cols: 3)
        var g = [Float](repeating: 0, count: n)
        for i in 0..<n {
            x[i, 0] = Float(rng.normal()); x[i, 1] = Float(rng.uniform() * 4); x[i, 2] = Float(rng.integer(below: 6))
            g[i] = Float(sin(2 * Double(x[i, 0])) + 0.3 * Double(x[i, 2]) + 0.2 * rng.normal())
        }
        return (x, g)
    }

    /// Leaves of an exhaustively searched tree, keyed by their path from the root ("LRL"). With
    /// `cuts`, a threshold between two sorted values is tried only where a cut point lies between
    /// them (a ≤ c < b), found by a linear scan of the cuts, not by FeatureBins' search.
    func exactTree(_ x: Matrix, _ g: [Float], rows: [Int], path: String, depth: Int,
                   settings s: TreeGrower.Settings, cuts: [[Float]]? = nil) -> [String: (rows: Set<Int>, value: Double)] {
        func leaf() -> [String: (rows: Set<Int>, value: Double)] {
            let sum = rows.reduce(0.0) { $0 + Double(g[$1]) }
            return [path: (Set(rows), Double(s.learningRate) * -sum / (Double(rows.count) + s.lambda))]
        }
        guard depth < s.maxDepth, rows.count >= 2 * s.minLeaf else { return leaf() }
        let total = rows.reduce(0.0) { $0 + Double(g[$1]) }, n = Double(rows.count)
        var best: (gain: Double, left: [Int], right: [Int])?
        for f in 0..<x.cols {
            let sorted = rows.sorted { (x[$0, f], $0) < (x[$1, f], $1) }
            var leftSum = 0.0
            for k in 1..<sorted.count {
                leftSum += Double(g[sorted[k - 1]])
                let a = x[sorted[k - 1], f], b = x[sorted[k], f]
                if a == b || k < s.minLeaf { continue }
                if let cuts, !cuts[f].contains(where: { a <= $0 && $0 < b }) { continue }
                if sorted.count - k < s.minLeaf { break }
                let rightSum = total - leftSum, nl = Double(k), nr = n - nl
                let gain = leftSum * leftSum / (nl + s.lambda) + rightSum * rightSum / (nr + s.lambda) - total * total / (n + s.lambda)
                if gain > (best?.gain ?? TreeGrower.minimumGain) { best = (gain, Array(sorted[..<k]), Array(sorted[k...])) }
            }
        }
        guard let best else { return leaf() }
        return exactTree(x, g, rows: best.left, path: path + "L", depth: depth + 1, settings: s, cuts: cuts)
            .merging(exactTree(x, g, rows: best.right, path: path + "R", depth: depth + 1, settings: s, cuts: cuts)) { a, _ in a }
    }

    /// The path binned row `i` takes through `tree`.
    func path(_ tree: RegressionTree, _ codes: BinnedPoints, _ i: Int) -> String {
        var node = 0, path = ""
        while tree.feature[node] >= 0 {
            let left = codes[i, Int(tree.feature[node])] <= Int(tree.splitBin[node])
            path += left ? "L" : "R"
            node = Int(tree.child[node]) + (left ? 0 : 1)
        }
        return path
    }

    /// The grower's trees on `bins` equal the brute-force search restricted to `cuts` (nil: every
    /// boundary between distinct values): the same leaves (by path), the same rows in each, the
    /// same values. Rows outside the subsample do not count.
    func assertGrowerEqualsBruteForce(_ x: Matrix, _ g: [Float], bins: FeatureBins, cuts: [[Float]]?,
                                      file: StaticString = #filePath, line: UInt = #line) {
        let codes = bins.binned(x)
        let rows = (0..<x.rows).filter { $0 % 4 != 1 }
        for (depth, minLeaf, lambda) in [(1, 1, 1.0), (4, 3, 1.0), (5, 1, 0.0), (3, 10, 5.0)] {
            let settings = TreeGrower.Settings(maxDepth: depth, lambda: lambda, minLeaf: minLeaf, learningRate: 0.3)
            let tree = TreeGrower(points: codes, bins: bins).grow(gradients: g, rows: rows, settings: settings)
            let exact = exactTree(x, g, rows: rows, path: "", depth: 0, settings: settings, cuts: cuts)
            var found: [String: Set<Int>] = [:]
            for i in rows { found[path(tree, codes, i), default: []].insert(i) }
            XCTAssertEqual(Set(found.keys), Set(exact.keys), "depth \(depth), min_leaf \(minLeaf), λ \(lambda)", file: file, line: line)
            XCTAssertGreaterThanOrEqual(found.count, depth == 1 ? 2 : 4, file: file, line: line)
            for (leafPath, leafRows) in found {
                guard let expected = exact[leafPath] else { continue }
                XCTAssertEqual(leafRows, expected.rows, leafPath, file: file, line: line)
                XCTAssertGreaterThanOrEqual(leafRows.count, minLeaf, file: file, line: line)
                let leaf = codes.leaf(of: tree, row: leafRows.first!)
                XCTAssertEqual(Int(tree.leafCount[leaf]), leafRows.count, file: file, line: line)
                XCTAssertEqual(Double(tree.leafValue[leaf]), expected.value, accuracy: 1e-6 * max(1, abs(expected.value)),
                               file: file, line: line)
            }
        }
    }

    /// With a bin for every distinct value, the histogram tree and the exact split search split
    /// every node the same way.
    func testHistogramSplitsEqualAnExactSplitSearchWhenEveryValueHasItsOwnBin() {
        let (x, g) = sample(90, seed: 3)
        let bins = FeatureBins(training: x, maximumBins: 256)
        XCTAssertEqual((0..<3).map(bins.binCount), [90, 90, 6])
        XCTAssertEqual(bins.codeWidth, 1)
        assertGrowerEqualsBruteForce(x, g, bins: bins, cuts: nil)
    }

    /// `split: exact` with more distinct values than a byte indexes (two-byte bins) equals the
    /// exhaustive search over every boundary.
    func testExactSplitsEqualTheBruteForceBestSplit() {
        let (x, g) = sample(400, seed: 4)
        let bins = FeatureBins(training: x, maximumBins: 256, split: .exact)
        XCTAssertEqual((0..<3).map(bins.binCount), [400, 400, 6])
        XCTAssertEqual(bins.codeWidth, 2)
        assertGrowerEqualsBruteForce(x, g, bins: bins, cuts: nil)
    }

    /// Two-byte histograms with fewer bins than distinct values (quantile cut points) equal the
    /// exhaustive search restricted to those cut points.
    func testSixteenBitHistogramsEqualTheBruteForceSearchAtTheirCutPoints() {
        let (x, g) = sample(700, seed: 6)
        let bins = FeatureBins(training: x, maximumBins: 300)
        XCTAssertEqual(bins.codeWidth, 2)
        XCTAssertEqual((0..<3).map(bins.binCount), [300, 300, 6])
        assertGrowerEqualsBruteForce(x, g, bins: bins, cuts: bins.edges)
        // A coarse one-byte binning of the same points, checked the same way.
        assertGrowerEqualsBruteForce(x, g, bins: FeatureBins(training: x, maximumBins: 40), cuts: FeatureBins(training: x, maximumBins: 40).edges)
    }

    /// Bins and raw thresholds agree for every point, inside or outside the training range, on
    /// ties with a cut point and for NaN (which goes right), with few bins.
    func testRawThresholdsAndBinsSendEveryPointTheSameWay() {
        let (x, g) = sample(200, seed: 5)
        let bins = FeatureBins(training: x, maximumBins: 8)
        let tree = TreeGrower(points: bins.binned(x), bins: bins)
            .grow(gradients: g, rows: Array(0..<200), settings: .init(maxDepth: 4, lambda: 1, minLeaf: 2, learningRate: 1))
        let probe = Matrix(rows: 300, cols: 3)
        var rng = RandomSource(seed: 8, stream: .other)
        for i in 0..<300 { for f in 0..<3 { probe[i, f] = Float(rng.normal() * 3) } }
        for f in 0..<3 { probe[0, f] = .nan; probe[1, f] = -1e30; probe[2, f] = 1e30 }
        for (k, edge) in bins.edges[0].enumerated() { probe[3 + k, 0] = edge }
        let codes = bins.binned(probe)
        for i in 0..<300 { XCTAssertEqual(tree.leaf(point: probe.row(i)), codes.leaf(of: tree, row: i), "point \(i)") }
        XCTAssertEqual(bins.bin(.nan, feature: 0), bins.binCount(0) - 1)
    }

    /// Quantile cut points: at most `bins` bins, about n/bins rows each, never between equal values.
    func testCutPointsAreQuantilesAndNeverSplitARunOfEqualValues() {
        var values = (0..<1000).map { Float($0) / 7 }
        values += [Float](repeating: 3, count: 300)
        let cuts = FeatureBins.cutPoints(sorted: values.sorted(), maximumBins: 16)
        XCTAssertLessThanOrEqual(cuts.count, 15)
        XCTAssertGreaterThanOrEqual(cuts.count, 12)
        XCTAssertEqual(cuts, cuts.sorted())
        let x = Matrix(rows: values.count, cols: 1, values: values)
        let bins = FeatureBins(training: x, maximumBins: 16), codes = bins.binned(x)
        var counts = [Int](repeating: 0, count: bins.binCount(0))
        for i in 0..<values.count { counts[codes[i, 0]] += 1 }
        // The 300 threes share one bin; the other bins hold about 1300/16 rows.
        XCTAssertEqual(Set((0..<values.count).filter { values[$0] == 3 }.map { codes[$0, 0] }).count, 1)
        XCTAssertLessThanOrEqual(counts.filter { $0 < 300 }.max() ?? 0, 2 * 1300 / 16)
        // Two distinct values: one cut between them, just below the larger; a constant feature: none.
        XCTAssertEqual(FeatureBins.cutPoints(sorted: [1, 1, 2], maximumBins: 256), [Float(2).nextDown])
        XCTAssertEqual(FeatureBins.cutPoints(sorted: [4, 4, 4], maximumBins: 256), [])
        // Exact splits cut at midpoints; neighbouring floats keep the lower one left.
        let a: Float = 1, b = a.nextUp
        XCTAssertEqual(FeatureBins.midpoints(sorted: [1, 1, 2]), [1.5])
        XCTAssertEqual(FeatureBins.midpoints(sorted: [a, b]), [a])
    }

    /// Discrete features with fewer distinct values than bins: each distinct value is its own bin,
    /// whatever its count, at 256 one-byte bins and 1,024 two-byte ones; with fewer bins than
    /// values the cut points are XGBoost's (3.2.0, `hist`, max_bin 4: cuts 2, 5, 9 on this column,
    /// the largest value alone in the last bin).
    func testEveryDistinctValueOfADiscreteFeatureIsItsOwnBin() {
        let counts = [1, 5, 100, 3, 3, 50, 7, 7, 7, 1]
        let column = counts.enumerated().flatMap { [Float](repeating: Float($0.offset), count: $0.element) }
        for bins in [256, 1024, 11, 10] {
            let x = Matrix(rows: column.count, cols: 1, values: column)
            let b = FeatureBins(training: x, maximumBins: bins), codes = b.binned(x)
            XCTAssertEqual(b.binCount(0), 10, "bins \(bins)")
            for i in 0..<column.count { XCTAssertEqual(codes[i, 0], Int(column[i]), "bins \(bins)") }
        }
        XCTAssertEqual(FeatureBins.cutPoints(sorted: column, maximumBins: 4).map(\.nextUp), [2, 5, 9])
    }

    /// A heavy-tailed column (Cauchy quantiles, every fifth value rounded to an integer, so runs
    /// of ties): the cut points equal XGBoost 3.2.0's `hist` cuts at max_bin 32 (from
    /// `xgb.DMatrix(...).get_quantile_cut()` after one round; its sketch is exact at this size),
    /// far tails included.
    func testHeavyTailedCutPointsEqualXGBoostHist() {
        let n = 400
        var column = (0..<n).map { i in Float(tan(Double.pi * (Double((i * 7919) % n) + 0.5) / Double(n) - Double.pi / 2)) }
        for i in stride(from: 0, to: n, by: 5) { column[i] = column[i].rounded(.toNearestOrEven) }
        let xgboost: [Float] = [
            -9.39603424, -5, -3.11931086, -2.33598924, -1.90674031, -1.45909703, -1.12533772, -1, -0.931699634,
            -0.708694756, -0.544651806, -0.391392469, -0.260946482, -0.130321041, -0.0117815174, 0, 0.0117815174,
            0.130321041, 0.260946482, 0.391392469, 0.544651806, 0.708694756, 0.917134225, 1, 1.14329696, 1.48395729,
            1.94370306, 2.33598924, 3.20570326, 4.92615843, 9.39603424]
        XCTAssertEqual(FeatureBins.cutPoints(sorted: column.sorted(), maximumBins: 32).map(\.nextUp), xgboost)
    }

    /// A node splits only with min_leaf rows on each side and a gain above the minimum: a
    /// constant gradient gains nothing anywhere, so the tree is one leaf holding every row.
    func testNoGainOrTooFewRowsLeavesALeaf() {
        let (x, _) = sample(50, seed: 2)
        let bins = FeatureBins(training: x, maximumBins: 256)
        let grower = TreeGrower(points: bins.binned(x), bins: bins)
        let flat = grower.grow(gradients: [Float](repeating: 0.5, count: 50), rows: Array(0..<50),
                               settings: .init(maxDepth: 4, lambda: 1, minLeaf: 1, learningRate: 0.1))
        XCTAssertEqual(flat.leafTotal, 1)
        XCTAssertEqual(flat.leafCount, [50])
        XCTAssertEqual(Double(flat.leafValue[0]), 0.1 * -25 / 51, accuracy: 1e-7)
        let (_, g) = sample(50, seed: 2)
        let crowded = grower.grow(gradients: g, rows: Array(0..<50), settings: .init(maxDepth: 6, lambda: 1, minLeaf: 20, learningRate: 0.1))
        XCTAssertEqual(crowded.leafTotal, 2)
        XCTAssertTrue(crowded.leafCount.allSatisfy { $0 >= 20 })
    }

    /// Two threads build the histograms of large nodes; every tree is the same as on one.
    func testTreesDoNotDependOnTheThreadCount() {
        var rng = RandomSource(seed: 11, stream: .other)
        let n = 6000, d = 12
        let x = Matrix(rows: n, cols: d)
        var g = [Float](repeating: 0, count: n)
        for i in 0..<n {
            for f in 0..<d { x[i, f] = Float(rng.normal()) }
            g[i] = x[i, 0] * x[i, 1] + Float(rng.normal())
        }
        XCTAssertGreaterThan(n * d, TreeGrower.parallelWork)
        let bins = FeatureBins(training: x, maximumBins: 64), codes = bins.binned(x)
        let settings = TreeGrower.Settings(maxDepth: 5, lambda: 1, minLeaf: 1, learningRate: 0.1)
        let one = TreeGrower(points: codes, bins: bins, threads: 1).grow(gradients: g, rows: Array(0..<n), settings: settings)
        let two = TreeGrower(points: codes, bins: bins, threads: 2).grow(gradients: g, rows: Array(0..<n), settings: settings)
        XCTAssertEqual(one, two)
        XCTAssertGreaterThan(one.leafTotal, 16)
    }
}
