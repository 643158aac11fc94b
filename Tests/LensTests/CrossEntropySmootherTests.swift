import Learning
@testable import Lens
import Linalg
import Nets
import XCTest

/// The smoother under cross-entropy (lens.md (8.13)–(8.14), tlens's extension). For a linear model
/// trained by full-batch gradient descent the kernel is constant and the softmax is the only
/// non-linearity, so the telescoped model is the network itself and the exact smoother is the
/// true derivative of the trained predictions with respect to the labels.
final class CrossEntropySmootherTests: XCTestCase {
    let n = 24, d = 3, c = 3, steps = 60
    let γ = 0.5

    func data() -> (x: Matrix, y: Matrix, xt: Matrix, yt: Matrix) {
        var rng = RandomSource(seed: 5, stream: .generator)
        func sample(_ m: Int) -> (Matrix, Matrix) {
            let x = Matrix(rows: m, cols: d), y = Matrix(rows: m, cols: c)
            for i in 0..<m {
                let k = i % c
                for j in 0..<d { x[i, j] = Float(rng.normal()) + (j == k ? 1.5 : 0) }
                y[i, k] = 1
            }
            return (x, y)
        }
        let (x, y) = sample(n), (xt, yt) = sample(9)
        return (x, y, xt, yt)
    }

    func learner(_ x: Matrix, _ y: Matrix, clipNorm: Float? = nil) throws -> MLPLearner {
        try MLPLearner(model: MLP(MLPSpec(inputDimension: d, hidden: [], outputDimension: c)), loss: .crossEntropy,
                       optimizer: OptimizerSpec(kind: .sgd, lr: γ, clipNorm: clipNorm), trainX: x, trainY: y,
                       batchSize: n, seed: 2)
    }

    /// Trains with the lens watching; returns the lens's final p values and its smoother.
    func watched(smoother mode: SmootherMode, probes: Int = 0, clipNorm: Float? = nil) throws -> (MemorySink, SmootherEngine) {
        let (x, y, xt, yt) = data()
        let l = try learner(x, y, clipNorm: clipNorm)
        var options = LensOptions()
        options.kernel = false
        options.sharpness = false
        options.smoother = mode
        options.probes = probes
        options.every = steps
        options.totalSteps = steps
        let problem = LensProblem(trainX: x, trainY: y, testX: xt, testY: yt, evalTrain: Array(0..<n), reference: [], classification: true)
        let sink = MemorySink()
        let lens = try TelescopingLens(learner: l, problem: problem, options: options, sink: sink)
        sink.names = lens.scalarKeys.names
        for _ in 0..<steps { lens.observe(l.step()) }
        lens.finish()
        return (sink, try XCTUnwrap(lens.instrument.smoother))
    }

    func testTheExactSmootherIsTheLabelDerivativeOfTheTrainedModel() throws {
        let (sink, engine) = try watched(smoother: .exact)
        let exact = try XCTUnwrap(engine as? KernelSmoother)
        let (x, y, _, _) = data()
        // ∂f_T(x_i)/∂Y_j by central differences, retraining on Y ± ε e_j.
        let ε: Float = 1e-2
        var worst = 0.0, scale = 0.0
        for j in [0, 4, 17, 38, 53, 71] {
            var outputs: [Matrix] = []
            for sign: Float in [1, -1] {
                let perturbed = y.copied()
                perturbed[j / c, j % c] += sign * ε
                let l = try learner(x, perturbed)
                for _ in 0..<steps { _ = l.step() }
                let f = Matrix(rows: n, cols: c)
                l.predict(x, into: f)
                outputs.append(f)
            }
            for i in 0..<n {
                let rows = exact.smootherRows(i)
                for o in 0..<c {
                    let derivative = Double(outputs[0][i, o] - outputs[1][i, o]) / Double(2 * ε)
                    worst = max(worst, abs(derivative - Double(rows[o, j])))
                    scale = max(scale, abs(derivative))
                }
            }
        }
        XCTAssertGreaterThan(scale, 0.05, "the labels move the predictions")
        XCTAssertLessThan(worst, 3e-3 * max(scale, 1), "worst |Ŝ − ∂f/∂Y| \(worst) against |∂f/∂Y| up to \(scale)")
        // The shadow is the network itself. p_train grows past n·C here, as the logits of
        // separable classes saturate: no ceiling under cross-entropy, and no flag for it.
        XCTAssertGreaterThan(sink.last("p_train"), 1)
        XCTAssertLessThan(sink.last("smoother_err"), 1e-4)
        XCTAssertEqual(sink.last("smoother_stable"), 1)
    }

    /// The label-sensitivity engine with all n·C unit directions gives the same Ŝ (its path for
    /// optimizers that are not plain gradient descent; a clip norm that never clips keeps the
    /// dynamics identical), and Rademacher probes estimate p within their standard error.
    func testTheEngineAndProbesAgreeWithTheExactSmoother() throws {
        let (exact, _) = try watched(smoother: .exact)
        let (unit, engine) = try watched(smoother: .exact, clipNorm: 1e9)
        XCTAssertTrue(engine is LabelSensitivityEngine)
        for key in ["p_train", "p_test"] {
            XCTAssertEqual(unit.last(key), exact.last(key), accuracy: 1e-3 * exact.last(key), key)
        }
        let (probed, _) = try watched(smoother: .probes, probes: 200)
        for (key, se) in [("p_train", "p_se"), ("p_test", "p_test_se")] {
            let error = abs(probed.last(key) - exact.last(key))
            XCTAssertGreaterThan(probed.last(se), 0)
            XCTAssertLessThan(error, 4 * probed.last(se), "\(key): probes \(probed.last(key)) ± \(probed.last(se)), exact \(exact.last(key))")
        }
    }
}
