import ArgumentParser
import Query
import Foundation
import Runner

struct BenchCheckpoint: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Time checkpoints and resume on the MLP [64, 512, 512, 1] with the exact smoother over n = 1,000.",
        discussion: """
        Measures, against a lens step from the same run: the learner and lens state sizes, the \
        time to export them and commit one checkpoint through the recorder into a temporary \
        database, that time as a share of the 50 steps between checkpoints of a 1,000-step run \
        (the default checkpoint.every), and a resume: reading the newest checkpoint, building \
        learner and lens, importing both blobs (checked to restore the same state).

        Build with `swift build -c release` first.
        """)

    @Option(name: .long, help: "table, json (one object) or csv (the same figures, one row).")
    var format: BenchFormat = .table

    func run() throws {
        let r = try CheckpointBenchmark.run()
        let mb = { (b: Int) in String(format: "%.1f MB", Double(b) / 1_048_576) }
        let f = { (x: Double) in String(format: "%.1f", x) }
        switch format {
        case .json, .csv:
            format.emit(json: """
            {"lens_step_ms": \(r.stepMilliseconds), "learner_state_bytes": \(r.learnerBytes), "lens_state_bytes": \(r.lensBytes), \
            "export_ms": \(r.exportMilliseconds), "commit_ms": \(r.commitMilliseconds), "checkpoint_ms": \(r.writeMilliseconds), \
            "share_of_run_at_default_every": \(r.shareOfRun), "resume_read_ms": \(r.readMilliseconds), \
            "resume_build_ms": \(r.buildMilliseconds), "resume_import_ms": \(r.importMilliseconds), "resume_ms": \(r.resumeMilliseconds)}
            """)
        case .table:
            print("lens step (exact, n = 1000)        \(f(r.stepMilliseconds)) ms")
            print("checkpoint size                     learner \(mb(r.learnerBytes)) + lens \(mb(r.lensBytes))")
            print("write one checkpoint                \(f(r.writeMilliseconds)) ms (export \(f(r.exportMilliseconds)) + commit \(f(r.commitMilliseconds))) = \(f(r.writeMilliseconds / r.stepMilliseconds))x a lens step")
            print("share of a 1000-step run            \(String(format: "%.2f", 100 * r.shareOfRun))% at checkpoint.every = \(CheckpointBenchmark.Result.defaultEvery)")
            print("resume                              \(f(r.resumeMilliseconds)) ms (read \(f(r.readMilliseconds)) + build \(f(r.buildMilliseconds)) + import \(f(r.importMilliseconds)))")
        }
    }
}
