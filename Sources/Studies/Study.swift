import Foundation
import Query
import Runner
import Spelling
import Store

/// How big a study runs: `full` (the settings docs/studies.md reports), `quick` (`--quick`,
/// seconds to a minute on a laptop; what `tlens demo` runs) and `smoke` (CI: every part runs,
/// too small for the findings to mean much). Presets are `study-NAME`, `study-NAME-quick`,
/// `study-NAME-smoke`.
public enum StudySize: String, CaseIterable, Sendable {
    case full, quick, smoke

    /// The preset name of a study sweep at this size: `study-approx-quick`.
    public func preset(_ base: String) -> String { self == .full ? base : "\(base)-\(rawValue)" }
}

/// One of the paper's case studies as one command (docs/studies.md): shipped sweeps, optional
/// work on the trained runs (weight averaging), findings decided by rules written before the
/// figures, and a report.
///
///     let study = try Studies.named("approx")
///     // tlens study approx: study.sweepPresets(.quick) run as sweeps, then study.afterSweeps(…)
///     let findings = try study.findings(reader, size: .quick)
public protocol Study {
    /// The command's argument: `tlens study NAME`.
    var name: String { get }
    /// The question the study answers, one sentence.
    var question: String { get }
    /// Sweep presets (`examples/study-*.yaml`), in the order they run.
    func sweepPresets(_ size: StudySize) -> [String]
    /// Work that needs the trained state after the sweeps (LMC's children and averages).
    func afterSweeps(databasePath: String, size: StudySize, progress: (String) -> Void) throws
    /// What the runs show, each finding with its rule and whether it held.
    func findings(_ reader: MetricReader, size: StudySize) throws -> [Finding]
    /// The study's own report sections (plots and tables), after the findings.
    func sections(_ reader: MetricReader, size: StudySize) throws -> [ReportSection]
}

extension Study {
    public func afterSweeps(databasePath: String, size: StudySize, progress: (String) -> Void) throws {}

    /// The sweep names this study's presets create (the `name:` of each spec).
    public func sweepNames(_ size: StudySize) throws -> [String] {
        try sweepPresets(size).map { preset in
            guard let text = Presets.sweepText(named: preset) else { throw StudyError("study \(name): preset \(preset) is not shipped") }
            return try SweepSpec.load(text: text, source: "preset \(preset)").name
        }
    }
}

/// A finding and whether this run of the study replicated it. `held` is computed from the runs
/// by `rule`, never written by hand; nil when the runs needed are missing or failed.
public struct Finding: Equatable {
    /// What the paper found, as a claim this run can confirm or not.
    public var claim: String
    /// The verdict rule, as in docs/studies.md.
    public var rule: String
    public var held: Bool?
    /// The figures the verdict rests on, one line.
    public var figures: String

    public init(claim: String, rule: String, held: Bool?, figures: String) {
        self.claim = claim
        self.rule = rule
        self.held = held
        self.figures = figures
    }

    public var verdict: String {
        switch held {
        case true?: return "held"
        case false?: return "did not hold"
        case nil: return "not evaluated"
        }
    }
}

public struct StudyError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}

/// The shipped studies, in the order `tlens demo` runs them.
public enum Studies {
    public static let all: [Study] = [ApproxStudy(), DoubleDescentStudy(), GrokkingStudy(), GBTvsNNStudy(), LMCStudy()]

    public static var names: [String] { all.map(\.name) }

    public static func named(_ name: String) throws -> Study {
        if let study = all.first(where: { $0.name == name }) { return study }
        let hint = nearestName(to: name, in: names).map { "; did you mean \($0)?" } ?? ""
        throw StudyError("no study '\(name)'\(hint) (studies: \(names.joined(separator: ", ")))")
    }
}
