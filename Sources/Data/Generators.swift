import Foundation
import Linalg

/// Seeded synthetic data. Every generator draws from `RandomSource(seed, .generator)` only
/// (the irregular test points of `tabular` from `.other`, so they leave the rest unchanged);
/// rowIDs are generator indices: train 0..<n_train, then test n_train..<n_train+n_test.
public enum Generators {
    /// The polynomial grokking task: x ~ N(0, I_d), y = (w·x)² − 1 for a hidden unit vector w
    /// (so E[y] = 0, Var[y] = 2); Gaussian noise of std `noise` on training targets only.
    ///
    /// Kumar et al.'s form (the paper's Fig. 4 task, telescoping.md §11): `scaledInputs` stores
    /// x/√d, so x ~ N(0, I/d), with the teacher β = √d·w (βᵀx = w·z for the unscaled z, unit
    /// variance like θ_j·x at a N(0, 1) init); `halfSquare` makes y = ½(βᵀx)². Both leave the
    /// random draws unchanged, so the default data are the same as before these options.
    public static func teacherQuadratic(nTrain: Int, nTest: Int, dimension d: Int, noise: Double,
                                        scaledInputs: Bool = false, halfSquare: Bool = false,
                                        seed: UInt64) -> DataSplit {
        var rng = RandomSource(seed: seed, stream: .generator)
        var w = (0..<d).map { _ in rng.normal() }
        let norm = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
        w = w.map { $0 / norm }
        let inputScale = scaledInputs ? 1 / Double(d).squareRoot() : 1
        func make(_ n: Int, offset: Int, noisy: Bool) -> Dataset {
            var x = [Float](), y = [Float]()
            x.reserveCapacity(n * d)
            for _ in 0..<n {
                var dot = 0.0
                for j in 0..<d { let v = rng.normal(); dot += w[j] * v; x.append(Float(v * inputScale)) }
                let clean = halfSquare ? 0.5 * dot * dot : dot * dot - 1
                y.append(Float(clean + (noisy && noise > 0 ? noise * rng.normal() : 0)))
            }
            return Dataset(name: "teacher-quadratic", features: x, count: n, dimension: d, targets: y,
                           targetDimension: 1, rowIDs: Array(offset..<(offset + n)))
        }
        let train = make(nTrain, offset: 0, noisy: true)
        return DataSplit(train: train, test: make(nTest, offset: nTrain, noisy: false))
    }

    public enum ModularOperation: String, Sendable, CaseIterable {
        case add = "+", subtract = "-", multiply = "*", divide = "/"
    }

    /// All pairs (a, b) of 0..<p (for ÷, b ≠ 0 and p must be prime) with label a∘b mod p;
    /// features are one-hot a followed by one-hot b (2p); rowID = a·p + b. Unsplit: the
    /// factory splits it by `train_fraction`.
    public static func modularPairs(p: Int, op: ModularOperation) throws -> Dataset {
        if op == .divide {
            guard p >= 2, (2..<p).allSatisfy({ d in d * d > p || p % d != 0 }) else {
                throw DataError("modular", option: "p", "division needs a prime modulus, got \(p)")
            }
        }
        func power(_ base: Int, _ e: Int) -> Int {
            var result = 1, b = base % p, e = e
            while e > 0 { if e & 1 == 1 { result = result * b % p }; b = b * b % p; e >>= 1 }
            return result
        }
        var features = [Float](), labels = [Int](), rowIDs = [Int]()
        for a in 0..<p {
            for b in 0..<p {
                let c: Int
                switch op {
                case .add: c = (a + b) % p
                case .subtract: c = ((a - b) % p + p) % p
                case .multiply: c = a * b % p
                case .divide:
                    if b == 0 { continue }
                    c = a * power(b, p - 2) % p   // Fermat: b^(p−2) = b⁻¹ mod prime p
                }
                var row = [Float](repeating: 0, count: 2 * p)
                row[a] = 1; row[p + b] = 1
                features += row
                labels.append(c)
                rowIDs.append(a * p + b)
            }
        }
        return Dataset(name: "modular", features: features, count: labels.count, dimension: 2 * p,
                       targets: [], targetDimension: 0, labels: labels, classCount: p, rowIDs: rowIDs)
    }

    /// Gamma(shape, 1) by Marsaglia–Tsang (2000), boosted for shape < 1.
    static func gamma(_ shape: Double, _ rng: inout RandomSource) -> Double {
        if shape < 1 { return gamma(shape + 1, &rng) * pow(rng.uniform(), 1 / shape) }
        let d = shape - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            var x = 0.0, v = 0.0
            repeat { x = rng.normal(); v = 1 + c * x } while v <= 0
            v = v * v * v
            let u = rng.uniform()
            if u < 1 - 0.0331 * x * x * x * x || log(u) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }

    /// Student-t with `df` degrees of freedom, scaled to unit variance when df > 2.
    static func studentT(_ df: Double, _ rng: inout RandomSource) -> Double {
        let z = rng.normal()
        let chi2 = 2 * gamma(df / 2, &rng)
        let t = z / (chi2 / df).squareRoot()
        return df > 2 ? t * ((df - 2) / df).squareRoot() : t
    }

    /// Tabular regression with heavy tails and correlation: independent Student-t draws e_j
    /// mixed as AR(1), x_1 = e_1, x_j = ρ x_{j−1} + √(1−ρ²) e_j; target
    /// y = w·x + Σ u_j sin(x_j) + tanh(x_1 x_2) with w, u ~ N(0, 1/d), noise on train only.
    /// `round(irregularFraction · nTest)` test points (chosen on stream `.other`) get one
    /// innovation e_j replaced by ±(shift + |e_j|), which the AR(1) carries along the following
    /// features: far out along a heavy-tailed direction (lens.md §10 irregularity).
    public static func tabular(nTrain: Int, nTest: Int, dimension d: Int, df: Double, correlation rho: Double,
                               noise: Double, irregularFraction: Double, irregularShift: Double,
                               seed: UInt64) -> DataSplit {
        var rng = RandomSource(seed: seed, stream: .generator)
        let scale = 1 / Double(d).squareRoot()
        let w = (0..<d).map { _ in rng.normal() * scale }
        let u = (0..<d).map { _ in rng.normal() * scale }
        let m = Int((irregularFraction * Double(nTest)).rounded())
        var irregularRng = RandomSource(seed: seed, stream: .other)
        let irregular = Set(irregularRng.permutation(nTest).prefix(m).map { nTrain + $0 })
        let mix = (1 - rho * rho).squareRoot()
        var features = [Float](), targets = [Float]()
        features.reserveCapacity((nTrain + nTest) * d)
        for i in 0..<(nTrain + nTest) {
            var e = (0..<d).map { _ in studentT(df, &rng) }
            let eps = rng.normal()
            if irregular.contains(i) {
                let j = irregularRng.integer(below: d)
                let sign: Double = irregularRng.nextUInt32() & 1 == 0 ? 1 : -1
                e[j] = sign * (irregularShift + abs(e[j]))
            }
            var x = [Double](repeating: 0, count: d)
            x[0] = e[0]
            for j in 1..<d { x[j] = rho * x[j - 1] + mix * e[j] }
            var y = tanh(x[0] * x[1])
            for j in 0..<d { y += w[j] * x[j] + u[j] * sin(x[j]) }
            if i < nTrain { y += noise * eps }
            features += x.map(Float.init)
            targets.append(Float(y))
        }
        let all = Dataset(name: "tabular", features: features, count: nTrain + nTest, dimension: d,
                          targets: targets, targetDimension: 1)
        var split = DataSplit(train: all.subset(Array(0..<nTrain)), test: all.subset(Array(nTrain..<(nTrain + nTest))))
        split.irregularTestRowIDs = irregular.sorted()
        return split
    }

    /// k balanced classes (label of generator index i is i mod k, within train and within
    /// test), x = μ_label + N(0, I_d) with μ_c = separation · (a random unit vector).
    public static func gaussianMixture(nTrain: Int, nTest: Int, classes k: Int, dimension d: Int,
                                       separation: Double, seed: UInt64) -> DataSplit {
        var rng = RandomSource(seed: seed, stream: .generator)
        var means: [[Double]] = []
        for _ in 0..<k {
            let v = (0..<d).map { _ in rng.normal() }
            let norm = Swift.max(v.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
            means.append(v.map { separation * $0 / norm })
        }
        func make(_ n: Int, offset: Int) -> Dataset {
            var x = [Float](), labels = [Int]()
            x.reserveCapacity(n * d)
            for i in 0..<n {
                let c = i % k
                for j in 0..<d { x.append(Float(means[c][j] + rng.normal())) }
                labels.append(c)
            }
            return Dataset(name: "gaussian-mixture", features: x, count: n, dimension: d, targets: [], targetDimension: 0,
                           labels: labels, classCount: k, rowIDs: Array(offset..<(offset + n)))
        }
        let train = make(nTrain, offset: 0)
        return DataSplit(train: train, test: make(nTest, offset: nTrain))
    }
}
