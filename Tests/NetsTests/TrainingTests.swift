import XCTest
import Foundation
import Linalg
import Data
import Learning
@testable import Nets

final class TrainingTests: XCTestCase {
    /// Two interleaved noisy half-moons in 2-D lifted to 8-D by a fixed random rotation: separable
    /// only non-linearly, so a linear model stays well below what an MLP reaches.
    func moons(_ n: Int, seed: UInt64) -> (x: Matrix, y: Matrix) {
        var rng = RandomSource(seed: seed, stream: .generator)
        var mix = RandomSource(seed: 99, stream: .generator)
        let lift = (0..<16).map { _ in Float(mix.normal()) }
        let x = Matrix(rows: n, cols: 8), y = Matrix(rows: n, cols: 1)
        for i in 0..<n {
            let label = i % 2
            let a = Double.pi * rng.uniform()
            var p = label == 0 ? (cos(a), sin(a)) : (1 - cos(a), 0.5 - sin(a))
            p.0 += 0.1 * rng.normal(); p.1 += 0.1 * rng.normal()
            for k in 0..<8 { x[i, k] = lift[2 * k] * Float(p.0) + lift[2 * k + 1] * Float(p.1) }
            y[i, 0] = label == 0 ? -1 : 1
        }
        return (x, y)
    }

    func makeLearner(_ x: Matrix, _ y: Matrix, seed: UInt64, initialParameters: [Float]? = nil) throws -> MLPLearner {
        try MLPLearner(model: MLP(MLPSpec(inputDimension: 8, hidden: [64], outputDimension: 1, activation: .relu)),
                       loss: .mse, optimizer: OptimizerSpec(kind: .sgd, lr: 0.05, momentum: 0.9),
                       trainX: x, trainY: y, batchSize: 32, seed: seed, initialParameters: initialParameters)
    }

    func testSameSeedTrainsBitIdenticallyAndAnotherSeedDiffers() throws {
        let (x, y) = moons(256, seed: 1)
        let a = try train(makeLearner(x, y, seed: 5), steps: 50)
        let b = try train(makeLearner(x, y, seed: 5), steps: 50)
        let c = try train(makeLearner(x, y, seed: 6), steps: 50)
        XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern))
        XCTAssertNotEqual(a, c)
        // Same θ_0, different data order only: still differs.
        let θ0 = try makeLearner(x, y, seed: 5).mlp.initialParameters(seed: 5)
        let d = try train(makeLearner(x, y, seed: 7, initialParameters: θ0), steps: 50)
        XCTAssertNotEqual(a, d)
    }

    func train(_ learner: MLPLearner, steps: Int) -> [Float] {
        for _ in 0..<steps { _ = learner.step() }
        return learner.parameterArray
    }

    func predict(_ learner: MLPLearner, _ x: Matrix) -> Matrix {
        let out = Matrix(rows: x.rows, cols: learner.outputDimension)
        learner.predict(x, into: out)
        return out
    }

    func testStateRoundTripContinuesBitIdentically() throws {
        // export → import → export gives the same bytes, and a learner restored at step 20
        // continues exactly as one that never stopped (lens.md §11).
        let (x, y) = moons(256, seed: 1)
        let straight = try makeLearner(x, y, seed: 5)
        for _ in 0..<20 { _ = straight.step() }
        let blob = straight.exportState()
        let restored = try makeLearner(x, y, seed: 5)
        try restored.importState(blob)
        XCTAssertEqual(restored.exportState(), blob)
        XCTAssertEqual(train(restored, steps: 30).map(\.bitPattern), train(straight, steps: 30).map(\.bitPattern))
        // Adam's buffers too.
        let adam = try MLPLearner(model: MLP(MLPSpec(inputDimension: 8, hidden: [16], outputDimension: 1)), loss: .mse,
                                  optimizer: OptimizerSpec(kind: .adamw, lr: 0.01, weightDecay: 0.01), trainX: x, trainY: y,
                                  batchSize: 24, seed: 2)
        for _ in 0..<15 { _ = adam.step() }
        let adamBlob = adam.exportState()
        let adam2 = try MLPLearner(model: MLP(MLPSpec(inputDimension: 8, hidden: [16], outputDimension: 1)), loss: .mse,
                                   optimizer: OptimizerSpec(kind: .adamw, lr: 0.01, weightDecay: 0.01), trainX: x, trainY: y,
                                   batchSize: 24, seed: 2)
        try adam2.importState(adamBlob)
        XCTAssertEqual(train(adam2, steps: 25).map(\.bitPattern), train(adam, steps: 25).map(\.bitPattern))
    }

    func testWrongStateBlobsAreRefusedWithAClearError() throws {
        let (x, y) = moons(64, seed: 1)
        let learner = try makeLearner(x, y, seed: 5)
        let blob = learner.exportState()
        func message(_ bytes: [UInt8]) -> String {
            do { try learner.importState(bytes); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertTrue(message(Array(blob.prefix(blob.count - 3))).contains("truncated"), message(Array(blob.prefix(blob.count - 3))))
        var version = blob; version[8] = 9
        XCTAssertTrue(message(version).contains("layout version 9"), message(version))
        var kind = blob; kind[4] = UInt8(ascii: "X")
        XCTAssertTrue(message(kind).contains("not MLPL"), message(kind))
        XCTAssertTrue(message(blob + [0]).contains("trailing"), message(blob + [0]))
        XCTAssertTrue(message([1, 2, 3]).contains("not a tlens state blob"))
        // A blob from a model of another size.
        let other = try MLPLearner(model: MLP(MLPSpec(inputDimension: 8, hidden: [65], outputDimension: 1)), loss: .mse,
                                   optimizer: OptimizerSpec(lr: 0.05), trainX: x, trainY: y, batchSize: 32, seed: 5)
        XCTAssertTrue(message(other.exportState()).contains("θ holds"), message(other.exportState()))
        // Nothing half-imported: the learner still continues from where it was.
        XCTAssertEqual(learner.stepsTaken, 0)
        XCTAssertEqual(learner.exportState(), blob)
    }

    func testSmallMLPLearnsSyntheticMoons() throws {
        let train = moons(512, seed: 1), test = moons(512, seed: 2)
        let learner = try makeLearner(train.x, train.y, seed: 0)
        var losses: [Double] = []
        for _ in 0..<600 { losses.append(learner.step().batchLoss) }
        let accuracy = Metrics.accuracy(outputs: predict(learner, test.x), targets: test.y)
        XCTAssertGreaterThanOrEqual(accuracy, 0.95, "test accuracy \(accuracy)")
        XCTAssertLessThan(losses.suffix(50).reduce(0, +) / 50, losses.prefix(10).reduce(0, +) / 10)
    }

    func testCrossEntropyTrainingLearnsThreeClasses() throws {
        // Three Gaussian blobs; class-index targets.
        var rng = RandomSource(seed: 3, stream: .generator)
        let centers: [[Double]] = [[2, 0], [-1, 1.7], [-1, -1.7]]
        func sample(_ n: Int) -> (Matrix, Matrix) {
            let x = Matrix(rows: n, cols: 2), y = Matrix(rows: n, cols: 1)
            for i in 0..<n {
                let k = i % 3
                x[i, 0] = Float(centers[k][0] + 0.5 * rng.normal()); x[i, 1] = Float(centers[k][1] + 0.5 * rng.normal())
                y[i, 0] = Float(k)
            }
            return (x, y)
        }
        let (x, y) = sample(300), (xt, yt) = sample(300)
        let learner = try MLPLearner(model: MLP(MLPSpec(inputDimension: 2, hidden: [32], outputDimension: 3, activation: .tanh)),
                                     loss: .crossEntropy, optimizer: OptimizerSpec(kind: .adam, lr: 0.01),
                                     trainX: x, trainY: y, batchSize: 30, seed: 0)
        _ = train(learner, steps: 300)
        XCTAssertGreaterThanOrEqual(Metrics.accuracy(outputs: predict(learner, xt), targets: yt), 0.95)
    }

    func testDigits3vs5ReachesNinetyFivePercent() throws {
        // The built-in UCI digits, classes 3 and 5 relabelled ±1, a seeded 80/20 split.
        let split = try DataFactory.load(DataSpec(source: "digits", options: ["classes": [3, 5], "target": "pm1"]), seed: 0)
        func matrices(_ d: Dataset) -> (Matrix, Matrix) {
            (Matrix(rows: d.count, cols: d.dimension, values: d.features), Matrix(rows: d.count, cols: 1, values: d.targets))
        }
        let (x, y) = matrices(split.train), (xt, yt) = matrices(split.test)
        let learner = try MLPLearner(model: MLP(MLPSpec(inputDimension: 64, hidden: [64], outputDimension: 1)),
                                     loss: .mse, optimizer: OptimizerSpec(kind: .sgd, lr: 0.02), trainX: x, trainY: y,
                                     batchSize: 32, seed: 0)
        let start = Date()
        _ = train(learner, steps: 300)
        let accuracy = Metrics.accuracy(outputs: predict(learner, xt), targets: yt)
        XCTAssertGreaterThanOrEqual(accuracy, 0.95, "test accuracy \(accuracy) on \(split.test.count) digits")
        XCTAssertLessThan(Date().timeIntervalSince(start), 30, "a few seconds, even in a debug build")
    }
}


final class LossAndMetricTests: XCTestCase {
    func testMetricsAgainstHandComputedValues() {
        let f = Matrix(rows: 3, cols: 1, values: [0.5, -2, 0.1]), y = Matrix(rows: 3, cols: 1, values: [1, -1, -1])
        XCTAssertEqual(Metrics.mse(outputs: f, targets: y), (0.25 + 1 + 1.21) / 3, accuracy: 1e-6)
        XCTAssertEqual(Metrics.accuracy(outputs: f, targets: y), 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(Loss.mse.loss(outputs: f, targets: y), 0.5 * (0.25 + 1 + 1.21) / 3, accuracy: 1e-6)
        let logits = Matrix(rows: 2, cols: 3, values: [1000, 0, -1000, 1, 2, 3])
        let labels = Matrix(rows: 2, cols: 1, values: [0, 1])
        XCTAssertEqual(Metrics.accuracy(outputs: logits, targets: labels), 0.5)
        XCTAssertEqual(Metrics.accuracy(outputs: logits, labels: [0, 2]), 1)
        // Stable for huge logits: row 1 contributes ~0, row 2 contributes log(e+e²+e³) − 2.
        let expected = (0 + (log(exp(1.0) + exp(2.0) + exp(3.0)) - 2)) / 2
        XCTAssertEqual(Loss.crossEntropy.loss(outputs: logits, targets: labels), expected, accuracy: 1e-5)
        let oneHot = Matrix(rows: 2, cols: 3, values: [1, 0, 0, 0, 1, 0])
        XCTAssertEqual(Loss.crossEntropy.loss(outputs: logits, targets: oneHot), expected, accuracy: 1e-5)
        XCTAssertThrowsError(try Loss.crossEntropy.check(outputDimension: 1))
        XCTAssertEqual(Loss.named("cross_entropy"), .crossEntropy)
    }
}
