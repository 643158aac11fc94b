import Linalg

/// The paper's held-out irregular examples (arXiv 2411.00247, App. C.2; lens.md §10): z-score
/// every feature of the whole pool with the pool's own mean and (population) standard deviation,
/// project onto the first principal component of those z-scores, and call a row's irregularity
/// the absolute distance of its score to the pool's median score. The top `fraction` of the
/// pool is removed before the train/test split — never trained on — and appended to the test
/// split, where `DataSplit.irregularTestRowIDs` names it; the rest (the regular rows) is split as
/// usual (`n_irregular` keeps a seeded subsample of the held-out rows). `validation: N` then replaces the test split by `N` rows drawn from the training rows
/// (the training pool of the lr search, docs/studies.md), so no test row is ever seen by it.
///
///     data: {source: csv, path: houses.csv, target_column: price, holdout_pc1: 0.1}
///     data: {source: csv, path: houses.csv, target_column: price, holdout_pc1: 0.1, validation: 2000}
public enum IrregularHoldout {
    /// `|s(x) − median(s)|` for each row of `features` (`dimension` columns), `s` the first
    /// principal component score of the pool's z-scored rows. A column with zero spread is
    /// centred only (it adds nothing to the component either way).
    public static func principalScores(_ features: [Float], dimension d: Int) -> [Double] {
        precondition(d > 0 && features.count % d == 0, "rows of \(d) features")
        let n = features.count / d
        guard n > 0 else { return [] }
        var mean = [Double](repeating: 0, count: d), scale = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += Double(features[i * d + j]) } }
        for j in 0..<d { mean[j] /= Double(n) }
        for i in 0..<n { for j in 0..<d { let v = Double(features[i * d + j]) - mean[j]; scale[j] += v * v } }
        for j in 0..<d { let sd = (scale[j] / Double(n)).squareRoot(); scale[j] = sd > 0 ? 1 / sd : 1 }
        var z = [Double](repeating: 0, count: n * d)
        for i in 0..<n { for j in 0..<d { z[i * d + j] = (Double(features[i * d + j]) - mean[j]) * scale[j] } }
        // The covariance (correlation, after z-scoring) matrix, d × d.
        var covariance = [Double](repeating: 0, count: d * d)
        for i in 0..<n {
            for a in 0..<d {
                let za = z[i * d + a]
                for b in a..<d { covariance[a * d + b] += za * z[i * d + b] }
            }
        }
        for a in 0..<d { for b in a..<d { covariance[a * d + b] /= Double(n); covariance[b * d + a] = covariance[a * d + b] } }
        let component = leadingEigenvector(covariance, dimension: d)
        var scores = [Double](repeating: 0, count: n)
        for i in 0..<n { var s = 0.0; for j in 0..<d { s += z[i * d + j] * component[j] }; scores[i] = s }
        let centre = median(scores)
        return scores.map { abs($0 - centre) }
    }

    /// The eigenvector of the largest eigenvalue of a symmetric matrix, by cyclic Jacobi
    /// rotations (d is a handful of tabular features; exact to rounding, no starting vector).
    static func leadingEigenvector(_ matrix: [Double], dimension d: Int) -> [Double] {
        var a = matrix
        var v = [Double](repeating: 0, count: d * d)
        for i in 0..<d { v[i * d + i] = 1 }
        for _ in 0..<100 {
            var off = 0.0
            for p in 0..<d { for q in (p + 1)..<max(p + 1, d) { off += a[p * d + q] * a[p * d + q] } }
            if off < 1e-30 { break }
            for p in 0..<d {
                for q in (p + 1)..<max(p + 1, d) where abs(a[p * d + q]) > 1e-300 {
                    let theta = (a[q * d + q] - a[p * d + p]) / (2 * a[p * d + q])
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<d {
                        let akp = a[k * d + p], akq = a[k * d + q]
                        a[k * d + p] = c * akp - s * akq
                        a[k * d + q] = s * akp + c * akq
                    }
                    for k in 0..<d {
                        let apk = a[p * d + k], aqk = a[q * d + k]
                        a[p * d + k] = c * apk - s * aqk
                        a[q * d + k] = s * apk + c * aqk
                    }
                    for k in 0..<d {
                        let vkp = v[k * d + p], vkq = v[k * d + q]
                        v[k * d + p] = c * vkp - s * vkq
                        v[k * d + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        let top = (0..<d).max { a[$0 * d + $0] < a[$1 * d + $1] }!
        return (0..<d).map { v[$0 * d + top] }
    }

    static func median(_ x: [Double]) -> Double {
        let s = x.sorted(), n = s.count
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    }

    /// The indices of the `round(fraction · n)` rows of largest score, ties to the lower index.
    public static func mostIrregular(_ scores: [Double], fraction: Double) -> [Int] {
        let k = min(scores.count, Int((fraction * Double(scores.count)).rounded()))
        let order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        return Array(order.prefix(k))
    }

    /// The options `holdout_pc1` and `validation`, for sources that yield one pool.
    static let options: [DataOption] = [
        DataOption("holdout_pc1", .double, default: .double(0), range: 0...0.9,
                   "share of the pool held out of training as irregular test rows: largest |PC1 score − median| of the pool's z-scored features (App. C.2 of the paper)"),
        DataOption("n_irregular", .int, range: 0...DataFactory.big,
                   "held-out rows kept in the test split, a seeded subsample (default: all of them)"),
        DataOption("validation", .int, default: .int(0), range: 0...DataFactory.big,
                   "replace the test split by this many rows drawn from the training rows (a validation split; 0: off)"),
    ]

    /// Splits `pool` as `DataFactory` does (`testCount` of the regular rows for test, `trainCount`
    /// of them for training), after taking the irregular rows out; then the validation split.
    static func split(_ pool: Dataset, fraction: Double, keep: Int?, validation: Int, testFraction: Double, testCount: Int?,
                      trainCount: Int?, seed: UInt64) throws -> DataSplit {
        let irregular = fraction > 0 ? mostIrregular(principalScores(pool.features, dimension: pool.dimension), fraction: fraction) : []
        let held = Set(irregular)
        let regular = pool.subset(pool.count > 0 ? (0..<pool.count).filter { !held.contains($0) } : [])
        let nTest = testCount ?? Int((testFraction * Double(regular.count)).rounded())
        var split = try regular.split(testCount: nTest, trainCount: trainCount, seed: seed)
        if !irregular.isEmpty {
            var heldOut = pool.subset(irregular.sorted())
            if let keep {
                heldOut = try heldOut.subsample(keep, seed: seed &+ 2, what: "held-out irregular rows", option: "n_irregular")
            }
            split.test = concatenated(split.test, heldOut)
            split.irregularTestRowIDs = heldOut.rowIDs.sorted()
        }
        guard validation > 0 else { return split }
        guard validation < split.train.count else {
            throw DataError(pool.name, option: "validation", "\(validation) validation rows leave no training rows (of \(split.train.count))")
        }
        var rng = RandomSource(seed: seed, stream: .other)
        let order = rng.permutation(split.train.count)
        let train = split.train
        var result = DataSplit(train: train.subset(Array(order[validation...]).sorted()), test: train.subset(Array(order[..<validation]).sorted()))
        result.noisyTrainRowIDs = split.noisyTrainRowIDs
        return result
    }

    static func concatenated(_ a: Dataset, _ b: Dataset) -> Dataset {
        Dataset(name: a.name, features: a.features + b.features, count: a.count + b.count, dimension: a.dimension,
                targets: a.targets + b.targets, targetDimension: a.targetDimension,
                labels: a.labels.flatMap { la in b.labels.map { la + $0 } }, classCount: a.classCount,
                rowIDs: a.rowIDs + b.rowIDs)
    }
}
