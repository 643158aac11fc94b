@testable import Data
import XCTest

/// `holdout_pc1` and `validation` (IrregularHoldout; the paper's App. C.2), against an
/// independent computation: the first principal component by power iteration on ZᵀZ in
/// Double (the code uses Jacobi rotations), scores by brute force.
final class IrregularHoldoutTests: XCTestCase {
    /// |PC1 score − median| of each row by power iteration on the z-scored rows' ZᵀZ.
    func bruteForce(_ rows: [[Double]]) -> [Double] {
        let n = Double(rows.count), d = rows[0].count
        let mean = (0..<d).map { j in rows.map { $0[j] }.reduce(0, +) / n }
        let sd = (0..<d).map { j in (rows.map { ($0[j] - mean[j]) * ($0[j] - mean[j]) }.reduce(0, +) / n).squareRoot() }
        let z = rows.map { row in (0..<d).map { sd[$0] > 0 ? (row[$0] - mean[$0]) / sd[$0] : row[$0] - mean[$0] } }
        var v = (0..<d).map { 1.0 + 0.1 * Double($0) }
        for _ in 0..<400 {
            var w = [Double](repeating: 0, count: d)
            for row in z {
                let s = zip(row, v).map(*).reduce(0, +)
                for j in 0..<d { w[j] += row[j] * s }
            }
            let norm = w.map { $0 * $0 }.reduce(0, +).squareRoot()
            v = w.map { $0 / norm }
        }
        let scores = z.map { zip($0, v).map(*).reduce(0, +) }
        let sorted = scores.sorted(), m = sorted.count
        let median = m % 2 == 1 ? sorted[m / 2] : (sorted[m / 2 - 1] + sorted[m / 2]) / 2
        return scores.map { abs($0 - median) }
    }

    func testScoresAreTheDistanceOfTheFirstPrincipalComponentScoreToItsMedian() {
        var state: UInt64 = 11
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53) - 0.5
        }
        // Correlated columns on different scales, one constant (centred only, no weight).
        let rows: [[Double]] = (0..<61).map { _ in
            let a = uniform(), b = uniform()
            return [a, 40 * (a + 0.3 * b) + 7, 2.5, 0.2 * b - 0.1 * a]
        }
        let expected = bruteForce(rows)
        let scores = IrregularHoldout.principalScores(rows.flatMap { $0.map(Float.init) }, dimension: 4)
        XCTAssertEqual(scores.count, rows.count)
        // Float inputs: the brute force reads the same rounded values only up to 1e-7 relative.
        for (a, b) in zip(scores, expected) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, b)) }
        // The median row scores 0 (odd count); the top share holds the largest scores.
        XCTAssertEqual(scores.min()!, 0, accuracy: 1e-12)
        let top = IrregularHoldout.mostIrregular(scores, fraction: 0.1)
        XCTAssertEqual(top.count, 6)   // round(6.1)
        let threshold = top.map { scores[$0] }.min()!
        XCTAssertEqual(scores.filter { $0 > threshold }.count, 5)
    }

    /// Points on a line through the origin along (1, 1) after z-scoring: PC1 is the line, and a
    /// point's score is its signed distance along it.
    func testAPointFarAlongTheLineOfTheDataIsTheMostIrregular() {
        let t: [Float] = [-2, -1, 0, 1, 2, 9]
        let features = t.flatMap { [$0, 3 * $0 + 1] }
        let scores = IrregularHoldout.principalScores(features, dimension: 2)
        XCTAssertEqual(IrregularHoldout.mostIrregular(scores, fraction: 0.2), [5])   // round(1.2) = 1
        // z-scored, both columns equal (t − mean)/sd; the score is √2 (t − mean)/sd, the median at t = 0.5.
        let values = t.map(Double.init)
        let mean = values.reduce(0, +) / 6, sd = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 6).squareRoot()
        for (i, value) in values.enumerated() {
            XCTAssertEqual(scores[i], 2.0.squareRoot() * abs(value - 0.5) / sd, accuracy: 1e-5)
        }
    }

    func testHeldOutRowsAreNeverTrainedOnAndJoinTheTestSplit() throws {
        let spec = DataSpec(source: "diabetes", options: ["holdout_pc1": 0.1])
        let split = try DataFactory.load(spec, seed: 3)
        let pool = try BuiltinData.diabetes()
        let scores = bruteForce((0..<pool.count).map { i in (0..<pool.dimension).map { Double(pool.features[i * pool.dimension + $0]) } })
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        let irregular = Set(order.prefix(44).map { pool.rowIDs[$0] })   // round(0.1 · 442)
        XCTAssertEqual(Set(split.irregularTestRowIDs), irregular)
        XCTAssertTrue(Set(split.train.rowIDs).isDisjoint(with: irregular))
        XCTAssertTrue(irregular.isSubset(of: Set(split.test.rowIDs)))
        XCTAssertEqual(split.test.count, 44 + 80)   // round(0.2 · 398) regular test rows
        XCTAssertEqual(split.train.count, 398 - 80)
        XCTAssertEqual(Set(split.train.rowIDs + split.test.rowIDs).count, 442)

        // The validation split comes out of the same seed's training rows, none of them irregular.
        let validation = try DataFactory.load(DataSpec(source: "diabetes", options: ["holdout_pc1": 0.1, "validation": 80]), seed: 3)
        XCTAssertEqual(validation.test.count, 80)
        XCTAssertEqual(validation.train.count, 318 - 80)
        XCTAssertEqual(Set(validation.train.rowIDs + validation.test.rowIDs), Set(split.train.rowIDs))
        XCTAssertTrue(validation.irregularTestRowIDs.isEmpty)
    }

    func testRefusals() {
        XCTAssertThrowsError(try DataFactory.load(DataSpec(source: "diabetes", options: ["holdout_pc": 0.1]), seed: 0)) {
            XCTAssertTrue("\($0)".contains("did you mean `holdout_pc1`?"), "\($0)")
        }
        XCTAssertThrowsError(try DataFactory.load(DataSpec(source: "diabetes", options: ["holdout_pc1": 0.95]), seed: 0)) {
            XCTAssertTrue("\($0)".contains("holdout_pc1"), "\($0)")
        }
        XCTAssertThrowsError(try DataFactory.load(DataSpec(source: "diabetes", options: ["validation": 400]), seed: 0)) {
            XCTAssertTrue("\($0)".contains("leave no training rows"), "\($0)")
        }
    }
}
