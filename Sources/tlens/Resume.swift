import ArgumentParser
import Foundation
import Runner
import Store

struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Continue a crashed or interrupted run from its newest checkpoint.",
        discussion: """
        The run keeps its id. Rows recorded after the checkpoint are discarded in the same \
        transaction that marks the run 'running' again, and a 'resumed' event records from \
        which step. Every scalar and vector of the resumed run is bit-identical to a run that \
        was never stopped (same machine, same thread count). A 'completed' run is refused; \
        'diverged' and 'failed' runs are refused unless --force.

        Examples:
          tlens resume 3
          tlens resume 3 --db sweeps.sqlite

        Exit codes: 0 completed, 1 error or refused, 3 diverged, 130 interrupted.
        """)

    @Argument(help: ArgumentHelp("The run's id (as printed by tlens train).", valueName: "run"))
    var runID: Int64

    @OptionGroup var database: DatabaseOptions

    @Flag(name: .long, help: "Resume a diverged or failed run too.")
    var force = false

    @Flag(name: .long, help: "No progress line.")
    var quiet = false

    func run() throws {
        let path = database.path
        guard FileManager.default.fileExists(atPath: path) else { throw CLIError.noSuchDatabase(path) }
        let recorder = try Recorder(path: path)
        defer { try? recorder.close() }
        let configJSON = try recorder.read { db -> String in
            guard let summary = try db.run(id: runID) else { throw CLIError("no run \(runID) in \(path)") }
            return summary.configJSON
        }
        // The stored resolved config rebuilds the run exactly (every default is explicit in it).
        let config = try TrainConfig.load(text: configJSON, source: "run \(runID)'s stored config")
        let prepared = try PreparedRun(config)
        StopOnSignal.runID = runID
        let outcome = try StopOnSignal.during(quiet: quiet) { progress, started in
            try Trainer(prepared).resume(runID: runID, recorder: recorder, force: force, progress: progress, onStart: started)
        }
        try TrainCommand.report(outcome)
    }
}
