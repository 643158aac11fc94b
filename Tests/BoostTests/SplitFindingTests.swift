@testable import Boost
import Linalg
import XCTest

/// The histogram grower against an exact split search done the slow way: every feature sorted,
/// every threshold between two distinct values tried, the same gain rule (lens.md §9).
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

    /// Leaves of an exhaustively searched tree, keyed by their path from the root ("LRL").
    func exactTree(_ x: Matrix, _ g: [Float], rows: [Int], path: String, depth: Int,
                   settings s: TreeGrower.Settings) -> [String: (rows: Set<Int>, value: Double)] {
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
                if x[sorted[k - 1], f] == x[sorted[k], f] || k < s.minLeaf { continue }
                if sorted.count - k < s.minLeaf { break }
                let rightSum = total - leftSum, nl = Double(k), nr = n - nl
                let gain = leftSum * leftSum / (nl + s.lambda) + rightSum * rightSum / (nr + s.lambda) - total * total / (n + s.lambda)
                if gain > (best?.gain ?? TreeGrower.minimumGain) { best = (gain, Array(sorted[..<k]), Array(sorted[k...])) }
            }
        }
        guard let best else { return leaf() }
        return exactTree(x, g, rows: best.left, path: path + "L", depth: depth + 1, settings: s)
            .merging(exactTree(x, g, rows: best.right, path: path + "R", depth: depth + 1, settings: s)) { a, _ in a }
    }

    /// The path a binned row takes through `tree`.
    func path(_ tree: RegressionTree, _ codes: UnsafePointer<UInt8>) -> String {
        var node = 0, path = ""
        while tree.feature[node] >= 0 {
            let left = codes[Int(tree.feature[node])] <= tree.splitBin[node]
            path += left ? "L" : "R"
            node = Int(tree.child[node]) + (left ? 0 : 1)
        }
        return path
    }

    /// With a bin for every distinct value, the histogram tree and the exact search split every
    /// node the same way: the same leaves (by path), the same rows in each, the same values.
    /// Rows outside the subsample do not count.
    func testHistogramSplitsEqualAnExactSplitSearchWhenEveryValueHasItsOwnBin() {
        let (x, g) = sample(90, seed: 3)
        let bins = FeatureBins(training: x, maximumBins: 256)
        XCTAssertEqual((0..<3).map(bins.binCount), [90, 90, 6])
        let codes = bins.binned(x)
        let rows = (0..<90).filter { $0 % 4 != 1 }
        for (depth, minLeaf, lambda) in [(1, 1, 1.0), (4, 3, 1.0), (5, 1, 0.0), (3, 10, 5.0)] {
            let settings = TreeGrower.Settings(maxDepth: depth, lambda: lambda, minLeaf: minLeaf, learningRate: 0.3)
            let tree = TreeGrower(points: codes, bins: bins).grow(gradients: g, rows: rows, settings: settings)
            let exact = exactTree(x, g, rows: rows, path: "", depth: 0, settings: settings)
            var found: [String: Set<Int>] = [:]
            for i in rows { found[path(tree, codes.row(i)), default: []].insert(i) }
            XCTAssertEqual(Set(found.keys), Set(exact.keys), "depth \(depth), min_leaf \(minLeaf), λ \(lambda)")
            XCTAssertGreaterThanOrEqual(found.count, depth == 1 ? 2 : 4)
            for (leafPath, leafRows) in found {
                guard let expected = exact[leafPath] else { continue }
                XCTAssertEqual(leafRows, expected.rows, leafPath)
                XCTAssertGreaterThanOrEqual(leafRows.count, minLeaf)
                let leaf = tree.leaf(binned: codes.row(leafRows.first!))
                XCTAssertEqual(Int(tree.leafCount[leaf]), leafRows.count)
                XCTAssertEqual(Double(tree.leafValue[leaf]), expected.value, accuracy: 1e-6 * max(1, abs(expected.value)))
            }
        }
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
        for i in 0..<300 { XCTAssertEqual(tree.leaf(point: probe.row(i)), tree.leaf(binned: codes.row(i)), "point \(i)") }
        XCTAssertEqual(bins.bin(.nan, feature: 0), UInt8(bins.binCount(0) - 1))
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
        for i in 0..<values.count { counts[Int(codes[i, 0])] += 1 }
        // The 300 threes share one bin; the other bins hold about 1300/16 rows.
        XCTAssertEqual(Set((0..<values.count).filter { values[$0] == 3 }.map { codes[$0, 0] }).count, 1)
        XCTAssertLessThanOrEqual(counts.filter { $0 < 300 }.max() ?? 0, 2 * 1300 / 16)
        // Two distinct values: one cut between them; a constant feature: none.
        XCTAssertEqual(FeatureBins.cutPoints(sorted: [1, 1, 2], maximumBins: 256), [1.5])
        XCTAssertEqual(FeatureBins.cutPoints(sorted: [4, 4, 4], maximumBins: 256), [])
        // Neighbouring floats: the cut keeps the lower one left.
        let a: Float = 1, b = a.nextUp
        XCTAssertEqual(FeatureBins.cutPoints(sorted: [a, b], maximumBins: 256), [a])
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
