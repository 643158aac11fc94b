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
    /// Sweeps decided by the runs of the shipped ones, run after them, as sweep specs (YAML or
    /// JSON text): gbt-vs-nn's main runs at the learning rates its search selected. Each text
    /// must name the sweep `derivedSweepNames(size)` lists, in that order.
    func derivedSweeps(_ reader: MetricReader, size: StudySize) throws -> [String]
    /// The names of the derived sweeps, known before they are decided.
    func derivedSweepNames(_ size: StudySize) -> [String]
    /// Work that needs the trained state after the sweeps (LMC's children and averages).
    func afterSweeps(databasePath: String, size: StudySize, progress: (String) -> Void) throws
    /// What the runs show, each finding with its rule and whether it held.
    func findings(_ reader: MetricReader, size: StudySize) throws -> [Finding]
    /// The study's own report sections (plots and tables), after the findings.
    func sections(_ reader: MetricReader, size: StudySize) throws -> [ReportSection]
}

extension Study {
    public func afterSweeps(databasePath: String, size: StudySize, progress: (String) -> Void) throws {}
    public func derivedSweeps(_ reader: MetricReader, size: StudySize) throws -> [String] { [] }
    public func derivedSweepNames(_ size: StudySize) -> [String] { [] }

    /// The sweep names this study's presets create (the `name:` of each spec).
    public func sweepNames(_ size: StudySize) throws -> [String] {
        try sweepPresets(size).map { preset in
            guard let text = Presets.sweepText(named: preset) else { throw StudyError("study \(name): preset \(preset) is not shipped") }
            return try SweepSpec.load(text: text, source: "preset \(preset)").name
        }
    }
}

/// Whose claim a finding tests: one the paper makes (with the figure it is read from) or one of
/// tlens's own extensions (docs/studies.md marks them). Summaries list the paper's claims first.
public enum FindingOrigin: Equatable, Sendable {
    /// The paper's claim, read from `figure` (e.g. "Fig. 4", "Fig. 5 (right)").
    case paper(figure: String)
    /// A claim tlens adds (modular addition, kNN irregularity and κ, Γ, …).
    case tlens

    /// "(paper Fig. 4)" or "(tlens extension)", the tag printed beside a claim.
    public var tag: String {
        switch self {
        case .paper(let figure): return "(paper \(figure))"
        case .tlens: return "(tlens extension)"
        }
    }

    public var isPaper: Bool { if case .paper = self { return true } else { return false } }
}

/// A finding and whether this run of the study replicated it. `held` is computed from the runs
/// by `rule`, never written by hand; nil when the runs needed are missing or failed.
public struct Finding: Equatable {
    /// What the paper (or tlens, per `origin`) found, as a claim this run can confirm or not.
    public var claim: String
    /// The verdict rule, as in docs/studies.md.
    public var rule: String
    public var held: Bool?
    /// The figures the verdict rests on, one line.
    public var figures: String
    /// The paper's figure the claim is read from, or tlens's own extension.
    public var origin: FindingOrigin

    public init(claim: String, rule: String, held: Bool?, figures: String, origin: FindingOrigin = .tlens) {
        self.claim = claim
        self.rule = rule
        self.held = held
        self.figures = figures
        self.origin = origin
    }

    /// The claim with its origin: "p_test falls below p_train (paper Fig. 4)".
    public var taggedClaim: String { "\(claim) \(origin.tag)" }

    public var verdict: String {
        switch held {
        case true?: return "held"
        case false?: return "did not hold"
        case nil: return "not evaluated"
        }
    }
}

extension Array where Element == Finding {
    /// The paper's claims first, then tlens's extensions, each group in the study's own order.
    public var paperFirst: [Finding] { filter { $0.origin.isPaper } + filter { !$0.origin.isPaper } }
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
