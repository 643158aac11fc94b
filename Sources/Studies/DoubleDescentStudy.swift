import Foundation
import Query
import Store

/// Double descent in width (paper §4.1, Figs. 3, 9 and 10; lens.md §10): one-hidden-layer ReLU
/// networks of growing width trained with squared loss by SGD with momentum 0.95 in batches of
/// 100, on MNIST 3 vs 5 at 8×8 with 20% of the training labels flipped, on the same without
/// noise (the control, where the paper sees no double descent), and on MNIST-1D 0 vs 1 with 15%
/// noise (`examples/study-double-descent*.yaml`, docs/studies.md). With noise, test MSE peaks
/// near the interpolation threshold (parameters ≈ n) and falls again past it; the smoother's
/// effective parameters (lens.md §8) say why: `p_train` only grows with width, while `p_test`
/// falls past the threshold.
public struct DoubleDescentStudy: Study {
    public init() {}
    public let name = "double-descent"
    public let question = "As a one-hidden-layer ReLU network widens past the interpolation threshold on MNIST 3 vs 5 (20% label noise) and MNIST-1D (15%), does test MSE rise to a peak near the threshold and fall again, with p_train rising monotonically while p_test falls — and without label noise, does test error improve monotonically instead?"

    /// The sweep axis.
    static let axis = "model.hidden"
    /// p values are read only from runs whose smoother stayed a faithful account to the end
    /// (`smoother_stable` is sticky, so its final value says it; lens.md §8).
    static let stable = ["final.smoother_stable=1"]
    /// Rule 1: the widest networks fit the training set, and the peak lies within this factor of n.
    static let interpolatedTrainMSE = 0.05
    static let thresholdFactor = 4.0
    /// Rule 1: the widest width's test MSE at least this share below the peak.
    static let secondDescent = 0.25
    /// Rule 2: p_train may dip below its running maximum by this share of n.
    static let pTrainTolerance = 0.03
    /// Rule 3: p_test at the widest width at least this share below its maximum.
    static let pTestFall = 0.3
    /// Rule 4 (the control): test MSE may rise above its running minimum by this share of it.
    static let monotoneTolerance = 0.1

    /// One data set of the study: its sweep preset (without the size suffix) and the paper's
    /// figure its claims are read from. Whether it is a double-descent setting or the no-noise
    /// control is read from the runs (`data.label_noise`).
    struct Setting {
        let preset: String
        let figure: String
    }

    /// In the order the study runs them; the smoke size runs only the first (CI).
    static let settings = [
        Setting(preset: "study-double-descent", figure: "Fig. 3 and 9 (left)"),
        Setting(preset: "study-double-descent-clean", figure: "Fig. 9 (right)"),
        Setting(preset: "study-double-descent-mnist1d", figure: "Fig. 10"),
    ]

    static func settings(_ size: StudySize) -> [Setting] { size == .smoke ? [settings[0]] : settings }

    public func sweepPresets(_ size: StudySize) -> [String] { Self.settings(size).map { size.preset($0.preset) } }

    public func findings(_ reader: MetricReader, size: StudySize) throws -> [Finding] {
        var findings: [Finding] = []
        for (setting, sweep) in zip(Self.settings(size), try sweepNames(size)) {
            let runs = reader.runs(ofSweep: sweep).filter { $0.summary.effectiveStatus == .completed }
            guard let shape = try Shape(reader, runs.first) else {
                let claims = setting.preset.hasSuffix("clean") ? [Self.controlClaim] : Self.claims
                findings += claims.map { Finding(claim: "\(sweep): \($0)", rule: "—", held: nil, figures: "no completed runs in \(sweep)",
                                                 origin: .paper(figure: setting.figure)) }
                continue
            }
            let profiles = try Profiles(reader, sweep: sweep)
            let origin = FindingOrigin.paper(figure: setting.figure)
            if shape.noisy {
                findings += try [doubleDescent(profiles, shape), pTrainRises(reader, profiles, shape, runs), pTestFalls(reader, profiles, shape, runs)]
                    .map { Finding(claim: "\(shape.label): \($0.claim)", rule: $0.rule, held: $0.held, figures: $0.figures, origin: origin) }
            } else {
                let control = noDoubleDescent(profiles)
                findings.append(Finding(claim: "\(shape.label): \(control.claim)", rule: control.rule, held: control.held, figures: control.figures, origin: origin))
            }
        }
        return findings
    }

    static let claims = ["test MSE shows double descent: it peaks near the interpolation threshold and falls again past it",
                         "p_train rises monotonically with width",
                         "p_test falls as the width grows past the interpolation threshold"]
    static let controlClaim = "no double descent: test MSE improves monotonically with width"

    /// The seed means along the width axis that the rules read.
    struct Profiles {
        let mse: AxisProfile, train: AxisProfile, pTrain: AxisProfile, pTest: AxisProfile

        init(_ reader: MetricReader, sweep: String) throws {
            mse = try AxisProfile(reader, sweep: sweep, axis: DoubleDescentStudy.axis, measure: "final.test_mse")
            train = try AxisProfile(reader, sweep: sweep, axis: DoubleDescentStudy.axis, measure: "final.train_mse")
            pTrain = try AxisProfile(reader, sweep: sweep, axis: DoubleDescentStudy.axis, measure: "final.p_train", conditions: DoubleDescentStudy.stable)
            pTest = try AxisProfile(reader, sweep: sweep, axis: DoubleDescentStudy.axis, measure: "final.p_test", conditions: DoubleDescentStudy.stable)
        }
    }

    /// Rule 1: interior peak of the seed-mean test MSE, at a width with n/4 … 4n parameters,
    /// the widest width at least 25% below it, and the widest networks fitting the training set.
    func doubleDescent(_ p: Profiles, _ shape: Shape) -> Finding {
        let rule = "seed-mean final test_mse peaks at an interior width with n/4…4n parameters, the widest width ≥ 25% below the peak, and the widest networks' mean final train_mse ≤ 0.05"
        guard let peak = p.mse.peak, let last = p.mse.last, let head = p.mse.first, let fit = p.train.last?.mean else {
            return Finding(claim: Self.claims[0], rule: rule, held: nil, figures: "no test_mse recorded")
        }
        let n = shape.n, parameters = shape.parameters(width: peak.x)
        let near = parameters >= Double(n) / Self.thresholdFactor && parameters <= Double(n) * Self.thresholdFactor
        let fall = 1 - last.mean / peak.mean
        return Finding(
            claim: Self.claims[0], rule: rule,
            held: peak.interior && near && fall >= Self.secondDescent && fit <= Self.interpolatedTrainMSE,
            figures: "test MSE \(figure(head.mean)) at width \(width(head.x)), peak \(figure(peak.mean)) at width \(width(peak.x)) (\(Int(parameters)) parameters, n = \(n)\(peak.interior ? "" : "; not interior")), \(figure(last.mean)) at width \(width(last.x)) (\(percent(fall)) below the peak); train MSE at width \(width(last.x)): \(figure(fit))")
    }

    /// Rule 2: p_train's seed means never fall more than 3% of n below their running maximum.
    func pTrainRises(_ reader: MetricReader, _ p: Profiles, _ shape: Shape, _ runs: [CatalogRun]) throws -> Finding {
        let rule = "seed-mean final p_train never falls more than 3% of n below its maximum over narrower widths (stable smoothers only)"
        let excluded = try Self.excludedNote(reader, runs)
        guard p.pTrain.points.count >= 3, let head = p.pTrain.first, let last = p.pTrain.last else {
            return Finding(claim: Self.claims[1], rule: rule, held: nil, figures: "fewer than 3 widths with a stable smoother\(excluded)")
        }
        let dip = Self.largestRise(p.pTrain.points.map { Point(x: $0.x, value: -$0.mean) })
        return Finding(
            claim: Self.claims[1], rule: rule, held: dip.size <= Self.pTrainTolerance * Double(shape.n),
            figures: "p_train \(figure(head.mean)) at width \(width(head.x)) → \(figure(p.pTrain.points.map(\.mean).max())) at most → \(figure(last.mean)) at width \(width(last.x)); \(dip.size > 0 ? "largest dip \(figure(dip.size)) at width \(width(dip.at)) (\(percent(dip.size / Double(shape.n))) of n = \(shape.n))" : "never below its running maximum")\(excluded)\(missingNote(p.pTrain))")
    }

    /// Rule 3: p_test's seed means peak at an interior width, the widest width ≥ 30% below.
    func pTestFalls(_ reader: MetricReader, _ p: Profiles, _ shape: Shape, _ runs: [CatalogRun]) throws -> Finding {
        let rule = "seed-mean final p_test peaks at an interior width and the widest width's is ≥ 30% below the peak (stable smoothers only)"
        let excluded = try Self.excludedNote(reader, runs)
        guard p.pTest.points.count >= 3, let peak = p.pTest.peak, let head = p.pTest.first, let last = p.pTest.last else {
            return Finding(claim: Self.claims[2], rule: rule, held: nil, figures: "fewer than 3 widths with a stable smoother\(excluded)")
        }
        let fall = 1 - last.mean / peak.mean
        let widestTrain = p.pTrain.mean(at: last.x).map { "; p_train there \(figure($0))" } ?? ""
        return Finding(
            claim: Self.claims[2], rule: rule, held: peak.interior && fall >= Self.pTestFall,
            figures: "p_test \(figure(head.mean)) at width \(width(head.x)), peak \(figure(peak.mean)) at width \(width(peak.x)) (\(Int(shape.parameters(width: peak.x))) parameters\(peak.interior ? "" : "; not interior")), \(figure(last.mean)) at width \(width(last.x)) (\(percent(fall)) below the peak)\(widestTrain)\(excluded)\(missingNote(p.pTest))")
    }

    /// Rule 4 (the no-noise control): the seed-mean test MSE never rises more than 10% above
    /// its minimum over narrower widths.
    func noDoubleDescent(_ p: Profiles) -> Finding {
        let rule = "seed-mean final test_mse never rises more than 10% above its minimum over narrower widths"
        guard p.mse.points.count >= 3, let head = p.mse.first, let last = p.mse.last else {
            return Finding(claim: Self.controlClaim, rule: rule, held: nil, figures: "fewer than 3 widths with test_mse recorded")
        }
        let rise = Self.largestRise(p.mse.points.map { Point(x: $0.x, value: $0.mean) }, relative: true)
        return Finding(
            claim: Self.controlClaim, rule: rule, held: rise.size <= Self.monotoneTolerance,
            figures: "test MSE \(figure(head.mean)) at width \(width(head.x)) → \(figure(last.mean)) at width \(width(last.x)); \(rise.size > 0 ? "largest rise above the minimum over narrower widths \(percent(rise.size)) at width \(width(rise.at))" : "never above the minimum over narrower widths")")
    }

    struct Point { var x: Double; var value: Double }

    /// The largest amount by which a point exceeds the smallest value at narrower x (relative
    /// to that minimum when `relative`), and where; 0 at the first point when none does.
    static func largestRise(_ points: [Point], relative: Bool = false) -> (size: Double, at: Double) {
        var runningMin = Double.infinity, worst = 0.0, worstAt = points.first?.x ?? 0
        for point in points {
            if runningMin.isFinite {
                let rise = relative ? point.value / runningMin - 1 : point.value - runningMin
                if rise > worst { worst = rise; worstAt = point.x }
            }
            runningMin = min(runningMin, point.value)
        }
        return (worst, worstAt)
    }

    static func excludedNote(_ reader: MetricReader, _ runs: [CatalogRun]) throws -> String {
        let unstable = try runs.filter { try reader.number(.derived(.final("smoother_stable")), for: $0) != 1 }.count
        return unstable == 0 ? "" : "; \(unstable) of \(runs.count) runs left out of p (smoother_stable 0 or no smoother)"
    }

    public func sections(_ reader: MetricReader, size: StudySize) throws -> [ReportSection] {
        var sections: [ReportSection] = []
        for (index, sweep) in try sweepNames(size).enumerated() {
            let runs = reader.runs(ofSweep: sweep).filter { $0.summary.effectiveStatus == .completed }
            guard let shape = try Shape(reader, runs.first) else { continue }
            let all = RunSelection(sweep: sweep, status: "completed")
            let stable = RunSelection(sweep: sweep, status: "completed", conditions: Self.stable)
            var figures = [
                try PlotRequest.sweep(all, x: Self.axis, measures: ["final.test_mse", "final.train_mse"], seriesBy: "seed", logX: true, logY: true,
                                      title: "\(shape.label): test and train MSE by width").svg(reader),
                try PlotRequest.sweep(all, x: Self.axis, measures: ["final.test_acc", "final.train_acc"], seriesBy: "seed", logX: true,
                                      title: "\(shape.label): test and train accuracy by width").svg(reader),
            ]
            let hasP = try !stable.apply(reader).runs.isEmpty
            if hasP {
                figures.append(try PlotRequest.sweep(stable, x: Self.axis, measures: ["final.p_train", "final.p_test"], seriesBy: "seed", logX: true,
                                                     title: "\(shape.label): effective parameters by width").svg(reader))
            }
            // The first setting also gets curves over steps: the first seed of the narrowest
            // width, the width where test MSE peaks, and the widest width.
            if index == 0 {
                let seed = runs.map(\.summary.seed).min()
                let firstSeed = runs.filter { $0.summary.seed == seed }.sorted { ($0.number(Self.axis) ?? 0) < ($1.number(Self.axis) ?? 0) }
                let mse = try AxisProfile(reader, sweep: sweep, axis: Self.axis, measure: "final.test_mse")
                var chosen: [CatalogRun] = []
                for x in [firstSeed.first?.number(Self.axis), mse.peak?.x, firstSeed.last?.number(Self.axis)].compactMap({ $0 }) {
                    if let run = firstSeed.first(where: { $0.number(Self.axis) == x }), !chosen.contains(where: { $0.id == run.id }) { chosen.append(run) }
                }
                let ids = chosen.map { String($0.id) }
                figures.append(try PlotRequest.curves(runs: ids, keys: ["test_mse"], title: "\(shape.label): test MSE over steps").svg(reader))
                figures.append(try PlotRequest.curves(runs: ids, keys: ["train_mse"], logY: true, title: "\(shape.label): train MSE over steps").svg(reader))
                if hasP {
                    figures.append(try PlotRequest.curves(runs: ids, keys: ["p_test"], title: "\(shape.label): p_test over steps").svg(reader))
                }
            }
            var text = "Final test and train MSE, test and train accuracy\(hasP ? ", then p_train and p_test" : ""), against the hidden width on a log axis, one line per seed (with two seeds a 95% interval spans ±12.7 standard errors, wider than the curves; the rules read the seed means\(hasP ? "; p from runs whose smoother stayed stable" : "")). The interpolation threshold is where the parameter count w(d + 1) + w + 1 reaches n = \(shape.n), near width \(width(shape.thresholdWidth))."
            if !hasP { text += " These runs record no smoother (lens.smoother: off), so no p." }
            if index == 0 { text += " Then the curves over steps of the narrowest width, the width where test MSE peaks, and the widest width (first seed)." }
            sections.append(ReportSection(heading: shape.label, text: text, figures: figures, id: "double-descent-\(index)"))
        }
        return sections
    }
}

extension DoubleDescentStudy {
    /// What the rules need from a sweep's runs: one hidden layer, inputs `d`, one output (±1
    /// targets), `n` training points, and the data set's name and label noise.
    struct Shape {
        let n: Int, d: Int, outputs: Int
        let label: String
        let noisy: Bool

        /// `d` from the config where the source has it (`data.d` of the generators), else from the
        /// run's stored θ_0: `P = w(d + 1) + C(w + 1)` parameters at width `w` (docs/schema.md).
        init?(_ reader: MetricReader, _ run: CatalogRun?) throws {
            guard let run, let n = run.number("data.n_train"), let w = run.number(DoubleDescentStudy.axis), w >= 1 else { return nil }
            self.n = Int(n)
            outputs = run.params["data.target"] == "pm1" ? 1 : Int(run.number("data.k") ?? 1)
            if let d = run.number("data.d") {
                self.d = Int(d)
            } else {
                let select = try reader.catalog.archive.database.prepare(
                    "SELECT length(parameters) / 4 FROM checkpoints WHERE run_id = ? AND step = 0").bound([.integer(run.id)])
                guard try select.step() else { return nil }
                let p = Double(select.int64(at: 0))
                self.d = Int(((p - Double(outputs)) / w - 1 - Double(outputs)).rounded())
            }
            let noise = run.number("data.label_noise") ?? 0
            noisy = noise > 0
            let source = run.params["data.source"] ?? "data"
            let names = ["mnist": "MNIST", "mnist1d": "MNIST-1D", "digits": "digits", "gaussian-mixture": "Gaussian mixture", "cifar10": "CIFAR-10"]
            var label = names[source] ?? source
            if let classes = run.params["data.classes"]?.trimmingCharacters(in: CharacterSet(charactersIn: "[] ")), !classes.isEmpty {
                label += " " + classes.components(separatedBy: ",").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " vs ")
            }
            label += noisy ? ", \(Int((100 * noise).rounded()))% label noise" : ", no label noise"
            self.label = label
        }

        /// `w(d + 1) + C(w + 1)`: weights and biases of both layers.
        func parameters(width w: Double) -> Double { w * Double(d + 1) + Double(outputs) * (w + 1) }

        /// The width whose parameter count reaches n (fractional).
        var thresholdWidth: Double { (Double(n) - Double(outputs)) / Double(d + 1 + outputs) }
    }
}

private func width(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(format: "%.1f", x) }

private func percent(_ share: Double) -> String { share.isFinite ? String(format: "%.0f%%", 100 * share) : "—" }

private func missingNote(_ profile: AxisProfile) -> String {
    profile.missing.isEmpty ? "" : "; no stable run at width \(profile.missing.map(width).joined(separator: ", "))"
}
