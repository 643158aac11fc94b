import Foundation
import Query
import Store

/// Telescoping vs linearized approximation error (lens.md §2–§3; the paper's Fig. 2 and, for
/// momentum and weight decay, Fig. 7): the mean |f_θ_t(x) − model_t(x)| over the test points of
/// the telescoping model f̃_t and of the model linearized at θ_0, for SGD and AdamW over a grid
/// of learning rates (`examples/study-approx*.yaml`). The paper's claim is conditional on γ: "for
/// small learning rates γ the difference remains negligible", telescoping improves on the
/// linearized model "by orders of magnitude", γ "controls approximation quality", and AdamW
/// "requires smaller γ to ensure approximation quality than SGD".
public struct ApproxStudy: Study {
    public init() {}
    public let name = "approx"
    public let question = "At small learning rates, does the telescoping model (the network's initial prediction plus every step's first-order change) stay negligibly close to the trained network, orders of magnitude closer than the model linearized at initialization, with the error growing with γ and AdamW needing a smaller γ than SGD for the same error?"

    /// "Negligible": the largest mean |f − f̃| over the run at most this, against {0, 1} targets
    /// (1% of their range), docs/studies.md.
    public static let negligible = 0.01
    /// "Orders of magnitude": the linearized model's error at least this many times the telescoping one's.
    public static let ordersOfMagnitude = 100.0

    public func sweepPresets(_ size: StudySize) -> [String] { [size.preset("study-approx")] }

    /// The paper's panels: Fig. 2's SGD and AdamW, Fig. 7's SGD with momentum or weight decay alone.
    enum Setting: String, CaseIterable {
        case sgd = "SGD", adamw = "AdamW", momentum = "SGD + momentum", weightDecay = "SGD + weight decay"

        init?(_ run: CatalogRun) {
            switch run.params["optimizer.kind"] {
            case "adamw"?: self = .adamw
            case "sgd"?:
                if (run.number("optimizer.momentum") ?? 0) > 0 { self = .momentum }
                else if (run.number("optimizer.weight_decay") ?? 0) > 0 { self = .weightDecay }
                else { self = .sgd }
            default: return nil
            }
        }
    }

    /// One learning rate of one setting: the largest error each curve reaches over the run
    /// (`max.approx_err_tel`, `max.approx_err_lin`), means over seeds.
    struct Point {
        var rate: Double
        var seeds: Int
        var telescoping: Double
        var linearized: Double
        var ratio: Double { linearized / telescoping }
    }

    func points(_ reader: MetricReader, size: StudySize) throws -> [Setting: [Point]] {
        let sweep = try sweepNames(size)[0]
        var errors: [Setting: [Double: [(Double, Double)]]] = [:]
        for run in reader.runs(ofSweep: sweep) where run.summary.effectiveStatus == .completed {
            guard let setting = Setting(run), let rate = run.number("optimizer.lr"),
                  let tel = reader.number("max.approx_err_tel", run), let lin = reader.number("max.approx_err_lin", run) else { continue }
            errors[setting, default: [:]][rate, default: []].append((tel, lin))
        }
        return errors.mapValues { byRate in
            byRate.keys.sorted().map { rate in
                let runs = byRate[rate]!
                return Point(rate: rate, seeds: runs.count, telescoping: mean(runs.map(\.0)), linearized: mean(runs.map(\.1)))
            }
        }
    }

    public func findings(_ reader: MetricReader, size: StudySize) throws -> [Finding] {
        let bySetting = try points(reader, size: size)
        let main: [Setting] = [.sgd, .adamw], extras: [Setting] = [.momentum, .weightDecay]
        func describe(_ s: Setting, _ p: Point) -> String {
            "\(s.rawValue) γ=\(figure(p.rate)): tel \(figure(p.telescoping)), lin \(figure(p.linearized)) (×\(figure(p.ratio)))"
        }
        // Each rule reads every setting it names; a setting without runs leaves the finding
        // unjudged only when the sweep itself is missing them (never in a shipped preset).
        func judge(_ settings: [Setting], _ test: (Setting, [Point]) -> (Bool, String)) -> (Bool?, String) {
            var held = true, figures: [String] = []
            for s in settings {
                guard let points = bySetting[s], !points.isEmpty else { return (nil, "no completed \(s.rawValue) runs") }
                let (ok, text) = test(s, points)
                held = held && ok
                figures.append(text)
            }
            return (held, figures.joined(separator: "; "))
        }
        let smallNegligible: (Setting, [Point]) -> (Bool, String) = { s, p in
            (p[0].telescoping <= Self.negligible, describe(s, p[0]))
        }
        let smallOrders: (Setting, [Point]) -> (Bool, String) = { s, p in
            (p[0].ratio >= Self.ordersOfMagnitude, describe(s, p[0]))
        }
        let growsWithRate: (Setting, [Point]) -> (Bool, String) = { s, p in
            let grows = p.count >= 2 && zip(p, p.dropFirst()).allSatisfy { $0.telescoping < $1.telescoping }
            return (grows, "\(s.rawValue): " + p.map { "\(figure($0.telescoping)) at γ=\(figure($0.rate))" }.joined(separator: " < "))
        }

        let rules: [(claim: String, rule: String, settings: [Setting], test: (Setting, [Point]) -> (Bool, String), figure: String)] = [
            ("for small learning rates the telescoping approximation error remains negligible",
             "for SGD and for AdamW, at the smallest γ of its grid, the largest mean |f_θt(x) − f̃_t(x)| over the test points and the run (max.approx_err_tel, mean over seeds) ≤ \(figure(Self.negligible)) ({0, 1} targets)",
             main, smallNegligible, "Fig. 2"),
            ("telescoping improves on the model linearized at θ_0 by orders of magnitude",
             "for SGD and for AdamW, at the smallest γ, max.approx_err_lin / max.approx_err_tel (means over seeds) ≥ \(figure(Self.ordersOfMagnitude))",
             main, smallOrders, "Fig. 2"),
            ("γ controls approximation quality: the telescoping error grows with the learning rate",
             "for SGD and for AdamW, max.approx_err_tel (mean over seeds) strictly increases along the γ grid",
             main, growsWithRate, "Fig. 2"),
            ("the same holds with momentum alone and with weight decay alone",
             "for SGD + momentum 0.9 and SGD + weight decay 0.1, each of the three rules above (negligible and ≥ \(figure(Self.ordersOfMagnitude))× at the smallest γ, growing along the grid)",
             extras, { s, p in
                 let a = smallNegligible(s, p), b = smallOrders(s, p), c = growsWithRate(s, p)
                 return (a.0 && b.0 && c.0, "\(a.1); \(c.1)")
             }, "Fig. 7"),
        ]
        var findings = rules.map { r -> Finding in
            let (held, figures) = judge(r.settings, r.test)
            return Finding(claim: r.claim, rule: r.rule, held: held, figures: figures, origin: .paper(figure: r.figure))
        }

        // AdamW needs a smaller γ: at every γ both grids share, its error is the larger.
        let adamRule = "at every γ on both the SGD and the AdamW grid, AdamW's max.approx_err_tel > SGD's (means over seeds)"
        if let sgd = bySetting[.sgd], let adam = bySetting[.adamw] {
            let shared = adam.compactMap { a in sgd.first { $0.rate == a.rate }.map { (a, $0) } }
            let figures = shared.map { a, s in "γ=\(figure(a.rate)): AdamW \(figure(a.telescoping)) vs SGD \(figure(s.telescoping))" }
            findings.insert(Finding(claim: "AdamW needs a smaller γ than SGD for the same approximation quality", rule: adamRule,
                                    held: shared.isEmpty ? nil : shared.allSatisfy { $0.0.telescoping > $0.1.telescoping },
                                    figures: shared.isEmpty ? "the grids share no γ" : figures.joined(separator: "; "),
                                    origin: .paper(figure: "Fig. 2")), at: 3)
        } else {
            findings.insert(Finding(claim: "AdamW needs a smaller γ than SGD for the same approximation quality", rule: adamRule,
                                    held: nil, figures: "no completed SGD or AdamW runs", origin: .paper(figure: "Fig. 2")), at: 3)
        }
        return findings
    }

    public func sections(_ reader: MetricReader, size: StudySize) throws -> [ReportSection] {
        let sweep = try sweepNames(size)[0]
        let runs = reader.runs(ofSweep: sweep).filter { $0.summary.effectiveStatus == .completed }
        let bySetting = try points(reader, size: size)
        var figures: [String] = []
        // Fig. 2 is the error over steps: one plot per setting, red telescoping and grey linearized in the paper.
        for setting in Setting.allCases {
            let seed = runs.map(\.summary.seed).min()
            let ids = runs.filter { Setting($0) == setting && $0.summary.seed == seed }
                .sorted { ($0.number("optimizer.lr") ?? 0) < ($1.number("optimizer.lr") ?? 0) }.map { String($0.id) }
            guard !ids.isEmpty else { continue }
            figures.append(try PlotRequest.curves(runs: ids, keys: ["approx_err_tel", "approx_err_lin"], logY: true,
                                                  title: "\(setting.rawValue): approximation error over steps, one seed, each γ").svg(reader))
        }
        var series: [PlotSeries] = []
        for setting in Setting.allCases {
            guard let points = bySetting[setting] else { continue }
            series.append(PlotSeries(label: "\(setting.rawValue), telescoping", points: points.map { PlotPoint(x: $0.rate, y: $0.telescoping) }))
            series.append(PlotSeries(label: "\(setting.rawValue), linearized", points: points.map { PlotPoint(x: $0.rate, y: $0.linearized) }))
        }
        if !series.isEmpty {
            figures.insert(SVGPlot.render(series, options: PlotOptions(title: "largest approximation error over the run by γ (mean over seeds)",
                                                                       xLabel: "γ", yLabel: "max mean |f − model|", logX: true, logY: true)), at: 0)
        }
        let rows: [[String]] = Setting.allCases.flatMap { s in
            (bySetting[s] ?? []).map { [s.rawValue, figure($0.rate), String($0.seeds), figure($0.telescoping), figure($0.linearized), figure($0.ratio)] }
        }
        let table = ReportTable(header: ["setting", "γ", "seeds", "max approx_err_tel", "max approx_err_lin", "lin / tel"], rows: rows)
        let text = "The paper's Fig. 2 quantity, (1/|X_te|) Σ_x |f_θt(x) − model_t(x)| over the test points (lens.md (2.3)), for the telescoping model and the model linearized at θ_0: first its largest value over the run by γ per setting (means over seeds; the figures the verdicts read), then, per setting, the curves over steps of one seed at each γ."
        return [ReportSection(heading: "Approximation error", text: text, tables: [table], figures: figures, id: "approx")]
    }
}

func mean(_ values: [Double]) -> Double { values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count) }
