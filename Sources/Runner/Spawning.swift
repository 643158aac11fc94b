import Foundation
import Spelling
import Store

/// Where a child run starts (docs/lens.md §11, "Spawning"): its parent's checkpoint at
/// `spawn.step`, found and checked against the child's config before anything is written. A
/// child keeps its parent's data, model, loss, optimizer, lens settings and seed (so its data
/// split, evaluation points and θ_0), continues from the parent's θ_{t′}, optimizer buffers
/// and lens state, and draws its own data order from `spawn.order_seed`.
///
///     let origin = try SpawnOrigin.resolve(prepared, databasePath: "tlens.sqlite")   // nil: not a child
///     try Trainer(prepared).run(recorder: recorder, codeVersion: v, progress: nil, spawn: origin)
public struct SpawnOrigin {
    public let parentID: Int64
    public let step: Int
    public let orderSeed: UInt64
    /// Whether the child's run row names the parent (`runs.parent_run_id`). False for a copy
    /// trained into another database (`tlens reproduce`), where the parent does not exist.
    public var linksParent = true
    /// The parent's learner and lens state at `step` (lens.md §11); nil at step 0, where the
    /// state is θ_0 with fresh optimizer buffers and a fresh lens.
    let learnerState: [UInt8]?
    let lensState: [UInt8]?

    /// The config sections a child shares with its parent (lens.grad_ref_step excepted).
    static let inheritedSections = ["seed", "data", "model", "loss", "optimizer", "lens"]

    /// Opens `databasePath` read-only (it is not modified, and a refusal leaves it byte-identical)
    /// and resolves the child's origin; nil when the config has no `spawn:`.
    public static func resolve(_ prepared: PreparedRun, databasePath: String) throws -> SpawnOrigin? {
        guard let spawn = prepared.config.spawn else { return nil }
        guard FileManager.default.fileExists(atPath: databasePath) else {
            throw ConfigError("spawn.parent: no \(spawn.parent) to spawn from: \(databasePath) does not exist")
        }
        let db = try Database(path: databasePath, mode: .readOnly)
        defer { try? db.close() }
        return try resolve(prepared, in: db)
    }

    /// The child's origin in `db`, every rule checked; each refusal is one line naming the key to
    /// change.
    public static func resolve(_ prepared: PreparedRun, in db: Database) throws -> SpawnOrigin? {
        guard let spawn = prepared.config.spawn else { return nil }
        let config = prepared.config
        let parent = try findParent(spawn.parent, in: db)
        let id = parent.id
        guard parent.effectiveStatus == .completed else {
            throw ConfigError("spawn.parent: run \(id) is \(parent.effectiveStatus.rawValue); a child spawns from a completed run")
        }

        // Everything that decides the child's data, θ_0 and updates is its parent's.
        let parentConfig = try ConfigParser.parse(parent.configJSON, source: "run \(id)'s stored config")
        let childConfig = try ConfigParser.parse(config.resolved.json, source: "the child's config")
        for section in inheritedSections {
            var mine = childConfig[section] ?? .null, theirs = parentConfig[section] ?? .null
            if section == "lens" { mine = removing("grad_ref_step", from: mine); theirs = removing("grad_ref_step", from: theirs) }
            if let (path, a, b) = firstDifference(mine, theirs, path: section) {
                throw ConfigError("\(path): \(shown(a)) differs from parent run \(id)'s \(shown(b)); a child keeps its parent's seed, data, model, loss, optimizer and lens (only name, steps, threads, checkpoint, lens.grad_ref_step and spawn may differ)")
            }
        }
        guard parent.dataFingerprint == prepared.split.fingerprint else {
            throw ConfigError("data: the data's fingerprint differs from parent run \(id)'s (\(parent.dataFingerprint)): the data changed since it trained")
        }

        // A reference before t′ is the parent's (carried in its lens state); one at or after t′
        // is captured by the child itself (lens.md §7).
        let reference = config.lens.options.gradReferenceStep
        if reference < spawn.step {
            let parentReference = parentConfig["lens"]?["grad_ref_step"].flatMap(integer) ?? 0
            guard parentReference == reference else {
                throw ConfigError("lens.grad_ref_step: \(reference) is before spawn.step \(spawn.step), so the child would inherit its parent's grad_change reference, but parent run \(id) measured from step \(parentReference); use \(parentReference), or a step ≥ \(spawn.step) (default: spawn.step)")
            }
        }

        let steps = try db.checkpointSteps(run: id)
        func missing(_ what: String) -> ConfigError {
            ConfigError("spawn.step: parent run \(id) has \(what) at step \(spawn.step) (its checkpoints: \(steps.map(String.init).joined(separator: ", "))); train the parent with checkpoint.at listing the spawn steps")
        }
        guard let model = prepared.model else { throw ConfigError("spawn: only network runs (model.kind: mlp) spawn children") }
        // θ_0 is stored with every run: the child's own must be the same bits.
        guard let initial = try db.checkpoint(run: id, step: 0) else { throw missing("no θ_0 checkpoint") }
        guard initial.parameters.count == model.parameterCount,
              zip(initial.parameters, model.initialParameters(seed: config.seed)).allSatisfy({ $0.bitPattern == $1.bitPattern }) else {
            throw ConfigError("spawn.parent: run \(id)'s θ_0 (its step-0 checkpoint) is not the θ_0 seed \(config.seed) draws for this model (was it trained by another version of tlens?)")
        }
        guard spawn.step > 0 else {
            return SpawnOrigin(parentID: id, step: 0, orderSeed: spawn.orderSeed, learnerState: nil, lensState: nil)
        }
        guard let checkpoint = try db.checkpoint(run: id, step: spawn.step) else { throw missing("no checkpoint") }
        guard let learnerState = checkpoint.learnerState, let lensState = checkpoint.lensState else {
            throw missing("no learner and lens state")
        }
        return SpawnOrigin(parentID: id, step: spawn.step, orderSeed: spawn.orderSeed, learnerState: learnerState, lensState: lensState)
    }

    static func findParent(_ parent: SpawnSpec.Parent, in db: Database) throws -> RunSummary {
        switch parent {
        case .id(let id):
            guard let run = try db.run(id: id) else { throw ConfigError("spawn.parent: no run \(id) in \(db.path)") }
            return run
        case .name(let name):
            let ids = try db.runIDs(named: name)
            if ids.count > 1 {
                throw ConfigError("spawn.parent: \(ids.count) runs are named '\(name)' (ids \(ids.map(String.init).joined(separator: ", "))); give the parent's id")
            }
            guard let id = ids.first, let run = try db.run(id: id) else {
                let names = try db.runs().compactMap(\.name)
                let hint = nearestName(to: name, in: names).map { "; did you mean '\($0)'?" } ?? ""
                throw ConfigError("spawn.parent: no run named '\(name)' in \(db.path)\(hint)")
            }
            return run
        }
    }

    /// A config value as a refusal quotes it: lists and maps as JSON.
    static func shown(_ value: ConfigValue) -> String {
        switch value {
        case .list, .map: return value.json
        default: return describe(value)
        }
    }

    static func removing(_ key: String, from value: ConfigValue) -> ConfigValue {
        guard case .map(let entries) = value else { return value }
        return .map(entries.filter { $0.0 != key })
    }

    static func integer(_ value: ConfigValue) -> Int? {
        if case .int(let i) = value { return i }
        return nil
    }

    /// The first key path at which two configs differ, with both values (`.null` where absent).
    static func firstDifference(_ a: ConfigValue, _ b: ConfigValue, path: String) -> (String, ConfigValue, ConfigValue)? {
        if case .map(let x) = a, case .map(let y) = b {
            var keys: [String] = x.map(\.0)
            for (k, _) in y where !keys.contains(k) { keys.append(k) }
            for k in keys {
                let u = x.first { $0.0 == k }?.1 ?? .null, v = y.first { $0.0 == k }?.1 ?? .null
                if let found = firstDifference(u, v, path: path + "." + k) { return found }
            }
            return nil
        }
        return a == b ? nil : (path, a, b)
    }
}

extension TrainingLoop {
    /// Puts this run at its parent's state at t′ (lens.md §11, "Spawning"): θ_{t′}, the optimizer
    /// buffers and the lens state (f̃_{t′}, the kernel references, the smoother) as the parent
    /// saved them; then the child's own data order, and, when the child measures grad_change from
    /// t′ or later, no inherited reference. A blob that does not fit is refused (the trainer does
    /// this before the child's run row exists).
    public func spawn(from origin: SpawnOrigin) throws {
        // Children are networks: weight averaging needs parameters (boosted trees have none).
        guard let network = networkLearner else { throw ConfigError("spawn: only network runs (model.kind: mlp) spawn children") }
        if let learnerState = origin.learnerState, let lensState = origin.lensState {
            try importState(learner: learnerState, lens: lensState)
        }
        network.restartDataOrder(seed: origin.orderSeed, batchesDrawn: origin.step)
        if prepared.config.lens.options.gradReferenceStep >= origin.step { lens.discardGradientChangeReference() }
    }
}

extension SweepSpec {
    /// Checks every child point's origin in `databasePath` (read-only), after `prepared()`: the
    /// first refusal refuses the sweep, naming the point, before anything is written.
    public func checkSpawns(_ runs: [PreparedRun], databasePath: String) throws {
        for (i, (point, run)) in zip(points, runs).enumerated() where run.config.spawn != nil {
            do {
                _ = try SpawnOrigin.resolve(run, databasePath: databasePath)
            } catch {
                throw ConfigError("sweep point \(i + 1) of \(points.count) (\(point.name)): \(error)")
            }
        }
    }
}
