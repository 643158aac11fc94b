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

        let raw: Raw
        switch name {
        case "digits":
            raw = .pool(try BuiltinData.digits(), testFraction: o.double("test_fraction"))
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
        case "mnist":
            let train = try IDX.load(images: o.string("images"), labels: o.string("labels"), name: name)
            switch (o.optionalString("test_images"), o.optionalString("test_labels")) {
            case (nil, nil): raw = .pool(train, testFraction: o.double("test_fraction"))
            case let (images?, labels?):
                raw = .split(DataSplit(train: train, test: try IDX.load(images: images, labels: labels, name: name)), subsample: true)
            default: throw DataError(name, "give both `test_images` and `test_labels`, or neither")
            }
        case "cifar10":
            let train = try CIFAR10.load(files: o.strings("train_files"), name: name)
            if let testFiles = o.optionalStrings("test_files") {
                raw = .split(DataSplit(train: train, test: try CIFAR10.load(files: testFiles, name: name)), subsample: true)
            } else {
                raw = .pool(train, testFraction: o.double("test_fraction"))
            }
        default:
            throw DataError("data", option: "source", "unknown source `\(name)`")
        }

        let classes = o.optionalInts("classes")
        let location = o.location
        switch raw {
        case .pool(var pool, let testFraction):
            if let classes { pool = try pool.selectingClasses(classes, location: location) }
            let nTest = o.optionalInt("n_test") ?? Int((testFraction * Double(pool.count)).rounded())
            split = try pool.split(testCount: nTest, trainCount: o.optionalInt("n_train"), seed: seed)
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
    enum Raw { case pool(Dataset, testFraction: Double); case split(DataSplit, subsample: Bool) }

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
        func read(_ path: String) throws -> Dataset {
            try CSVTable.load(path, delimiter: sep)
                .dataset(name: name, targetColumns: targets, classification: classification, location: path)
        }
        switch (o.optionalString("path"), o.optionalString("train_path"), o.optionalString("test_path")) {
        case let (path?, nil, nil):
            return .pool(try read(path), testFraction: o.double("test_fraction"))
        case let (nil, trainPath?, testPath?):
            var train = try read(trainPath), test = try read(testPath)
            guard train.dimension == test.dimension else {
                throw DataError(testPath, "has \(test.dimension) feature columns, the training file \(trainPath) has \(train.dimension)")
            }
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
