import Foundation

/// How unusual an input is next to the training inputs (lens.md §10, a tlens definition): z-score
/// every feature with the training mean and standard deviation, then average the Euclidean
/// distances from the input to its 10 nearest training inputs.
///
///     let scores = Irregularity.scores(of: test.features, against: train.features, dimension: d)
///     let top10 = Irregularity.mostIrregular(scores, percent: 10)   // indices, most irregular first
public enum Irregularity {
    /// The `k` of the definition.
    public static let neighbours = 10

    /// The irregularity of each row of `points` (row-major, `dimension` columns) against the rows
    /// of `reference`, whose mean and standard deviation also z-score both. With `leaveOneOut`,
    /// `points` are the reference rows themselves and row `i` is not its own neighbour (the
    /// training points' irregularity). A column with zero spread is centred only. When there are
    /// fewer than `k` candidates, the mean is over all of them.
    public static func scores(of points: [Float], against reference: [Float], dimension d: Int,
                              k: Int = neighbours, leaveOneOut: Bool = false) -> [Double] {
        precondition(d > 0 && points.count % d == 0 && reference.count % d == 0, "rows of \(d) features")
        let m = points.count / d, n = reference.count / d
        precondition(!leaveOneOut || m == n, "leave-one-out scores the reference rows themselves")
        guard n > 0 else { return [Double](repeating: .nan, count: m) }
        var mean = [Double](repeating: 0, count: d), scale = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += Double(reference[i * d + j]) } }
        for j in 0..<d { mean[j] /= Double(n) }
        for i in 0..<n { for j in 0..<d { let v = Double(reference[i * d + j]) - mean[j]; scale[j] += v * v } }
        for j in 0..<d {
            let sd = (scale[j] / Double(n)).squareRoot()
            scale[j] = sd > 0 ? 1 / sd : 1
        }
        func standardized(_ x: [Float], _ rows: Int) -> [Double] {
            var z = [Double](repeating: 0, count: rows * d)
            for i in 0..<rows { for j in 0..<d { z[i * d + j] = (Double(x[i * d + j]) - mean[j]) * scale[j] } }
            return z
        }
        let zr = standardized(reference, n), zp = leaveOneOut ? zr : standardized(points, m)
        let kept = min(k, leaveOneOut ? n - 1 : n)
        guard kept > 0 else { return [Double](repeating: .nan, count: m) }
        var result = [Double](repeating: 0, count: m)
        // The `kept` smallest squared distances, ascending: insertion into a short sorted buffer
        // costs O(k) only when a candidate beats the current k-th, so a pass is O(n·d) per point.
        var nearest = [Double](repeating: .infinity, count: kept)
        zr.withUnsafeBufferPointer { r in
            zp.withUnsafeBufferPointer { p in
                for i in 0..<m {
                    for s in 0..<kept { nearest[s] = .infinity }
                    let x = p.baseAddress! + i * d
                    for j in 0..<n where !(leaveOneOut && j == i) {
                        let y = r.baseAddress! + j * d
                        var squared = 0.0
                        for c in 0..<d { let v = x[c] - y[c]; squared += v * v }
                        guard squared < nearest[kept - 1] else { continue }
                        var s = kept - 1
                        while s > 0 && nearest[s - 1] > squared { nearest[s] = nearest[s - 1]; s -= 1 }
                        nearest[s] = squared
                    }
                    result[i] = nearest.reduce(0) { $0 + $1.squareRoot() } / Double(kept)
                }
            }
        }
        return result
    }

    /// How many of `count` points the top `percent`% holds: `round(percent/100 · count)`, at least
    /// one (when there are points), at most all.
    public static func setSize(percent: Double, of count: Int) -> Int {
        guard count > 0 else { return 0 }
        return min(count, max(1, Int((percent / 100 * Double(count)).rounded())))
    }

    /// The indices of the top `percent`% most irregular points, most irregular first (ties in
    /// index order).
    public static func mostIrregular(_ scores: [Double], percent: Double) -> [Int] {
        let order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        return Array(order.prefix(setSize(percent: percent, of: scores.count)))
    }
}

/// The normalized maximum kernel weight norm (lens.md (10.1)):
///
///     κ(x) = max_t ω_t(x) / mean_{x'∈train} max_t ω_t(x')
///
/// over the recorded states `t`, with `ω` the stored `kwn` vectors (lens.md (6.2), (9.7)).
public enum KernelWeightNorm {
    /// `max_t ω_t(x)` per point; `states` holds one `kwn` vector per recorded state, all of one
    /// split (so of one length). Empty when no state was recorded.
    public static func maximumOverStates(_ states: [[Float]]) -> [Double] {
        guard let first = states.first else { return [] }
        var maximum = first.map(Double.init)
        for state in states.dropFirst() {
            precondition(state.count == maximum.count, "kwn vectors of one split have one length")
            for i in maximum.indices where Double(state[i]) > maximum[i] { maximum[i] = Double(state[i]) }
        }
        return maximum
    }

    /// κ of each point of `points` (its `max_t ω_t`), normalized by the mean of `train`'s
    /// `max_t ω_t` over the training evaluation points. NaN when that mean is not positive.
    public static func normalizedMaximum(points: [Double], train: [Double]) -> [Double] {
        let denominator = train.isEmpty ? .nan : train.reduce(0, +) / Double(train.count)
        guard denominator > 0 else { return points.map { _ in .nan } }
        return points.map { $0 / denominator }
    }
}
