import Foundation
import Linalg

/// MNIST-1D (Greydanus & Kobak, "Scaling down deep learning with MNIST-1D", 2020/2024), generated
/// here from the paper's description: each of 10 one-dimensional digit templates is padded with
/// zeros, stretched, scaled, shifted, given correlated background noise and white noise,
/// sheared, and resampled to 40 points (data/README.md, "mnist1d"). Draws come from
/// `RandomSource(seed, .generator)`, so the numbers are not those of the original's pickle
/// (numpy, seed 42), only their distribution.
public enum MNIST1D {
    /// The settings of the original's `get_dataset_args`, each a `data:` option of `mnist1d`.
    public struct Settings: Sendable, Equatable {
        public var samples = 5000
        public var padding = (low: 36, high: 60)
        public var scaleCoefficient = 0.4
        public var maxTranslation = 48
        public var correlatedNoiseScale = 0.25
        public var iidNoiseScale = 0.02
        public var shearScale = 0.75
        public var finalLength = 40
        public init() {}
        public static func == (a: Settings, b: Settings) -> Bool {
            a.samples == b.samples && a.padding == b.padding && a.scaleCoefficient == b.scaleCoefficient
                && a.maxTranslation == b.maxTranslation && a.correlatedNoiseScale == b.correlatedNoiseScale
                && a.iidNoiseScale == b.iidNoiseScale && a.shearScale == b.shearScale && a.finalLength == b.finalLength
        }
    }

    /// The 12-point digit outlines of the original (its `get_templates`), 0…9, before scaling.
    static let rawTemplates: [[Double]] = [
        [5, 6, 6.5, 6.75, 7, 7, 7, 7, 6.75, 6.5, 6, 5],
        [5, 3, 3, 3.4, 3.8, 4.2, 4.6, 5, 5.4, 5.8, 5, 5],
        [5, 6, 6.5, 6.5, 6, 5.25, 4.75, 4, 3.5, 3.5, 4, 5],
        [5, 6, 6.5, 6.5, 6, 5, 5, 6, 6.5, 6.5, 6, 5],
        [5, 4.4, 3.8, 3.2, 2.6, 2.6, 5, 5, 5, 5, 5, 5],
        [5, 3, 3, 3, 3, 5, 6, 6.5, 6.5, 6, 4.5, 5],
        [5, 4, 3.5, 3.25, 3, 3, 3, 3, 3.25, 3.5, 4, 5],
        [5, 7, 7, 6.6, 6.2, 5.8, 5.4, 5, 4.6, 4.2, 5, 5],
        [5, 4, 3.5, 3.5, 4, 5, 5, 4, 3.5, 3.5, 4, 5],
        [5, 4, 3.5, 3.5, 4, 5, 5, 5, 5, 4.7, 4.3, 5],
    ]

    /// Each outline z-scored (population std), shifted to start at 0, divided by 6 — so every
    /// digit starts and ends at 0 and the padding joins it without a step.
    public static let templates: [[Double]] = rawTemplates.map { x in
        let mean = x.reduce(0, +) / Double(x.count)
        let sd = (x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(x.count)).squareRoot()
        let z = x.map { ($0 - mean) / sd }
        return z.map { ($0 - z[0]) / 6 }
    }

    /// Added to every template value before padding, so the template's own zeros are not taken
    /// for background when the correlated noise fills the zero-valued (padding) points.
    static let templateOffset = 1e-8

    /// `x` resampled linearly to `n` points spread evenly over its first to last point.
    static func resample(_ x: [Double], to n: Int) -> [Double] {
        guard x.count > 1 else { return [Double](repeating: x.first ?? 0, count: n) }
        guard n > 1 else { return [x[0]] }
        var out = [Double](repeating: 0, count: n)
        let step = Double(x.count - 1) / Double(n - 1)
        for i in 0..<n {
            let position = Double(i) * step
            let k = min(Int(position), x.count - 2)
            let f = position - Double(k)
            out[i] = x[k] * (1 - f) + x[k + 1] * f
        }
        return out
    }

    /// A Gaussian blur of standard deviation `sigma` samples, kernel cut at 4σ, edges mirrored
    /// (d c b a | a b c d | d c b a): the correlated noise of the description.
    static func gaussianSmooth(_ x: [Double], sigma: Double) -> [Double] {
        let radius = Int(4 * sigma + 0.5)
        var kernel = [Double](repeating: 0, count: 2 * radius + 1)
        var total = 0.0
        for k in -radius...radius { kernel[k + radius] = exp(-0.5 * Double(k * k) / (sigma * sigma)); total += kernel[k + radius] }
        let n = x.count
        var out = [Double](repeating: 0, count: n)
        for i in 0..<n {
            var v = 0.0
            for k in -radius...radius {
                var j = i + k
                while j < 0 || j >= n { j = j < 0 ? -j - 1 : 2 * n - j - 1 }
                v += kernel[k + radius] * x[j]
            }
            out[i] = v / total
        }
        return out
    }

    /// One example of `template`: pad → stretch → scale → translate → noise → shear → resample.
    static func example(_ template: [Double], _ s: Settings, _ rng: inout RandomSource) -> [Double] {
        // Pad with p zeros, p uniform in low…high, then stretch to template + high points: the more
        // padding, the more the digit is squeezed into the left of the signal.
        let p = s.padding.low + Int(rng.uniform() * Double(s.padding.high - s.padding.low + 1))
        let length = template.count + s.padding.high
        var padded = [Double](repeating: 0, count: template.count + p)
        for (i, v) in template.enumerated() { padded[i] = v + templateOffset }
        let stretched = resample(padded, to: length)
        let scale = 1 + s.scaleCoefficient * (rng.uniform() - 0.5)
        // Circular shift right by k, uniform in 0..<max_translation.
        let k = min(Int(rng.uniform() * Double(s.maxTranslation)), s.maxTranslation - 1)
        var x = [Double](repeating: 0, count: length)
        for i in 0..<length { x[(i + k) % length] = stretched[i] * scale }
        // Background (exact zeros: padding) replaced by smoothed noise; white noise everywhere.
        var noise = [Double](repeating: 0, count: length)
        for i in 0..<length { noise[i] = s.correlatedNoiseScale * rng.normal() }
        let correlated = gaussianSmooth(noise, sigma: 2)
        for i in 0..<length where x[i] == 0 { x[i] = correlated[i] }
        for i in 0..<length { x[i] += s.iidNoiseScale * rng.normal() }
        // Shear: subtract a line through the middle with slope coeff, coeff uniform in ±shear/2.
        let coefficient = s.shearScale * (rng.uniform() - 0.5)
        for i in 0..<length { x[i] -= coefficient * (Double(i) / Double(length - 1) - 0.5) }
        return resample(x, to: s.finalLength)
    }

    /// `samples / 10` examples of each digit (class-major: rowID = digit · perClass + k), then all
    /// values z-scored together with the data set's mean and standard deviation (as the
    /// original does, over train and test alike, before its 80/20 split).
    public static func generate(_ s: Settings, seed: UInt64) -> Dataset {
        var rng = RandomSource(seed: seed, stream: .generator)
        let perClass = s.samples / templates.count
        var values: [Double] = [], labels: [Int] = []
        values.reserveCapacity(perClass * templates.count * s.finalLength)
        for (digit, template) in templates.enumerated() {
            for _ in 0..<perClass {
                values += example(template, s, &rng)
                labels.append(digit)
            }
        }
        var sum = 0.0
        for v in values { sum += v }
        let mean = sum / Double(max(values.count, 1))
        var squares = 0.0
        for v in values { squares += (v - mean) * (v - mean) }
        let sd = (squares / Double(max(values.count, 1))).squareRoot()
        var features = [Float](repeating: 0, count: values.count)
        for (i, v) in values.enumerated() { features[i] = Float(sd > 0 ? (v - mean) / sd : v - mean) }
        return Dataset(name: "mnist1d", features: features, count: labels.count, dimension: s.finalLength,
                       targets: [], targetDimension: 0, labels: labels, classCount: templates.count)
    }
}
