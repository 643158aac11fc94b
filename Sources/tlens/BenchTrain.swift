import ArgumentParser
import Query
import Foundation
import Nets

struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Time one SGD step and a forward+JVP pass of an MLP against this machine's sgemm.",
        discussion: """
        Measures, in one run, the sgemm rate of a 2048³ product through tlens's own GEMM \
        (oneDNN), then on the MLP [64, 512, 512, 1] (relu) one SGD training step with batch 128 \
        (forward, loss gradient, VJP, optimizer update) and a fused forward+JVP over 2,000 points.

        The three are measured in interleaved rounds, so they see the same machine load, and each \
        time is the best per call after warm-up. GFLOP/s count 2·m·n·k for every matrix product \
        actually executed. The table shows the fraction of the sgemm rate measured in the same run \
        (goal: forward+JVP ≥ 60%).

        Build with `swift build -c release` first. On a shared, oversubscribed machine set \
        OMP_WAIT_POLICY=passive: spinning GEMM threads otherwise compete with the \
        single-threaded element-wise passes.
        """)

    @Option(help: "table, json (one object) or csv (the same figures, one row).")
    var format: BenchFormat = .table

    @Option(help: "Interleaved measurement rounds; each runs one sgemm, 8 SGD steps and one forward+JVP.")
    var rounds: Int = 15

    func validate() throws {
        guard rounds >= 1 else { throw ValidationError("--rounds must be ≥ 1") }
    }

    func run() throws {
        let r = try TrainBenchmark.run(rounds: rounds)
        switch format {
        case .json, .csv:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            format.emit(json: String(decoding: try encoder.encode(r), as: UTF8.self))
        case .table:
            func row(_ name: String, _ m: TrainBenchmark.Measurement) -> String {
                name.padding(toLength: 34, withPad: " ", startingAt: 0)
                    + String(format: "%10.3f %10.1f %9.0f%%", m.milliseconds, m.gflops, 100 * m.fractionOfSgemm)
            }
            print("MLP \(r.widths) \(r.activation), batch \(r.batchSize), \(r.evaluationPoints) evaluation points; \(r.environment)")
            print("what".padding(toLength: 34, withPad: " ", startingAt: 0) + "        ms    GFLOP/s  of sgemm")
            print(row("sgemm \(r.sgemmSize)³", r.sgemm))
            print(row("SGD step (fwd+grad+VJP+update)", r.sgdStep))
            print(row("forward+JVP", r.forwardJVP))
            print(row("  its GEMMs alone (diagnostic)", r.forwardJVPProductsOnly))
        }
    }
}
