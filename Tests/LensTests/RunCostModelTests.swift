import Foundation
import Lens
import Linalg
import Runner
import XCTest

/// The run cost model (Sources/Runner/RunCostModel.swift): its FLOP counts against hand counts
/// and against what `gemm` actually executed (GEMMCounter), its smoother memory against the
/// lens's own validation formula, and its seconds per step against short real trainings.
final class RunCostModelTests: XCTestCase {
    /// The MLP 3 → 4 → 2 used by the hand counts: W = 3·4 + 4·2 = 20 weights, P = 26.
    func tiny(_ configure: (inout RunShape) -> Void = { _ in }) -> RunShape {
        var s = RunShape(trainCount: 10, outputs: 2, inputDimension: 3, hidden: [4], batchSize: 4, steps: 1,
                         evalTrain: 10, evalTest: 3, kernelStatistics: false, referenceSize: 4, every: 1, smoother: .off)
        configure(&s)
        return s
    }

    /// A rate that makes seconds equal FLOPs (one per second) and everything else free.
    let unitRate = GEMMRate(large: 1, skinny: 1, small: 1, secondsPerCall: 0, elementwisePerSecond: .infinity,
                            simdPerSecond: .infinity, copiedPerSecond: .infinity)

    func testTrainingStepFlopsMatchHandCount() {
        let e = RunCostModel.estimate(tiny(), rate: unitRate)
        XCTAssertEqual(tiny().parameterCount, 3 * 4 + 4 + 4 * 2 + 2)
        // Batch 4. Forward: 2·4·(3·4) + 2·4·(4·2). Backward: ∂W₂ = 2·2·4·4, g·W₂ = 2·4·4·2,
        // ∂W₁ = 2·4·3·4 (no g·W₁ below the first layer).
        let forward = 2 * 4 * 12 + 2 * 4 * 8
        let backward = 2 * 2 * 4 * 4 + 2 * 4 * 4 * 2 + 2 * 4 * 3 * 4
        XCTAssertEqual(e.flops(.training), Double(forward + backward))
        XCTAssertEqual(e.seconds(.training), Double(forward + backward))
        // Lens pass without kernels: a fused forward+JVP over the 13 evaluation points:
        // layer 1 X·W₁ᵀ and X·V₁ᵀ, layer 2 [H; Ḣ]·W₂ᵀ (26 rows) and H·V₂ᵀ.
        let jvp = 2 * (2 * 13 * 4 * 3) + 2 * 26 * 2 * 4 + 2 * 13 * 2 * 4
        XCTAssertEqual(e.flops(.evaluation), Double(jvp))
    }

    func testKernelSmootherFlopsAreOneGEMMOverAllLabelDirections() {
        // Exact smoother, plain SGD: U = n + m₂ = 13 points; (|U|·C) × (n·C) × (b·C) = 26 × 20 × 8,
        // plus the shadow column 26 × 1 × 8.
        let e = RunCostModel.estimate(tiny { $0.smoother = .exact }, rate: unitRate)
        XCTAssertEqual(e.flops(.smoother), Double(2 * 26 * 20 * 8 + 2 * 26 * 1 * 8))
        // K(U, B) every step by layer Grams: layer 1 G^h 13×4×3 and G^δ 26×8×4, layer 2 G^h 13×4×4
        // and G^δ 26×8×2; the factors: a forward over U, one stacked backward GEMM 26×4×2.
        let grams = 2 * (13 * 4 * 3 + 26 * 8 * 4 + 13 * 4 * 4 + 26 * 8 * 2)
        let factors = 2 * (13 * 4 * 3 + 13 * 2 * 4) + 2 * 26 * 4 * 2
        XCTAssertEqual(e.flops(.kernels), Double(grams + factors))
        // The step reads f and J·Δθ off those factors: f = H·W₂ᵀ, J·Δθ one GEMM per layer.
        XCTAssertEqual(e.flops(.evaluation), Double(2 * 13 * 2 * 4 + 2 * 13 * 4 * 3 + 2 * 13 * 2 * 4))
    }

    func testProbeEngineFlopsAreOneChunkOfVJPsAndAStackedJVP() {
        // Two probes and the shadow: one chunk of 3 directions. A batch forward (4 rows), three
        // batch VJPs, a JVP over U = 13 with 3 directions: layer 1 X·W₁ᵀ and 3 X·V₁ᵀ; layer 2 one
        // stacked (4·13)-row product and 3 H·V₂ᵀ.
        let e = RunCostModel.estimate(tiny { $0.smoother = .probes; $0.probes = 2 }, rate: unitRate)
        let forward = 2 * 4 * 12 + 2 * 4 * 8
        let vjp = 2 * 2 * 4 * 4 + 2 * 4 * 4 * 2 + 2 * 4 * 3 * 4
        let jvp = 4 * (2 * 13 * 4 * 3) + 2 * 52 * 2 * 4 + 3 * (2 * 13 * 2 * 4)
        XCTAssertEqual(e.flops(.smoother), Double(forward + 3 * vjp + jvp))
    }

    func testRecordedWorkIsAmortizedOverEvery() {
        // T = 100, every 10: states 0, 10, …, 90 and the final one, 11 of 100 steps.
        let s = tiny { $0.steps = 100; $0.every = 10 }
        XCTAssertEqual(s.recordedFraction, 0.11, accuracy: 1e-12)
        let every1 = RunCostModel.estimate(tiny { $0.steps = 100 }, rate: unitRate)
        let every10 = RunCostModel.estimate(s, rate: unitRate)
        XCTAssertEqual(every10.flops(.statistics) / every1.flops(.statistics), 0.11 / 1.01, accuracy: 1e-9)
    }

    /// The smoother's memory is the lens's own validation figure (SmootherEngineChoice.memoryBytes),
    /// give or take the shadow column and batch scratch.
    func testSmootherMemoryAgreesWithTheLensValidation() {
        for (smoother, plain) in [(SmootherMode.exact, true), (.exact, false), (.probes, false)] {
            let n = 1438, c = 10, test = 359, b = 100
            let shape = RunShape(trainCount: n, outputs: c, inputDimension: 64, hidden: [256], batchSize: b, steps: 1000,
                                 evalTrain: n, evalTest: test, smoother: RunShape.Smoother(rawValue: smoother.rawValue)!,
                                 plainSGD: plain, optimizerBuffers: plain ? 0 : 1, sensitivityBuffers: plain ? 0 : 1)
            let engine = SmootherEngineChoice(mode: smoother, plainGradientDescent: plain, trainCount: n, outputs: c, probes: 32)
            let lens = engine.memoryBytes(trainCount: n, testCount: test, outputs: c, parameters: shape.parameterCount, batch: b,
                                          optimizerStateCount: plain ? 0 : shape.parameterCount)
            let ours = RunCostModel.estimate(shape, rate: unitRate).bytes[.smoother]!
            XCTAssertEqual(ours / lens, 1, accuracy: 0.01, "\(smoother) plain \(plain): \(ours) vs \(lens)")
        }
    }

    // MARK: - Against real runs

    final class DiscardingSink: LensSink {
        func scalar(_ key: Int, step: Int, value: Double) {}
        func vector(_ kind: VectorKind, split: Split, step: Int, values: UnsafeBufferPointer<Float>) {}
    }

    struct Measured {
        var estimate: RunCostEstimate
        var secondsPerStep: Double
        var gemmFlops: Double
        var ratio: Double { estimate.secondsPerStep / secondsPerStep }
    }

    /// Trains `yaml` through the lens (discarding what it sees) and measures seconds per step
    /// and the FLOPs `gemm` executed, from TrainingLoop's construction (the lens's setup) to the
    /// end of `run` (including the final recorded state).
    ///
    /// The estimate is priced at rates measured just before and just after the run (their mean),
    /// not at the process's cached calibration: other processes on a shared machine change the
    /// cost of two-thread products from microseconds to milliseconds within seconds, and the
    /// comparison is of the model, not of the machine's mood.
    func measure(_ yaml: String, _ label: String) throws -> Measured {
        let prepared = try PreparedRun(try TrainConfig.load(text: yaml, source: label))
        let shape = RunShape(prepared)
        let before = RunCostModel.calibrate()
        let flopsBefore = GEMMCounter.flops
        let loop = try TrainingLoop(prepared, sink: DiscardingSink())   // the lens's setup: not timed
        var marks: [UInt64] = [DispatchTime.now().uptimeNanoseconds]
        let ending = try loop.run(afterStep: { _ in marks.append(DispatchTime.now().uptimeNanoseconds) })
        let end = DispatchTime.now().uptimeNanoseconds
        let executed = GEMMCounter.flops - flopsBefore
        XCTAssertEqual(ending.status, .completed)
        let after = RunCostModel.calibrate()
        let estimate = RunCostModel.estimate(shape, rate: GEMMRate(mean: before, after))
        let steps = Double(prepared.config.steps)
        // Steps and the final recorded state, which the estimate's recorded share includes.
        let m = Measured(estimate: estimate, secondsPerStep: Double(end - marks[0]) / 1e9 / steps, gemmFlops: executed)
        let each = (1..<marks.count).map { String(format: "%.3f", Double(marks[$0] - marks[$0 - 1]) / 1e9) }
        print(String(format: "%@: estimated %.4f s/step, measured %.4f s/step (ratio %.2f); GEMM %.3g FLOP estimated, %.3g executed",
                     label, m.estimate.secondsPerStep, m.secondsPerStep, m.ratio,
                     estimate.flopsPerStep * steps + estimate.setup.flops, m.gemmFlops))
        print("  \(estimate.line)")
        print("  steps \(each.joined(separator: " ")) s, final state \(String(format: "%.3f", Double(end - marks.last!) / 1e9)) s")
        print("  rates before: \(before)\n  rates after:  \(after)")
        print("  " + RunCostEstimate.Part.allCases.map { String(format: "%@ %.4f", $0.rawValue, estimate.seconds($0)) }.joined(separator: ", "))
        return m
    }

    func assertClose(_ m: Measured, file: StaticString = #filePath, line: UInt = #line) {
        // A factor of 5 either way: another process on a 2-core machine moves absolute times by
        // 3x and more (a compile in the background did); the FLOP count below is exact.
        XCTAssertGreaterThan(m.ratio, 1.0 / 5, "estimate \(m.estimate.secondsPerStep) vs measured \(m.secondsPerStep)", file: file, line: line)
        XCTAssertLessThan(m.ratio, 5, "estimate \(m.estimate.secondsPerStep) vs measured \(m.secondsPerStep)", file: file, line: line)
        // FLOPs are counted, not measured: they agree closely (the final state's forward pass and
        // rounding of the amortization are the only differences).
        let counted = m.estimate.flopsPerStep * Double(m.estimate.shape.steps) + m.estimate.setup.flops
        XCTAssertEqual(counted / m.gemmFlops, 1, accuracy: 0.1, "GEMM FLOPs: model \(counted), executed \(m.gemmFlops)", file: file, line: line)
    }

    func testDigitsThreeVersusFiveExactPlainSGDEstimateWithinFactorThree() throws {
        // The shipped example, shortened: kernel-product smoother, kernel statistics every 5.
        let yaml = """
        steps: 10
        data: {source: digits, classes: [3, 5], target: pm1, n_test: 150}
        model: {hidden: [256]}
        optimizer: {kind: sgd, lr: 0.02, batch_size: 64}
        lens: {every: 5, kernel: true, smoother: exact, reference: 128}
        """
        assertClose(try measure(yaml, "digits-3v5 exact"))
    }

    func testDigitsProbesEstimateWithinFactorThree() throws {
        // Ten classes, one-hot: 32 probes over n·C = 10,000 label directions.
        let yaml = """
        steps: 4
        data: {source: digits, n_train: 1000, n_test: 200}
        model: {hidden: [64]}
        optimizer: {kind: sgd, lr: 0.05, batch_size: 100}
        lens: {every: 2, kernel: true, smoother: probes, reference: 64}
        """
        assertClose(try measure(yaml, "digits probes"))
    }

    func testGaussianMixtureAdamExplicitKernelEstimateWithinFactorThree() throws {
        // A preconditioner: explicit Jacobian rows for the kernel, the probe engine for Ŝ.
        let yaml = """
        steps: 6
        data: {source: gaussian-mixture, n_train: 200, n_test: 100, k: 3, d: 10}
        model: {hidden: [32]}
        optimizer: {kind: adam, lr: 0.01, batch_size: 50}
        lens: {every: 3, kernel: true, smoother: probes, probes: 8, reference: 32}
        """
        assertClose(try measure(yaml, "gaussian-mixture adam"))
    }

    // MARK: - The default smoother

    func testDefaultSmootherIsExactOnlyWhereItIsCheap() {
        let rate = GEMMRate(large: 50e9, skinny: 30e9, small: 10e9, secondsPerCall: 1e-6,
                            elementwisePerSecond: 1e9, simdPerSecond: 4e9, copiedPerSecond: 4e9)
        let budget = 4096.0 * 1_048_576
        // digits, all ten classes: n·C ≈ 14,000 → probes.
        let digits = RunShape(trainCount: 1438, outputs: 10, inputDimension: 64, hidden: [256], batchSize: 100, steps: 1000,
                              evalTrain: 1438, evalTest: 359)
        XCTAssertEqual(SmootherDefault.choose(for: digits, memoryBudgetBytes: budget, rate: rate).smoother, .probes)
        // digits 3 vs 5 with ±1 targets: n·C ≈ 300 → exact.
        let pair = RunShape(trainCount: 215, outputs: 1, inputDimension: 64, hidden: [256], batchSize: 64, steps: 400,
                            evalTrain: 215, evalTest: 150)
        XCTAssertEqual(SmootherDefault.choose(for: pair, memoryBudgetBytes: budget, rate: rate).smoother, .exact)
        // On an infinitely fast machine memory alone decides: digits' exact Ŝ (|U|·C × n·C floats,
        // about 1 GB) is over a quarter of 4 GB → probes; with 16 GB it fits.
        let instant = GEMMRate(large: .infinity, skinny: .infinity, small: .infinity, secondsPerCall: 0,
                               elementwisePerSecond: .infinity, simdPerSecond: .infinity, copiedPerSecond: .infinity)
        XCTAssertEqual(SmootherDefault.choose(for: digits, memoryBudgetBytes: budget, rate: instant).smoother, .probes)
        XCTAssertEqual(SmootherDefault.choose(for: digits, memoryBudgetBytes: 4 * budget, rate: instant).smoother, .exact)
        let line = RunCostModel.estimate(digits, rate: rate).line
        XCTAssertTrue(line.hasPrefix("estimate: ") && line.contains("s/step × 1000 steps ≈") && line.contains("peak memory ≈"), line)
    }

    /// Not an assertion about this machine: prints what the policy picks for the minimal configs
    /// on built-in data, with the estimate, so a reviewer sees the figures of this build.
    func testMinimalConfigsOnBuiltInDataPrintTheirEstimates() throws {
        for source in ["digits", "diabetes"] {
            let config = try TrainConfig.load(text: "{\"data\": {\"source\": \"\(source)\"}}", source: source)
            let prepared = try PreparedRun(config)
            var shape = RunShape(prepared)
            print("\(source) as configured (smoother \(shape.smoother.rawValue)): \(RunCostModel.estimate(shape).line)")
            let choice = SmootherDefault.choose(for: shape, memoryBudgetBytes: config.lens.options.memoryBudgetBytes)
            shape.smoother = choice.smoother
            shape.probes = choice.probes
            print("\(source) default → \(choice.smoother.rawValue) (\(choice.reason)): \(RunCostModel.estimate(shape).line)")
        }
        print("rates: \(RunCostModel.calibrated)")
    }
}

extension GEMMRate {
    /// Rates measured twice, averaged as times (a harmonic mean of rates).
    init(mean a: GEMMRate, _ b: GEMMRate) {
        func h(_ x: Double, _ y: Double) -> Double { 2 / (1 / x + 1 / y) }
        self.init(large: h(a.large, b.large), skinny: h(a.skinny, b.skinny), small: h(a.small, b.small),
                  secondsPerCall: (a.secondsPerCall + b.secondsPerCall) / 2,
                  parallelCallSeconds: (a.parallelCallSeconds + b.parallelCallSeconds) / 2,
                  elementwisePerSecond: h(a.elementwisePerSecond, b.elementwisePerSecond),
                  simdPerSecond: h(a.simdPerSecond, b.simdPerSecond), copiedPerSecond: h(a.copiedPerSecond, b.copiedPerSecond))
    }
}
