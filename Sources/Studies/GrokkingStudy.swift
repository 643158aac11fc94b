import Foundation
import Query
import Store

/// Grokking (the paper's Fig. 4, §4.1; lens.md §10): test error falls long after training error,
/// and the paper's reading is that over that delay `p_test` falls below `p_train` — the two
/// effective-parameter counts (lens.md (8.4)) diverge, a measurable benign overfitting.
///
/// Its two experiments, as sweeps (`examples/study-grokking-*.yaml`): Kumar et al.'s polynomial
/// task (the network `f(x) = (1/N)Σ_j φ(θ_j·x)` of `readout: fixed_mean`, full-batch gradient
/// descent, no weight decay) and MNIST 3 vs 5 at 8×8 with {0, 1} targets from an α = 6
/// initialization under AdamW, with its α = 1 control (generalizes within ~10² steps with
/// far lower p). tlens adds modular addition (its own extension, not the paper's).
public struct GrokkingStudy: Study {
    public init() {}
    public let name = "grokking"
    public let question = "When test error falls long after training error (the paper's Fig. 4: Kumar et al.'s polynomial task, MNIST 3 vs 5 from an α = 6 initialization), does p_test fall below p_train as test error falls, and does the α = 1 control generalize within ~10² steps with far lower p?"

    /// Rule 1: the generalization step is at least this many times the fit step ("long after"
    /// on the paper's log-step axis: more than half a decade later).
    static let delayFactor = 5.0
    /// Rule 2: at the end p_test ≤ this share of p_train …
    static let divergedRatio = 0.8
    /// … and the gap p_train − p_test at the end at least this many times its value at the fit
    /// step (the two counts *diverge* over the delay).
    static let gapGrowth = 2.0
    /// Rule 3: the control's generalization step is at most this ("within ~10² steps") …
    static let controlSteps = 300
    /// … and its final p_test at most this share of the α = 6 runs' median final p_test.
    static let controlPShare = 0.5

    /// What each sweep is in the study.
    enum Role { case polynomial, mnist, control, modular }

    /// The study's sweeps at each size, each with its role.
    static func plan(_ size: StudySize) -> [(preset: String, role: Role)] {
        switch size {
        case .full:
            return [("study-grokking-polynomial", .polynomial), ("study-grokking-mnist", .mnist),
                    ("study-grokking-mnist-control", .control), ("study-grokking-modular", .modular)]
        case .quick:
            return [("study-grokking-polynomial-quick", .polynomial), ("study-grokking-mnist-quick", .mnist),
                    ("study-grokking-mnist-control-quick", .control)]
        case .smoke:
            return [("study-grokking-polynomial-smoke", .polynomial)]
        }
    }

    public func sweepPresets(_ size: StudySize) -> [String] { Self.plan(size).map(\.preset) }

    /// What "fitted" and "generalized" mean for one task's runs: on the polynomial task the same
    /// error level on both sets, MSE ≤ 0.05 (R² ≥ 0.9 against Var y = ½ for y = ½(βᵀx)² with
    /// βᵀx ~ N(0, 1)); on the classification tasks training accuracy ≥ 0.99 and test accuracy
    /// ≥ 0.9.
    struct Task {
        let role: Role
        let label: String
        let fit: DerivedMetric, generalize: DerivedMetric
        let fitText: String, generalizeText: String
        /// The keys its curves show.
        let performance: [String]
        let origin: FindingOrigin

        init(_ role: Role) {
            self.role = role
            switch role {
            case .polynomial:
                label = "polynomial task"
                fit = .firstBelow("train_mse", 0.05); generalize = .firstBelow("test_mse", 0.05)
                fitText = "train MSE ≤ 0.05"; generalizeText = "test MSE ≤ 0.05"
                performance = ["train_mse", "test_mse"]
            case .mnist, .control, .modular:
                label = role == .modular ? "modular addition" : role == .mnist ? "MNIST 3 vs 5, α = 6" : "MNIST 3 vs 5, α = 1 control"
                fit = .firstAbove("train_acc", 0.99); generalize = .firstAbove("test_acc", 0.9)
                fitText = "train accuracy ≥ 0.99"; generalizeText = "test accuracy ≥ 0.9"
                performance = ["train_acc", "test_acc"]
            }
            origin = role == .modular ? .tlens : .paper(figure: "Fig. 4")
        }

        var regression: Bool { role == .polynomial }
    }

    /// One run's figures.
    struct Reading {
        let run: CatalogRun
        let fitStep: Int?, generalizeStep: Int?
        /// p at the fit step (the last recorded state at or before it) and at the end of the
        /// run's stable span: its last state, or the last recorded before the smoother's flag.
        let pTestAtFit: Double?, pTestFinal: Double?, pTrainAtFit: Double?, pTrainFinal: Double?
        /// The test metric (accuracy or MSE) at the end of the stable span.
        let performanceAtEnd: Double?
        /// The first recorded state with smoother_stable = 0, and the stability number there.
        let flaggedAt: Int?, stability: Double?
        /// The largest stability number recorded (lens.md (8.16)), and the run's bound for it.
        let largestStability: Double?, stabilityBound: Double?

        init(_ run: CatalogRun, _ task: Task, _ reader: MetricReader) throws {
            func value(_ metric: DerivedMetric) throws -> Double? { try reader.number(.derived(metric), for: run) }
            self.run = run
            fitStep = try value(task.fit).map { Int($0) }
            generalizeStep = try value(task.generalize).map { Int($0) }
            pTestAtFit = try fitStep.flatMap { try value(.at("p_test", step: $0)) }
            pTrainAtFit = try fitStep.flatMap { try value(.at("p_train", step: $0)) }
            let flag = try value(.firstBelow("smoother_stable", 0)).map { Int($0) }
            flaggedAt = flag
            // After the flag p is no effective-parameter count (lens.md (8.16)–(8.22)): read the
            // end where the smoother was last stable. AdamW runs reach their adaptive edge of
            // stability and cross the bound for single steps (lens.md §8), so the span matters.
            func end(_ key: String) throws -> Double? {
                try flag.map { try value(.at(key, step: $0 - 1)) } ?? value(.final(key))
            }
            pTestFinal = try end("p_test")
            pTrainFinal = try end("p_train")
            performanceAtEnd = try end(task.performance[1])
            stability = try flag.flatMap { try value(.at("stability", step: $0)) }
            largestStability = reader.catalog.keyIDs["stability"] == nil ? nil : try value(.maximum("stability"))
            stabilityBound = reader.catalog.keyIDs["stability_bound"] == nil ? nil : try value(.final("stability_bound"))
        }

        /// How many times later the test set is reached than the training set.
        var delayFactor: Double? {
            guard let fit = fitStep, let generalized = generalizeStep else { return nil }
            return Double(generalized) / Double(max(fit, 1))
        }
        var grokked: Bool { delayFactor.map { $0 >= GrokkingStudy.delayFactor } ?? false }
        var ratioFinal: Double? { ratio(pTestFinal, pTrainFinal) }
        /// p_train − p_test at the fit step and at the end.
        var gapAtFit: Double? { pTrainAtFit.flatMap { a in pTestAtFit.map { a - $0 } } }
        var gapFinal: Double? { pTrainFinal.flatMap { a in pTestFinal.map { a - $0 } } }
        /// Whether rule 2 can read this run: its fit state precedes any flag.
        var stableAtFit: Bool { fitStep.map { fit in flaggedAt.map { fit < $0 } ?? true } ?? false }
        /// Rule 2 for this run; nil without p at the fit step.
        var diverged: Bool? {
            guard let start = gapAtFit, let end = gapFinal, let ratio = ratioFinal else { return nil }
            return ratio <= GrokkingStudy.divergedRatio && end >= GrokkingStudy.gapGrowth * max(start, 0) && end > 0
        }
        /// "seed 0" or "ε = 0.2 seed 0": what tells this run from the sweep's others.
        var label: String {
            let axes = run.axes.map { "\($0.path.split(separator: ".").last.map(String.init) ?? $0.path) = \($0.value)" }
            return (axes + ["seed \(run.summary.seed)"]).joined(separator: " ")
        }
    }

    /// Each sweep of the size with its task and its completed runs' readings, by seed.
    func tasks(_ reader: MetricReader, size: StudySize) throws -> [(sweep: String, task: Task, readings: [Reading])] {
        let names = try sweepNames(size)
        return try zip(names, Self.plan(size)).map { sweep, planned in
            let task = Task(planned.role)
            let runs = reader.runs(ofSweep: sweep).filter { $0.summary.effectiveStatus == .completed }
                .sorted { ($0.summary.name ?? "", $0.summary.seed) < ($1.summary.name ?? "", $1.summary.seed) }
            return (sweep, task, try runs.map { try Reading($0, task, reader) })
        }
    }

    public func findings(_ reader: MetricReader, size: StudySize) throws -> [Finding] {
        var findings: [Finding] = []
        let all = try tasks(reader, size: size)
        for (sweep, task, readings) in all {
            if task.role == .control {
                // Against the α = 6 runs (init_scale √6 on He), or every large-init run if none is.
                let large = all.first { $0.task.role == .mnist }?.readings ?? []
                let six = large.filter { $0.run.number("model.init_scale").map { abs($0 - 2.449) < 0.01 } ?? false }
                findings.append(controlFinding(sweep, task, readings, against: six.isEmpty ? large : six))
                continue
            }
            let delayClaim = "\(task.label): test error falls long after train error"
            let pClaim = "\(task.label): p_test falls below p_train as test error falls"
            guard !readings.isEmpty else {
                findings += [delayClaim, pClaim].map { Finding(claim: $0, rule: "—", held: nil, figures: "no completed runs in \(sweep)", origin: task.origin) }
                continue
            }
            // Rule 1: every run reaches both thresholds, the test one ≥ 5× the steps of the train one.
            let delays = readings.map { r -> String in
                let factor = r.delayFactor.map { String(format: " (×%.1f)", $0) } ?? ""
                return "\(r.label): \(step(r.fitStep)) → \(step(r.generalizeStep))\(factor)"
            }
            findings.append(Finding(
                claim: delayClaim,
                rule: "every run reaches \(task.fitText) at some step s, then \(task.generalizeText) at ≥ \(Int(Self.delayFactor))·s",
                held: readings.allSatisfy(\.grokked),
                figures: "step of \(task.fitText) → of \(task.generalizeText): \(delays.joined(separator: "; "))",
                origin: task.origin))

            // Rule 2: over the runs whose smoother was stable at the fit step, p_test ≤ 0.8 × p_train
            // at the end of the stable span and the gap p_train − p_test at least twice its value
            // at the fit step.
            let stable = readings.filter(\.stableAtFit), flagged = readings.filter { !$0.stableAtFit }
            let verdicts = stable.map(\.diverged)
            let described = readings.map { r -> String in
                guard let a = r.pTestAtFit, let b = r.pTestFinal, let c = r.pTrainAtFit, let d = r.pTrainFinal else {
                    return "\(r.label): p not recorded at the fit step"
                }
                let end = r.flaggedAt.map { "before the smoother's flag at step \($0) (stability number \(figure(r.stability)) there)" } ?? "at the end"
                return "\(r.label): at the fit step p_test \(figure(a)), p_train \(figure(c)) (gap \(figure(r.gapAtFit))); \(end) \(figure(b)), \(figure(d)) (gap \(figure(r.gapFinal)), p_test/p_train \(twoDigits(r.ratioFinal)), \(task.performance[1]) \(figure(r.performanceAtEnd)))"
            }
            var figures = described.joined(separator: "; ")
            if let worst = readings.compactMap(\.largestStability).max() {
                let bound = readings.compactMap(\.stabilityBound).first.map { " (bound \(figure($0)))" } ?? ""
                figures += "; largest stability number \(figure(worst))\(bound)"
            }
            if !flagged.isEmpty {
                figures += stable.isEmpty
                    ? " — every run's smoother was flagged unstable by its fit step (lens.md (8.16)–(8.22)), so there are no effective parameters to read and the rule is not evaluated"
                    : " — \(flagged.count) run(s) flagged by their fit step left out (lens.md (8.16)–(8.22))"
            }
            findings.append(Finding(
                claim: pClaim,
                rule: "every run whose smoother is stable at its fit step ends its stable span (the run, or up to the smoother's flag) with p_test ≤ \(figure(Self.divergedRatio)) × p_train and the gap p_train − p_test at least \(Int(Self.gapGrowth))× its value at the fit step",
                held: stable.isEmpty || verdicts.contains(where: { $0 == nil }) ? nil : verdicts.allSatisfy { $0 == true },
                figures: figures, origin: task.origin))
        }
        return findings
    }

    /// Rule 3: every control run generalizes within 300 steps and ends with p_test at most half
    /// the α = 6 runs' median final p_test.
    func controlFinding(_ sweep: String, _ task: Task, _ readings: [Reading], against large: [Reading]) -> Finding {
        let claim = "the α = 1 control generalizes within ~10² steps with far lower p than α = 6"
        let rule = "every control run reaches \(task.generalizeText) by step \(Self.controlSteps), and its p_test at the end of its stable span is ≤ \(figure(Self.controlPShare)) × the α = 6 runs' median there"
        let reference = median(large.filter(\.stableAtFit).compactMap(\.pTestFinal))
        guard !readings.isEmpty, let reference else {
            let missing = readings.isEmpty ? "no completed runs in \(sweep)" : "no α = 6 run with a stable smoother to compare with"
            return Finding(claim: claim, rule: rule, held: nil, figures: missing, origin: task.origin)
        }
        let fast = readings.allSatisfy { r in r.generalizeStep.map { $0 <= Self.controlSteps } ?? false }
        let stable = readings.filter { r in r.flaggedAt.map { f in r.generalizeStep.map { $0 < f } ?? false } ?? true }
        let lower = stable.compactMap(\.pTestFinal).count == readings.count
            && stable.allSatisfy { ($0.pTestFinal ?? .infinity) <= Self.controlPShare * reference }
        let described = readings.map { r in
            "\(r.label): \(task.generalizeText) at step \(step(r.generalizeStep)), p_test \(figure(r.pTestFinal)), p_train \(figure(r.pTrainFinal)) \(r.flaggedAt.map { "before the smoother's flag at step \($0)" } ?? "at the end")"
        }
        return Finding(claim: claim, rule: rule, held: stable.count == readings.count ? fast && lower : nil,
                       figures: described.joined(separator: "; ") + "; α = 6 median p_test \(figure(reference))",
                       origin: task.origin)
    }

    public func sections(_ reader: MetricReader, size: StudySize) throws -> [ReportSection] {
        var sections: [ReportSection] = []
        for (_, task, readings) in try tasks(reader, size: size) where !readings.isEmpty {
            let ids = readings.map { String($0.run.id) }
            var figures = [try PlotRequest.curves(runs: ids, keys: task.performance, logY: task.regression,
                                                  title: "\(task.label): \(task.performance.joined(separator: " and ")) over steps").svg(reader)]
            if reader.catalog.keyIDs["p_test"] != nil {
                // After a smoother's flag p can grow by orders of magnitude; a log axis keeps the
                // stable span before it readable.
                let flagged = readings.contains { $0.flaggedAt != nil }
                figures.append(try PlotRequest.curves(runs: ids, keys: ["p_train", "p_test"], logY: flagged,
                                                      title: "\(task.label): p_train and p_test over steps\(flagged ? " (log axis: a smoother was flagged)" : "")").svg(reader))
            }
            let rows = readings.map { r -> [String] in
                [r.label, step(r.fitStep), step(r.generalizeStep), r.delayFactor.map { String(format: "%.1f", $0) } ?? "—",
                 figure(r.pTestAtFit), figure(r.pTrainAtFit), figure(r.pTestFinal), figure(r.pTrainFinal), step(r.flaggedAt)]
            }
            let table = ReportTable(header: ["run", "fitted (\(task.fitText))", "generalized (\(task.generalizeText))", "× later",
                                             "p_test at fit", "p_train at fit", "p_test at end", "p_train at end", "smoother flagged from"],
                                    rows: rows, numericColumns: Set(1...8))
            let text = "Per run: the step where the training set is fitted, the step where the test set is, how many times later, and the effective parameters (lens.md (8.4)) at the fit step and at the end. The paper's reading (Fig. 4) is that p_test falls below p_train as test error falls. p values recorded after the smoother was flagged unstable (stability number above the optimizer's bound, lens.md (8.16)–(8.22)) are drawn but are not effective parameters."
            sections.append(ReportSection(heading: "\(task.label) \(task.origin.tag)", text: text, tables: [table], figures: figures))
        }
        return sections
    }
}

private func step(_ s: Int?) -> String { s.map(String.init) ?? "—" }

private func twoDigits(_ x: Double?) -> String { x.map { String(format: "%.2f", $0) } ?? "—" }

private func ratio(_ a: Double?, _ b: Double?) -> Double? {
    guard let a, let b, b > 0 else { return nil }
    return a / b
}

private func median(_ values: [Double]) -> Double? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted(), mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
