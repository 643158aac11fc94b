import ArgumentParser
import Foundation
import Query
import Studies

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The main job: every case study at its quick size, one report linking them, one summary.",
        discussion: """
        Runs the quick version of each study (approx, double-descent, grokking, gbt-vs-nn, \
        lmc; docs/studies.md) into the database, writes each study's report beside --out \
        (tlens-report-NAME.html) and an index page (--out, default tlens-report.html) linking \
        them, and prints one summary: per study, each finding, whether this run replicated \
        it, and the figures. Re-running continues where it stopped (completed runs are kept). \
        About 5 minutes on a 2-core machine with a release build.
        """)

    @OptionGroup var database: DatabaseOptions

    @Option(help: ArgumentHelp("The index page to write; study reports go beside it.", valueName: "file.html"))
    var out = "tlens-report.html"

    @Option(help: "Worker processes for the sweeps.")
    var jobs = 2

    @Option(help: ArgumentHelp("Only these studies (comma-separated).", valueName: "names"))
    var studies: String?

    @Flag(help: .hidden)
    var smoke = false

    @Flag(help: "No progress lines.")
    var quiet = false

    func validate() throws {
        guard (1...256).contains(jobs) else { throw ValidationError("--jobs must be 1…256") }
    }

    func run() throws {
        let chosen = try studies.map { try commaList([$0]).map(Studies.named) } ?? Studies.all
        let size: StudySize = smoke ? .smoke : .quick
        let start = Date()
        let index = URL(fileURLWithPath: out)
        let folder = index.deletingLastPathComponent()
        var outcomes: [(StudyOutcome, String)] = []
        for study in chosen {
            let began = Date()
            let outcome = try StudyCommand.perform(study, size: size, databasePath: database.path, jobs: jobs, quiet: quiet)
            let file = "\(index.deletingPathExtension().lastPathComponent)-\(study.name).html"
            try writeStaged(outcome.page.html(), to: folder.appendingPathComponent(file).path)
            outcomes.append((outcome, file))
            if !quiet {
                FileHandle.standardError.write(Data(String(format: "tlens: study %@ done in %.0f s\n", study.name, Date().timeIntervalSince(began)).utf8))
            }
        }
        try writeStaged(Self.index(outcomes, database: database.path, size: size).html(), to: out)
        print(Self.summary(outcomes.map(\.0)))
        print("")
        print(String(format: "%d studies in %.0f s into %@; report: %@", outcomes.count, Date().timeIntervalSince(start), database.path, out))
    }

    /// The index page: the summary table, and a link to each study's report.
    static func index(_ outcomes: [(StudyOutcome, String)], database: String, size: StudySize) -> ReportPage {
        let table = ReportTable(header: ["study", "finding", "verdict", "figures"], rows: outcomes.flatMap { outcome, _ in
            outcome.findings.paperFirst.map { [outcome.study.name, $0.taggedClaim, $0.verdict, $0.figures] }
        })
        var sections = [ReportSection(heading: "Summary",
                                      text: "Each study ran its \(size.rawValue) settings; a verdict is computed from the runs by the rule docs/studies.md states.",
                                      tables: [table], id: "summary",
                                      links: outcomes.map { ("\($0.0.study.name): \($0.0.study.question)", $0.1) })]
        for (outcome, file) in outcomes {
            sections.append(ReportSection(heading: outcome.study.name, text: outcome.study.question + "\n\nFull report: \(file)",
                                          tables: [], figures: Array(outcome.page.sections.dropFirst().first?.figures.prefix(2) ?? []),
                                          links: [("\(outcome.study.name) report", file)]))
        }
        return ReportPage(title: "tlens demo", subtitle: "\(database) · \(outcomes.count) studies · written \(ISO8601DateFormatter().string(from: Date()))",
                          sections: sections)
    }

    /// Per study, per finding: verdict, claim, then the figures indented below.
    static func summary(_ outcomes: [StudyOutcome]) -> String {
        var rows: [[String]] = [["study", "verdict", "finding"]]
        var lines: [String] = []
        // The paper's claims of every study first, then tlens's extensions (issue: the demo
        // summary lists the paper's claims first).
        for paper in [true, false] {
            for outcome in outcomes {
                for (i, finding) in outcome.findings.filter({ $0.origin.isPaper == paper }).enumerated() {
                    rows.append([i == 0 ? outcome.study.name : "", finding.verdict, finding.taggedClaim])
                    rows.append(["", "", "  " + finding.figures])
                }
            }
        }
        let widths = (0..<2).map { c in rows.map { $0[c].count }.max() ?? 0 }
        for row in rows {
            lines.append(row[0].padding(toLength: widths[0], withPad: " ", startingAt: 0) + "  "
                         + row[1].padding(toLength: widths[1], withPad: " ", startingAt: 0) + "  " + row[2])
        }
        return lines.joined(separator: "\n")
    }
}
