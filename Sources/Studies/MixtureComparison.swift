import Foundation
import Query

/// The paper's Fig. 5 on tlens's runs (lens.md §10, (10.3)–(10.4)): per data set and seed, the
/// network and the trees trained on identical data, scored on test sets of `m` points that mix a
/// proportion `p` of held-out irregular rows (`holdout_pc1`) into regular test rows, the same
/// sets for both learners.
struct MixtureComparison {
    /// One seed's figures, one value per proportion p.
    struct PairFigures {
        var seed: UInt64
        var networkMSE: [Double], treesMSE: [Double]
        var networkRatio: [Double], treesRatio: [Double]
        /// MSE_NN − MSE_GBT per p.
        var gap: [Double] { zip(networkMSE, treesMSE).map { $0 - $1 } }
        /// (10.3).
        var relativeMSE: [Double] { IrregularMixtures.relativeMSE(network: networkMSE, trees: treesMSE) }
    }

    struct Setting {
        var name: String
        /// Points per test set, and the two pools' sizes (of the first seed).
        var size: Int, regularPool: Int, irregularPool: Int
        var pairs: [PairFigures]

        /// A statistic over seeds at each p.
        func statistics(_ value: (PairFigures) -> [Double]) -> [SeedStatistics] {
            IrregularMixtures.proportions.indices.map { k in SeedStatistics(pairs.map { value($0)[k] }) }
        }
        /// A paired contrast over seeds: `value` of each seed.
        func contrast(_ value: (PairFigures) -> Double) -> SeedStatistics { SeedStatistics(pairs.map(value)) }
    }

    var settings: [Setting]
    /// Settings whose runs hold no held-out irregular rows (data without `holdout_pc1`).
    var withoutHoldout: [String]

    init(_ comparison: IrregularityComparison) {
        var settings: [Setting] = [], without: [String] = []
        for setting in comparison.settings {
            var figures: [PairFigures] = []
            var shape: (Int, Int, Int)?
            for pair in setting.pairs {
                let network = pair.network, trees = pair.trees
                let irregular = network.injected.indices.filter { network.injected[$0] }
                let regular = network.injected.indices.filter { !network.injected[$0] }
                let m = IrregularMixtures.size(regular: regular.count, irregular: irregular.count)
                guard m > 0 else { continue }
                shape = shape ?? (m, regular.count, irregular.count)
                let sets = IrregularMixtures.draw(regular: regular, irregular: irregular, size: m, seed: network.seed)
                func mse(_ run: IrregularityRun) -> [Double] { sets.map { IrregularMixtures.meanSquaredError(run.squaredError, $0) } }
                func ratio(_ run: IrregularityRun) -> [Double] {
                    sets.map { IrregularMixtures.kernelRatio(test: run.testStates, train: run.trainStates, points: $0) }
                }
                figures.append(PairFigures(seed: network.seed, networkMSE: mse(network), treesMSE: mse(trees),
                                           networkRatio: ratio(network), treesRatio: ratio(trees)))
            }
            if let (m, r, q) = shape {
                settings.append(Setting(name: setting.name, size: m, regularPool: r, irregularPool: q, pairs: figures))
            } else {
                without.append(setting.name)
            }
        }
        self.settings = settings
        withoutHoldout = without
    }
}
