import ArgumentParser
import Foundation
import Runner

struct BenchGBT: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gbt",
        abstract: "Time boosting rounds with the lens off (the learner alone) and on, per dataset.",
        discussion: """
        For each gbt config: the learner alone (cut points and binning, then one tree per round) \
        and the runner's loop with the config's full lens (tel, kwn, the smoother and p; the \
        sink discards), each the best of --repetitions complete runs in this process, and the \
        final model's train and test MSE. The ratio lens/learner is the lens's price, measured \
        in one run.

        Without --preset or --config: diabetes (preset gbt-diabetes), the tabular generator at \
        2,000 rows (preset gbt-tabular) and at 10,000 rows (gbt-tabular with data.n_train=10000, \
        data.n_test=2000; its automatic smoother is probes).

        The bins column is model.bins, or exact for model.split: exact. \
        scripts/tree-compare.py compares 256 and 1,024 bins and exact splits with XGBoost's hist \
        and exact. scripts/xgboost-compare.py runs this on a config and XGBoost's hist method on the same \
        data and hyperparameters, and prints both. Build with `swift build -c release` first.

        Examples:
          tlens bench gbt
          tlens bench gbt --preset gbt-tabular --set model.subsample=1 --format json
          tlens bench gbt --preset gbt-tabular --set model.split=exact
          tlens bench gbt --preset gbt-tabular --set model.bins=1024
        """)

    @Option(name: .long, help: "A shipped gbt config by name (repeatable).")
    var preset: [String] = []

    @Option(name: .long, help: "A gbt config file (repeatable).")
    var config: [String] = []

    @Option(name: .customLong("set"), help: ArgumentHelp("Override one value in every config (repeatable).", valueName: "key.path=value"))
    var overrides: [String] = []

    @Option(name: .long, help: "Complete runs per measurement; the best is kept.")
    var repetitions = 3

    @Option(name: .long, help: "table, json (a list, one object per dataset) or csv (one row per dataset).")
    var format: BenchFormat = .table

    func validate() throws {
        guard repetitions >= 1 else { throw ValidationError("--repetitions must be ≥ 1") }
    }

    func run() throws {
        var cases: [(name: String, config: String?, preset: String?, overrides: [String])] =
            preset.map { ($0, nil, $0, overrides) } + config.map { ($0, $0, nil, overrides) }
        if cases.isEmpty {
            cases = [("diabetes", nil, "gbt-diabetes", overrides), ("tabular-2000", nil, "gbt-tabular", overrides),
                     ("tabular-10000", nil, "gbt-tabular", ["data.n_train=10000", "data.n_test=2000"] + overrides)]
        }
        var results: [BoostBenchmark.Result] = []
        for c in cases {
            let prepared = try TrainCommand.prepare(configPath: c.config, preset: c.preset, overrides: c.overrides, name: nil)
            results.append(try BoostBenchmark.run(name: c.name, prepared: prepared, repetitions: repetitions))
        }
        switch format {
        case .json, .csv:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            format.emit(json: String(decoding: try encoder.encode(results), as: UTF8.self))
        case .table:
            print("dataset          n_train  n_test   d  rounds  depth   bins  smoother  learner ms  ms/round  lens ms  ms/round  lens/learner  test_mse")
            for r in results {
                let bins = r.split == "exact" ? "exact" : "\(r.bins)"
                print(r.name.padding(toLength: 15, withPad: " ", startingAt: 0)
                      + String(format: " %8d %7d %3d %7d %6d ", r.trainCount, r.testCount, r.features, r.rounds, r.maxDepth)
                      + String(repeating: " ", count: max(0, 6 - bins.count)) + bins
                      + String(format: "  %-8@ %10.1f %9.3f %8.1f %9.3f %13.2f %9.4f",
                               r.smoother as NSString,
                               r.learnerMilliseconds, r.learnerRoundMilliseconds, r.lensMilliseconds, r.lensRoundMilliseconds,
                               r.lensOverLearner, r.testMSE))
            }
        }
    }
}
