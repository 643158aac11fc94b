import Foundation
import Linalg

/// The paper's Fig. 5 measures (arXiv 2411.00247, §4.2 and App. C.2; lens.md §10): test sets of
/// `m` points of which a proportion `p` are held-out irregular rows (`holdout_pc1`, never trained
/// on) and the rest regular test rows, and on each
///
///     relative MSE(p) = (MSE^p_NN − MSE^p_GBT) / (MSE^0_NN − MSE^0_GBT)                     (10.3)
///     kernel ratio(p) = [ (1/T) Σ_t max_{j∈I^p_test} ω_t(x_j) ] / [ (1/T) Σ_t max_{i∈I_train} ω_t(x_i) ]   (10.4)
///
/// with `ω_t` the recorded kernel weight norm `kwn` (lens.md (6.2), (9.7)) and `t` over the
/// recorded states.
///
///     let sets = IrregularMixtures.draw(regular: r, irregular: q, size: 4000, seed: 0)
///     let ratio = IrregularMixtures.kernelRatio(test: states, train: trainStates, points: sets[2])
public enum IrregularMixtures {
    /// The proportions p of the test sets: the paper evaluates five (App. C.2, "num_proportions
    /// = 5") from 0 to 1 on its figures' axes; five evenly spaced values are that grid.
    public static let proportions: [Double] = [0, 0.25, 0.5, 0.75, 1]
    /// The paper's test-set size.
    public static let paperSize = 4_000

    /// The test-set size the pools allow: `paperSize`, or fewer when either pool is smaller
    /// (a set at p = 1 takes `m` irregular rows, one at p = 0 `m` regular ones; no row is drawn twice).
    public static func size(regular: Int, irregular: Int) -> Int { min(paperSize, regular, irregular) }

    /// One test set per proportion: `round(p·m)` of `irregular` and `m − round(p·m)` of
    /// `regular`, each a seeded draw without replacement (stream `seed`, one draw per set), so
    /// the network and the trees of one seed are scored on the same points.
    public static func draw(regular: [Int], irregular: [Int], size m: Int, proportions: [Double] = proportions,
                            seed: UInt64) -> [[Int]] {
        precondition(m <= regular.count && m <= irregular.count, "the pools hold \(regular.count) and \(irregular.count) rows, fewer than \(m)")
        return proportions.enumerated().map { k, p in
            let q = Int((p * Double(m)).rounded())
            var rng = RandomSource(seed: seed, stream: 0x6d69_7800 + UInt64(k))   // "mix" + the set's index
            let fromIrregular = rng.permutation(irregular.count).prefix(q).map { irregular[$0] }
            let fromRegular = rng.permutation(regular.count).prefix(m - q).map { regular[$0] }
            return (fromRegular + fromIrregular).sorted()
        }
    }

    /// The mean of `squaredError` over `points`.
    public static func meanSquaredError(_ squaredError: [Double], _ points: [Int]) -> Double {
        points.isEmpty ? .nan : points.reduce(0) { $0 + squaredError[$1] } / Double(points.count)
    }

    /// (10.3): the gaps `MSE_NN − MSE_GBT` per set divided by the gap of the first (p = 0) set.
    public static func relativeMSE(network: [Double], trees: [Double]) -> [Double] {
        precondition(network.count == trees.count && !network.isEmpty, "one MSE per set and learner")
        let base = network[0] - trees[0]
        return zip(network, trees).map { ($0 - $1) / base }
    }

    /// `(1/T) Σ_t max_{j∈points} ω_t(x_j)`: `states` holds one `kwn` vector per recorded state
    /// (all of one split), `points` indexes into them.
    public static func meanMaximum(_ states: [[Float]], points: [Int]) -> Double {
        guard !states.isEmpty, !points.isEmpty else { return .nan }
        var sum = 0.0
        for state in states { sum += Double(points.reduce(-Float.infinity) { max($0, state[$1]) }) }
        return sum / Double(states.count)
    }

    /// (10.4) on the test set `points`, against every training evaluation point.
    public static func kernelRatio(test: [[Float]], train: [[Float]], points: [Int]) -> Double {
        guard let first = train.first else { return .nan }
        return meanMaximum(test, points: points) / meanMaximum(train, points: Array(first.indices))
    }
}
