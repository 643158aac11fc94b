import Foundation

/// A metric aggregated over the seeds of one group (docs/metrics.md, "Aggregating over seeds"):
/// mean, sample standard deviation (n − 1), count, and the 95% confidence interval of the mean
/// by Student's t, `mean ± t_{0.975, n−1} · sd / √n`. Missing values (NaN) are left out and
/// not counted.
///
///     let s = SeedStatistics([0.10, 0.12, 0.11])   // mean 0.11, sd 0.01, ci95 0.0248
public struct SeedStatistics: Equatable {
    public let count: Int
    public let mean: Double
    /// NaN for fewer than two values.
    public let standardDeviation: Double
    /// Half-width of the 95% interval; NaN for fewer than two values.
    public let ci95: Double

    public init(_ values: [Double]) {
        let finite = values.filter(\.isFinite)
        count = finite.count
        mean = finite.isEmpty ? .nan : finite.reduce(0, +) / Double(finite.count)
        if finite.count >= 2 {
            let m = mean
            let sd = (finite.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(finite.count - 1)).squareRoot()
            standardDeviation = sd
            ci95 = studentTQuantile(0.975, degreesOfFreedom: Double(finite.count - 1)) * sd / Double(finite.count).squareRoot()
        } else {
            standardDeviation = .nan
            ci95 = .nan
        }
    }
}

/// The p-quantile of Student's t with ν degrees of freedom, by bisection on its CDF
/// `F(t) = 1 − ½ I_{ν/(ν+t²)}(ν/2, ½)` for t ≥ 0 (I the regularized incomplete beta function).
/// Checked against tables in the tests (t_{0.975,1} = 12.706, t_{0.975,10} = 2.228).
public func studentTQuantile(_ p: Double, degreesOfFreedom nu: Double) -> Double {
    guard p > 0, p < 1, nu > 0 else { return .nan }
    if p < 0.5 { return -studentTQuantile(1 - p, degreesOfFreedom: nu) }
    func cdf(_ t: Double) -> Double { 1 - 0.5 * regularizedIncompleteBeta(nu / (nu + t * t), a: nu / 2, b: 0.5) }
    var lo = 0.0, hi = 1.0
    while cdf(hi) < p && hi < 1e12 { hi *= 2 }
    for _ in 0..<200 {
        let mid = (lo + hi) / 2
        if cdf(mid) < p { lo = mid } else { hi = mid }
        if hi - lo < 1e-12 * max(1, hi) { break }
    }
    return (lo + hi) / 2
}

/// I_x(a, b) by the continued fraction of Lentz's method (converges for x < (a+1)/(a+b+2);
/// the symmetry I_x(a,b) = 1 − I_{1−x}(b,a) covers the rest).
func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
    if x <= 0 { return 0 }
    if x >= 1 { return 1 }
    let logBeta: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
    let logFront: Double = logBeta + a * log(x) + b * log(1 - x)
    if x > (a + 1) / (a + b + 2) { return 1 - regularizedIncompleteBeta(1 - x, a: b, b: a) }
    let tiny = 1e-300
    var c = 1.0, d = 1 - (a + b) * x / (a + 1)
    if abs(d) < tiny { d = tiny }
    d = 1 / d
    var f = d
    for m in 1...300 {
        let m = Double(m)
        // Even step, then odd step of the continued fraction.
        var numerator = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        d = 1 + numerator * d; if abs(d) < tiny { d = tiny }
        c = 1 + numerator / c; if abs(c) < tiny { c = tiny }
        d = 1 / d; f *= c * d
        numerator = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        d = 1 + numerator * d; if abs(d) < tiny { d = tiny }
        c = 1 + numerator / c; if abs(c) < tiny { c = tiny }
        d = 1 / d
        let delta = c * d
        f *= delta
        if abs(delta - 1) < 1e-15 { break }
    }
    return exp(logFront) * f / a
}
