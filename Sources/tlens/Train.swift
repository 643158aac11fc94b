import ArgumentParser
import Foundation
import Runner
import Store

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a network and record every step through the telescoping lens.",
        discussion: """
        The config (YAML or JSON; see examples/ and docs/metrics.md) is validated in full \
        before anything runs: unknown keys are rejected with the nearest valid name, wrong \
        types and out-of-range values with their key path. Nothing is written to the database \
        for a config that fails. The resolved config, every default included, is stored with \
        the run. Sections: data, model, loss, optimizer, steps, seed, name, lens (every key \
        and default: README.md; what the lens records: docs/metrics.md).

        Examples:
          tlens train --config examples/digits-3v5.yaml
          tlens train --preset digits-3v5 --set optimizer.lr=0.01 --name slow
          tlens train --config run.json --db sweeps.sqlite --quiet

        A run stopped by SIGINT or SIGTERM flushes what it recorded and ends as 'interrupted'; \
        a NaN or infinite loss ends it as 'diverged' at that step, keeping what was recorded.

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

    @Flag(name: .long, help: "No progress line.")
    var quiet = false

    func validate() throws {
        if (config == nil) == (preset == nil) { throw ValidationError("give exactly one of --config FILE or --preset NAME") }
    }

    func run() throws {
        let outcome = try TrainCommand.train(configPath: config, preset: preset, overrides: overrides, name: name,
                                             databasePath: database.path, quiet: quiet)
        print(outcome.uuid)
        if outcome.status != .completed {
            FileHandle.standardError.write("tlens: run \(outcome.uuid) \(outcome.status.rawValue): \(outcome.error ?? "")\n".data(using: .utf8)!)
            if outcome.status == .interrupted { throw ExitCode(130) }
            if outcome.status == .diverged { throw ExitCode(3) }
        }
    }
}

/// Shared by `train` and `demo`.
enum TrainCommand {
    static func train(configPath: String?, preset: String?, overrides: [String], name: String?,
                      databasePath: String, quiet: Bool) throws -> TrainOutcome {
        let text: String, source: String
        if let configPath {
            guard let data = FileManager.default.contents(atPath: configPath), let s = String(data: data, encoding: .utf8) else {
                throw CLIError("\(configPath): cannot read the config file")
            }
            text = s; source = configPath
        } else {
            guard let preset, let s = Presets.text(named: preset) else {
                throw CLIError("--preset \(preset ?? ""): no such preset; presets: \(Presets.names.joined(separator: ", "))")
            }
            text = s; source = "preset \(preset)"
        }
        // Relative data paths in a config file are relative to that file, not to where tlens runs.
        let baseDirectory = configPath.map { URL(fileURLWithPath: $0).deletingLastPathComponent() }
        var config = try TrainConfig.load(text: text, source: source, overrides: overrides, baseDirectory: baseDirectory)
        if let name { config.name = name }
        let prepared = try PreparedRun(config)          // validation done; nothing stored yet
        let recorder = try Recorder(path: databasePath)
        defer { try? recorder.close() }
        // SIGINT/SIGTERM ask the loop to stop at the next step; the run is flushed and finished.
        let handlers = Recorder.installSignalHandlers { _ in Trainer.stopRequested = true }
        defer { handlers.cancel() }
        let progress: TrainingProgress? = (quiet || isatty(STDERR_FILENO) == 0) ? nil : TerminalProgress()
        return try Trainer(prepared).run(recorder: recorder, codeVersion: TLens.version, progress: progress)
    }
}

/// One self-overwriting line on stderr: step, loss, latest test metric, steps/s, ETA.
final class TerminalProgress: TrainingProgress {
    func update(step: Int, of total: Int, loss: Double, testMetric: (name: String, value: Double)?, stepsPerSecond: Double) {
        let eta = stepsPerSecond > 0 ? Double(total - step) / stepsPerSecond : 0
        let metric = testMetric.map { "  \($0.name) " + String(format: "%.4g", $0.value) } ?? ""
        let line = String(format: "\rstep %d/%d  loss %.4g", step, total, loss) + metric
            + String(format: "  %.1f steps/s  ETA %.0fs   ", stepsPerSecond, eta)
        FileHandle.standardError.write(line.data(using: .utf8)!)
    }
    func finish() { FileHandle.standardError.write("\n".data(using: .utf8)!) }
}
