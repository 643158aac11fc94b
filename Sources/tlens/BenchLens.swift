import ArgumentParser
import Query
import Foundation
import Lens

struct BenchLens: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lens",
        abstract: "Time the telescoping lens on the MLP [64, 512, 512, 1] against baselines from the same run.",
        discussion: """
        Three measurements, each the best of --repetitions after a warm-up:

        Kernel: the tangent kernel between 1,000 and 128 points by layer Gram matrices, against \
        explicit Jacobian rows measured in the same run (goal: Gram ≤ 10 ms and ≥ 50x faster).

        Lens: one full lens step (1,000 train + 1,000 test evaluation points, kernel statistics \
        on a 256-point reference, exact smoother with n = 1,000, C = 1) against a plain forward \
        pass over the same 2,000 points (goal: ≤ 8x).

        Probes: the lens step with 32 Rademacher probes and C = 10 (telescoped and linearized \
        models and the probe smoother; kernel statistics off), against that network's forward \
        pass.

        Build with `swift build -c release` first.
        """)

    @Option(name: .long, help: "table, json (one object) or csv (the same figures, one row).")
    var format: BenchFormat = .table

    @Option(name: .long, help: "Timed repetitions per measurement.")
    var repetitions = 10

    func run() throws {
        let r = try LensBenchmark.run(repetitions: max(repetitions, 1))
        switch format {
        case .json, .csv:
            format.emit(json: """
            {"kernel_gram_ms": \(r.gramMilliseconds), "kernel_explicit_ms": \(r.explicitMilliseconds), \
            "kernel_gram_speedup": \(r.gramSpeedup), "kernel_max_relative_difference": \(r.kernelAgreement), \
            "forward_2000_ms": \(r.forwardMilliseconds), "lens_step_ms": \(r.lensStepMilliseconds), \
            "lens_step_over_forward": \(r.lensStepRatio), "probe_forward_2000_ms": \(r.probeForwardMilliseconds), \
            "probe_step_ms": \(r.probeStepMilliseconds), "probe_step_over_forward": \(r.probeStepRatio), \
            "sharpness_share_exact": \(r.sharpnessShare), "sharpness_share_probes": \(r.probeSharpnessShare), \
            "adam_step_ms": \(r.adamStepMilliseconds), "sharpness_share_adam": \(r.adamSharpnessShare)}
            """)
        case .table:
            let f = { (x: Double) in String(format: "%.2f", x) }
            print("kernel 1000×128, layer Gram      \(f(r.gramMilliseconds)) ms   (goal ≤ 10 ms)")
            print("kernel 1000×128, explicit J Jᵀ   \(f(r.explicitMilliseconds)) ms   Gram is \(f(r.gramSpeedup))x faster (goal ≥ 50x); max rel. difference \(String(format: "%.1e", r.kernelAgreement))")
            print("forward over 2000 points         \(f(r.forwardMilliseconds)) ms")
            print("full lens step (exact, C=1)      \(f(r.lensStepMilliseconds)) ms = \(f(r.lensStepRatio))x forward (goal ≤ 8x)")
            print("forward over 2000 points, C=10                   \(f(r.probeForwardMilliseconds)) ms")
            print("lens step, 32 probes, C=10, no kernel statistics \(f(r.probeStepMilliseconds)) ms = \(f(r.probeStepRatio))x forward")
            let pct = { (x: Double) in String(format: "%.1f%%", 100 * x) }
            print("sharpness estimate, share of the step: exact \(pct(r.sharpnessShare)) (K_BB from the step's kernel), probes \(pct(r.probeSharpnessShare)) (K_BB by layer Gram), Adam \(pct(r.adamSharpnessShare)) of \(f(r.adamStepMilliseconds)) ms (matrix-free)")
        }
    }
}
