import ArgumentParser
import Foundation
import Runner
import Store

struct Reproduce: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a stored run again from its stored config and compare every key and vector, step by step.",
        discussion: """
        The copy is trained into a scratch database that is removed afterwards, or into --into \
        PATH, where it stays. Every scalar key and vector kind is compared at every step; the \
        largest difference per key is printed, and the command exits 1 if any exceeds \
        --tolerance (default 0: bit-exact; NaN equals NaN), naming the key and the step. It \
        warns first when the code version, host, thread count, GEMM backend or data \
        fingerprint differ from the original's. The original database is only read.

        Examples:
          tlens reproduce 3
          tlens reproduce 3 --tolerance 1e-6 --into copies.sqlite
        """)

    @Argument(help: ArgumentHelp("The run's id.", valueName: "run"))
    var runID: Int64

    @Option(name: .long, help: "Largest absolute difference accepted; 0 is bit-exact (NaN equals NaN).")
    var tolerance = 0.0

    @Option(name: .long, help: "Keep the copy in this database instead of a scratch one.")
    var into: String?

    @OptionGroup var database: DatabaseOptions

    @Flag(name: .long, help: "No progress line.")
    var quiet = false

    func validate() throws {
        guard tolerance >= 0, tolerance.isFinite else { throw ValidationError("--tolerance must be ≥ 0") }
    }

    func run() throws {
        let path = database.path
        guard FileManager.default.fileExists(atPath: path) else { throw CLIError.noSuchDatabase(path) }
        let original = try Database(path: path, mode: .readOnly)
        guard let summary = try original.run(id: runID) else { throw CLIError("no run \(runID) in \(path)") }
        var params: [String: String] = [:]
        let p = try original.prepare("SELECT key, value FROM run_params WHERE run_id = ?")
        p.bind([.integer(runID)])
        while try p.step() { params[p.string(at: 0) ?? ""] = p.string(at: 1) ?? "" }

        let prepared = try PreparedRun(try TrainConfig.load(text: summary.configJSON, source: "run \(runID)'s stored config"))
        for warning in Reproduction.environmentWarnings(original: summary, params: params, fingerprint: prepared.split.fingerprint,
                                                        codeVersion: TLens.version) {
            FileHandle.standardError.write("tlens: warning: \(warning)\n".data(using: .utf8)!)
        }
        // A child starts from its parent's state in the original database; the copy names no
        // parent (it is not in the copy's database).
        var origin = try SpawnOrigin.resolve(prepared, in: original)
        origin?.linksParent = false
        let scratch = into == nil
        let target = into ?? FileManager.default.temporaryDirectory.appendingPathComponent("tlens-reproduce-\(UUID().uuidString).sqlite").path
        defer { if scratch { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: target + suffix) } } }
        let outcome: TrainOutcome
        do {
            let recorder = try Recorder(path: target)
            defer { try? recorder.close() }
            outcome = try StopOnSignal.during(quiet: quiet) { progress, started in
                try Trainer(prepared).run(recorder: recorder, codeVersion: TLens.version, progress: progress, spawn: origin, onStart: started)
            }
        }
        let copy = try Database(path: target, mode: .readOnly)
        let differences = try Reproduction.compare(original, run: runID, copy, run: outcome.runID)
        var failed: [Reproduction.Difference] = []
        print("key".padding(toLength: 32, withPad: " ", startingAt: 0) + "  steps  largest |Δ|     at step")
        for d in differences {
            let largest = d.largest == 0 ? "0" : String(format: "%.3g", d.largest)
            let at = d.step.map(String.init) ?? "-"
            print(d.key.padding(toLength: 32, withPad: " ", startingAt: 0) + "  " + String(d.steps).padding(toLength: 5, withPad: " ", startingAt: 0)
                  + "  " + largest.padding(toLength: 13, withPad: " ", startingAt: 0) + "  " + at
                  + (d.onlyInCopy ? "  (new: the original never recorded it)" : d.missing > 0 ? "  (\(d.missing) steps in one run only)" : ""))
            if !d.onlyInCopy && (d.missing > 0 || !(d.largest <= tolerance)) { failed.append(d) }
        }
        if let worst = failed.first {
            let what = worst.missing > 0 ? "has steps in one run only" : String(format: "differs by %.3g", worst.largest)
            throw CLIError("run \(runID) did not reproduce: \(worst.key) \(what) at step \(worst.step ?? -1) (\(failed.count) keys over tolerance \(tolerance))")
        }
        FileHandle.standardError.write("tlens: run \(runID) reproduced: \(differences.count) keys, largest difference \(differences.map(\.largest).max() ?? 0) (tolerance \(tolerance))\(into.map { "; the copy is run \(outcome.runID) in \($0)" } ?? "")\n".data(using: .utf8)!)
    }
}
