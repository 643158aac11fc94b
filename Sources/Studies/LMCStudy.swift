import Foundation
import Query
import Runner
import Store

/// Weight averaging and linear mode connectivity (lens.md §10, (10.2); §7 (7.6)): children
/// spawned from one parent run at step t′ and trained on with different data orders end in one
/// linearly connected basin (no error barrier along the straight line between their weights)
/// once the network's gradients stop changing, and not when spawned earlier. A parent sweep, then
/// a children sweep over spawn steps × order seeds (`examples/study-lmc*.yaml`); after them every
/// child pair is averaged along α (`WeightAveraging`).
public struct LMCStudy: Study {
    public init() {}
    public let name = "lmc"
    public let question = "Do two copies of a network, spawned from one training run at step t′ and trained on with different data orders, end in one linearly connected basin (no error barrier along the straight line between their weights) once the network's gradients stop changing, and not when spawned earlier?"

    /// "Near zero": a barrier at most this fraction of the pair's own test error (the mean of
    /// Err(θ^A_T) and Err(θ^B_T)), docs/studies.md.
    public static let nearZeroFraction = 0.02
    /// Δ of the short-window gradient change Γ(t′ + Δ, t′): how much the Jacobian still moves in
    /// the steps right after the spawn step (docs/studies.md).
    public static let window = 10
    /// Rule 2: Spearman's rank correlation of Γ(T, t′) with t′ at most this (a strong decreasing trend).
    public static let trendCorrelation = -0.8
    /// The paper's Fig. 6 rules: Spearman's rank correlation of B(t′) with the paper's gradient
    /// change grad_msc_l(t′ + epoch, t′) over the spawn steps at least this ("coincides": the
    /// barrier is large where the gradients still change much, docs/studies.md).
    public static let coincidenceCorrelation = 0.7

    public func sweepPresets(_ size: StudySize) -> [String] {
        [size.preset("study-lmc-parent"), size.preset("study-lmc")]
    }

    /// Averages every child pair of the children sweep and records its barrier (idempotent).
    public func afterSweeps(databasePath: String, size: StudySize, progress: (String) -> Void) throws {
        let children = try sweepNames(size)[1]
        let db = try Database(path: databasePath, mode: .readOnly)
        let (pairs, unpaired) = try WeightAveraging.pairs(in: db, sweep: children)
        try db.close()
        for run in unpaired { progress("run \(run) has no partner with another order seed: not averaged") }
        for pair in pairs {
            let result = try WeightAveraging.record(pair, databasePath: databasePath)
            progress("spawn step \(pair.step): runs \(pair.childA) and \(pair.childB) averaged, barrier \(figure(result.barrier))")
        }
    }

    /// One spawn step's figures, means over its pairs.
    struct SpawnStep {
        var step: Int
        var pairs: Int
        /// B(t′) on test MSE (`lmc_barrier`) per pair, and on the error rate when classified.
        var barriers: [Double]
        var errorBarriers: [Double]
        /// The pairs' mean endpoint error, (Err(θ^A_T) + Err(θ^B_T)) / 2, test MSE.
        var endpointError: Double
        /// Γ(T, t′): per layer, the mean over the pair's two children of grad_change/l at T.
        var layerChange: [Double]
        /// Γ(t′ + Δ, t′) likewise, at the first recorded step ≥ t′ + Δ.
        var layerWindowChange: [Double]
        /// The paper's measure, per layer: grad_msc/l, the mean squared change of ∇_θ f over the
        /// epoch after t′ on the test probe (lens.md (7.8)), mean over the pair's two children.
        var layerMSC: [Double]
        /// Err(θ_α) along α (test MSE, and error rate), means over pairs.
        var mseAlongPath: [Double]
        var errorAlongPath: [Double]?

        var barrier: Double { mean(barriers) }
        /// Γ(T, t′) averaged over layers.
        var gradientChange: Double { mean(layerChange) }
        /// Γ(t′ + Δ, t′) averaged over layers.
        var windowChange: Double { mean(layerWindowChange) }
        var isNearZero: Bool { barrier <= LMCStudy.nearZeroFraction * endpointError }
    }

    /// The children sweep's pairs, by spawn step (only pairs whose barrier is recorded).
    func spawnSteps(_ reader: MetricReader, size: StudySize) throws -> [SpawnStep] {
        let sweep = try sweepNames(size)[1]
        let db = reader.catalog.archive.database
        let pairs = try WeightAveraging.pairs(in: db, sweep: sweep).pairs
        func last(_ run: Int64, _ key: String) throws -> Double? { try db.scalars(run: run, key: key).last?.value }
        // The layers of this study's networks: the per-layer keys its children recorded, not every
        // such key in the file (the demo's one database also holds other studies' deeper networks).
        func recordedLayerKeys(_ prefix: String) throws -> [String] {
            guard let child = pairs.first?.childA else { return [] }
            return try reader.catalog.keyIDs.keys.filter { $0.hasPrefix(prefix) }
                .filter { try last(child, $0) != nil }
                .sorted { (Int($0.dropFirst(prefix.count)) ?? 0) < (Int($1.dropFirst(prefix.count)) ?? 0) }
        }
        let layerKeys = try recordedLayerKeys("grad_change/"), mscKeys = try recordedLayerKeys("grad_msc/")
        func first(_ run: Int64, _ key: String, from step: Int) throws -> Double? {
            try db.scalars(run: run, key: key).first { $0.step >= step }?.value
        }
        var byStep: [Int: [(barrier: Double, errorBarrier: Double?, endpoints: Double, layers: [Double], window: [Double],
                            msc: [Double], mse: [Double], rates: [Double]?)]] = [:]
        for pair in pairs {
            guard let barrier = try last(pair.childA, WeightAveraging.barrierKey) else { continue }
            let mse = try WeightAveraging.alphas.map { try last(pair.childA, WeightAveraging.mseKey($0)) ?? .nan }
            let rates = try WeightAveraging.alphas.map { try last(pair.childA, WeightAveraging.errorKey($0)) }
            let layers = try layerKeys.map { key in
                mean(try [pair.childA, pair.childB].compactMap { try last($0, key) })
            }
            let window = try layerKeys.map { key in
                mean(try [pair.childA, pair.childB].compactMap { try first($0, key, from: pair.step + Self.window) })
            }
            let msc = try mscKeys.map { key in
                mean(try [pair.childA, pair.childB].compactMap { try last($0, key) })
            }
            byStep[pair.step, default: []].append((barrier, try last(pair.childA, WeightAveraging.errorBarrierKey),
                                                   (mse.first! + mse.last!) / 2, layers, window, msc, mse,
                                                   rates.allSatisfy { $0 != nil } ? rates.map { $0! } : nil))
        }
        return byStep.keys.sorted().map { step in
            let group = byStep[step]!
            let rates = group.compactMap(\.rates)
            return SpawnStep(step: step, pairs: group.count, barriers: group.map(\.barrier),
                             errorBarriers: group.compactMap(\.errorBarrier), endpointError: mean(group.map(\.endpoints)),
                             layerChange: (0..<layerKeys.count).map { l in mean(group.map { $0.layers[l] }) },
                             layerWindowChange: (0..<layerKeys.count).map { l in mean(group.map { $0.window[l] }) },
                             layerMSC: (0..<mscKeys.count).map { l in mean(group.map { $0.msc[l] }) },
                             mseAlongPath: (0..<WeightAveraging.alphas.count).map { i in mean(group.map { $0.mse[i] }) },
                             errorAlongPath: rates.count == group.count ? (0..<WeightAveraging.alphas.count).map { i in mean(rates.map { $0[i] }) } : nil)
        }
    }

    public func findings(_ reader: MetricReader, size: StudySize) throws -> [Finding] {
        let steps = try spawnSteps(reader, size: size)
        let near = "B(t′) ≤ \(figure(Self.nearZeroFraction * 100))% of the pair's test MSE"
        let claims: [(String, FindingOrigin)] = [
            ("the barrier falls to near zero for late spawn steps", .paper(figure: "Fig. 6")),
            ("the barrier vanishes as the model gradients become more stable, across all layers", .paper(figure: "Fig. 6")),
            ("the appearance of LMC correlates with the stabilization of the output layer's gradients", .paper(figure: "Fig. 6")),
            ("the gradient change still to come after t′, Γ(T, t′), falls as t′ grows", .tlens),
            ("the barrier is near zero exactly where Γ(T, t′) is small", .tlens),
            ("the barrier is near zero exactly where the gradients have stopped changing fast, Γ(t′ + \(Self.window), t′) small", .tlens)]
        guard let first = steps.first, let last = steps.last, steps.count >= 3 else {
            let why = "\(steps.count) spawn steps with a recorded barrier (need 3)"
            return claims.map { Finding(claim: $0.0, rule: "—", held: nil, figures: why, origin: $0.1) }
        }
        func at(_ s: SpawnStep) -> String { "t′=\(s.step)" }

        // Rule 1: the barrier at the last spawn step is below the first's and near zero.
        let falls = Finding(
            claim: claims[0].0,
            rule: "B(t′) at the last spawn step < B at the first (t′ = \(first.step)), and \(near) there (means over pairs; Err = test MSE)",
            held: last.barrier < first.barrier && last.isNearZero,
            figures: "B = \(figure(first.barrier)) at \(at(first)) (\(figure(100 * first.barrier / first.endpointError))% of its test MSE), \(figure(last.barrier)) at \(at(last)) (\(figure(100 * last.barrier / last.endpointError))%)",
            origin: claims[0].1)

        // Rules 2 and 3 (the paper's Fig. 6, judged by rank instead of by eye): B(t′) and the
        // paper's gradient change over the epoch after t′ rise and fall together over the spawn
        // steps, in every layer, and in the output layer on its own.
        let layers = steps.map(\.layerMSC.count).min() ?? 0
        let measured = steps.filter { s in s.layerMSC.count == layers && s.layerMSC.allSatisfy(\.isFinite) }
        func coincidence(_ claim: (String, FindingOrigin), _ chosen: [Int], _ what: String) -> Finding {
            let rule = "Spearman's rank correlation over the spawn steps of B(t′) with grad_msc_l(t′ + epoch, t′) (lens.md (7.8); means over both children of each pair, then the pairs) ≥ \(figure(Self.coincidenceCorrelation)) for \(what)"
            guard layers > 0, measured.count >= 3 else {
                return Finding(claim: claim.0, rule: rule, held: nil,
                               figures: "\(measured.count) spawn steps with grad_msc recorded on every layer (need 3)", origin: claim.1)
            }
            let barriers = measured.map(\.barrier)
            let correlations = chosen.map { l in (l, spearman(barriers, measured.map { $0.layerMSC[l] })) }
            let held = correlations.allSatisfy { $0.1 >= Self.coincidenceCorrelation }
            let text = correlations.map { "ρ_\($0.0 + 1) = \(figure($0.1))" }.joined(separator: ", ")
            let output = measured.map { "\(figure($0.layerMSC[chosen.last!])) at \(at($0))" }.joined(separator: ", ")
            return Finding(claim: claim.0, rule: rule, held: held,
                           figures: "\(text) over \(measured.count) spawn steps; grad_msc_\(chosen.last! + 1): \(output)", origin: claim.1)
        }
        let allLayers = coincidence(claims[1], Array(0..<max(layers, 1)), "every layer l")
        let outputLayer = coincidence(claims[2], [max(layers, 1) - 1], "the output layer l = L")

        // Rule 4: a strong decreasing trend of Γ(T, t′) (mean over layers) in t′.
        let correlation = spearman(steps.map { Double($0.step) }, steps.map(\.gradientChange))
        let trend = Finding(
            claim: claims[3].0,
            rule: "Spearman's rank correlation of Γ(T, t′) (mean over layers, both children of each pair, then the pairs) with t′ ≤ \(figure(Self.trendCorrelation))",
            held: correlation <= Self.trendCorrelation,
            figures: "ρ = \(figure(correlation)); Γ(T, t′) " + steps.map { "\(figure($0.gradientChange)) at \(at($0))" }.joined(separator: ", "),
            origin: claims[3].1)

        // Rules 5 and 6: one threshold on a gradient change separates the spawn steps with a
        // barrier from those without; with only one kind present there is nothing to separate,
        // and the rule (which asks for both) does not hold.
        func separation(_ claim: (String, FindingOrigin), _ name: String, _ value: (SpawnStep) -> Double) -> Finding {
            let flat = steps.filter(\.isNearZero), raised = steps.filter { !$0.isNearZero }
            let rule = "some threshold on \(name) separates the spawn steps: \(near) at every t′ below it and at none above it (both kinds present)"
            guard !flat.isEmpty, !raised.isEmpty else {
                return Finding(claim: claim.0, rule: rule, held: false,
                               figures: flat.isEmpty ? "no spawn step has a barrier near zero"
                                   : "the barrier is near zero at every spawn step, t′ = \(first.step) included: there is no barrier to explain",
                               origin: claim.1)
            }
            let highestFlat = flat.map(value).max()!, lowestRaised = raised.map(value).min()!
            return Finding(claim: claim.0, rule: rule, held: highestFlat < lowestRaised,
                           figures: "near zero at \(flat.map(at).joined(separator: ", ")) with \(name) ≤ \(figure(highestFlat)); a barrier at \(raised.map(at).joined(separator: ", ")) with \(name) ≥ \(figure(lowestRaised))",
                           origin: claim.1)
        }
        return [falls, allLayers, outputLayer, trend,
                separation(claims[4], "Γ(T, t′)", \.gradientChange),
                separation(claims[5], "Γ(t′ + \(Self.window), t′)", \.windowChange)]
    }

    public func sections(_ reader: MetricReader, size: StudySize) throws -> [ReportSection] {
        let steps = try spawnSteps(reader, size: size)
        guard !steps.isEmpty else { return [ReportSection(heading: "Weight averaging", text: "No child pair has a recorded barrier.", id: "lmc")] }
        // Spawn steps start at 0 and crowd near it: a log axis of t′ + 1.
        let xs = steps.map { Double($0.step + 1) }
        let xLabel = "spawn step t′ + 1"
        let layers = steps[0].layerChange.count
        let classified = steps.allSatisfy { !$0.errorBarriers.isEmpty }

        // B(t′) against t′: the mean, each pair (pairs are few: no interval), the near-zero line.
        func barrierPlot(_ values: (SpawnStep) -> [Double], title: String, yLabel: String, line: Bool) -> String {
            var series = [PlotSeries(label: "mean over pairs", points: zip(xs, steps).map { PlotPoint(x: $0, y: mean(values($1))) })]
            let pairs = steps.map { values($0).count }.max() ?? 0
            if pairs > 1 {
                for k in 0..<pairs {
                    series.append(PlotSeries(label: "pair \(k + 1)", points: zip(xs, steps).compactMap { x, s in
                        k < values(s).count ? PlotPoint(x: x, y: values(s)[k]) : nil
                    }))
                }
            }
            if line {
                series.append(PlotSeries(label: "near zero: \(figure(Self.nearZeroFraction * 100))% of the test MSE",
                                         points: zip(xs, steps).map { PlotPoint(x: $0, y: Self.nearZeroFraction * $1.endpointError) }))
            }
            return SVGPlot.render(series, options: PlotOptions(title: title, xLabel: xLabel, yLabel: yLabel, logX: true))
        }
        var figures = [barrierPlot(\.barriers, title: "error barrier B(t′) by spawn step, test MSE", yLabel: "B(t′)", line: true)]
        if classified {
            figures.append(barrierPlot(\.errorBarriers, title: "error barrier by spawn step, test error rate", yLabel: "B(t′), error rate", line: false))
        }
        let mscLayers = steps.map(\.layerMSC.count).min() ?? 0
        var header = ["t′", "pairs", "B (MSE)", "B / test MSE"] + (0..<mscLayers).map { "grad_msc_\($0 + 1)" }
            + ["Γ(T, t′)"] + (0..<layers).map { "Γ_\($0 + 1)(T, t′)" } + ["Γ(t′ + \(Self.window), t′)"]
        if classified { header.insert("B (error rate)", at: 4) }
        let rows: [[String]] = steps.map { s in
            var row = [String(s.step), String(s.pairs), figure(s.barrier), figure(s.barrier / s.endpointError)]
                + s.layerMSC.prefix(mscLayers).map { figure($0) } + [figure(s.gradientChange)]
                + s.layerChange.map { figure($0) } + [figure(s.windowChange)]
            if classified { row.insert(figure(mean(s.errorBarriers)), at: 4) }
            return row
        }
        var tables = [ReportTable(header: header, rows: rows)]
        // The shipped named query reads the same records (queries/lmc_barrier_by_spawn_step.sql).
        if let query = try? QueryLibrary.shipped("lmc_barrier_by_spawn_step"),
           let table = try? AnalysisRequest(query: query, bindings: query.bindings([])).execute(on: reader.catalog.archive, fingerprint: false).table {
            tables.append(ReportRequest.reportTable(table))
        }
        let barrierText = "B(t′) = max_α [Err(θ_α) − (α Err(θ^A_T) + (1 − α) Err(θ^B_T))] (lens.md (10.2)) for children spawned at t′, Err the test MSE on the test evaluation points (then the test error rate); the mean over pairs, each pair, and the near-zero line of the verdict rules (\(figure(Self.nearZeroFraction * 100))% of the pairs' test MSE), against t′ + 1 on a log axis. The second table is the shipped named query lmc_barrier_by_spawn_step over the whole database (tlens query lmc_barrier_by_spawn_step)."

        // Γ_l(T, t′) against t′, a series per layer and their mean; the parent's Γ_l(s, 0).
        var changeSeries = (0..<layers).map { l in
            PlotSeries(label: "layer \(l + 1)", points: zip(xs, steps).map { PlotPoint(x: $0, y: $1.layerChange[l]) })
        }
        changeSeries.append(PlotSeries(label: "mean over layers", points: zip(xs, steps).map { PlotPoint(x: $0, y: $1.gradientChange) }))
        changeSeries.append(PlotSeries(label: "Γ(t′ + \(Self.window), t′), mean over layers",
                                       points: zip(xs, steps).map { PlotPoint(x: $0, y: $1.windowChange) }))
        // The paper's Fig. 6 (2): grad_msc_l(t′ + epoch, t′) per layer, the output layer last.
        let mscSeries = (0..<mscLayers).map { l in
            PlotSeries(label: l == mscLayers - 1 ? "layer \(l + 1) (output)" : "layer \(l + 1)",
                       points: zip(xs, steps).map { PlotPoint(x: $0, y: $1.layerMSC[l]) })
        }
        var changeFigures = [SVGPlot.render(changeSeries, options: PlotOptions(title: "gradient change after the spawn step, Γ_l(T, t′)", xLabel: xLabel, yLabel: "Γ_l(T, t′)", logX: true))]
        if mscLayers > 0 {
            changeFigures.insert(SVGPlot.render(mscSeries, options: PlotOptions(title: "the paper's gradient change over the epoch after t′, grad_msc_l(t′ + epoch, t′)", xLabel: xLabel, yLabel: "mean squared change of ∇_θ f", logX: true, logY: true)), at: 0)
        }
        let parents = try sweepNames(size)[0]
        if let parent = reader.runs(ofSweep: parents).first, layers > 0 {
            changeFigures.append(try PlotRequest.curves(runs: [String(parent.id)], keys: (1...layers).map { "grad_change/\($0)" },
                                                        title: "the parent's gradient change since initialization, Γ_l(s, 0)").svg(reader))
        }
        let changeText = "First the paper's measure (its Fig. 6 (2)): grad_msc_l(t′ + epoch, t′) = mean over the first 256 test evaluation points and over the C·P_l entries of layer l's Jacobian block of (J^(l)_{t′+epoch}(x) − J^(l)_t′(x))² (lens.md (7.8)), one epoch = ⌈n/b⌉ steps, recorded once by each child, mean over both children of every pair; the output layer is the last. Then tlens's own Γ_l(T, t′) = mean over the reference points of ‖J^(l)_T(x) − J^(l)_t′(x)‖_F / ‖J^(l)_t′(x)‖_F (lens.md (7.6)): how far each layer's Jacobian still moves after the spawn step, recorded by each child as grad_change/l at T (lens.grad_ref_step = t′), mean over both children of every pair; and Γ(t′ + \(Self.window), t′), the same over only the \(Self.window) steps after t′ (how fast the gradients are still changing at t′). Beside it, the parent's own Γ_l(s, 0) over its training."

        // Err(θ_α) along α, a series per spawn step.
        func alongPath(_ values: (SpawnStep) -> [Double]?, _ what: String) -> String {
            let series = steps.compactMap { s in
                values(s).map { PlotSeries(label: "t′=\(s.step)", points: zip(WeightAveraging.alphas, $0).map { PlotPoint(x: $0, y: $1) }) }
            }
            return SVGPlot.render(series, options: PlotOptions(title: "\(what) of θ_α = α θ^A_T + (1 − α) θ^B_T", xLabel: "α", yLabel: what))
        }
        var pathFigures = [alongPath({ $0.mseAlongPath }, "test MSE")]
        if classified { pathFigures.append(alongPath({ $0.errorAlongPath }, "test error rate")) }
        let pathText = "The error of the averaged weights along the line from child B (α = 0) to child A (α = 1), one curve per spawn step (means over pairs): a bump in the middle is the barrier."

        return [ReportSection(heading: "Barrier by spawn step", text: barrierText, tables: tables, figures: figures, id: "barrier"),
                ReportSection(heading: "Gradient change after the spawn step", text: changeText, figures: changeFigures, id: "gradient-change"),
                ReportSection(heading: "Error along the averaging path", text: pathText, figures: pathFigures, id: "path")]
    }
}

/// Spearman's rank correlation (ties get their average rank); NaN with fewer than two points.
func spearman(_ x: [Double], _ y: [Double]) -> Double {
    func ranks(_ v: [Double]) -> [Double] {
        let order = v.indices.sorted { v[$0] < v[$1] }
        var r = [Double](repeating: 0, count: v.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && v[order[j + 1]] == v[order[i]] { j += 1 }
            for k in i...j { r[order[k]] = Double(i + j) / 2 + 1 }
            i = j + 1
        }
        return r
    }
    guard x.count == y.count, x.count >= 2 else { return .nan }
    let rx = ranks(x), ry = ranks(y), mx = mean(rx), my = mean(ry)
    var sxy = 0.0, sxx = 0.0, syy = 0.0
    for (a, b) in zip(rx, ry) { sxy += (a - mx) * (b - my); sxx += (a - mx) * (a - mx); syy += (b - my) * (b - my) }
    return sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : .nan
}
