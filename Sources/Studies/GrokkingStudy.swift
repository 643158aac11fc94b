import Foundation
import Query
import Store

/// Grokking (lens.md §10): a network fits its training set long before it generalizes. Three
/// tasks (`examples/study-grokking-*.yaml`): digits 3 vs 5 from a large initialization under
/// AdamW with weight decay, modular addition, and the quadratic teacher under gradient descent
/// with weight decay. For each, the delay between fitting and generalizing, and whether the
/// smoother (lens.md §8) sees `p_test` fall over that delay while `p_train` stays.
public struct GrokkingStudy: Study {
    public init() {}
    public let name = "grokking"
    public let question = "When a network fits its training set long before it generalizes (digits from a large initialization, modular addition, the quadratic teacher), does the lens see p_test fall as test performance rises while p_train stays high?"

    /// Rule 1: the test threshold is reached at least this share of the run after the train one.
    static let delayShare = 0.25
    /// Rule 2: p_test at the end at most this share of its value at the fit step …
    static let pTestRatio = 0.8
    /// … and p_train at the end at least this share of its value there.
    static let pTrainRatio = 0.9

    public func sweepPresets(_ size: StudySize) -> [String] {
        switch size {
        case .full: return ["study-grokking-digits", "study-grokking-modular", "study-grokking-quadratic"]
        case .quick: return ["study-grokking-digits-quick"]
        case .smoke: return ["study-grokking-quadratic-smoke"]
        }
    }

    /// What "fitted" and "generalized" mean for one task's runs: accuracy thresholds for
    /// classification, MSE thresholds for the quadratic teacher (whose targets have variance 2:
    /// R² ≥ 0.95 on train, ≥ 0.9 on test).
    struct Task {
        let label: String
        let fit: DerivedMetric, generalize: DerivedMetric
        let fitText: String, generalizeText: String
        /// The keys its curves show.
        let performance: [String]

        init(source: String) {
            switch source {
            case "teacher-quadratic":
                label = "quadratic teacher"
                fit = .firstBelow("train_mse", 0.1); generalize = .firstBelow("test_mse", 0.2)
                fitText = "train MSE ≤ 0.1"; generalizeText = "test MSE ≤ 0.2"
                performance = ["train_mse", "test_mse"]
            default:
                label = source == "modular" ? "modular addition" : source == "digits" ? "digits 3 vs 5" : source
                fit = .firstAbove("train_acc", 0.99); generalize = .firstAbove("test_acc", 0.95)
                fitText = "train accuracy ≥ 0.99"; generalizeText = "test accuracy ≥ 0.95"
                performance = ["train_acc", "test_acc"]
            }
        }

        var regression: Bool { performance[0] == "train_mse" }
    }

    /// One run's figures.
    struct Reading {
        let run: CatalogRun
        /// The configured run length.
        let steps: Int
        let fitStep: Int?, generalizeStep: Int?
        /// p at the fit step (the last recorded state at or before it) and at the end.
        let pTestAtFit: Double?, pTestFinal: Double?, pTrainAtFit: Double?, pTrainFinal: Double?
        /// The first recorded state with smoother_stable = 0, and the stability number there.
        let flaggedAt: Int?, stability: Double?

        init(_ run: CatalogRun, _ task: Task, _ reader: MetricReader) throws {
            func value(_ metric: DerivedMetric) throws -> Double? { try reader.number(.derived(metric), for: run) }
            self.run = run
            steps = run.number("steps").map { Int($0) } ?? run.summary.lastStep ?? 0
            fitStep = try value(task.fit).map { Int($0) }
            generalizeStep = try value(task.generalize).map { Int($0) }
            pTestAtFit = try fitStep.flatMap { try value(.at("p_test", step: $0)) }
            pTrainAtFit = try fitStep.flatMap { try value(.at("p_train", step: $0)) }
            pTestFinal = try value(.final("p_test"))
            pTrainFinal = try value(.final("p_train"))
            flaggedAt = try value(.firstBelow("smoother_stable", 0)).map { Int($0) }
            stability = try flaggedAt.flatMap { try value(.at("stability", step: $0)) }
        }

        var delay: Int? { fitStep.flatMap { fit in generalizeStep.map { $0 - fit } } }
        var grokked: Bool { delay.map { Double($0) >= GrokkingStudy.delayShare * Double(steps) } ?? false }
        var pTestChange: Double? { pTestAtFit.flatMap { start in pTestFinal.map { start > 0 ? $0 / start - 1 : .nan } } }
        var pHeld: Bool? {
            guard let a = pTestAtFit, let b = pTestFinal, let c = pTrainAtFit, let d = pTrainFinal else { return nil }
            return b <= GrokkingStudy.pTestRatio * a && d >= GrokkingStudy.pTrainRatio * c
        }
    }

    /// Each sweep of the size with its task and its completed runs' readings, by seed.
    func tasks(_ reader: MetricReader, size: StudySize) throws -> [(sweep: String, task: Task, readings: [Reading])] {
        try sweepNames(size).map { sweep in
            let runs = reader.runs(ofSweep: sweep).filter { $0.summary.effectiveStatus == .completed }.sorted { $0.summary.seed < $1.summary.seed }
            let task = Task(source: runs.first?.params["data.source"] ?? sweep)
            return (sweep, task, try runs.map { try Reading($0, task, reader) })
        }
    }

    public func findings(_ reader: MetricReader, size: StudySize) throws -> [Finding] {
        var findings: [Finding] = []
        for (sweep, task, readings) in try tasks(reader, size: size) {
            let delayClaim = "\(task.label): the training set is fitted long before the test set"
            let pClaim = "\(task.label): p_test falls as test performance rises while p_train stays"
            guard !readings.isEmpty else {
                findings += [delayClaim, pClaim].map { Finding(claim: $0, rule: "—", held: nil, figures: "no completed runs in \(sweep)") }
                continue
            }
            // Rule 1: every run reaches both thresholds, the test one ≥ 25% of the run later.
            let delays = readings.map { r -> String in
                let share = r.delay.map { " (\(percent(Double($0) / Double(max(r.steps, 1)))) of \(r.steps))" } ?? ""
                return "\(step(r.fitStep)) → \(step(r.generalizeStep))\(share)"
            }
            findings.append(Finding(
                claim: delayClaim,
                rule: "every run reaches \(task.fitText), then \(task.generalizeText) at least 25% of its steps later",
                held: readings.allSatisfy(\.grokked),
                figures: "step of \(task.fitText) → of \(task.generalizeText), per run: \(delays.joined(separator: "; "))"))

            // Rule 2: over the runs whose smoother stayed stable, final p_test ≤ 0.8 × p_test at
            // the fit step and final p_train ≥ 0.9 × p_train there.
            let stable = readings.filter { $0.flaggedAt == nil }, flagged = readings.filter { $0.flaggedAt != nil }
            let verdicts = stable.map(\.pHeld)
            let described = readings.map { r -> String in
                guard let a = r.pTestAtFit, let b = r.pTestFinal, let c = r.pTrainAtFit, let d = r.pTrainFinal else { return "p not recorded at the fit step" }
                let flag = r.flaggedAt.map { ", smoother flagged from step \($0) (stability number \(figure(r.stability)) there)" } ?? ""
                return "p_test \(figure(a)) → \(figure(b)) (\(signedPercent(r.pTestChange))), p_train \(figure(c)) → \(figure(d))\(flag)"
            }
            var figures = "from the fit step to the end, per run: \(described.joined(separator: "; "))"
            if !flagged.isEmpty {
                figures += stable.isEmpty
                    ? " — every run's smoother was flagged unstable (lens.md (8.16)), so these are not effective parameters and the rule is not evaluated"
                    : " — \(flagged.count) flagged run(s) left out (lens.md (8.16))"
            }
            findings.append(Finding(
                claim: pClaim,
                rule: "every run with a stable smoother: final p_test ≤ 0.8 × p_test at the fit step and final p_train ≥ 0.9 × p_train there",
                held: stable.isEmpty || verdicts.contains(where: { $0 == nil }) ? nil : verdicts.allSatisfy { $0 == true },
                figures: figures))
        }
        return findings
    }

    public func sections(_ reader: MetricReader, size: StudySize) throws -> [ReportSection] {
        var sections: [ReportSection] = []
        for (_, task, readings) in try tasks(reader, size: size) where !readings.isEmpty {
            let ids = readings.map { String($0.run.id) }
            var figures = [try PlotRequest.curves(runs: ids, keys: task.performance, logY: task.regression,
                                                  title: "\(task.label): \(task.performance.joined(separator: " and ")) over steps").svg(reader)]
            if reader.catalog.keyIDs["p_test"] != nil {
                figures.append(try PlotRequest.curves(runs: ids, keys: ["p_train", "p_test"], title: "\(task.label): p_train and p_test over steps").svg(reader))
            }
            let rows = readings.map { r -> [String] in
                [r.run.summary.name ?? String(r.run.id), step(r.fitStep), step(r.generalizeStep), step(r.delay),
                 figure(r.pTestAtFit), figure(r.pTestFinal), figure(r.pTrainAtFit), figure(r.pTrainFinal), step(r.flaggedAt)]
            }
            let table = ReportTable(header: ["run", "fitted (\(task.fitText))", "generalized (\(task.generalizeText))", "delay",
                                             "p_test at fit", "p_test final", "p_train at fit", "p_train final", "smoother flagged from"],
                                    rows: rows, numericColumns: Set(1...8))
            let text = "Per run: the step where the training set is fitted, the step where the test set is, and the effective parameters (lens.md (8.4)) at the first and at the end. p values recorded after the smoother was flagged unstable (stability number above the optimizer's bound, lens.md (8.16)–(8.22)) are drawn but are not effective parameters."
            sections.append(ReportSection(heading: task.label, text: text, tables: [table], figures: figures))
        }
        return sections
    }
}

private func step(_ s: Int?) -> String { s.map(String.init) ?? "—" }

private func percent(_ share: Double) -> String { share.isFinite ? String(format: "%.0f%%", 100 * share) : "—" }

private func signedPercent(_ change: Double?) -> String {
    guard let change, change.isFinite else { return "—" }
    return String(format: "%+.0f%%", 100 * change)
}
