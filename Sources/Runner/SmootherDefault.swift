import Foundation

/// The smoother a config gets when it does not name one.
///
/// Why not always exact: the exact smoother's cost grows with the square of n·C. On kernel
/// products (plain SGD) each step is one (|U|·C) × (n·C) × (b·C) GEMM and Ŝ holds
/// |U|·C × n·C floats; on label sensitivities (any other optimizer) it carries n·C directions,
/// each a batch VJP and a JVP over U. For digits (n·C ≈ 14,000) that is about 13 s and 1.6 GB per
/// step — hours for a minimal config. Rademacher probes cost k directions whatever n is and give
/// an unbiased `p` with its standard error (telescoping.md §8), so they are the default wherever
/// exact is not cheap. Where it is cheap — n·C in the hundreds, e.g. a two-class subset — exact
/// is kept: no estimator noise, and Ŝ itself is available.
///
/// "Cheap" is measured, not guessed from n·C: exact must add at most `exactSecondsPerStep` per
/// step on this machine (its smoother update plus the per-step kernel blocks K(U, B) it forces,
/// from `RunCostModel` at the calibrated rates) and at most `exactMemoryShare` of the memory
/// budget, leaving the rest to kernels, workspaces and the recorder.
///
///     let choice = SmootherDefault.choose(for: shape, memoryBudgetBytes: 4096 * 1_048_576)
///     options.smoother = choice.smoother.mode; options.probes = choice.probes
public enum SmootherDefault {
    public static let probes = 32
    /// At 1,000 default steps, 0.05 s/step keeps exact's share of a run under a minute.
    public static let exactSecondsPerStep = 0.05
    public static let exactMemoryShare = 0.25

    public struct Choice: Sendable, Equatable {
        public var smoother: RunShape.Smoother
        public var probes: Int
        /// One clause for logs: what exact would cost and against which limit.
        public var reason: String
    }

    /// The default for `shape` (its own `smoother` and `probes` are ignored). A pure function of
    /// its arguments: pass `rate` for a fixed answer (tests), or let it default to this machine's.
    public static func choose(for shape: RunShape, memoryBudgetBytes: Double,
                              rate: GEMMRate = RunCostModel.calibrated) -> Choice {
        var exact = shape, off = shape, probe = shape
        exact.smoother = .exact
        off.smoother = .off
        probe.smoother = .probes
        probe.probes = probes
        let base = RunCostModel.estimate(off, rate: rate)
        let e = RunCostModel.estimate(exact, rate: rate)
        let seconds = e.secondsPerStep - base.secondsPerStep
        let bytes = e.peakBytes - base.peakBytes
        let nc = shape.trainCount * shape.outputs
        let cost = "exact over n·C = \(nc) label directions ≈ \(String(format: "%.3g", seconds)) s/step, \(formatBytes(bytes))"
        if seconds <= exactSecondsPerStep && bytes <= exactMemoryShare * memoryBudgetBytes {
            return Choice(smoother: .exact, probes: probes, reason: cost)
        }
        let limit = seconds > exactSecondsPerStep
            ? "over \(exactSecondsPerStep) s/step" : "over 1/\(Int(1 / exactMemoryShare)) of the memory budget"
        let p = RunCostModel.estimate(probe, rate: rate)
        if p.peakBytes - base.peakBytes > memoryBudgetBytes {
            return Choice(smoother: .off, probes: probes, reason: "\(cost) (\(limit)); \(probes) probes exceed the memory budget too")
        }
        return Choice(smoother: .probes, probes: probes, reason: "\(cost) (\(limit)); \(probes) probes instead")
    }
}

extension RunCostEstimate {
    /// The one line printed before training:
    /// `estimate: 0.031 s/step × 1000 steps ≈ 31 s (kernels 61%, smoother 25%), peak memory ≈ 180 MB (smoother exact 120 MB, workspaces 40 MB)`.
    /// Parts under 5% of the time or 1 MB are left out.
    public var line: String {
        let perStep = secondsPerStep
        var text = "estimate: \(String(format: "%.3g", perStep)) s/step × \(shape.steps) steps ≈ \(formatDuration(totalSeconds))"
        let parts = Part.allCases.map { ($0, seconds($0)) }.filter { perStep > 0 && $0.1 >= 0.05 * perStep }
            .sorted { $0.1 > $1.1 }
        if !parts.isEmpty {
            text += " (" + parts.map { "\($0.0.rawValue) \(Int(($0.1 / perStep * 100).rounded()))%" }.joined(separator: ", ") + ")"
        }
        text += ", peak memory ≈ \(formatBytes(peakBytes))"
        let holdings = Holding.allCases.map { ($0, bytes[$0, default: 0]) }.filter { $0.1 >= 1_048_576 }.sorted { $0.1 > $1.1 }
        if !holdings.isEmpty {
            text += " (" + holdings.prefix(3).map { "\(label($0.0)) \(formatBytes($0.1))" }.joined(separator: ", ") + ")"
        }
        return text
    }

    private func label(_ h: Holding) -> String {
        guard h == .smoother else { return h.rawValue }
        switch shape.smoother {
        case .exact: return "smoother exact"
        case .probes: return "smoother \(shape.probes) probes"
        case .off: return "smoother"
        }
    }
}

func formatBytes(_ bytes: Double) -> String {
    let mb = bytes / 1_048_576
    if mb >= 1024 { return String(format: "%.1f GB", mb / 1024) }
    if mb >= 10 { return String(format: "%.0f MB", mb) }
    return String(format: "%.1f MB", mb)
}

func formatDuration(_ seconds: Double) -> String {
    if seconds < 1 { return String(format: "%.2f s", seconds) }
    if seconds < 90 { return String(format: "%.0f s", seconds) }
    if seconds < 5400 { return String(format: "%.1f min", seconds / 60) }
    return String(format: "%.1f h", seconds / 3600)
}
