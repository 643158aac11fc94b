import ArgumentParser
import Foundation
import Runner
import Store

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a network and record every step through the telescoping lens.",
        discussion: """
        The config (YAML or JSON; see examples/ and docs/metrics.md) is validated in full \
        before anything runs: unknown keys are rejected with the nearest valid key path, wrong \
        types and out-of-range values with their key path. Nothing is written to the database \
        for a config that fails. The resolved config, every default included, is stored with \
        the run. Sections: data, model, loss, optimizer, steps, seed, name, lens (every key \
        and default: README.md; what the lens records: docs/metrics.md).

        Examples:
          tlens train --config examples/digits-3v5.yaml
          tlens train --preset digits-3v5 --set optimizer.lr=0.01 --name slow
          tlens train --config run.json --db sweeps.sqlite --quiet

        A run stopped by SIGINT or SIGTERM finishes its step, writes a checkpoint and ends as \
        'interrupted' (continue it with tlens resume ID); a NaN or infinite loss ends it as \
        'diverged' at that step, keeping what was recorded. Checkpoints are written every \
        checkpoint.every steps (default: 5% of the run) and at least once a minute.

        Exit codes: 0 completed, 1 error or refused, 3 diverged, 130 interrupted.
        """)

    @Option(name: .long, help: "Config file (YAML or JSON).")
    var config: String?

    @Option(name: .long, help: "A shipped config by name (\(Presets.names.joined(separator: ", "))).")
    var preset: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override one value, e.g. optimizer.lr=0.1 (repeatable).", valueName: "key.path=value"))
    var overrides: [String] = []

    @Option(name: .long, help: "Run name (overrides the config's name).")
    var name: String?

    @OptionGroup var database: DatabaseOptions

    @Flag(name: .long, help: "No estimate line and no progress line.")
    var quiet = false

    @Flag(name: .customLong("dry-run"), help: "Validate, print the resolved config and the estimate; write nothing.")
    var dryRun = false

    func validate() throws {
        if (config == nil) == (preset == nil) { throw ValidationError("give exactly one of --config FILE or --preset NAME") }
    }

    func run() throws {
        let prepared = try TrainCommand.prepare(configPath: config, preset: preset, overrides: overrides, name: name)
        if dryRun {
            // A child's parent is checked too (read-only).
            _ = try SpawnOrigin.resolve(prepared, databasePath: database.path)
            // The resolved config on stdout (JSON, every default explicit), the estimate on stderr.
            print(prepared.config.resolved.json)
            FileHandle.standardError.write((TrainCommand.estimate(prepared) + "\n").data(using: .utf8)!)
            return
        }
        let outcome = try TrainCommand.train(prepared, databasePath: database.path, quiet: quiet)
        try TrainCommand.report(outcome)
    }
}

/// Shared by `train`, `resume` and `demo`.
enum TrainCommand {
    /// A summary line on stderr, the integer run id alone on stdout (what every documented query
    /// takes), and the exit code: 0 completed, 3 diverged, 130 interrupted.
    static func report(_ outcome: TrainOutcome) throws {
        var line = "tlens: run \(outcome.runID) \(outcome.status.rawValue) after \(outcome.stepsCompleted) steps (uuid \(outcome.uuid))"
        if let error = outcome.error, outcome.status != .completed { line += ": \(error)" }
        if outcome.status == .interrupted { line += "; resume with: tlens resume \(outcome.runID)" }
        FileHandle.standardError.write((line + "\n").data(using: .utf8)!)
        print(outcome.runID)
        switch outcome.status {
        case .interrupted: throw ExitCode(130)
        case .diverged: throw ExitCode(3)
        default: break
        }
    }

    /// Reads and validates a config completely (its data loaded, defaults resolved); nothing is
    /// written anywhere.
    static func prepare(configPath: String?, preset: String?, overrides: [String], name: String?) throws -> PreparedRun {
        let text: String, source: String
        if let configPath {
            guard let data = FileManager.default.contents(atPath: configPath), let s = String(data: data, encoding: .utf8) else {
                throw CLIError("\(configPath): cannot read the config file")
            }
            text = s; source = configPath
        } else {
            guard let preset, let s = Presets.text(named: preset) else {
                let name = preset ?? ""
                throw CLIError("--preset \(name): " + Presets.refusal(name, sweep: false))
            }
            text = s; source = "preset \(preset)"
        }
        // Relative data paths in a config file are relative to that file, not to where tlens runs.
        let baseDirectory = configPath.map { URL(fileURLWithPath: $0).deletingLastPathComponent() }
        var config = try TrainConfig.load(text: text, source: source, overrides: overrides, baseDirectory: baseDirectory)
        if let name { config.name = name }
        return try PreparedRun(config)
    }

    /// The one line of `tlens train` before it starts: time per step, total time and peak memory
    /// for the chosen lens settings, from the cost model at this machine's measured rates.
    static func estimate(_ prepared: PreparedRun) -> String {
        "tlens: " + RunCostModel.estimate(RunShape(prepared)).line
    }

    static func train(_ prepared: PreparedRun, databasePath: String, quiet: Bool) throws -> TrainOutcome {
        // A child's parent is found and checked before the database is opened for writing, so a
        // refusal leaves the file byte-identical.
        let origin = try SpawnOrigin.resolve(prepared, databasePath: databasePath)
        if !quiet { FileHandle.standardError.write((estimate(prepared) + "\n").data(using: .utf8)!) }
        let recorder = try Recorder(path: databasePath)
        defer { try? recorder.close() }
        return try StopOnSignal.during(quiet: quiet) { progress, started in
            try Trainer(prepared).run(recorder: recorder, codeVersion: TLens.version, progress: progress, spawn: origin, onStart: started)
        }
    }
}

/// SIGINT/SIGTERM during a run: the first prints one line at once and asks the loop to stop after
/// the step in progress (which then writes its checkpoint and marks the run `interrupted`); a
/// second only repeats that it is stopping, so an impatient Ctrl-C cannot leave the run
/// `running`; a third exits at once (the run then reads as `crashed` and resumes from its newest
/// checkpoint).
enum StopOnSignal {
    nonisolated(unsafe) static var runID: Int64 = 0
    nonisolated(unsafe) static var signals = 0

    static func during(quiet: Bool, _ body: (TrainingProgress?, (RunRecorder) -> Void) throws -> TrainOutcome) throws -> TrainOutcome {
        let handlers = Recorder.installSignalHandlers(exitAfter: 3) { _ in
            signals += 1
            Trainer.stopRequested = true
            let line = signals == 1
                ? "\ntlens: stopping after step \(Trainer.currentStep); resume with: tlens resume \(runID)\n"
                : "\ntlens: still stopping after step \(Trainer.currentStep) (writing its checkpoint); a third signal exits at once\n"
            FileHandle.standardError.write(line.data(using: .utf8)!)
        }
        defer { handlers.cancel() }
        let progress: TrainingProgress? = quiet ? nil : ProgressLine(terminal: isatty(STDERR_FILENO) != 0)
        return try body(progress, { run in runID = run.runID })
    }
}

/// Progress on stderr: on a terminal one self-overwriting line (at most 10 updates a second);
/// elsewhere (logs, batch jobs) one full line every 5 seconds.
final class ProgressLine: TrainingProgress {
    let terminal: Bool
    var lastPrint = Date.distantPast
    var printed = false
    init(terminal: Bool) { self.terminal = terminal }

    func update(step: Int, of total: Int, loss: Double, testMetric: (name: String, value: Double)?, stepsPerSecond: Double) {
        let now = Date()
        guard step == total || now.timeIntervalSince(lastPrint) >= (terminal ? 0.1 : 5) else { return }
        lastPrint = now
        printed = true
        let eta = stepsPerSecond > 0 ? Double(total - step) / stepsPerSecond : 0
        let metric = testMetric.map { "  \($0.name) " + String(format: "%.4g", $0.value) } ?? ""
        let line = String(format: "step %d/%d  loss %.4g", step, total, loss) + metric
            + String(format: "  %.1f steps/s  ETA %.0fs", stepsPerSecond, eta)
        FileHandle.standardError.write(((terminal ? "\r" + line + "   " : line + "\n")).data(using: .utf8)!)
    }
    func finish() { if terminal && printed { FileHandle.standardError.write("\n".data(using: .utf8)!) } }
}
