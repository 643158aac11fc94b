import Lens

/// The lens settings a config leaves open, decided once the data is known so that a minimal
/// config (`{data: {source: digits}}`) finishes in about a minute: `lens.smoother: auto` becomes
/// exact where that is cheap and probes elsewhere (SmootherDefault), and an unset `lens.every`
/// becomes the smallest of 1, 2, 5, 10, 20, … that brings the estimated run under
/// `targetSeconds`. Both are priced at `GEMMRate.reference`, fixed rates of a 2-core AVX2 machine,
/// never at this machine's measured speed: the same config resolves the same way everywhere,
/// and the stored config records what was chosen.
public enum RunDefaults {
    static let targetSeconds = 60.0
    public static let everyLadder = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]

    static func resolve(_ config: inout TrainConfig, trainCount n: Int, testCount: Int, outputs c: Int, inputDimension d: Int) throws {
        let rate = GEMMRate.reference
        if config.lens.smootherIsAuto {
            let shape = RunShape(config, trainCount: n, testCount: testCount, outputs: c, inputDimension: d)
            let choice = SmootherDefault.choose(for: shape, memoryBudgetBytes: config.lens.options.memoryBudgetBytes,
                                                squaredLoss: config.loss == .mse, rate: rate)
            config.lens.options.smoother = choice.smoother.mode
            config.resolved = try TrainConfig.setting(config.resolved, path: ["lens", "smoother"], to: .string(choice.smoother.mode.rawValue))
            config.lens.smootherIsAuto = false
        }
        if config.lens.everyIsAuto {
            var every = everyLadder.last!
            for candidate in everyLadder where candidate <= max(config.steps, 1) {
                config.lens.options.every = candidate
                let shape = RunShape(config, trainCount: n, testCount: testCount, outputs: c, inputDimension: d)
                if RunCostModel.estimate(shape, rate: rate).totalSeconds <= targetSeconds { every = candidate; break }
                every = candidate
            }
            config.lens.options.every = every
            config.resolved = try TrainConfig.setting(config.resolved, path: ["lens", "every"], to: .int(every))
            config.lens.everyIsAuto = false
        }
    }
}
