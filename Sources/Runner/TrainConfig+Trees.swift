import Boost

/// `model: {kind: gbt, …}`: gradient-boosted trees (docs/lens.md §9). A gbt run takes one step per
/// boosting round, has no optimizer, fits squared loss, and records what §9 defines through the
/// same lens; the lens options that only mean something for a network are refused when set.
///
///     model: {kind: gbt, rounds: 200, max_depth: 4, learning_rate: 0.1, lambda_leaf: 1.0,
///             min_leaf: 1, subsample: 1.0, bins: 256, split: hist}
extension TrainConfig {
    /// The `model:` keys of a gbt run after `kind`, with the given `steps` (nil when the config
    /// does not set it): `steps` and `rounds` are one number, each the other's default.
    static func readTrees(_ m: SectionReader, steps: Int?) throws -> BoostedTreesSpec {
        let defaults = BoostedTreesSpec()
        let roundsGiven = m.has("rounds")
        if let steps, !roundsGiven, steps < 1 {
            throw ConfigError("steps: \(steps) is out of range for model.kind gbt; it must be ≥ 1 (one step per boosting round)")
        }
        var spec = BoostedTreesSpec()
        spec.rounds = try m.int("rounds", default: steps ?? defaults.rounds, in: BoostedTreesSpec.roundsRange)
        if let steps, roundsGiven, steps != spec.rounds {
            throw ConfigError("steps: \(steps) differs from model.rounds: \(spec.rounds); a gbt run takes one step per round, so give one of them (steps defaults to model.rounds)")
        }
        spec.maxDepth = try m.int("max_depth", default: defaults.maxDepth, in: BoostedTreesSpec.depthRange)
        spec.learningRate = try m.double("learning_rate", default: defaults.learningRate, min: 0, minOpen: true, max: 1)
        spec.lambdaLeaf = try m.double("lambda_leaf", default: defaults.lambdaLeaf, min: 0)
        spec.minLeaf = try m.int("min_leaf", default: defaults.minLeaf, in: 1...Int.max)
        spec.subsample = try m.double("subsample", default: defaults.subsample, min: 0, minOpen: true, max: 1)
        spec.bins = try m.int("bins", default: defaults.bins, in: BoostedTreesSpec.binRange)
        let split = try m.choice("split", default: defaults.split.rawValue, allowed: SplitMethod.allCases.map(\.rawValue))
        spec.split = SplitMethod(rawValue: split) ?? defaults.split
        if let problem = spec.problem { throw ConfigError(problem) }
        return spec
    }

    /// Lens options with no meaning for a learner that brings its own exact kernel: refused when
    /// set to anything but their neutral value, and not stored.
    static func skipNetworkLensOptions(_ l: SectionReader) throws {
        let reasons: [(key: String, neutral: ConfigValue?, why: String)] = [
            ("kernel_path", .string("auto"), "boosted trees bring their own exact kernel (docs/lens.md §9); there is no Jacobian path to choose"),
            ("sharpness", .bool(false), "the stability number of docs/lens.md (8.15) is for gradient steps; a boosting round's smoother step is stable by construction (its kernel rows sum to less than 1)"),
            ("grad_ref_step", .int(0), "grad_change compares layer Jacobians (docs/lens.md §7), which trees do not have"),
            ("reference", nil, "boosted trees measure kernel weight norms against every training point, exactly (docs/lens.md §9)"),
        ]
        for (key, neutral, why) in reasons {
            if let value = l.given(key), value != neutral {
                throw ConfigError("\(join(l.path, key)): \(why); remove it for model.kind gbt")
            }
            l.skip(key)
        }
    }

    static let treeOptimizerRefusal = "optimizer: model.kind gbt has no optimizer; its step size is model.learning_rate and its row sampling model.subsample (docs/lens.md §9)"
}
