import Foundation

/// One axis of a plot: the interval it shows, its ticks and the map from data to a fraction of
/// its length. Linear axes get "nice" ticks (1, 2 or 5 × 10^k) and are widened to whole ticks;
/// log axes get decade ticks and are widened to whole decades.
///
///     let axis = PlotAxis(dataMin: 0.13, dataMax: 2.4, isLog: false, length: 300, spacing: 50,
///                         labelExtent: { _ in 14 })
///     axis.ticks.map(\.label)      // ["0", "0.5", "1", "1.5", "2", "2.5"]
///     axis.fraction(1.25)          // 0.5
struct PlotAxis {
    struct Tick {
        var value: Double
        var label: String
    }

    let isLog: Bool
    /// The shown interval, in data units (both > 0 on a log axis).
    let lower: Double
    let upper: Double
    /// Labelled ticks, ascending.
    let ticks: [Tick]
    /// Unlabelled ticks on log axes: 2…9 × 10^k when there are few decades, the decades between
    /// labels when there are many.
    let minorTicks: [Double]

    // The interval in the units the axis is linear in (log10 of the data on a log axis).
    private let scaledLower: Double
    private let scaledUpper: Double

    /// An axis for data in `dataMin...dataMax` (nil when there is no data: a placeholder
    /// interval, no ticks). `length` is the axis length in pixels, `spacing` the smallest distance
    /// wanted between ticks, and `labelExtent` the pixels a label occupies along the axis; ticks
    /// are thinned until labels do not collide.
    init(dataMin: Double?, dataMax: Double?, isLog: Bool, length: Double, spacing: Double,
         labelExtent: (String) -> Double) {
        self.isLog = isLog
        let length = length.isFinite ? max(length, 1) : 1
        guard let dataMin, let dataMax, dataMin.isFinite, dataMax.isFinite, dataMin <= dataMax,
              !isLog || dataMin > 0 else {
            (lower, upper) = isLog ? (1, 10) : (0, 1)
            (scaledLower, scaledUpper) = (0, 1)
            ticks = []
            minorTicks = []
            return
        }
        // Candidates from most to fewest ticks; the first whose labels do not collide wins
        // (long labels such as "1.25e-5" on a narrow x axis need fewer ticks).
        let target = max(2, min(10, Int(length / max(spacing, 1))))
        var candidates: [Layout] = []
        for t in stride(from: target, through: 2, by: -1) {
            if isLog {
                if t == target { candidates.append(PlotAxis.logLayout(dataMin, dataMax, target: t, labelMinor: true)) }
                candidates.append(PlotAxis.logLayout(dataMin, dataMax, target: t, labelMinor: false))
            } else {
                candidates.append(PlotAxis.linearLayout(dataMin, dataMax, target: t))
            }
        }
        let layout = candidates.first { PlotAxis.labelsFit($0, length: length, labelExtent: labelExtent) }
            ?? candidates[candidates.count - 1]
        (scaledLower, scaledUpper) = (layout.lower, layout.upper)
        (lower, upper) = isLog ? (pow(10, layout.lower), pow(10, layout.upper)) : (layout.lower, layout.upper)
        ticks = layout.ticks
        minorTicks = layout.minor
    }

    /// Where `value` falls along the axis: 0 at `lower`, 1 at `upper`; nil when the axis cannot
    /// show it (not finite, or not positive on a log axis). Values outside the interval give
    /// fractions outside 0...1.
    func fraction(_ value: Double) -> Double? {
        guard value.isFinite else { return nil }
        let scaled: Double
        if isLog {
            guard value > 0 else { return nil }
            scaled = log10(value)
        } else {
            scaled = value
        }
        // Halves, so that an axis from -1e308 to 1e308 has a finite span.
        let halfSpan = scaledUpper / 2 - scaledLower / 2
        guard halfSpan > 0, halfSpan.isFinite else { return 0.5 }
        return (scaled / 2 - scaledLower / 2) / halfSpan
    }

    private struct Layout {
        var lower: Double
        var upper: Double
        var ticks: [Tick]
        var minor: [Double] = []
        /// Ticks are data values but `lower`/`upper` are decades.
        var isLogScaled = false
    }

    private static func linearLayout(_ dataMin: Double, _ dataMax: Double, target: Int) -> Layout {
        // Wide enough that ticks are distinct doubles: a single value, or values equal to 1e-9
        // relative, get ±10% around their centre (±1 around zero). Spans are computed from
        // halves so that -1e308...1e308 does not overflow.
        var lo = dataMin
        var hi = dataMax
        if hi - lo <= max(abs(lo), abs(hi)) * 1e-9 {
            let mid = lo / 2 + hi / 2
            let half = mid == 0 ? 1 : min(max(abs(mid) * 0.1, 1e-300), .greatestFiniteMagnitude - abs(mid))
            lo = mid - half
            hi = mid + half
        }
        let step = niceStep((hi / 2 - lo / 2) / Double(target) * 2)
        let kLo = (lo / step).rounded(.down)
        let kHi = (hi / step).rounded(.up)
        guard step.isNormal, kLo.isFinite, kHi.isFinite, kHi - kLo <= 100, abs(kLo) < 1e15, abs(kHi) < 1e15,
              (kLo * step).isFinite, (kHi * step).isFinite else {
            // Spans at the edge of Double's range: two unrounded ticks are still honest.
            let values = [lo, hi]
            return Layout(lower: lo, upper: hi,
                          ticks: zip(values, TickLabel.labels(for: values, step: nil)).map(Tick.init))
        }
        var values: [Double] = []
        for k in Int(kLo)...Int(kHi) {
            let v = Double(k) * step
            values.append(abs(v) < step * 1e-9 ? 0 : v)   // no "-0" or 1e-17 at zero
        }
        let labels = TickLabel.labels(for: values, step: step)
        return Layout(lower: kLo * step, upper: kHi * step, ticks: zip(values, labels).map(Tick.init))
    }

    /// True when neighbouring tick labels leave at least 6 pixels between them.
    private static func labelsFit(_ layout: Layout, length: Double, labelExtent: (String) -> Double) -> Bool {
        let halfSpan = layout.upper / 2 - layout.lower / 2
        guard halfSpan > 0, layout.ticks.count > 1 else { return true }
        let scaled = layout.ticks.map { layout.isLogScaled ? log10($0.value) : $0.value }
        for i in 1..<layout.ticks.count {
            let gap = (scaled[i] / 2 - scaled[i - 1] / 2) / halfSpan * length
            let needed = (labelExtent(layout.ticks[i].label) + labelExtent(layout.ticks[i - 1].label)) / 2 + 6
            if gap < needed { return false }
        }
        return true
    }

    private static func logLayout(_ dataMin: Double, _ dataMax: Double, target: Int, labelMinor: Bool) -> Layout {
        // log10 of a positive finite Double lies in -324...309, so these are small integers.
        var dLo = Int(log10(dataMin).rounded(.down))
        var dHi = Int(log10(dataMax).rounded(.up))
        if dLo == dHi {
            // One value that is an exact power of ten: show the decade on each side of it.
            dLo -= 1
            dHi += 1
        }
        // One label every `stride` decades when there are too many decades for the length.
        var stride = 1
        for candidate in [1, 2, 5, 10, 20, 50, 100, 200] {
            stride = candidate
            if (dHi - dLo) / candidate <= target { break }
        }
        dLo = Int((Double(dLo) / Double(stride)).rounded(.down)) * stride
        dHi = Int((Double(dHi) / Double(stride)).rounded(.up)) * stride
        let decades = dHi - dLo
        var values: [Double] = []
        var minor: [Double] = []
        for d in Swift.stride(from: dLo, through: dHi, by: stride) {
            let base = pow(10, Double(d))
            values.append(base)
            // Skipped decades still get a tick, so the scale reads as logarithmic.
            if stride > 1 && decades <= 30 && d < dHi {
                minor += (1..<stride).map { pow(10, Double(d + $0)) }
            }
            guard stride == 1, d < dHi, decades <= 8 else { continue }
            for m in 2...9 {
                // With one or two decades the decade ticks alone say little: label 2× and 5× too.
                if labelMinor && decades <= 2 && (m == 2 || m == 5) { values.append(Double(m) * base) } else { minor.append(Double(m) * base) }
            }
        }
        let labels = TickLabel.labels(for: values, step: nil)
        return Layout(lower: Double(dLo), upper: Double(dHi), ticks: zip(values, labels).map(Tick.init), minor: minor,
                      isLogScaled: true)
    }

    /// The smallest 1, 2 or 5 × 10^k that is at least `raw`; 0 when `raw` is not a normal
    /// positive number (the caller falls back to unrounded ticks).
    static func niceStep(_ raw: Double) -> Double {
        guard raw.isNormal, raw > 0 else { return 0 }
        let magnitude = pow(10, log10(raw).rounded(.down))
        guard magnitude.isNormal else { return 0 }
        let f = raw / magnitude
        let nice: Double = f <= 1 + 1e-9 ? 1 : f <= 2 + 1e-9 ? 2 : f <= 5 + 1e-9 ? 5 : 10
        return nice * magnitude
    }
}

/// Compact tick labels: plain decimals for moderate magnitudes ("0.05", "2000"), `1e-4` style
/// otherwise, one style per axis so labels line up.
///
///     TickLabel.labels(for: [0, 50_000, 100_000, 150_000], step: 50_000)   // ["0", "5e4", "1e5", "1.5e5"]
///     TickLabel.labels(for: [0, 0.05, 0.1], step: 0.05)                    // ["0", "0.05", "0.1"]
enum TickLabel {
    /// Labels for tick `values`; `step` is the distance between linear ticks (it sets how many
    /// digits are needed), nil for log ticks (each label gets the digits of its own value).
    static func labels(for values: [Double], step: Double?) -> [String] {
        let magnitudes = values.map { abs($0) }.filter { $0 > 0 }
        let scientific = (magnitudes.max() ?? 0) >= 1e5 || (magnitudes.min() ?? 1) < 1e-3
        let stepExponent = step.flatMap { $0 > 0 && $0.isFinite ? Int((log10($0) + 1e-9).rounded(.down)) : nil }
        return values.map { value in
            guard value != 0, value.isFinite else { return value.isFinite ? "0" : "\(value)" }
            if scientific {
                var exponent = Int((log10(abs(value)) + 1e-9).rounded(.down))
                var mantissa = value / pow(10, Double(exponent))
                if abs(mantissa) >= 10 - 1e-9 { exponent += 1; mantissa /= 10 }
                let digits = stepExponent.map { min(max(exponent - $0, 0), 6) } ?? 3
                return "\(trimmed(fixed(mantissa, digits)))e\(exponent)"
            }
            let digits = stepExponent.map { min(max(-$0, 0), 12) }
                ?? min(max(-Int((log10(abs(value)) + 1e-9).rounded(.down)), 0), 12)
            return trimmed(fixed(value, digits))
        }
    }

    private static func fixed(_ value: Double, _ digits: Int) -> String {
        String(format: "%.\(digits)f", value)
    }

    /// "1.50" → "1.5", "2.0" → "2", "-0" → "0".
    private static func trimmed(_ text: String) -> String {
        guard text.contains(".") else { return text == "-0" ? "0" : text }
        var s = Substring(text)
        while s.hasSuffix("0") { s = s.dropLast() }
        if s.hasSuffix(".") { s = s.dropLast() }
        return s == "-0" ? "0" : String(s)
    }
}
