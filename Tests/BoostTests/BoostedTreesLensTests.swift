@testable import Boost
import Learning
import Lens
import Linalg
import Runner
import XCTest

/// Keeps what a lens emits in memory, keyed by name.
final class MemorySink: LensSink {
    var names: [String] = []
    var scalars: [String: [(step: Int, value: Double)]] = [:]
    var vectors: [String: [Int: [Float]]] = [:]

    func scalar(_ key: Int, step: Int, value: Double) { scalars[names[key], default: []].append((step, value)) }
    func vector(_ kind: VectorKind, split: Split, step: Int, values: UnsafeBufferPointer<Float>) {
        vectors["\(kind.rawValue)/\(split.rawValue)", default: [:]][step] = Array(values)
    }
    func last(_ key: String) -> Double { scalars[key]?.last?.value ?? .nan }
}

/// A gbt config trained through the runner's loop and lens, in memory.
func trainTrees(_ yaml: String, overrides: [String] = [], rounds: Int? = nil) throws -> (MemorySink, TrainingLoop) {
    let prepared = try PreparedRun(try TrainConfig.load(text: yaml, source: "test", overrides: overrides))
    let sink = MemorySink()
    let loop = try TrainingLoop(prepared, sink: sink)
    sink.names = loop.lens.scalarKeys.names
    if let rounds {
        for _ in 0..<rounds { loop.lens.observe(loop.learner.step()) }
    } else {
        XCTAssertEqual(try loop.run().status, .completed)
    }
    return (sink, loop)
}

/// What lens.md §9 says a boosted-trees run records, through the runner's own loop.
final class BoostedTreesLensTests: XCTestCase {
    let yaml = """
        data: {source: tabular, n_train: 100, n_test: 40, d: 4}
        model: {kind: gbt, rounds: 24, max_depth: 3, learning_rate: 0.3, subsample: 0.8, min_leaf: 2, bins: 32}
        lens: {every: 3, smoother: exact}
        """

    /// tel equals pred bit for bit at every recorded state (boosting telescopes exactly); there is
    /// no linearized model; kwn is recorded with ω ≤ 1 everywhere; the shadow trajectory Ŝy + c
    /// is the learner itself; and p equals a brute-force smoother: the recursion (8.12) run in
    /// double precision on the dense kernels A_t(U, S_t) of a twin learner with the same seed.
    func testTreesRecordExactTelescopingLeafKernelsAndTheSmoother() throws {
        let (sink, loop) = try trainTrees(yaml)
        let steps = try XCTUnwrap(sink.vectors["pred/test"]).keys.sorted()
        XCTAssertEqual(steps, Array(stride(from: 0, through: 24, by: 3)))
        for split in ["train", "test"] {
            for s in steps {
                let pred = try XCTUnwrap(sink.vectors["pred/\(split)"]?[s]), tel = try XCTUnwrap(sink.vectors["tel/\(split)"]?[s])
                XCTAssertEqual(pred.map(\.bitPattern), tel.map(\.bitPattern), "\(split) @\(s)")
            }
            XCTAssertNil(sink.vectors["lin/\(split)"])
            // ω of the round each state feeds; the final state, which no round follows, has none.
            let kwn = try XCTUnwrap(sink.vectors["kwn/\(split)"])
            XCTAssertEqual(kwn.keys.sorted(), Array(stride(from: 0, to: 24, by: 3)))
            XCTAssertTrue(kwn.values.allSatisfy { $0.allSatisfy { $0 > 0 && $0 <= 1 } })
        }
        XCTAssertTrue(sink.scalars["approx_err_tel"]!.allSatisfy { $0.value == 0 })
        XCTAssertNil(sink.scalars["approx_err_lin"])
        XCTAssertNil(sink.scalars["ktrace_train"])
        XCTAssertNil(sink.scalars["gn_sharpness"])
        XCTAssertLessThanOrEqual(sink.last("kwn_max_test"), 1)
        XCTAssertLessThan(sink.last("smoother_err"), 1e-5)
        XCTAssertLessThan(sink.last("test_mse"), sink.scalars["test_mse"]![0].value)

        // Brute force: the twin sees U = all training rows, then the test points.
        let problem = loop.prepared.problem, n = problem.trainX.rows, m = problem.testX.rows
        let twin = try XCTUnwrap(try loop.prepared.makeLearner() as? BoostedTreesLearner)
        let u = Matrix(rows: n + m, cols: problem.trainX.cols)
        u.rows(0..<n).copy(from: problem.trainX)
        u.rows(n..<(n + m)).copy(from: problem.testX)
        twin.watch(u)
        var s = [Double](repeating: 0, count: (n + m) * n)
        for _ in 0..<24 {
            let batch = twin.step().batch
            let k = Matrix(rows: n + m, cols: batch.count)
            twin.stepKernel(into: k)
            var residual = [Double](repeating: 0, count: batch.count * n)
            for (j, i) in batch.enumerated() {
                for c in 0..<n { residual[j * n + c] = s[i * n + c] }
                residual[j * n + i] -= 1
            }
            for x in 0..<(n + m) {
                for (j, _) in batch.enumerated() where k[x, j] != 0 {
                    let a = Double(k[x, j])
                    for c in 0..<n { s[x * n + c] -= a * residual[j * n + c] }
                }
            }
        }
        let pTrain = (0..<(n * n)).reduce(0.0) { $0 + s[$1] * s[$1] }
        let pTest = Double(n) / Double(m) * ((n * n)..<((n + m) * n)).reduce(0.0) { $0 + s[$1] * s[$1] }
        XCTAssertEqual(sink.last("p_train"), pTrain, accuracy: 1e-4 * pTrain)
        XCTAssertEqual(sink.last("p_test"), pTest, accuracy: 1e-4 * pTest)
        XCTAssertGreaterThan(pTrain, 5)
        XCTAssertLessThan(pTrain, Double(n))
    }

    /// Rademacher probes over the same kernel give p within a few standard errors of exact.
    func testProbesEstimateTheExactEffectiveParameters() throws {
        let (exact, _) = try trainTrees(yaml)
        let (probes, _) = try trainTrees(yaml, overrides: ["lens.smoother=probes", "lens.probes=64"])
        for (key, se) in [("p_train", "p_se"), ("p_test", "p_test_se")] {
            let estimate = probes.last(key), error = probes.last(se)
            XCTAssertGreaterThan(error, 0)
            XCTAssertLessThan(error, 0.2 * estimate)
            XCTAssertEqual(estimate, exact.last(key), accuracy: 4 * error, key)
        }
        XCTAssertEqual(probes.vectors["pred/test"]?[24], exact.vectors["pred/test"]?[24])
        XCTAssertLessThan(probes.last("smoother_err"), 1e-5)
    }

    /// Two runs of one config record the same numbers; a lens and learner restored from a
    /// mid-run state continue to the same records, bit for bit.
    func testRunsAreDeterministicAndResumeFromStateBitIdentically() throws {
        let (first, _) = try trainTrees(yaml)
        let (second, _) = try trainTrees(yaml)
        XCTAssertEqual(first.scalars.mapValues { $0.map(\.value.bitPattern) }, second.scalars.mapValues { $0.map(\.value.bitPattern) })
        XCTAssertEqual(first.vectors, second.vectors)

        for overrides in [[], ["lens.smoother=probes", "lens.probes=8"], ["lens.smoother=off", "lens.kernel=false"]] {
            let (straight, _) = try trainTrees(yaml, overrides: overrides)
            let (partial, loop) = try trainTrees(yaml, overrides: overrides, rounds: 10)
            let learnerState = loop.learner.exportState(), lensState = loop.lens.exportState()
            let prepared = try PreparedRun(try TrainConfig.load(text: yaml, source: "test", overrides: overrides))
            let sink = MemorySink()
            let resumed = try TrainingLoop(prepared, sink: sink)
            sink.names = resumed.lens.scalarKeys.names
            try resumed.importState(learner: learnerState, lens: lensState)
            XCTAssertEqual(resumed.lens.exportState(), lensState)
            XCTAssertEqual(try resumed.run().status, .completed)
            // Rows up to state 9 come from the first half, the rest from the resumed loop.
            for (key, series) in straight.scalars {
                let stitched = (partial.scalars[key] ?? []).filter { $0.step <= 9 } + (sink.scalars[key] ?? [])
                XCTAssertEqual(stitched.map(\.step), series.map(\.step), "\(overrides) \(key)")
                XCTAssertEqual(stitched.map(\.value.bitPattern), series.map(\.value.bitPattern), "\(overrides) \(key)")
            }
            XCTAssertEqual(sink.vectors["pred/test"]?[24], straight.vectors["pred/test"]?[24])
        }
    }

    /// After warm-up, rounds of learner and lens — recorded states included — allocate no float
    /// storage, whichever smoother runs (lens.md §0; counted on FloatBuffer).
    func testTheRoundLoopAllocatesNoFloatStorageAfterWarmUp() throws {
        for overrides in [[], ["lens.smoother=probes", "lens.probes=8"], ["lens.smoother=off"]] {
            let (_, loop) = try trainTrees(yaml, overrides: overrides + ["lens.every=1"], rounds: 2)
            let before = FloatBuffer.allocations
            for _ in 0..<12 { loop.lens.observe(loop.learner.step()) }
            XCTAssertEqual(FloatBuffer.allocations - before, 0, "\(overrides): float buffers allocated in 12 rounds")
        }
    }

    /// ±1 classification targets are one output: accuracy is recorded next to the MSE.
    func testTwoClassTargetsTrainWithAccuracy() throws {
        let (sink, _) = try trainTrees("""
            data: {source: digits, classes: [3, 5], target: pm1, n_train: 120, n_test: 60}
            model: {kind: gbt, rounds: 20, max_depth: 2}
            lens: {every: 5}
            """)
        XCTAssertGreaterThan(sink.last("test_acc"), 0.85)
        XCTAssertEqual(sink.last("tel_test_acc"), sink.last("test_acc"))
    }
}
