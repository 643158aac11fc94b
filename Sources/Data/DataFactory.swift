/// Builds the train/test data a run uses from a `DataSpec` and a seed: source → class subset →
/// split or subsample → label noise (train only) → target encoding → standardization with
/// training statistics. Same spec and seed, same arrays, same `fingerprint`.
///
///     let split = try DataFactory.load(DataSpec(source: "digits", options: ["classes": [3, 5]]), seed: 0)
///     print(split.train.count, split.fingerprint)
public enum DataFactory {
    /// Loads (or generates) `spec` with `seed`. Throws `DataError` naming the file or source
    /// and the problem.
    public static func load(_ spec: DataSpec, seed: UInt64) throws -> DataSplit {
        let spec = try resolve(spec)
        let o = ResolvedOptions(spec: spec)
        let name = spec.source
        var split: DataSplit

        var raw: Raw
        switch name {
        case "digits":
            raw = try images(.pool(try BuiltinData.digits(), testFraction: o.double("test_fraction")), layout: ImageLayout(height: 8, width: 8), o)
        case "diabetes":
            raw = .pool(try BuiltinData.diabetes(), testFraction: o.double("test_fraction"))
        case "teacher-quadratic":
            raw = .split(Generators.teacherQuadratic(nTrain: o.int("n_train"), nTest: o.int("n_test"),
                                                     dimension: o.int("d"), noise: o.double("noise"),
                                                     scaledInputs: o.string("input_scale") == "1/sqrt(d)",
                                                     halfSquare: o.string("target") == "half-square", seed: seed),
                         subsample: false)
        case "modular":
            let op = Generators.ModularOperation(rawValue: o.string("op"))!
            raw = .pool(try Generators.modularPairs(p: o.int("p"), op: op), testFraction: 1 - o.double("train_fraction"))
        case "tabular":
            raw = .split(Generators.tabular(nTrain: o.int("n_train"), nTest: o.int("n_test"), dimension: o.int("d"),
                                            df: o.double("df"), correlation: o.double("correlation"),
                                            noise: o.double("noise"), irregularFraction: o.double("irregular_fraction"),
                                            irregularShift: o.double("irregular_shift"), seed: seed),
                         subsample: false)
        case "gaussian-mixture":
            raw = .split(Generators.gaussianMixture(nTrain: o.int("n_train"), nTest: o.int("n_test"), classes: o.int("k"),
                                                    dimension: o.int("d"), separation: o.double("separation"), seed: seed),
                         subsample: false)
        case "csv":
            raw = try csv(o, name: name)
        case "diamonds":
            let (d, names) = try BuiltinData.diamonds(categoricals: BuiltinData.DiamondCategoricals(rawValue: o.string("categoricals"))!)
            raw = .pool(try TabularPreprocessing.apply(o, to: d, names: names, location: name), testFraction: o.double("test_fraction"))
        case "mnist":
            let train: Dataset, layout: ImageLayout
            switch (o.optionalString("images"), o.optionalString("labels")) {
            case (nil, nil):
                guard o.optionalString("test_images") == nil, o.optionalString("test_labels") == nil else {
                    throw DataError(name, "`test_images` and `test_labels` need `images` and `labels` (without them mnist is the built-in 5,000)")
                }
                (train, layout) = (try BuiltinData.mnist5k(), ImageLayout(height: 28, width: 28))
            case let (images?, labels?): (train, layout) = try IDX.load(images: images, labels: labels, name: name)
            case (_?, nil): throw DataError(name, option: "labels", "missing; `images` needs it (training labels, IDX 0x00000801)")
            case (nil, _?): throw DataError(name, option: "images", "missing; `labels` needs it (training images, IDX 0x00000803)")
            }
            switch (o.optionalString("test_images"), o.optionalString("test_labels")) {
            case (nil, nil): raw = .pool(train, testFraction: o.double("test_fraction"))
            case let (images?, labels?):
                let (test, testLayout) = try IDX.load(images: images, labels: labels, name: name)
                guard testLayout == layout else {
                    throw DataError(images, "holds \(testLayout.height)×\(testLayout.width) images, the training images are \(layout.height)×\(layout.width)")
                }
                raw = .split(DataSplit(train: train, test: test), subsample: true)
            default: throw DataError(name, "give both `test_images` and `test_labels`, or neither")
            }
            raw = try images(raw, layout: layout, o)
        case "fashion-mnist":
            let (train, test) = try FashionMNIST.load(directory: o.string("directory"), name: name)
            raw = try images(.split(DataSplit(train: train, test: test), subsample: true), layout: ImageLayout(height: 28, width: 28), o)
        case "mnist1d":
            var settings = MNIST1D.Settings()
            settings.samples = o.int("num_samples")
            let padding = o.optionalInts("padding") ?? []
            guard padding.count == 2, padding[0] <= padding[1] else {
                throw DataError(name, option: "padding", "must be [low, high] with low ≤ high, got \(padding)")
            }
            settings.padding = (padding[0], padding[1])
            settings.scaleCoefficient = o.double("scale_coeff")
            settings.maxTranslation = o.int("max_translation")
            settings.correlatedNoiseScale = o.double("corr_noise_scale")
            settings.iidNoiseScale = o.double("iid_noise_scale")
            settings.shearScale = o.double("shear_scale")
            settings.finalLength = o.int("final_seq_length")
            raw = .pool(MNIST1D.generate(settings, seed: seed), testFraction: o.double("test_fraction"))
        case "cifar10":
            let train = try CIFAR10.load(files: o.strings("train_files"), name: name)
            if let testFiles = o.optionalStrings("test_files") {
                raw = .split(DataSplit(train: train, test: try CIFAR10.load(files: testFiles, name: name)), subsample: true)
            } else {
                raw = .pool(train, testFraction: o.double("test_fraction"))
            }
            raw = try images(raw, layout: ImageLayout(height: 32, width: 32, channels: 3), o)
        default:
            throw DataError("data", option: "source", "unknown source `\(name)`")
        }

        let classes = o.optionalInts("classes")
        let location = o.location
        switch raw {
        case .pool(var pool, let testFraction):
            if let classes { pool = try pool.selectingClasses(classes, location: location) }
            if (o.optionalDouble("holdout_pc1") ?? 0) > 0 || (o.optionalInt("validation") ?? 0) > 0 {
                split = try IrregularHoldout.split(pool, fraction: o.optionalDouble("holdout_pc1") ?? 0, keep: o.optionalInt("n_irregular"),
                                                   validation: o.optionalInt("validation") ?? 0, testFraction: testFraction,
                                                   testCount: o.optionalInt("n_test"), trainCount: o.optionalInt("n_train"), seed: seed)
            } else {
                let nTest = o.optionalInt("n_test") ?? Int((testFraction * Double(pool.count)).rounded())
                split = try pool.split(testCount: nTest, trainCount: o.optionalInt("n_train"), seed: seed)
            }
        case .split(let s, let subsample):
            split = s
            if let classes {
                split.train = try split.train.selectingClasses(classes, location: location)
                split.test = try split.test.selectingClasses(classes, location: location)
            }
            if subsample {
                if let n = o.optionalInt("n_train") { split.train = try split.train.subsample(n, seed: seed, what: "training examples", option: "n_train") }
                if let n = o.optionalInt("n_test") { split.test = try split.test.subsample(n, seed: seed &+ 1, what: "test examples", option: "n_test") }
            }
        }
        split.train.name = name; split.test.name = name

        if split.train.labels != nil {
            let fraction = o.optionalDouble("label_noise") ?? 0
            let (noisy, changed) = try split.train.withLabelNoise(fraction: fraction, seed: seed)
            split.train = noisy
            split.noisyTrainRowIDs = changed.map { noisy.rowIDs[$0] }.sorted()
            let encoding = TargetEncoding(rawValue: o.optionalString("target") ?? "onehot")!
            split.train = try split.train.encodingTargets(encoding)
            split.test = try split.test.encodingTargets(encoding)
            split.targetEncoding = encoding
        }
        return split.standardized(features: o.optionalValue("standardize").flatMap(StandardizeMode.init(option:)) ?? .off,
                                  targets: split.train.labels == nil && (o.optionalBool("standardize_targets") ?? false))
    }

    /// What a source yields before the shared transforms: a pool still to be split, or a
    /// ready-made split (which the user may subsample with n_train / n_test).
    enum Raw {
        case pool(Dataset, testFraction: Double); case split(DataSplit, subsample: Bool)

        func map(_ f: (Dataset) throws -> Dataset) rethrows -> Raw {
            switch self {
            case .pool(let d, let t): return .pool(try f(d), testFraction: t)
            case .split(var s, let sub): s.train = try f(s.train); s.test = try f(s.test); return .split(s, subsample: sub)
            }
        }
    }

    /// The image options of a source whose rows are images laid out as `layout`: `greyscale`
    /// (colour only), then `downsample` (data/README.md, "Images"). Both act on each image alone,
    /// so doing them before the split changes nothing but the cost.
    static func images(_ raw: Raw, layout: ImageLayout, _ o: ResolvedOptions) throws -> Raw {
        var raw = raw, layout = layout
        if let grey = o.optionalValue("greyscale"), grey != .bool(false) {
            let weights = grey == .string("mean") ? [1.0 / 3, 1.0 / 3, 1.0 / 3] : bt601LumaWeights
            let before = layout
            raw = try raw.map { try $0.greyscaled(before, weights: weights).0 }
            layout = ImageLayout(height: layout.height, width: layout.width, channels: 1)
        }
        if let size = o.optionalInt("downsample") {
            let before = layout
            raw = try raw.map { try $0.downsampled(before, to: size).0 }
        }
        return raw
    }

    private static func csv(_ o: ResolvedOptions, name: String) throws -> Raw {
        let delimiter = o.string("delimiter")
        guard delimiter.count == 1, let sep = delimiter.first else {
            throw DataError(name, option: "delimiter", "must be one character, got \"\(delimiter)\"")
        }
        let targets: [String]
        switch (o.optionalString("target_column"), o.optionalStrings("target_columns")) {
        case let (column?, nil): targets = [column]
        case let (nil, columns?) where !columns.isEmpty: targets = columns
        case (nil, _): throw DataError(name, option: "target_column", "missing; name the column that holds the target (or give `target_columns`)")
        default: throw DataError(name, "give `target_column` or `target_columns`, not both")
        }
        let classification = o.string("task") == "classification"
        func read(_ path: String) throws -> (Dataset, names: [String]) {
            let table = try CSVTable.load(path, delimiter: sep)
            let d = try table.dataset(name: name, targetColumns: targets, classification: classification, location: path)
            return (d, table.header.filter { !targets.contains($0) })
        }
        switch (o.optionalString("path"), o.optionalString("train_path"), o.optionalString("test_path")) {
        case let (path?, nil, nil):
            let (d, names) = try read(path)
            return .pool(try TabularPreprocessing.apply(o, to: d, names: names, location: path), testFraction: o.double("test_fraction"))
        case let (nil, trainPath?, testPath?):
            let (rawTrain, names) = try read(trainPath)
            var train = rawTrain, test = try read(testPath).0
            guard train.dimension == test.dimension else {
                throw DataError(testPath, "has \(test.dimension) feature columns, the training file \(trainPath) has \(train.dimension)")
            }
            // Columns decided on the training file alone; the test file gets the same ones.
            test = try TabularPreprocessing.apply(o, to: test, names: names, decideOn: train, location: testPath)
            train = try TabularPreprocessing.apply(o, to: train, names: names, location: trainPath)
            if classification {
                let k = max(train.classCount ?? 0, test.classCount ?? 0)
                train.classCount = k; test.classCount = k
            }
            return .split(DataSplit(train: train, test: test), subsample: true)
        default:
            throw DataError(name, "give either `path` (one file, split by seed) or both `train_path` and `test_path`")
        }
    }
}

/// Typed reads of a resolved spec (types and defaults were checked by `resolve`).
struct ResolvedOptions {
    let spec: DataSpec
    var location: String { optionalString("path") ?? optionalString("train_path") ?? spec.source }

    func optionalInt(_ k: String) -> Int? { if case .int(let v)? = spec.options[k] { return v }; return nil }
    func optionalDouble(_ k: String) -> Double? {
        switch spec.options[k] { case .double(let v)?: return v; case .int(let v)?: return Double(v); default: return nil }
    }
    func optionalString(_ k: String) -> String? { if case .string(let v)? = spec.options[k] { return v }; return nil }
    func optionalValue(_ k: String) -> DataValue? { spec.options[k] }
    func optionalBool(_ k: String) -> Bool? { if case .bool(let v)? = spec.options[k] { return v }; return nil }
    func optionalInts(_ k: String) -> [Int]? {
        guard case .list(let l)? = spec.options[k] else { return nil }
        return l.compactMap { if case .int(let v) = $0 { return v }; return nil }
    }
    func optionalStrings(_ k: String) -> [String]? {
        guard case .list(let l)? = spec.options[k] else { return nil }
        return l.compactMap { if case .string(let v) = $0 { return v }; return nil }
    }
    func int(_ k: String) -> Int { optionalInt(k)! }
    func double(_ k: String) -> Double { optionalDouble(k)! }
    func string(_ k: String) -> String { optionalString(k)! }
    func strings(_ k: String) -> [String] { optionalStrings(k)! }
}
