import Boost
import Dispatch
import Learning
import Lens
import Linalg

/// `tlens bench gbt`: boosting rounds of a gbt config timed with the lens off (the learner alone:
/// binning, then one tree per round) and on (the runner's loop with the full lens of the config,
/// its sink discarding), in one process on the same data, so their ratio is the lens's price.
/// Each time is the best of `repetitions` complete runs. The test MSE is the final model's on the
/// config's test split, for the comparison with XGBoost (scripts/xgboost-compare.py).
public enum BoostBenchmark {
    public struct Result: Codable, Sendable {
        public var name: String
        public var trainCount: Int
        public var testCount: Int
        public var features: Int
        public var rounds: Int
        public var maxDepth: Int
        public var learningRate: Double
        public var subsample: Double
        public var bins: Int
        /// `hist` or `exact` (model.split).
        public var split: String
        public var threads: Int
        /// The lens's smoother and `every` in the lens-on run.
        public var smoother: String
        public var every: Int
        /// Lens off: building the learner (cut points, binning) and then all rounds, in ms.
        public var setupMilliseconds: Double
        public var learnerMilliseconds: Double
        public var learnerRoundMilliseconds: Double
        /// Lens on: the loop built (f_0 over U, the smoother) and run to its final state, in ms.
        public var lensMilliseconds: Double
        public var lensRoundMilliseconds: Double
        public var lensOverLearner: Double
        public var trainMSE: Double
        public var testMSE: Double
    }



    public static func run(name: String, prepared: PreparedRun, repetitions: Int = 3) throws -> Result {
        guard let spec = prepared.config.model.trees else { throw ConfigError("bench gbt: \(name) is not a model.kind gbt config") }
        let problem = prepared.problem, rounds = prepared.config.steps
        ComputeEnvironment.use(threads: prepared.config.threads)
        var setup = Double.infinity, learnerTime = Double.infinity, lensTime = Double.infinity
        var trained: Learner?
        for _ in 0..<max(repetitions, 1) {
            var learner: Learner?
            let built = try milliseconds { learner = try prepared.makeLearner() }
            let stepped = milliseconds { for _ in 0..<rounds { _ = learner!.step() } }
            setup = min(setup, built)
            learnerTime = min(learnerTime, built + stepped)
            trained = learner
            lensTime = min(lensTime, try milliseconds {
                let loop = try TrainingLoop(prepared, sink: DiscardingSink())
                _ = try loop.run()
            })
        }
        func mse(_ x: Matrix, _ y: Matrix) -> Double {
            let out = Matrix(rows: x.rows, cols: 1)
            trained!.predict(x, into: out)
            var sum = 0.0
            for i in 0..<x.rows { let e = Double(out[i, 0] - y[i, 0]); sum += e * e }
            return sum / Double(max(x.rows, 1))
        }
        let lens = prepared.config.lens.options
        return Result(name: name, trainCount: problem.trainX.rows, testCount: problem.testX.rows, features: problem.trainX.cols,
                      rounds: rounds, maxDepth: spec.maxDepth, learningRate: spec.learningRate, subsample: spec.subsample,
                      bins: spec.bins, split: spec.split.rawValue, threads: prepared.config.threads, smoother: lens.smoother.rawValue, every: lens.every,
                      setupMilliseconds: setup, learnerMilliseconds: learnerTime,
                      learnerRoundMilliseconds: (learnerTime - setup) / Double(rounds),
                      lensMilliseconds: lensTime, lensRoundMilliseconds: lensTime / Double(rounds),
                      lensOverLearner: lensTime / learnerTime,
                      trainMSE: mse(problem.trainX, problem.trainY), testMSE: mse(problem.testX, problem.testY))
    }
}
