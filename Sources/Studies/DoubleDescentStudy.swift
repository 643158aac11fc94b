import Foundation
import Query
import Store

/// Double descent in width (lens.md §10): a one-hidden-layer ReLU network trained to near-zero
/// training loss on noisy labels, its hidden width swept across the interpolation threshold
/// (parameters ≈ n). Test MSE peaks near the threshold and comes down again; the smoother's
/// effective parameters (lens.md §8) say why: `p_train` only grows with width, while `p_test`
/// rises to the threshold and falls beyond it (`examples/study-double-descent*.yaml`).
public struct DoubleDescentStudy: Study {
    public init() {}
    public let name = "double-descent"
    public let question = "As a one-hidden-layer network widens across the interpolation threshold on labels with 20% noise, does its test MSE peak near the threshold and come down again, with p_train rising throughout while p_test rises and then falls?"

    /// The sweep axis.
    static let axis = "model.hidden"
    /// p values are read only from runs whose smoother stayed a faithful account to the end
    /// (`smoother_stable` is sticky, so its final value says it; lens.md §8).
    static let stable = ["final.smoother_stable=1"]
    /// Rule 1: the widest networks interpolate, and the peak lies within this factor of n.
    static let interpolatedTrainMSE = 0.05
    static let thresholdFactor = 4.0
    /// Rule 1: the widest width's test MSE at least this share below the peak.
    static let secondDescent = 0.25
    /// Rule 2: p_train may dip below its running maximum by this share of n.
    static let pTrainTolerance = 0.03
    /// Rule 3: p_test at the widest width at least this share below its maximum.
    static let pTestFall = 0.3

    public func sweepPresets(_ size: StudySize) -> [String] { [size.preset("study-double-descent")] }

    public func findings(_ reader: MetricReader, size: StudySize) throws -> [Finding] {
        let sweep = try sweepNames(size)[0]
        let runs = reader.runs(ofSweep: sweep).filter { $0.summary.effectiveStatus == .completed }
        let claims = ["test MSE peaks near the interpolation threshold and falls again beyond it",
                      "p_train rises monotonically with width",
                      "p_test rises to the threshold and falls beyond it"]
        guard let shape = Shape(runs.first) else {
            return claims.map { Finding(claim: $0, rule: "—", held: nil, figures: "no completed runs in \(sweep)") }
        }
        let n = shape.n
        let unstable = try runs.filter { try reader.number(.derived(.final("smoother_stable")), for: $0) != 1 }.count
        let excluded = unstable == 0 ? "" : "; \(unstable) of \(runs.count) runs left out of p (smoother_stable 0)"

        // Rule 1: interior peak of the seed-mean test MSE, at a width with n/4 … 4n parameters,
        // the widest width at least 25% below it, and the widest networks interpolating.
        let mse = try AxisProfile(reader, sweep: sweep, axis: Self.axis, measure: "final.test_mse")
        let train = try AxisProfile(reader, sweep: sweep, axis: Self.axis, measure: "final.train_mse")
        let first: Finding
        if let peak = mse.peak, let last = mse.last, let head = mse.first, let fit = train.last?.mean {
            let parameters = shape.parameters(width: peak.x)
            let near = parameters >= Double(n) / Self.thresholdFactor && parameters <= Double(n) * Self.thresholdFactor
            let fall = 1 - last.mean / peak.mean
            first = Finding(
                claim: claims[0],
                rule: "seed-mean final test_mse peaks at an interior width with n/4…4n parameters, the widest width ≥ 25% below the peak, and the widest networks' mean final train_mse ≤ 0.05",
                held: peak.interior && near && fall >= Self.secondDescent && fit <= Self.interpolatedTrainMSE,
                figures: "test MSE \(figure(head.mean)) at width \(width(head.x)), peak \(figure(peak.mean)) at width \(width(peak.x)) (\(Int(parameters)) parameters, n = \(n)\(peak.interior ? "" : "; not interior")), \(figure(last.mean)) at width \(width(last.x)) (\(percent(fall)) below the peak); train MSE at width \(width(last.x)): \(figure(fit))")
        } else {
            first = Finding(claim: claims[0], rule: "—", held: nil, figures: "no test_mse recorded in \(sweep)")
        }

        // Rule 2: p_train's seed means never fall more than 3% of n below their running maximum.
        let pTrain = try AxisProfile(reader, sweep: sweep, axis: Self.axis, measure: "final.p_train", conditions: Self.stable)
        let second: Finding
        if pTrain.points.count >= 3, let head = pTrain.first, let last = pTrain.last {
            var runningMax = -Double.infinity, worst = 0.0, worstAt = head.x
            for point in pTrain.points {
                if runningMax - point.mean > worst { worst = runningMax - point.mean; worstAt = point.x }
                runningMax = max(runningMax, point.mean)
            }
            second = Finding(
                claim: claims[1],
                rule: "seed-mean final p_train never falls more than 3% of n below its maximum over narrower widths (stable smoothers only)",
                held: worst <= Self.pTrainTolerance * Double(n),
                figures: "p_train \(figure(head.mean)) at width \(width(head.x)) → \(figure(pTrain.points.map(\.mean).max())) at most → \(figure(last.mean)) at width \(width(last.x)); largest dip \(figure(worst)) at width \(width(worstAt)) (\(percent(worst / Double(n))) of n = \(n))\(excluded)\(missingNote(pTrain))")
        } else {
            second = Finding(claim: claims[1], rule: "—", held: nil, figures: "fewer than 3 widths with a stable smoother\(excluded)")
        }

        // Rule 3: p_test's seed means peak at an interior width, the widest width ≥ 30% below.
        let pTest = try AxisProfile(reader, sweep: sweep, axis: Self.axis, measure: "final.p_test", conditions: Self.stable)
        let third: Finding
        if pTest.points.count >= 3, let peak = pTest.peak, let head = pTest.first, let last = pTest.last {
            let fall = 1 - last.mean / peak.mean
            third = Finding(
                claim: claims[2],
                rule: "seed-mean final p_test peaks at an interior width and the widest width's is ≥ 30% below the peak (stable smoothers only)",
                held: peak.interior && fall >= Self.pTestFall,
                figures: "p_test \(figure(head.mean)) at width \(width(head.x)), peak \(figure(peak.mean)) at width \(width(peak.x)) (\(Int(shape.parameters(width: peak.x))) parameters\(peak.interior ? "" : "; not interior")), \(figure(last.mean)) at width \(width(last.x)) (\(percent(fall)) below the peak)\(excluded)\(missingNote(pTest))")
        } else {
            third = Finding(claim: claims[2], rule: "—", held: nil, figures: "fewer than 3 widths with a stable smoother\(excluded)")
        }
        return [first, second, third]
    }

    public func sections(_ reader: MetricReader, size: StudySize) throws -> [ReportSection] {
        let sweep = try sweepNames(size)[0]
        let runs = reader.runs(ofSweep: sweep).filter { $0.summary.effectiveStatus == .completed }
        guard !runs.isEmpty else { return [] }
        let all = RunSelection(sweep: sweep, status: "completed")
        let stable = RunSelection(sweep: sweep, status: "completed", conditions: Self.stable)
        var figures = [
            try PlotRequest.sweep(all, x: Self.axis, measures: ["final.test_mse", "final.train_mse"], logX: true, logY: true,
                                  title: "test and train MSE by hidden width").svg(reader),
        ]
        if try !stable.apply(reader).runs.isEmpty {
            figures.append(try PlotRequest.sweep(stable, x: Self.axis, measures: ["final.p_train", "final.p_test"], logX: true,
                                                 title: "effective parameters by hidden width").svg(reader))
        }
        // Curves over steps for the first seed of a narrow, a threshold and the widest width.
        let firstSeed = runs.filter { $0.summary.seed == runs[0].summary.seed }.sorted { ($0.number(Self.axis) ?? 0) < ($1.number(Self.axis) ?? 0) }
        let mse = try AxisProfile(reader, sweep: sweep, axis: Self.axis, measure: "final.test_mse")
        var chosen: [CatalogRun] = []
        for x in [firstSeed.first?.number(Self.axis), mse.peak?.x, firstSeed.last?.number(Self.axis)].compactMap({ $0 }) {
            if let run = firstSeed.first(where: { $0.number(Self.axis) == x }), !chosen.contains(where: { $0.id == run.id }) { chosen.append(run) }
        }
        let ids = chosen.map { String($0.id) }
        figures.append(try PlotRequest.curves(runs: ids, keys: ["test_mse"], title: "test MSE over steps").svg(reader))
        figures.append(try PlotRequest.curves(runs: ids, keys: ["train_mse"], logY: true, title: "train MSE over steps").svg(reader))
        figures.append(try PlotRequest.curves(runs: ids, keys: ["p_test"], title: "p_test over steps").svg(reader))
        let n = Shape(runs.first).map { "\($0.n)" } ?? "n"
        let text = "Final test and train MSE, then p_train and p_test, against the hidden width (mean ± 95% CI over seeds; p from runs whose smoother stayed stable). The interpolation threshold is where the parameter count reaches n = \(n). Then the curves over steps of the narrowest width, the width where test MSE peaks, and the widest width (first seed)."
        return [ReportSection(heading: "Test error and effective parameters by width", text: text, figures: figures, id: "double-descent")]
    }
}

/// What the parameter count of a width needs from a run's config: one hidden layer, inputs
/// `d`, outputs `C` (1 for ±1 targets, else the class count).
private struct Shape {
    let n: Int, d: Int, outputs: Int

    init?(_ run: CatalogRun?) {
        guard let run, let n = run.number("data.n_train"), let d = run.number("data.d") else { return nil }
        self.n = Int(n)
        self.d = Int(d)
        outputs = run.params["data.target"] == "pm1" ? 1 : Int(run.number("data.k") ?? 1)
    }

    /// `w(d + 1) + C(w + 1)`: weights and biases of both layers.
    func parameters(width w: Double) -> Double { w * Double(d + 1) + Double(outputs) * (w + 1) }
}

private func width(_ x: Double) -> String { String(Int(x)) }

private func percent(_ share: Double) -> String { share.isFinite ? String(format: "%.0f%%", 100 * share) : "—" }

private func missingNote(_ profile: AxisProfile) -> String {
    profile.missing.isEmpty ? "" : "; no stable run at width \(profile.missing.map(width).joined(separator: ", "))"
}
