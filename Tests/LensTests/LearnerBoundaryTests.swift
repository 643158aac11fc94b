import Learning
import Lens
import Linalg
import Runner
import XCTest

/// A boosted-stump learner with no parameters: each round splits on a random feature at a random
/// training value, fits leaf values `−γ Σ r / (count + λ)` to the residuals of a random half of
/// the training set, and reports its exact step kernel (lens.md (9.1)). Its random choices do not
/// depend on the labels, so its predictions are exactly linear in y — the smoother is checkable
/// against brute force.
final class StumpBooster: KernelLearner {
    struct Stump { var feature: Int; var threshold: Float; var left: Float; var right: Float }
    let x: Matrix, y: Matrix
    let γ: Float = 0.3, λ: Float = 1
    var rng: RandomSource
    var stumps: [Stump] = []
    /// f_t over the training points.
    let fitted: Matrix
    var watched = Matrix(rows: 0, cols: 0)
    var increment = Matrix(rows: 0, cols: 0)
    var lastSubsample: [Int] = []
    var leafOfSubsample: [Bool] = []
    var counts = (left: 0, right: 0)
    let observation = StepObservation()

    init(x: Matrix, y: Matrix, seed: UInt64) {
        self.x = x; self.y = y
        rng = RandomSource(seed: seed, stream: .other)
        fitted = Matrix(rows: x.rows, cols: 1)
    }

    var outputDimension: Int { 1 }
    var stepsTaken: Int { stumps.count }

    func value(_ point: UnsafePointer<Float>, _ s: Stump) -> Float { point[s.feature] <= s.threshold ? s.left : s.right }

    func predict(_ points: Matrix, into out: Matrix) {
        for i in 0..<points.rows {
            var f: Float = 0
            for s in stumps { f += value(points.row(i), s) }
            out[i, 0] = f
        }
    }

    func watch(_ points: Matrix) {
        watched = points.copied()
        increment = Matrix(rows: points.rows, cols: 1)
    }

    var lastIncrement: Matrix { increment }

    func step() -> StepObservation {
        let n = x.rows
        let feature = rng.integer(below: x.cols), threshold = x[rng.integer(below: n), feature]
        lastSubsample = Array(rng.permutation(n).prefix(n / 2)).sorted()
        var sums: (Float, Float) = (0, 0), loss = 0.0
        counts = (0, 0)
        leafOfSubsample = lastSubsample.map { x[$0, feature] <= threshold }
        for (k, i) in lastSubsample.enumerated() {
            let r = fitted[i, 0] - y[i, 0]
            loss += Double(r * r) / 2
            if leafOfSubsample[k] { sums.0 += r; counts.left += 1 } else { sums.1 += r; counts.right += 1 }
        }
        let stump = Stump(feature: feature, threshold: threshold,
                          left: -γ * sums.0 / (Float(counts.left) + λ), right: -γ * sums.1 / (Float(counts.right) + λ))
        stumps.append(stump)
        for i in 0..<n { fitted[i, 0] += value(x.row(i), stump) }
        for u in 0..<watched.rows { increment[u, 0] = value(watched.row(u), stump) }
        observation.step = stumps.count
        observation.batch = lastSubsample
        observation.batchLoss = loss / Double(lastSubsample.count)
        observation.learningRate = Double(γ)
        return observation
    }

    /// A_t(u, j) = γ·1{leaf(u) = leaf(x_j)} / (|leaf ∩ S_t| + λ).
    func stepKernel(into out: Matrix) {
        let s = stumps[stumps.count - 1]
        for u in 0..<watched.rows {
            let left = watched[u, s.feature] <= s.threshold
            let weight = γ / (Float(left ? counts.left : counts.right) + λ)
            for (k, sameSide) in leafOfSubsample.enumerated() { out[u, k] = sameSide == left ? weight : 0 }
        }
    }

    func exportState() -> [UInt8] { [] }
    func importState(_ blob: [UInt8]) throws {}
}

final class LearnerBoundaryTests: XCTestCase {
    func problem(n: Int, m: Int) -> LensProblem {
        var rng = RandomSource(seed: 4, stream: .generator)
        func sample(_ count: Int) -> (Matrix, Matrix) {
            let x = Matrix(rows: count, cols: 3), y = Matrix(rows: count, cols: 1)
            for i in 0..<count {
                for j in 0..<3 { x[i, j] = Float(rng.normal()) }
                y[i, 0] = sin(2 * x[i, 0]) + 0.5 * x[i, 1] + Float(0.1 * rng.normal())
            }
            return (x, y)
        }
        let (x, y) = sample(n), (xt, yt) = sample(m)
        return LensProblem(trainX: x, trainY: y, testX: xt, testY: yt, evalTrain: Array(0..<n), reference: [], classification: false)
    }

    /// The lens core records a parameter-free learner through its own exact kernel: `tel` equals
    /// `pred` bit for bit (boosting telescopes without linearization), no linearized model is
    /// claimed, and p_train / p_test equal those of the smoother obtained by brute force —
    /// retraining on each unit label vector e_j gives column j of S (f_T = S y exactly here).
    func testBoostedStumpsRunThroughTheLensCoreWithTheirOwnKernel() throws {
        let n = 30, m = 12, rounds = 25
        let p = problem(n: n, m: m)
        var options = LensOptions()
        options.kernel = false
        options.smoother = .exact
        options.totalSteps = rounds
        let sink = MemorySink()
        let booster = StumpBooster(x: p.trainX, y: p.trainY, seed: 9)
        let lens = try TelescopingLens(learner: booster, problem: p, options: options, sink: sink)
        sink.names = lens.scalarKeys.names
        for _ in 0..<rounds { lens.observe(booster.step()) }
        lens.finish()

        for split in ["train", "test"] {
            let pred = try XCTUnwrap(sink.vectors["pred/\(split)"]?[rounds]), tel = try XCTUnwrap(sink.vectors["tel/\(split)"]?[rounds])
            XCTAssertEqual(pred.map(\.bitPattern), tel.map(\.bitPattern), split)
            XCTAssertNil(sink.vectors["lin/\(split)"])
        }
        XCTAssertEqual(sink.last("approx_err_tel"), 0)
        XCTAssertNil(sink.scalars["approx_err_lin"])

        // Brute force: S[x, j] = f_T(x) trained on e_j.
        var pTrain = 0.0, pTest = 0.0
        for j in 0..<n {
            let unit = Matrix(rows: n, cols: 1)
            unit[j, 0] = 1
            let twin = StumpBooster(x: p.trainX, y: unit, seed: 9)
            for _ in 0..<rounds { _ = twin.step() }
            let train = Matrix(rows: n, cols: 1), test = Matrix(rows: m, cols: 1)
            twin.predict(p.trainX, into: train)
            twin.predict(p.testX, into: test)
            for i in 0..<n { pTrain += Double(train[i, 0] * train[i, 0]) }
            for i in 0..<m { pTest += Double(test[i, 0] * test[i, 0]) }
        }
        pTest *= Double(n) / Double(m)     // lens.md (8.4): (n / (|I|·C)) Σ ‖Ŝ(x)‖²
        XCTAssertEqual(sink.last("p_train"), pTrain, accuracy: 1e-4 * pTrain)
        XCTAssertEqual(sink.last("p_test"), pTest, accuracy: 1e-4 * pTest)
        XCTAssertGreaterThan(pTrain, 1)
        // The shadow trajectory Ŝ y + c is the learner itself (f_0 = 0, so c = 0).
        XCTAssertLessThan(sink.last("smoother_err"), 1e-5)
    }

    /// A lens restored from its own exported state exports the same bytes; blobs of another
    /// kind, version, size or run shape are refused with a message, for every smoother engine.
    func testLensStateRoundTripsAndRefusesForeignBlobs() throws {
        let yaml = """
            data: {source: digits, classes: [3, 5], target: pm1, n_train: 60}
            model: {hidden: [8]}
            optimizer: {kind: sgd, lr: 0.02, batch_size: 10}
            steps: 30
            lens: {every: 3, reference: 16, eval_test: 20}
            """
        for overrides in [[], ["optimizer.momentum=0.9"], ["optimizer.kind=adamw", "lens.smoother=probes", "lens.probes=4"]] {
            let prepared = try PreparedRun(try TrainConfig.load(text: yaml, source: "test", overrides: overrides))
            let sink = MemorySink()
            let loop = try TrainingLoop(prepared, sink: sink)
            sink.names = loop.lens.scalarKeys.names
            for _ in 0..<10 { loop.lens.observe(loop.learner.step()) }
            let lensBlob = loop.lens.exportState(), learnerBlob = loop.learner.exportState()
            let twin = try TrainingLoop(prepared, sink: MemorySink())
            try twin.importState(learner: learnerBlob, lens: lensBlob)
            XCTAssertEqual(twin.lens.exportState(), lensBlob, "\(overrides)")
            XCTAssertEqual(twin.learner.exportState(), learnerBlob, "\(overrides)")

            func refusal(_ blob: [UInt8]) -> String {
                do { try twin.lens.importState(blob); return "accepted" } catch { return "\(error)" }
            }
            let cut = refusal(Array(lensBlob.dropLast(5)))
            XCTAssertTrue(cut.contains("truncated") || cut.contains("more than the blob holds"), cut)
            var version = lensBlob; version[8] = 2
            XCTAssertTrue(refusal(version).contains("layout version 2"), refusal(version))
            XCTAssertTrue(refusal(learnerBlob).contains("not LENS"), refusal(learnerBlob))
            XCTAssertTrue(refusal(lensBlob + [1, 2]).contains("trailing"), refusal(lensBlob + [1, 2]))
            // A blob from a run with other evaluation points does not fit.
            let other = try PreparedRun(try TrainConfig.load(text: yaml, source: "test", overrides: overrides + ["lens.eval_test=10"]))
            let otherLoop = try TrainingLoop(other, sink: MemorySink())
            XCTAssertTrue(refusal(otherLoop.lens.exportState()).contains("expected"), refusal(otherLoop.lens.exportState()))
            // A refused import leaves the lens as it was, even when most of the blob would fit: a
            // later state of the same run with a stray trailing byte changes nothing.
            for _ in 0..<5 { loop.lens.observe(loop.learner.step()) }
            XCTAssertTrue(refusal(loop.lens.exportState() + [7]).contains("trailing"))
            XCTAssertEqual(twin.lens.exportState(), lensBlob)
        }
    }
}

final class StepAllocationTests: XCTestCase {
    /// lens.md §0: after warm-up a step of learner and lens — recorded steps included — allocates
    /// no float storage: kernel blocks, Gram temporaries, gathers and smoother residuals all
    /// reuse workspaces. Counted on FloatBuffer, through which every Matrix gets its storage.
    func testTheStepLoopAllocatesNothingAfterWarmUp() throws {
        let yaml = """
            data: {source: digits, classes: [3, 5], target: pm1, n_train: 80}
            model: {hidden: [12, 8]}
            optimizer: {kind: sgd, lr: 0.02, batch_size: 10}
            steps: 40
            lens: {every: 1, reference: 16, eval_train: 30, eval_test: 20, grad_ref_step: 2}
            """
        let cases: [[String]] = [
            [],                                                                   // layer Gram, exact kernel smoother
            ["optimizer.momentum=0.9"],                                           // exact label-sensitivity engine
            ["optimizer.kind=adamw", "lens.smoother=probes", "lens.probes=4"],    // explicit K^P, probes
            ["optimizer.kind=adam", "lens.kernel_path=vjp_jvp", "lens.smoother=probes", "lens.probes=4"],
        ]
        for overrides in cases {
            let prepared = try PreparedRun(try TrainConfig.load(text: yaml, source: "test", overrides: overrides))
            let sink = MemorySink()
            let loop = try TrainingLoop(prepared, sink: sink)
            sink.names = loop.lens.scalarKeys.names
            for _ in 0..<4 { loop.lens.observe(loop.learner.step()) }
            let before = FloatBuffer.allocations
            for _ in 0..<10 { loop.lens.observe(loop.learner.step()) }
            XCTAssertEqual(FloatBuffer.allocations - before, 0, "\(overrides): float buffers allocated in 10 steps")
        }
    }
}
