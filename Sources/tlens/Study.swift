import ArgumentParser
import Foundation
import Query
import Runner
import Store
import Studies

struct StudyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "study",
        abstract: "Run one of the paper's case studies: its sweeps, its findings with verdicts, and its report.",
        discussion: """
        Studies: approx (telescoping vs linearized approximation error), double-descent, \
        grokking, gbt-vs-nn (boosted trees vs networks on irregular inputs), lmc (weight \
        averaging by spawn step). Each runs its shipped sweeps (tlens sweep --preset \
        study-NAME runs them alone), any work on the trained runs, then decides each finding \
        by the rule docs/studies.md states, prints one line per finding (held, did not hold, \
        or not evaluated, with its figures) and writes the report. Re-running continues where \
        it stopped: completed runs are kept.

        Examples:
          tlens study approx --quick
          tlens study double-descent --db dd.sqlite --jobs 2 --out dd.html
        """)

    @Argument(help: ArgumentHelp("The study: approx, double-descent, grokking, gbt-vs-nn or lmc.", valueName: "name"))
    var name: String

    @Flag(help: "The small settings (seconds to a minute each) instead of the full-size ones.")
    var quick = false

    @Flag(help: .hidden)
    var smoke = false

    var size: StudySize { smoke ? .smoke : quick ? .quick : .full }

    @Option(help: "Worker processes for the sweeps.")
    var jobs = 1

    @Option(help: ArgumentHelp("The report to write (default: tlens-study-NAME.html).", valueName: "file.html"))
    var out: String?

    @Flag(help: "No progress lines.")
    var quiet = false

    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        guard (1...256).contains(jobs) else { throw ValidationError("--jobs must be 1…256") }
    }

    func run() throws {
        let study = try Studies.named(name)
        let outcome = try StudyCommand.perform(study, size: size, databasePath: database.path, jobs: jobs, quiet: quiet)
        let path = out ?? "tlens-study-\(study.name).html"
        try writeStaged(outcome.page.html(), to: path)
        print(StudyCommand.summary(outcome))
        FileHandle.standardError.write(Data("tlens: report written to \(path)\n".utf8))
    }

    /// Runs a study's sweeps and after-work on the database, then reads its findings.
    static func perform(_ study: Study, size: StudySize, databasePath: String, jobs: Int, quiet: Bool) throws -> StudyOutcome {
        func run(_ sweep: SweepSpec) throws {
            if !quiet { FileHandle.standardError.write(Data("tlens: study \(study.name): sweep \(sweep.name) (\(sweep.points.count) runs)\n".utf8)) }
            let (status, interrupted) = try SweepExecution.run(sweep, databasePath: databasePath, jobs: jobs, extend: false, quiet: quiet)
            if interrupted { throw ExitCode(130) }
            if status.done < status.total { throw CLIError("study \(study.name): sweep \(sweep.name) left \(status.total - status.done) runs unfinished") }
        }
        for preset in study.sweepPresets(size) {
            guard let text = Presets.sweepText(named: preset) else { throw CLIError("study \(study.name): preset \(preset) is not shipped") }
            try run(try SweepSpec.load(text: text, source: "preset \(preset)"))
        }
        // Sweeps the finished ones decide (gbt-vs-nn's main runs at the selected learning rates).
        let derived = try study.derivedSweeps(MetricReader(RunCatalog(Archive(path: databasePath))), size: size)
        for (text, name) in zip(derived, study.derivedSweepNames(size)) {
            try run(try SweepSpec.load(text: text, source: "study \(study.name): sweep \(name)"))
        }
        // Between and after the sweeps no worker runs, so Ctrl-C ends the command at once: the
        // averaging writes in one transaction and the report is staged, so nothing is half done.
        let handlers = Recorder.installSignalHandlers(exitAfter: 2) { signal in
            FileHandle.standardError.write(Data("\ntlens: interrupted; re-run the same command to continue (completed runs are kept)\n".utf8))
            Foundation.exit(128 + signal)
        }
        defer { handlers.cancel() }
        try study.afterSweeps(databasePath: databasePath, size: size) { line in
            if !quiet { FileHandle.standardError.write(Data("tlens: study \(study.name): \(line)\n".utf8)) }
        }
        return try study.outcome(MetricReader(RunCatalog(Archive(path: databasePath))), size: size)
    }

    /// One line per finding: verdict, claim, figures.
    static func summary(_ outcome: StudyOutcome) -> String {
        var lines = ["study \(outcome.study.name)\(outcome.size == .full ? "" : " (\(outcome.size.rawValue))"):"]
        for f in outcome.findings.paperFirst {
            lines.append("  [\(f.verdict)] \(f.taggedClaim)")
            lines.append("      \(f.figures)")
        }
        return lines.joined(separator: "\n")
    }
}
