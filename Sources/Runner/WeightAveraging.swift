import Foundation
import Linalg
import Nets
import Store

/// Weight averaging of spawned children (docs/lens.md §10, (10.2)): two children A and B of one
/// parent, spawned at the same step t′ with different data orders, trained to T; along
/// `θ_α = α θ^A_T + (1 − α) θ^B_T` the error barrier is
///
///     B(t′) = max_α [ Err(θ_α) − ( α Err(θ^A_T) + (1 − α) Err(θ^B_T) ) ]
///
/// over α ∈ {0, 0.1, …, 1}, with Err the test MSE (and, for classification, the test error rate
/// 1 − accuracy) on the run's test evaluation points — the points its `test_mse` is recorded on.
///
///     let (pairs, _) = try WeightAveraging.pairs(in: db, sweep: "lmc-quick")
///     for pair in pairs { let result = try WeightAveraging.record(pair, databasePath: "tlens.sqlite") }
public enum WeightAveraging {
    /// α = 0, 0.1, …, 1 (exact tenths: θ_0 is θ^B_T and θ_1 is θ^A_T bit for bit).
    public static let alphas: [Double] = (0...10).map { Double($0) / 10 }

    /// Keys recorded on child A at its last step T (docs/metrics.md, "Weight averaging"). They
    /// are written after training, so `tlens reproduce` leaves them out of its comparison.
    public static let keyPrefix = "lmc_"
    public static let barrierKey = "lmc_barrier", errorBarrierKey = "lmc_barrier_err"
    public static func mseKey(_ alpha: Double) -> String { "lmc_mse/" + String(format: "%.1f", alpha) }
    public static func errorKey(_ alpha: Double) -> String { "lmc_err/" + String(format: "%.1f", alpha) }

    /// The errors along the path between two parameter vectors.
    public struct Path: Equatable {
        public var alphas: [Double]
        /// Err(θ_α) as test MSE, one per α.
        public var mse: [Double]
        /// Err(θ_α) as test error rate (1 − accuracy), classification only.
        public var errorRate: [Double]?
    }

    /// Err(θ_α) for each α, `θ_α = α a + (1 − α) b` formed in float32 (so α = 1 is `a` and α = 0
    /// is `b` exactly), scored by the metrics the lens records (`test_mse`, `test_acc`).
    /// `decisionThreshold`: the one-output class cut of the run's targets (0 for ±1, ½ for {0, 1}).
    public static func path(model: MLP, a: [Float], b: [Float], x: Matrix, y: Matrix, classification: Bool,
                            decisionThreshold: Float = 0, alphas: [Double] = alphas) -> Path {
        precondition(a.count == model.parameterCount && b.count == model.parameterCount, "θ^A and θ^B must fit the model")
        var θ = [Float](repeating: 0, count: a.count)
        var mse: [Double] = [], errorRate: [Double] = []
        for alpha in alphas {
            let α = Float(alpha), β = Float(1 - alpha)
            for i in 0..<θ.count { θ[i] = α * a[i] + β * b[i] }
            let outputs = θ.withUnsafeBufferPointer { model.forward(x, parameters: $0.baseAddress!) }
            mse.append(Metrics.mse(outputs: outputs, targets: y))
            if classification { errorRate.append(1 - Metrics.accuracy(outputs: outputs, targets: y, decisionThreshold: decisionThreshold)) }
        }
        return Path(alphas: alphas, mse: mse, errorRate: classification ? errorRate : nil)
    }

    /// (10.2): the largest rise of Err along the path above the straight line between its ends.
    /// At α = 0 and α = 1 the rise is 0, so B ≥ 0.
    public static func barrier(_ errors: [Double], alphas: [Double] = alphas) -> Double {
        precondition(errors.count == alphas.count && !errors.isEmpty, "one error per α")
        let atB = errors[alphas.firstIndex(of: 0) ?? 0], atA = errors[alphas.firstIndex(of: 1) ?? errors.count - 1]
        var worst = -Double.infinity
        for (alpha, error) in zip(alphas, errors) { worst = max(worst, error - (alpha * atA + (1 - alpha) * atB)) }
        return worst
    }

    /// Two children of one parent spawned at one step, differing only in their data order:
    /// A has the smaller `spawn.order_seed`.
    public struct Pair: Equatable {
        public var parent: Int64
        public var step: Int
        public var childA: Int64, childB: Int64
        public var orderSeedA: UInt64, orderSeedB: UInt64
    }

    /// The completed children in `db` (of one sweep when `sweep` is given), grouped by parent,
    /// spawn step and every other config value except `name` and `spawn.order_seed`; each group,
    /// sorted by order seed, is paired first with second, third with fourth, …. `unpaired`: the
    /// last child of a group with an odd count.
    public static func pairs(in db: Database, sweep: String? = nil) throws -> (pairs: [Pair], unpaired: [Int64]) {
        var sweepID: Int64?
        if let sweep {
            guard let id = try db.scalarInt("SELECT id FROM sweeps WHERE name = ?", [.text(sweep)]) else { return ([], []) }
            sweepID = id
        }
        var groups: [String: [(run: Int64, seed: UInt64, parent: Int64, step: Int)]] = [:]
        var order: [String] = []
        for run in try db.runs() where run.parentRunID != nil && run.effectiveStatus == .completed
                                       && (sweepID == nil || run.sweepID == sweepID) {
            let config = try TrainConfig.load(text: run.configJSON, source: "run \(run.id)'s stored config")
            guard let spawn = config.spawn, let parent = run.parentRunID else { continue }
            var shared = try ConfigParser.parse(run.configJSON, source: "run \(run.id)")
            shared = SpawnOrigin.removing("name", from: shared)
            if case .map(var entries) = shared, let i = entries.firstIndex(where: { $0.0 == "spawn" }) {
                entries[i].1 = SpawnOrigin.removing("order_seed", from: entries[i].1)
                shared = .map(entries)
            }
            let key = "\(parent) \(shared.json)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append((run.id, spawn.orderSeed, parent, spawn.step))
        }
        var pairs: [Pair] = [], unpaired: [Int64] = []
        for key in order {
            let children = groups[key]!.sorted { ($0.seed, $0.run) < ($1.seed, $1.run) }
            for i in stride(from: 0, to: children.count - 1, by: 2) {
                let a = children[i], b = children[i + 1]
                pairs.append(Pair(parent: a.parent, step: a.step, childA: a.run, childB: b.run, orderSeedA: a.seed, orderSeedB: b.seed))
            }
            if children.count % 2 == 1 { unpaired.append(children.last!.run) }
        }
        return (pairs.sorted { ($0.parent, $0.step, $0.childA) < ($1.parent, $1.step, $1.childA) }, unpaired)
    }

    /// What `record` found for one pair.
    public struct Result {
        public var pair: Pair
        /// T, the children's last step, where the keys are recorded on child A.
        public var step: Int
        public var path: Path
        public var barrier: Double
        public var errorBarrier: Double?
    }

    /// Loads both children's parameters at T (their final checkpoints), evaluates the path on
    /// child A's test evaluation points, and records on child A at step T, in one transaction:
    /// `lmc_barrier`, `lmc_mse/α`, and for classification `lmc_barrier_err`, `lmc_err/α`, plus an
    /// `lmc` event naming B. Re-running replaces the same rows (nothing is duplicated).
    public static func record(_ pair: Pair, databasePath: String) throws -> Result {
        let db = try Database(path: databasePath, mode: .readWrite)
        defer { try? db.close() }
        guard let a = try db.run(id: pair.childA), let b = try db.run(id: pair.childB) else {
            throw ConfigError("weight averaging: run \(pair.childA) or \(pair.childB) is gone")
        }
        let prepared = try PreparedRun(try TrainConfig.load(text: a.configJSON, source: "run \(a.id)'s stored config"))
        guard let model = prepared.model else { throw ConfigError("weight averaging: run \(a.id) is not a network (model.kind: mlp)") }
        let steps = prepared.config.steps
        func final(_ run: RunSummary) throws -> [Float] {
            guard run.effectiveStatus == .completed, let checkpoint = try db.checkpoint(run: run.id, step: steps),
                  checkpoint.parameters.count == model.parameterCount else {
                throw ConfigError("weight averaging: run \(run.id) has no parameters at its last step \(steps) (is it completed?)")
            }
            return checkpoint.parameters
        }
        let θA = try final(a), θB = try final(b)
        let classification = prepared.split.train.classCount != nil
        let path = path(model: model, a: θA, b: θB, x: prepared.testX, y: prepared.testY, classification: classification,
                        decisionThreshold: prepared.split.decisionThreshold)
        let result = Result(pair: pair, step: steps, path: path, barrier: barrier(path.mse),
                            errorBarrier: path.errorRate.map { barrier($0) })

        var rows: [(String, Double)] = [(barrierKey, result.barrier)]
        rows += zip(path.alphas, path.mse).map { (mseKey($0), $1) }
        if let errorBarrier = result.errorBarrier, let rates = path.errorRate {
            rows.append((errorBarrierKey, errorBarrier))
            rows += zip(path.alphas, rates).map { (errorKey($0), $1) }
        }
        try db.transaction(.immediate) {
            let intern = try db.prepare("INSERT OR IGNORE INTO metric_keys(name) VALUES (?)")
            let insert = try db.prepare("""
                INSERT OR REPLACE INTO metrics(run_id, key_id, step, value)
                VALUES (?, (SELECT id FROM metric_keys WHERE name = ?), ?, ?)
                """)
            for (key, value) in rows {
                intern.bind(key, at: 1)
                try intern.execute()
                insert.bind([.integer(a.id), .text(key), .integer(Int64(steps)), .real(value)])
                try insert.execute()
            }
            try db.execute("DELETE FROM events WHERE run_id = ? AND kind = 'lmc'", [.integer(a.id)])
            try db.execute("INSERT INTO events(run_id, step, time, kind, message) VALUES (?, ?, ?, 'lmc', ?)",
                           [.integer(a.id), .integer(Int64(steps)), .real(Date().timeIntervalSince1970),
                            .text("weight averaging with run \(b.id) (order seed \(pair.orderSeedB)), both spawned from run \(pair.parent) at step \(pair.step): lmc_barrier \(result.barrier)")])
        }
        return result
    }
}
