@testable import Boost
import Learning
import Linalg
import XCTest

final class BoostedTreesLearnerTests: XCTestCase {
    let spec = BoostedTreesSpec(rounds: 40, maxDepth: 3, learningRate: 0.2, lambdaLeaf: 1, minLeaf: 2, subsample: 0.6, bins: 64)

    func predictions(_ learner: BoostedTreesLearner, _ x: Matrix) -> [Float] {
        let out = Matrix(rows: x.rows, cols: 1)
        learner.predict(x, into: out)
        return out.array
    }

    /// f_0 = mean(y); the training loss falls; the trees generalize to a smooth target; and the
    /// training predictions the learner advances are bit for bit its own `predict`.
    func testBoostingStartsAtTheMeanAndFitsASmoothTarget() throws {
        let (x, y, _) = regressionProblem(n: 400, m: 0, seed: 4)
        let (xt, yt, _) = regressionProblem(n: 200, m: 0, seed: 5)
        let learner = try BoostedTreesLearner(spec: BoostedTreesSpec(rounds: 100, maxDepth: 3), trainX: x, trainY: y, seed: 0)
        XCTAssertEqual(Double(learner.initialPrediction), y.array.reduce(0.0) { $0 + Double($1) } / 400, accuracy: 1e-6)
        func mse(_ p: [Float], _ t: Matrix) -> Double { zip(p, t.array).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(p.count) }
        let before = mse(predictions(learner, xt), yt)
        var losses: [Double] = []
        for _ in 0..<100 { losses.append(learner.step().batchLoss) }
        XCTAssertLessThan(losses.last!, 0.2 * losses.first!)
        XCTAssertLessThan(mse(predictions(learner, xt), yt), 0.5 * before)
        XCTAssertEqual(predictions(learner, x).map(\.bitPattern), learner.fitted.array.map(\.bitPattern))
    }

    /// Same seed, same trees and predictions, bit for bit; another seed draws other subsamples.
    func testTheSameSeedGrowsTheSameTrees() throws {
        let (x, y, test) = regressionProblem(n: 120, m: 30, seed: 6)
        let a = try BoostedTreesLearner(spec: spec, trainX: x, trainY: y, seed: 9)
        let b = try BoostedTreesLearner(spec: spec, trainX: x, trainY: y, seed: 9)
        let c = try BoostedTreesLearner(spec: spec, trainX: x, trainY: y, seed: 10)
        var batches: [[Int]] = []
        for _ in 0..<spec.rounds {
            let batch = a.step().batch
            XCTAssertEqual(b.step().batch, batch)
            batches.append(batch)
            XCTAssertEqual(Set(batch).count, 72)
            XCTAssertEqual(batch, batch.sorted())
            _ = c.step()
        }
        XCTAssertEqual(a.trees, b.trees)
        XCTAssertEqual(predictions(a, test).map(\.bitPattern), predictions(b, test).map(\.bitPattern))
        XCTAssertNotEqual(a.trees, c.trees)
        XCTAssertGreaterThan(Set(batches).count, 30)
    }

    /// A learner restored from another's state (even one that had taken steps of its own)
    /// exports the same bytes and continues with the same trees, bit for bit — with one-byte
    /// bins, exact splits and two-byte bins alike.
    func testStateRoundTripsAndContinuesBitIdentically() throws {
        var exact = spec; exact.split = .exact
        var wide = spec; wide.bins = 300
        for (spec, n, width) in [(spec, 120, 1), (exact, 400, 2), (wide, 400, 2)] {
            let (x, y, test) = regressionProblem(n: n, m: 30, seed: 7)
            let straight = try BoostedTreesLearner(spec: spec, trainX: x, trainY: y, seed: 1)
            XCTAssertEqual(straight.bins.codeWidth, width)
            for _ in 0..<15 { _ = straight.step() }
            let blob = straight.exportState()
            let restored = try BoostedTreesLearner(spec: spec, trainX: x, trainY: y, seed: 1)
            for _ in 0..<4 { _ = restored.step() }
            try restored.importState(blob)
            XCTAssertEqual(restored.exportState(), blob)
            XCTAssertEqual(predictions(restored, test).map(\.bitPattern), predictions(straight, test).map(\.bitPattern))
            for _ in 0..<15 {
                let o = straight.step()
                XCTAssertEqual(restored.step().batch, o.batch)
            }
            XCTAssertEqual(restored.exportState(), straight.exportState())
            XCTAssertEqual(predictions(restored, test).map(\.bitPattern), predictions(straight, test).map(\.bitPattern))
        }
    }

    /// Blobs of another kind, version, size, configuration or training set are refused with a
    /// message, and the learner is unchanged.
    func testForeignStateIsRefusedAndChangesNothing() throws {
        let (x, y, _) = regressionProblem(n: 120, m: 0, seed: 8)
        let source = try BoostedTreesLearner(spec: spec, trainX: x, trainY: y, seed: 1)
        for _ in 0..<5 { _ = source.step() }
        let blob = source.exportState()
        let learner = try BoostedTreesLearner(spec: spec, trainX: x, trainY: y, seed: 1)
        for _ in 0..<2 { _ = learner.step() }
        let unchanged = learner.exportState()
        func refusal(_ bytes: [UInt8]) -> String {
            do { try learner.importState(bytes); return "accepted" } catch { return "\(error)" }
        }
        // A blob of layout v1 (before two-byte bins and exact splits) is refused in one line.
        var version = blob; version[8] = 1
        var deeper = spec; deeper.maxDepth = 4
        let other = try BoostedTreesLearner(spec: deeper, trainX: x, trainY: y, seed: 1)
        var exact = spec; exact.split = .exact
        let exactLearner = try BoostedTreesLearner(spec: exact, trainX: x, trainY: y, seed: 1)
        let shifted = x.copied()
        for i in 0..<shifted.rows { shifted[i, 2] += 0.5 }
        let moved = try BoostedTreesLearner(spec: spec, trainX: shifted, trainY: y, seed: 1)
        let cases: [([UInt8], String)] = [
            (Array(blob.dropLast(9)), "truncated"), (blob + [0], "trailing"), (version, "layout version 1, this tlens reads version 2"),
            (Array("TLSBMLPL".utf8) + [1, 0, 0, 0], "not GBTL"), (other.exportState(), "max_depth 4"),
            (exactLearner.exportState(), "split exact"),
            (moved.exportState(), "cut points of feature 2"),
        ]
        for (bytes, expected) in cases {
            let message = refusal(bytes)
            XCTAssertTrue(message.contains(expected) || (expected == "truncated" && message.contains("more than the blob holds")),
                          "\(expected): \(message)")
            XCTAssertFalse(message.contains("\n"))
            XCTAssertEqual(learner.exportState(), unchanged, expected)
        }
        // Node links that lead outside a tree (a corrupt blob) are refused, not followed.
        XCTAssertThrowsError(try RegressionTree(feature: [0, -1, -1], splitBin: [0, 0, 0], threshold: [0, 0, 0], child: [2, 0, 1],
                                                leafValue: [0, 0], leafCount: [1, 1], featureCount: 1))
        XCTAssertThrowsError(try RegressionTree(feature: [3, -1, -1], splitBin: [0, 0, 0], threshold: [0, 0, 0], child: [1, 0, 1],
                                                leafValue: [0, 0], leafCount: [1, 1], featureCount: 1))
        XCTAssertNoThrow(try RegressionTree(feature: [0, -1, -1], splitBin: [0, 0, 0], threshold: [0, 0, 0], child: [1, 0, 1],
                                            leafValue: [0, 0], leafCount: [1, 1], featureCount: 1))
    }

    func testLearnerRefusesSeveralOutputsAndBadHyperparameters() throws {
        let x = Matrix(rows: 10, cols: 2), y = Matrix(rows: 10, cols: 2)
        XCTAssertThrowsError(try BoostedTreesLearner(spec: spec, trainX: x, trainY: y, seed: 0)) {
            XCTAssertTrue("\($0)".contains("one output (C = 1)"), "\($0)")
        }
        var bad = spec
        bad.bins = 70_000
        XCTAssertThrowsError(try BoostedTreesLearner(spec: bad, trainX: x, trainY: Matrix(rows: 10, cols: 1), seed: 0)) {
            XCTAssertEqual("\($0)", "model.bins: 70000 is out of range; it must be between 2 and 65535 (bin indices are at most two bytes)")
        }
    }
}
