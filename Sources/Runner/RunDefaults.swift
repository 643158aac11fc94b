import Lens

/// The lens settings a config leaves open, decided once the data is known so that a minimal
/// config on built-in data (`{data: {source: digits}}`) finishes in under a minute:
///
/// - `lens.smoother: auto` becomes exact where that is cheap and probes elsewhere
///   (SmootherDefault);
/// - an auto-chosen probe smoother without `lens.probes` gets the most probes of 32, 16, 8 whose
///   cost stays within half the budget (probes run every step, whatever `lens.every` is);
/// - an unset `lens.every` becomes the smallest of 1, 2, 5, 10, 20, … that brings the run
///   within the budget.
///
/// The budget is `budgetSeconds` at `GEMMRate.reference`, fixed rates of a 2-core AVX2 machine,
/// never this machine's measured speed: the same config resolves the same way everywhere, and
/// the stored config records what was chosen. The budget is below a minute because the
/// reference rates are peak rates (a shared machine measured up to 1.8x slower) and the
/// recorder's own work is not priced.
public enum RunDefaults {
    public static let budgetSeconds = 30.0
    public static let everyLadder = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
    public static let probeLadder = [32, 16, 8]

    static func resolve(_ config: inout TrainConfig, trainCount n: Int, testCount: Int, outputs c: Int, inputDimension d: Int) throws {
        let rate = GEMMRate.reference
        func estimate() -> RunCostEstimate {
            RunCostModel.estimate(RunShape(config, trainCount: n, testCount: testCount, outputs: c, inputDimension: d), rate: rate)
        }
        if config.lens.smootherIsAuto {
            let shape = RunShape(config, trainCount: n, testCount: testCount, outputs: c, inputDimension: d)
            let choice = SmootherDefault.choose(for: shape, memoryBudgetBytes: config.lens.options.memoryBudgetBytes,
                                                rate: rate)
            config.lens.options.smoother = choice.smoother.mode
            config.resolved = try TrainConfig.setting(config.resolved, path: ["lens", "smoother"], to: .string(choice.smoother.mode.rawValue))
            if choice.smoother == .probes && config.lens.probesIsDefault {
                for probes in probeLadder {
                    config.lens.options.probes = probes
                    if estimate().seconds(.smoother) * Double(config.steps) <= budgetSeconds / 2 { break }
                }
                config.resolved = try TrainConfig.setting(config.resolved, path: ["lens", "probes"], to: .int(config.lens.options.probes))
            }
            config.lens.smootherIsAuto = false
        }
        if config.lens.everyIsAuto {
            for candidate in everyLadder {
                config.lens.options.every = candidate
                if candidate >= config.steps || estimate().totalSeconds <= budgetSeconds { break }
            }
            config.resolved = try TrainConfig.setting(config.resolved, path: ["lens", "every"], to: .int(config.lens.options.every))
            config.lens.everyIsAuto = false
        }
    }
}
