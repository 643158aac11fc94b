import Foundation
import Boost
import Data
import Lens
import Linalg
import Nets

/// A training run's configuration (README.md, "Configs"), validated in full before
/// anything runs and resolved so every default is explicit in the stored copy.
///
///     data:      {source: digits, classes: [3, 5], n_train: 500, n_test: 500}
///     model:     {kind: mlp, hidden: [256], activation: relu, init_scale: 1.0}
///     loss:      mse
///     optimizer: {kind: sgd, lr: 0.05, batch_size: 100}
///     steps:     5000
///     lens:      {every: 1, eval_train: 500, eval_test: 500, smoother: exact}
///     seed:      0
public struct TrainConfig {
    public var name: String?
    public var seed: UInt64
    public var steps: Int
    /// OpenMP threads for the run's products. Results depend on it in the last bits (a GEMM's
    /// partition of the work changes its summation order), so it is part of the run: by default
    /// this machine's thread count when the config is resolved, and resume, sweeps and
    /// reproduce use the stored value.
    public var threads: Int
    public var data: DataSpec
    public var model: ModelConfig
    public var loss: Loss
    public var optimizer: OptimizerConfig
    public var lens: LensConfig
    /// `checkpoint:` — when the run's state is saved for `tlens resume` (lens.md §11).
    public var checkpoint: CheckpointPolicy
    /// `spawn:` — a child run, started from another run's checkpoint (lens.md §11, "Spawning").
    public var spawn: SpawnSpec?
    /// Every value, defaults included, in schema order: what `runs.config` stores.
    public var resolved: ConfigValue

    /// `model:`. For `kind: gbt`, `trees` holds the boosting hyperparameters and the MLP fields
    /// keep their defaults, unused and not stored.
    public struct ModelConfig {
        /// Gradient-boosted trees (docs/lens.md §9); nil for an MLP.
        public var trees: BoostedTreesSpec? = nil
        public var hidden: [Int]
        public var activation: Activation
        public var bias: Bool
        public var initialization: Initialization
        public var initScale: Float
        public var parameterization: Parameterization
        public var readout: Readout = .learned
    }

    /// The `optimizer:` section: Nets' own spec, plus the batch size, which belongs to the step
    /// loop rather than the update rule. A gbt run has no optimizer section (it is refused); this
    /// then holds the defaults, unused and not stored.
    public struct OptimizerConfig {
        public var spec: OptimizerSpec
        public var batchSize: Int
    }

    public struct LensConfig {
        public var options: LensOptions
        /// How many training / test points are evaluated and recorded (0 = all).
        public var evalTrain: Int
        public var evalTest: Int
        /// `lens.reference` was not given: the default may be cut to the training set's size,
        /// where a value the user wrote is refused instead.
        public var referenceIsDefault: Bool
        /// `lens.smoother: auto` (the default) and `lens.every` not given: both are decided once
        /// the data is known, from the run's cost (PreparedRun, RunDefaults), and stored resolved.
        public var smootherIsAuto = false
        public var everyIsAuto = false
        public var probesIsDefault = false
        /// `lens.grad_msc_window` was not given: it becomes one epoch, ⌈n/b⌉ steps, once the
        /// training set's size is known (PreparedRun), and is stored resolved.
        public var gradMSCWindowIsEpoch = false
    }

    static let modelKinds = ["mlp", "gbt"]
    static let optimizerKinds = ["sgd", "adam", "adamw"]
    static let schedules = ["constant", "step", "cosine"]

    /// Parses and validates `text` (YAML or JSON), applying `overrides` (`key.path=value`) first.
    /// Relative data paths in `text` are taken from `baseDirectory` (the config file's folder;
    /// nil for a preset: the current directory), those in `overrides` from the current
    /// directory; the resolved config stores them absolute.
    public static func load(text: String, source: String, overrides: [String] = [],
                            baseDirectory: URL? = nil) throws -> TrainConfig {
        let currentDirectory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        var tree = try ConfigParser.parse(text, source: source)
        // A folder URL: without the trailing slash, relative paths would resolve against its parent.
        let base = baseDirectory.map { URL(fileURLWithPath: $0.path, isDirectory: true) } ?? currentDirectory
        tree = absolutizingDataPaths(tree, at: [], base: base)
        for assignment in overrides {
            guard let eq = assignment.firstIndex(of: "=") else {
                throw ConfigError("--set \(assignment): expected key.path=value")
            }
            let path = String(assignment[..<eq]).trimmingCharacters(in: .whitespaces)
            let value = try ConfigParser.parseOverride(String(assignment[assignment.index(after: eq)...]), path: path)
            guard !path.isEmpty else { throw ConfigError("--set \(assignment): empty key path") }
            // Config keys are at most three deep; a longer path is a mistake, and `setting` recurses.
            let dots = path.utf8.reduce(0) { $0 + ($1 == UInt8(ascii: ".") ? 1 : 0) }
            guard dots < ConfigParser.maximumDepth else {
                throw ConfigError("--set \(path.prefix(60))…: \(dots + 1) levels of keys; a config is at most a few levels deep")
            }
            let keys = path.split(separator: ".").map(String.init)
            tree = try setting(tree, path: keys, to: absolutizingDataPaths(value, at: keys, base: currentDirectory))
        }
        return try validate(tree)
    }

    /// Data options that name files or folders (csv, mnist, fashion-mnist, cifar10 sources).
    static let dataPathKeys: Set<String> = ["path", "train_path", "test_path", "images", "labels", "directory",
                                            "test_images", "test_labels", "train_files", "test_files"]

    /// `value`, found at key path `at` of the config, with every relative data path made
    /// absolute against `base`; other values unchanged.
    static func absolutizingDataPaths(_ value: ConfigValue, at keys: [String], base: URL) -> ConfigValue {
        func absolute(_ v: ConfigValue) -> ConfigValue {
            switch v {
            case .string(let s) where !s.isEmpty:
                let expanded = (s as NSString).expandingTildeInPath
                return .string(URL(fileURLWithPath: expanded, relativeTo: base).standardizedFileURL.path)
            case .list(let items): return .list(items.map(absolute))
            default: return v
            }
        }
        switch keys.count {
        case 0:
            guard case .map(let entries) = value else { return value }
            return .map(entries.map { ($0.0, absolutizingDataPaths($0.1, at: [$0.0], base: base)) })
        case 1 where keys[0] == "data":
            guard case .map(let entries) = value else { return value }
            return .map(entries.map { ($0.0, dataPathKeys.contains($0.0) ? absolute($0.1) : $0.1) })
        case 2 where keys[0] == "data" && dataPathKeys.contains(keys[1]):
            return absolute(value)
        default:
            return value
        }
    }

    static func setting(_ tree: ConfigValue, path: [String], to value: ConfigValue) throws -> ConfigValue {
        guard let head = path.first else { return value }
        var entries: [(String, ConfigValue)]
        switch tree {
        case .map(let e): entries = e
        case .null: entries = []
        default: entries = []  // a scalar replaced by a map: the validator reports the shape
        }
        let child = entries.first { $0.0 == head }?.1 ?? .null
        let updated = try setting(child, path: Array(path.dropFirst()), to: value)
        if let i = entries.firstIndex(where: { $0.0 == head }) { entries[i].1 = updated } else { entries.append((head, updated)) }
        return .map(entries)
    }

    static func validate(_ tree: ConfigValue) throws -> TrainConfig {
        let root = try SectionReader(tree, path: "")
        let name = try root.string("name", default: nil)
        let seed = try root.uint64("seed", default: 0)
        let stepsGiven = root.has("steps")
        var steps = try root.int("steps", default: 1000, in: 0...100_000_000)
        let threads = try root.int("threads", default: ComputeEnvironment.machineThreads, in: 1...1024)

        // data: the Data module owns its options; errors are re-rooted under `data.`.
        guard case .map(let dataEntries)? = tree["data"] else {
            throw ConfigError(tree["data"] == nil ? "data: missing; give at least data.source (e.g. digits)" : "data: expected a map of keys")
        }
        let dataSection = try root.section("data")
        let source = try dataSection.string("source", default: nil)
        guard let source else { throw ConfigError("data.source: missing; e.g. digits, diabetes, modular, csv") }
        var options: [String: DataValue] = [:]
        for (key, value) in dataEntries where key != "source" {
            guard let v = dataValue(value) else { throw ConfigError("data.\(key): unsupported value \(describe(value))") }
            options[key] = v
        }
        let dataSpec: DataSpec
        do {
            dataSpec = try DataFactory.resolve(DataSpec(source: source, options: options))
        } catch let error as DataError {
            throw ConfigError(error, source: source)
        }
        var resolvedData: [(String, ConfigValue)] = [("source", .string(source))]
        for key in dataSpec.options.keys.sorted() { resolvedData.append((key, configValue(dataSpec.options[key]!))) }
        root.record("data", .map(resolvedData))

        let m = try root.section("model")
        var model = ModelConfig(hidden: [256], activation: .relu, bias: true, initialization: .he, initScale: 1,
                                parameterization: .standard)
        if try m.choice("kind", default: "mlp", allowed: modelKinds) == "gbt" {
            let trees = try readTrees(m, steps: stepsGiven ? steps : nil)
            model.trees = trees
            steps = trees.rounds
        } else {
            model.hidden = try m.intList("hidden", default: [256], elementRange: 1...1_000_000)
            let activationName = try m.choice("activation", default: "relu", allowed: Activation.names)
            // ε of Kumar et al.'s φ(z) = z + (ε/2)z²; read (and stored) only for that activation, so
            // other runs' stored configs are unchanged.
            var eps: Double = 0
            if activationName == "eps_quadratic" {
                eps = try m.double("activation_eps", default: 0.2)
            } else if m.has("activation_eps") {
                throw ConfigError("model.activation_eps: applies to activation: eps_quadratic only (this model's activation is \(activationName))")
            }
            model.activation = Activation(name: activationName, eps: Float(eps))!
            model.bias = try m.bool("bias", default: true)
            let initName = try m.choice("init", default: "he", allowed: ["he", "xavier", "normal"])
            let initStd = try m.double("init_std", default: 1, min: 0)
            model.initScale = Float(try m.double("init_scale", default: 1, min: 0))
            model.parameterization = Parameterization(rawValue: try m.choice("parameterization", default: "standard", allowed: ["standard", "ntk"]))!
            model.initialization = initName == "he" ? .he : initName == "xavier" ? .xavier : .normal(std: Float(initStd))
            // Stored only when given: the default (learned) leaves earlier runs' configs as they were.
            if m.has("readout") {
                model.readout = Readout(rawValue: try m.choice("readout", default: "learned", allowed: Readout.allCases.map(\.rawValue)))!
                if model.readout == .fixedMean && model.hidden.isEmpty {
                    throw ConfigError("model.readout: fixed_mean is the mean of the last hidden layer; give model.hidden at least one width")
                }
            }
        }
        root.record("model", try m.finish())
        let isTrees = model.trees != nil

        let lossName = try root.choice("loss", default: "mse", allowed: ["mse", "cross_entropy"])
        let loss: Loss = lossName == "mse" ? .mse : .crossEntropy
        if isTrees && loss != .mse { throw ConfigError("loss: boosted trees fit squared loss (docs/lens.md §9); use loss: mse") }

        if isTrees && root.has("optimizer") { throw ConfigError(treeOptimizerRefusal) }
        let o = try root.section("optimizer")
        let kind = OptimizerSpec.Kind(rawValue: try o.choice("kind", default: "sgd", allowed: optimizerKinds))!
        let lr = try o.double("lr", default: 0.05, min: 0, minOpen: true)
        let batchSize = try o.int("batch_size", default: 100, in: 1...Int.max)
        let momentum = try o.double("momentum", default: 0, min: 0, max: 1, maxOpen: true)
        let nesterov = try o.bool("nesterov", default: false)
        let dampening = try o.double("dampening", default: 0, min: 0, max: 1)
        let weightDecay = try o.double("weight_decay", default: kind == .adamw ? 0.01 : 0, min: 0)
        let beta1 = try o.double("beta1", default: 0.9, min: 0, max: 1, maxOpen: true)
        let beta2 = try o.double("beta2", default: 0.999, min: 0, max: 1, maxOpen: true)
        let eps = try o.double("eps", default: 1e-8, min: 0, minOpen: true)
        let scheduleName = try o.choice("schedule", default: "constant", allowed: schedules)
        let warmupSteps = try o.int("warmup_steps", default: 0, in: 0...Int.max)
        // Every schedule key is read (and stored) whichever schedule is chosen.
        let stepSize = try o.int("step_size", default: max(steps / 3, 1), in: 1...Int.max)
        let gamma = try o.double("gamma", default: 0.1, min: 0, minOpen: true, max: 1)
        let minLR = try o.double("min_lr", default: 0, min: 0)
        let clipNorm: Double? = try o.has("clip_norm") ? o.double("clip_norm", default: 0, min: 0, minOpen: true) : { o.record("clip_norm", .null); return nil }()
        let schedule: ScheduleSpec
        switch scheduleName {
        case "step": schedule = .step(every: stepSize, factor: Float(gamma))
        case "cosine": schedule = .cosine(floor: Float(minLR))
        default: schedule = .constant
        }
        let opt = OptimizerConfig(
            spec: OptimizerSpec(kind: kind, lr: lr, momentum: Float(momentum), nesterov: nesterov,
                                dampening: Float(dampening), weightDecay: Float(weightDecay), beta1: Float(beta1),
                                beta2: Float(beta2), eps: Float(eps), schedule: schedule, warmupSteps: warmupSteps,
                                totalSteps: steps, clipNorm: clipNorm.map(Float.init)),
            batchSize: batchSize)
        if nesterov && momentum == 0 { throw ConfigError("optimizer.nesterov: needs optimizer.momentum > 0") }
        // A stored config carries momentum 0 and nesterov false for every kind: only a real
        // setting is refused.
        if kind != .sgd && (momentum != 0 || nesterov) {
            throw ConfigError("optimizer.momentum: applies to sgd only; \(kind.rawValue) uses beta1 and beta2")
        }
        // Settings PyTorch itself rejects (nesterov with dampening, …) are config errors too.
        do { try opt.spec.validate() } catch { throw ConfigError("\(error)") }
        if isTrees { root.skip("optimizer") } else { root.record("optimizer", try o.finish()) }

        // Read before the lens: a child's grad_change reference defaults to its spawn step.
        let spawnSection = try SpawnSpec.read(root, seed: seed, steps: steps)
        let spawn = spawnSection?.0

        let l = try root.section("lens")
        var lensOptions = LensOptions()
        let everyIsAuto = !l.has("every")
        lensOptions.every = try l.int("every", default: 1, in: 1...Int.max)
        let evalTrain = try l.int("eval_train", default: 0, in: 0...Int.max)
        let evalTest = try l.int("eval_test", default: 0, in: 0...Int.max)
        lensOptions.kernel = try l.bool("kernel", default: true)
        var referenceIsDefault = true
        if isTrees {
            try skipNetworkLensOptions(l)
            lensOptions.sharpness = false
            lensOptions.referenceSize = 0
        } else {
            lensOptions.sharpness = try l.bool("sharpness", default: true)
            lensOptions.kernelPath = KernelPathChoice(rawValue: try l.choice("kernel_path", default: "auto", allowed: KernelPathChoice.allCases.map(\.rawValue)))!
            referenceIsDefault = !l.has("reference") || tree["lens"]?["reference"] == .null
            lensOptions.referenceSize = try l.int("reference", default: 256, in: 1...Int.max)
        }
        let smootherName = try l.choice("smoother", default: "auto", allowed: ["auto"] + SmootherMode.allCases.map(\.rawValue))
        let smootherIsAuto = smootherName == "auto"
        // auto: exact or probes by cost once n and C are known (RunDefaults). Cross-entropy runs
        // get one too, through the linearized softmax residual (lens.md (8.13)–(8.14)).
        lensOptions.smoother = smootherIsAuto ? .exact : SmootherMode(rawValue: smootherName)!
        let probesIsDefault = !l.has("probes")
        lensOptions.probes = try l.int("probes", default: 32, in: 2...100_000)
        lensOptions.memoryBudgetBytes = try l.double("memory_budget_mb", default: 4096, min: 1) * 1024 * 1024
        if !isTrees { lensOptions.gradReferenceStep = try l.int("grad_ref_step", default: spawn?.step ?? 0, in: 0...Int.max) }
        // Unset: one epoch, ⌈n/b⌉ steps, once n is known (PreparedRun); 0 turns grad_msc off.
        var gradMSCWindowIsEpoch = false
        if !isTrees {
            let window = try l.optionalInt("grad_msc_window", in: 0...Int.max)
            gradMSCWindowIsEpoch = window == nil
            lensOptions.gradMSCWindow = window ?? 0
        }
        if lensOptions.gradReferenceStep > steps {
            throw ConfigError("lens.grad_ref_step: \(lensOptions.gradReferenceStep) is after the last step (\(steps))")
        }
        if lensOptions.kernelPath == .layerGram && opt.spec.isPreconditioned {
            throw ConfigError("lens.kernel_path: layer_gram needs an optimizer without a preconditioner, and optimizer.kind \(kind.rawValue) preconditions its updates (kernels are K^P, lens.md §4); use optimizer.kind: sgd, or lens.kernel_path: auto, explicit or vjp_jvp")
        }
        lensOptions.totalSteps = steps
        lensOptions.seed = seed
        root.record("lens", try l.finish())

        // About every 5% of the run by default; the 60 s wall-clock floor applies on top.
        let c = try root.section("checkpoint")
        let checkpoint = CheckpointPolicy(every: try c.int("every", default: max(steps / 20, 1), in: 1...Int.max),
                                          keep: try c.int("keep", default: 2, in: 1...1_000_000),
                                          at: Array(Set(try c.intList("at", default: [], elementRange: 1...max(steps, 1)))).sorted())
        root.record("checkpoint", try c.finish())
        if let (_, section) = spawnSection { root.record("spawn", try section.finish()) }

        var resolved = try root.finish()
        // A gbt run's steps are its rounds, whichever of the two was given.
        if isTrees { resolved = try setting(resolved, path: ["steps"], to: .int(steps)) }
        return TrainConfig(name: name, seed: seed, steps: steps, threads: threads, data: dataSpec,
                           model: model, loss: loss, optimizer: opt,
                           lens: LensConfig(options: lensOptions, evalTrain: evalTrain, evalTest: evalTest,
                                              referenceIsDefault: referenceIsDefault, smootherIsAuto: smootherIsAuto,
                                              everyIsAuto: everyIsAuto, probesIsDefault: probesIsDefault,
                                              gradMSCWindowIsEpoch: gradMSCWindowIsEpoch),
                           checkpoint: checkpoint, spawn: spawn, resolved: resolved)
    }

    static func dataValue(_ v: ConfigValue) -> DataValue? {
        switch v {
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        // Data options are all far below Int.max: as a number it fails their range check.
        case .uint(let u): return .double(Double(u))
        case .list(let items):
            let converted = items.compactMap(dataValue)
            return converted.count == items.count ? .list(converted) : nil
        case .map, .null: return nil
        }
    }

    static func configValue(_ v: DataValue) -> ConfigValue {
        switch v {
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        case .list(let items): return .list(items.map(configValue))
        }
    }
}
