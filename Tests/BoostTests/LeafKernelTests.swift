@testable import Boost
import Learning
import Linalg
import XCTest

/// A small regression problem: y = sin(2x₀) + x₁x₂ + noise, points in R⁴.
func regressionProblem(n: Int, m: Int, seed: UInt64) -> (x: Matrix, y: Matrix, test: Matrix) {
    var rng = RandomSource(seed: seed, stream: .other)
    let x = Matrix(rows: n, cols: 4), y = Matrix(rows: n, cols: 1), test = Matrix(rows: m, cols: 4)
    for i in 0..<n {
        for f in 0..<4 { x[i, f] = Float(rng.normal()) }
        y[i, 0] = sin(2 * x[i, 0]) + x[i, 1] * x[i, 2] + Float(0.1 * rng.normal())
    }
    for i in 0..<m { for f in 0..<4 { test[i, f] = Float(rng.normal() * 1.5) } }
    return (x, y, test)
}

/// The step kernel of lens.md (9.1)–(9.2) against the trees it comes from.
final class LeafKernelTests: XCTestCase {
    let spec = BoostedTreesSpec(rounds: 8, maxDepth: 3, learningRate: 0.3, lambdaLeaf: 1, minLeaf: 2, subsample: 0.7, bins: 32)

    /// Every round: K^GBT = A_t/γ is non-negative with rows summing to |leaf ∩ S|/(|leaf ∩ S| + λ) ≤ 1;
    /// the kernel form −Σ_i A_t(x, x_i) g_i equals the trees' own increment f_t(x) − f_{t−1}(x)
    /// (up to rounding; the increment is exactly what f moved by); applying the kernel by leaf
    /// sums equals the dense product; and ω(x) equals the norm of the kernel's row over all n.
    func testTheStepKernelIsTheTreesUpdateWithRowsSummingToAtMostOne() throws {
        let (x, y, test) = regressionProblem(n: 150, m: 40, seed: 1)
        let watched = Matrix(rows: 190, cols: 4)
        watched.rows(0..<150).copy(from: x)
        watched.rows(150..<190).copy(from: test)
        let learner = try BoostedTreesLearner(spec: spec, trainX: x, trainY: y, seed: 3)
        learner.watch(watched)
        let before = Matrix(rows: 190, cols: 1), after = Matrix(rows: 190, cols: 1)
        let γ = Float(spec.learningRate)
        for _ in 0..<spec.rounds {
            learner.predict(watched, into: before)
            let o = learner.step()
            let batch = o.batch, b = batch.count
            XCTAssertEqual(b, 105)
            XCTAssertEqual(batch, batch.sorted())
            learner.predict(watched, into: after)
            let kernel = Matrix(rows: 190, cols: b)
            learner.stepKernel(into: kernel)
            let norms = [Float](unsafeUninitializedCapacity: 190) { buffer, count in
                XCTAssertTrue(learner.stepKernelWeightNorms(into: buffer)); count = 190
            }
            let tree = try XCTUnwrap(learner.trees.last)
            for u in 0..<190 {
                var rowSum = 0.0, kernelForm = 0.0, squares = 0.0
                for (j, i) in batch.enumerated() {
                    let a = Double(kernel[u, j])
                    XCTAssertGreaterThanOrEqual(a, 0)
                    rowSum += a / Double(γ)
                    squares += (a / Double(γ)) * (a / Double(γ))
                    kernelForm -= a * Double(before[i, 0] - y[i, 0])
                }
                let count = Double(tree.leafCount[learner.lastWatchedLeaves[u]])
                XCTAssertEqual(rowSum, count / (count + spec.lambdaLeaf), accuracy: 1e-6)
                XCTAssertLessThanOrEqual(rowSum, 1)
                let increment = learner.lastIncrement[u, 0]
                XCTAssertEqual(kernelForm, Double(increment), accuracy: 1e-6 * max(1, abs(kernelForm)), "round \(o.step), point \(u)")
                // f_t is f_{t−1} plus exactly the reported increment.
                XCTAssertEqual(after[u, 0].bitPattern, (before[u, 0] + increment).bitPattern)
                XCTAssertEqual(Double(norms[u]), squares.squareRoot(), accuracy: 1e-6)
                XCTAssertLessThanOrEqual(norms[u], 1)
            }
            // Leaf sums against the dense product, on three residual columns.
            let r = Matrix(rows: b, cols: 3)
            var rng = RandomSource(seed: UInt64(o.step), stream: .other)
            for i in 0..<r.count { r.base[i] = Float(rng.normal()) }
            let viaLeaves = Matrix(rows: 190, cols: 3), dense = Matrix(rows: 190, cols: 3)
            viaLeaves.fill(1); dense.fill(1)
            learner.applyStepKernel(r, into: viaLeaves, alpha: -1)
            gemm(kernel, r, into: dense, alpha: -1, beta: 1)
            for i in 0..<dense.count { XCTAssertEqual(viaLeaves.base[i], dense.base[i], accuracy: 1e-5) }
        }
    }

    /// With λ = 0 and no subsampling a leaf's row sums to exactly 1 and the tree is a plain
    /// average of the residuals in each leaf.
    func testWithoutRegularizationEveryRowSumsToOne() throws {
        let (x, y, _) = regressionProblem(n: 80, m: 0, seed: 2)
        var plain = spec
        plain.lambdaLeaf = 0; plain.subsample = 1
        let learner = try BoostedTreesLearner(spec: plain, trainX: x, trainY: y, seed: 0)
        learner.watch(x)
        _ = learner.step()
        let kernel = Matrix(rows: 80, cols: 80)
        learner.stepKernel(into: kernel)
        for u in 0..<80 {
            var sum = 0.0
            for j in 0..<80 { sum += Double(kernel[u, j]) }
            XCTAssertEqual(sum, plain.learningRate, accuracy: 1e-6)
        }
    }
}
