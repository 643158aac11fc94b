import ArgumentParser
import Foundation
import Runner
import Store

struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a sweep (a base config, overrides and axes) with N worker processes on one database.",
        discussion: """
        The spec (YAML or JSON) names the sweep, its base config, `set` overrides, and axes: \
        `grid` (cartesian product over key paths), `zip` (paired lists; `name_suffix` labels \
        them, and alone labels whole sections such as `model: [{kind: mlp}, {kind: gbt}]`), `random` (count draws from log_uniform, uniform or choice) and `seeds`. Every \
        point's config is validated in full — data loaded, memory checked — before anything is \
        written; one bad point refuses the sweep, naming it. Each run is named from its axis \
        values and linked to the sweep (sweep_points, run_params).

        Workers claim points atomically in the database, so no run is trained twice, even with \
        several `tlens sweep` commands on one file. Re-running the command is idempotent: \
        completed runs are skipped, crashed or interrupted ones resumed bit-identically from \
        their checkpoints, new points added; a changed spec under the same name is refused \
        unless --extend. A diverged or failed run never stops the sweep.

        Examples:
          tlens sweep examples/sweep-lr.yaml --jobs 2
          tlens sweep --status sweep-lr

        Exit codes: 0 every point done (completed, diverged or failed), 1 refused, 130 interrupted.
        """)

    @Argument(help: "The sweep spec (YAML or JSON).")
    var spec: String?

    @Option(name: .long, help: "A shipped sweep by name (see tlens presets).")
    var preset: String?

    @Option(name: .long, help: "Worker processes.")
    var jobs = 1

    @Option(name: .long, help: "Print a stored sweep's progress from the database alone.")
    var status: String?

    @Flag(name: .long, help: "Add the new points of a changed spec to the stored sweep.")
    var extend = false

    @Option(name: .long, help: ArgumentHelp("Run only the i-th of N disjoint parts of the sweep (default from SLURM_ARRAY_TASK_ID/COUNT when set).", valueName: "i/N"))
    var shard: String?

    @OptionGroup var database: DatabaseOptions

    @Flag(name: .long, help: "No progress line.")
    var quiet = false

    func validate() throws {
        if [spec != nil, preset != nil, status != nil].filter({ $0 }).count != 1 {
            throw ValidationError("give one of: a sweep spec file, --preset NAME, or --status NAME")
        }
        guard (1...256).contains(jobs) else { throw ValidationError("--jobs must be 1…256") }
    }

    func run() throws {
        if let status {
            guard FileManager.default.fileExists(atPath: database.path) else { throw CLIError.noSuchDatabase(database.path) }
            let db = try Database(path: database.path, mode: .readOnly)
            guard let s = try db.sweepStatus(named: status) else {
                let hint = try db.nearestSweepName(to: status).map { "; did you mean '\($0)'?" } ?? ""
                throw CLIError("no sweep '\(status)' in \(database.path)\(hint)")
            }
            print(SweepProgress.line(s, jobs: 1))
            return
        }
        var sweep: SweepSpec
        if let preset {
            guard let text = Presets.sweepText(named: preset) else {
                throw CLIError("--preset \(preset): " + Presets.refusal(preset, sweep: true))
            }
            sweep = try SweepSpec.load(text: text, source: "preset \(preset)")
        } else {
            let path = spec!
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw CLIError("\(path): cannot read the sweep spec")
            }
            sweep = try SweepSpec.load(text: text, source: path, baseDirectory: URL(fileURLWithPath: path).deletingLastPathComponent())
        }
        if let (index, count) = try shardPart() {
            // Point p (0-based, expansion order) belongs to shard p mod N + 1: disjoint, deterministic.
            sweep.points = sweep.points.enumerated().filter { $0.offset % count == index - 1 }.map(\.element)
            if !quiet { FileHandle.standardError.write("tlens: shard \(index)/\(count): \(sweep.points.count) points of the sweep\n".data(using: .utf8)!) }
        }
        let (final, interrupted) = try SweepExecution.run(sweep, databasePath: database.path, jobs: jobs, extend: extend, quiet: quiet)
        if final.done < final.total { throw ExitCode(interrupted ? 130 : 1) }
    }
}

/// Runs a validated sweep with `jobs` worker processes of this binary on one database: registers
/// its points, starts the workers, shows progress, and returns the final status. Shared by
/// `tlens sweep` and `tlens study`.
/// `interrupted`: a worker stopped on a signal (Ctrl-C), so a re-run continues the sweep.
enum SweepExecution {
    static func run(_ sweep: SweepSpec, databasePath: String, jobs: Int, extend: Bool, quiet: Bool) throws -> (status: SweepStatus, interrupted: Bool) {
        // Every point validated, children against their parents; nothing written yet.
        try sweep.checkSpawns(try sweep.prepared(), databasePath: databasePath)
        let recorder = try Recorder(path: databasePath)
        _ = try recorder.registerSweep(name: sweep.name, specJSON: sweep.canonicalJSON,
                                       points: sweep.points.map { ($0.name, $0.tree.json, $0.axesJSON) }, extend: extend)
        try recorder.close()

        // Workers: this binary, one process each, claiming points until none is left.
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var workers: [Process] = []
        for _ in 0..<jobs {
            let worker = Process()
            worker.executableURL = executable
            worker.arguments = ["sweep-worker", sweep.name, "--db", databasePath]
            worker.standardOutput = FileHandle.nullDevice
            // Several workers share the cores: OpenMP threads that spin at barriers while another
            // worker holds a core made --jobs 2 twice as slow as --jobs 1 here; sleeping threads
            // made it 1.5x as fast. The wait policy does not change any result.
            var environment = ProcessInfo.processInfo.environment
            if jobs > 1 && environment["OMP_WAIT_POLICY"] == nil { environment["OMP_WAIT_POLICY"] = "PASSIVE" }
            worker.environment = environment
            try worker.run()
            workers.append(worker)
        }
        // Ctrl-C: the workers finish their step, checkpoint and stop; their runs resume on a re-run.
        let handlers = Recorder.installSignalHandlers(exitAfter: 3) { signal in
            Trainer.stopRequested = true
            for worker in workers where worker.isRunning { kill(worker.processIdentifier, signal) }
            FileHandle.standardError.write("\ntlens: stopping the sweep's workers; re-run the same command to continue\n".data(using: .utf8)!)
        }
        defer { handlers.cancel() }
        let terminal = isatty(STDERR_FILENO) != 0
        var lastLine = Date.distantPast
        while workers.contains(where: \.isRunning) {
            Thread.sleep(forTimeInterval: 0.5)
            if !quiet, Date().timeIntervalSince(lastLine) >= (terminal ? 1 : 10),
               let db = try? Database(path: databasePath, mode: .readOnly), let s = try? db.sweepStatus(named: sweep.name) {
                lastLine = Date()
                FileHandle.standardError.write(((terminal ? "\r" : "") + SweepProgress.line(s, jobs: jobs) + (terminal ? "   " : "\n")).data(using: .utf8)!)
            }
        }
        // Points still held by the workers of another `tlens sweep` on this file: wait for them.
        while !Trainer.stopRequested && workers.allSatisfy({ $0.terminationStatus == 0 }),
              let db = try? Database(path: databasePath, mode: .readOnly), (try? db.sweepHasLiveClaims(named: sweep.name)) == true {
            Thread.sleep(forTimeInterval: 0.5)
        }
        let db = try Database(path: databasePath, mode: .readOnly)
        guard let final = try db.sweepStatus(named: sweep.name) else { throw CLIError("sweep '\(sweep.name)' vanished") }
        FileHandle.standardError.write(((terminal && !quiet ? "\n" : "") + "tlens: " + SweepProgress.line(final, jobs: jobs) + "\n").data(using: .utf8)!)
        // A worker stopped by the signal before its own handler was installed dies of it
        // instead of exiting 130; the handler above saw the signal either way.
        return (final, Trainer.stopRequested || workers.contains { $0.terminationStatus == 130 })
    }
}

extension Sweep {
    /// `--shard i/N`, else Slurm's array task (`SLURM_ARRAY_TASK_ID` counted from
    /// `SLURM_ARRAY_TASK_MIN`, of `SLURM_ARRAY_TASK_COUNT`), else nil.
    func shardPart() throws -> (Int, Int)? {
        if let shard {
            let parts = shard.split(separator: "/")
            guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, (1...n).contains(i) else {
                throw CLIError("--shard \(shard): expected i/N with 1 ≤ i ≤ N")
            }
            return (i, n)
        }
        let env = ProcessInfo.processInfo.environment
        guard let id = env["SLURM_ARRAY_TASK_ID"].flatMap(Int.init), let count = env["SLURM_ARRAY_TASK_COUNT"].flatMap(Int.init), count >= 1 else {
            return nil
        }
        let first = env["SLURM_ARRAY_TASK_MIN"].flatMap(Int.init) ?? 0
        guard (first..<(first + count)).contains(id) else { throw CLIError("SLURM_ARRAY_TASK_ID \(id) is outside \(first)..<\(first + count)") }
        return (id - first + 1, count)
    }
}

/// `tlens sweep-worker NAME`: one worker of a sweep (started by `tlens sweep`): claims points
/// and trains or resumes them until none is left, then exits.
struct SweepWorker: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sweep-worker", abstract: "One worker of a sweep (started by tlens sweep).",
                                                    shouldDisplay: false)

    @Argument var sweep: String
    @OptionGroup var database: DatabaseOptions

    func run() throws {
        let recorder = try Recorder(path: database.path)
        defer { try? recorder.close() }
        guard let sweepID = try recorder.read({ try $0.sweepID(named: sweep) }) else { throw CLIError("no sweep '\(sweep)'") }
        // A worker whose sweep command died stops at its next step (checkpointed, resumable).
        let parent = getppid()
        let orphanWatch = DispatchSource.makeTimerSource(queue: .global())
        orphanWatch.schedule(deadline: .now() + 1, repeating: 1)
        orphanWatch.setEventHandler { if getppid() != parent { Trainer.stopRequested = true } }
        orphanWatch.resume()
        let handlers = Recorder.installSignalHandlers(exitAfter: 3) { _ in Trainer.stopRequested = true }
        defer { handlers.cancel(); orphanWatch.cancel() }
        var failed: Set<String> = []
        while !Trainer.stopRequested, let point = try recorder.claimSweepPoint(sweepID: sweepID, excluding: failed) {
            defer { try? recorder.releaseSweepPoint(sweepID: sweepID, name: point.name) }
            do {
                let prepared = try PreparedRun(try TrainConfig.load(text: point.configJSON, source: "sweep point \(point.name)"))
                let trainer = Trainer(prepared)
                if let runID = point.runID {
                    _ = try trainer.resume(runID: runID, recorder: recorder, force: false, progress: nil)
                } else {
                    _ = try trainer.run(recorder: recorder, codeVersion: TLens.version, progress: nil, sweep: sweep, sweepPoint: point.name)
                }
            } catch {
                // The run is marked failed (or never started); the sweep goes on without it.
                failed.insert(point.name)
                FileHandle.standardError.write("tlens: sweep point \(point.name): \(error)\n".data(using: .utf8)!)
            }
        }
        if Trainer.stopRequested { throw ExitCode(130) }
    }
}

enum SweepProgress {
    static func line(_ s: SweepStatus, jobs: Int) -> String {
        var text = "sweep \(s.name): \(s.done)/\(s.total) done (\(s.completed) completed, \(s.diverged) diverged, \(s.failed) failed), \(s.running) running, \(s.stopped) stopped, \(s.pending) pending"
        if let mean = s.meanSeconds, s.done < s.total {
            let remaining = Double(s.total - s.done) * mean / Double(max(jobs, 1))
            text += String(format: ", ETA %.0f s", remaining)
        }
        return text
    }
}

struct PresetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "presets",
                                                    abstract: "List the shipped configs (tlens train --preset) and sweeps (tlens sweep --preset).")

    func run() throws {
        print("configs (tlens train --preset NAME):")
        for name in Presets.names { print("  \(name.padding(toLength: 26, withPad: " ", startingAt: 0)) \(Presets.summary(of: name))") }
        print("sweeps (tlens sweep --preset NAME):")
        for name in Presets.sweepNames { print("  \(name.padding(toLength: 26, withPad: " ", startingAt: 0)) \(Presets.summary(of: name))") }
    }
}
