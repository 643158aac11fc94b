import Linalg

// Transforms keep `rowIDs` attached to their examples (they all go through `Dataset.subset` or
// rewrite values in place), so every example still names the source row it came from.

extension Dataset {
    /// Only the examples whose label is in `classes`, relabelled to 0..<classes.count in the
    /// order given (`[3, 5]`: 3 → 0, 5 → 1). Throws if a class is absent or repeated.
    public func selectingClasses(_ classes: [Int], location: String? = nil) throws -> Dataset {
        let location = location ?? name
        guard let labels, classCount != nil else {
            throw DataError(location, option: "classes", "needs a classification source; this data has no labels")
        }
        guard !classes.isEmpty else { throw DataError(location, option: "classes", "is empty") }
        var newLabel = [Int: Int]()
        for (i, c) in classes.enumerated() {
            if newLabel[c] != nil { throw DataError(location, option: "classes", "class \(c) is listed twice") }
            newLabel[c] = i
        }
        let present = Set(labels)
        for c in classes where !present.contains(c) {
            let have = present.sorted().map(String.init).joined(separator: ", ")
            throw DataError(location, option: "classes", "class \(c) is absent (classes present: \(have))")
        }
        let keep = labels.indices.filter { newLabel[labels[$0]] != nil }
        var out = subset(keep)
        out.labels = keep.map { newLabel[labels[$0]]! }
        out.classCount = classes.count
        if targetDimension > 0 { out.targets = []; out.targetDimension = 0 }
        return out
    }

    /// Targets rebuilt from `labels` (onehot: `classCount` columns; pm1: ±1 for two classes,
    /// label 1 → +1; index: the class index as a float).
    public func encodingTargets(_ encoding: TargetEncoding) throws -> Dataset {
        guard let labels, let k = classCount else {
            throw DataError(name, option: "target", "\(encoding.rawValue) needs class labels")
        }
        var out = self
        switch encoding {
        case .onehot:
            out.targetDimension = k
            out.targets = [Float](repeating: 0, count: count * k)
            for (i, l) in labels.enumerated() { out.targets[i * k + l] = 1 }
        case .pm1:
            guard k == 2 else {
                throw DataError(name, option: "target", "pm1 needs exactly 2 classes, this data has \(k) (choose two with `classes`)")
            }
            out.targetDimension = 1
            out.targets = labels.map { $0 == 1 ? 1 : -1 }
        case .index:
            out.targetDimension = 1
            out.targets = labels.map { Float($0) }
        }
        return out
    }

    /// Exactly `round(fraction · count)` examples, chosen by `seed` (stream `.labelNoise`), get a
    /// label drawn uniformly from the *other* classes. Returns the noisy data and the indices
    /// changed (ascending). Targets are left as they were: re-encode afterwards.
    public func withLabelNoise(fraction: Double, seed: UInt64) throws -> (dataset: Dataset, noisy: [Int]) {
        guard let labels, let k = classCount else { throw DataError(name, option: "label_noise", "needs class labels") }
        guard (0...1).contains(fraction) else { throw DataError(name, option: "label_noise", "must be in 0…1, got \(fraction)") }
        let m = Int((fraction * Double(count)).rounded())
        if m == 0 { return (self, []) }
        guard k >= 2 else { throw DataError(name, option: "label_noise", "needs at least 2 classes") }
        var rng = RandomSource(seed: seed, stream: .labelNoise)
        let chosen = Array(rng.permutation(count).prefix(m)).sorted()
        var noisy = labels
        for i in chosen {
            let r = rng.integer(below: k - 1)
            noisy[i] = r >= labels[i] ? r + 1 : r
        }
        var out = self
        out.labels = noisy
        return (out, chosen)
    }

    /// A seeded subsample of `n` examples (stream `.split`), kept in their original order.
    /// `option`: the data option that asked for `n`, named when there are too few.
    public func subsample(_ n: Int, seed: UInt64, what: String = "examples", option: String? = nil) throws -> Dataset {
        guard n <= count else { throw DataError(name, option: option, "asked for \(n) \(what) but only \(count) are available") }
        if n == count { return self }
        var rng = RandomSource(seed: seed, stream: .split)
        return subset(Array(rng.permutation(count).prefix(n)).sorted())
    }

    /// Train/test split of this pool: a seeded permutation (stream `.split`); the first
    /// `testCount` go to test, the next `trainCount` (default: all the rest) to train. Growing
    /// `trainCount` never changes the test set. Both parts keep the pool's order.
    public func split(testCount: Int, trainCount: Int? = nil, seed: UInt64) throws -> DataSplit {
        guard testCount <= count else {
            throw DataError(name, option: "n_test", "\(testCount) exceeds the \(count) examples available")
        }
        let available = count - testCount
        let nTrain = trainCount ?? available
        guard nTrain <= available else {
            throw DataError(name, option: "n_train", "\(nTrain) exceeds the \(available) examples left after \(testCount) test examples (of \(count))")
        }
        var rng = RandomSource(seed: seed, stream: .split)
        let p = rng.permutation(count)
        return DataSplit(train: subset(Array(p[testCount..<(testCount + nTrain)]).sorted()),
                         test: subset(Array(p[0..<testCount]).sorted()))
    }
}

/// How `standardize` treats features: `false` leaves them, `true` z-scores them with training
/// statistics (columns under `Standardizer.relativeFloor` only centred), `center` only centres.
public enum StandardizeMode: String, Sendable {
    case off, zscore, center

    /// The `standardize` option's value: `false`, `true` or `"center"` (nil for anything else).
    public init?(option: DataValue) {
        switch option {
        case .bool(let on): self = on ? .zscore : .off
        case .string("center"): self = .center
        default: return nil
        }
    }
}

/// Per-feature standardization fitted on training data and applied unchanged to any other data.
/// A column whose training standard deviation is under the floor (`relativeFloor` × the median
/// standard deviation of the columns that vary) is only centred (scale 1): dividing by a spread
/// that a handful of training rows carry turns an ordinary test value into hundreds of training
/// standard deviations (data/README.md, "Standardization").
public struct Standardizer: Sendable, Equatable {
    public var mean: [Float]
    public var scale: [Float]
    /// Columns left unscaled (scale 1), ascending: under the floor, or every column when only centring.
    public var unscaledColumns: [Int]

    /// The floor on a column's training standard deviation, as a share of the median over the
    /// non-constant columns. Relative, because features come in any unit; a median, because the
    /// near-constant columns the floor exists for must not set it. Why 0.01: digits edge pixels
    /// that are non-zero in one or two of ~1,440 training rows have standard deviations
    /// 0.0016–0.0023 against a median of 0.27 (ratios under 0.009), and a test value of one of
    /// them became 303 standard deviations; diabetes' smallest columns (sex, s5: 0.50 and 0.52
    /// against 12) sit at 0.04 and must stay scaled, a 4× margin. A column in units 100× finer
    /// than the others is left unscaled too, and `unscaledColumns` says so (data/README.md).
    public static let relativeFloor = 0.01

    /// Mean and population standard deviation of each column of a row-major `count × width`
    /// array; `scaling: false` centres only.
    public init(fitting values: [Float], count: Int, width: Int, scaling: Bool = true,
                relativeFloor: Double = Standardizer.relativeFloor) {
        var sum = [Double](repeating: 0, count: width), sumSq = [Double](repeating: 0, count: width)
        for i in 0..<count {
            for j in 0..<width { let x = Double(values[i * width + j]); sum[j] += x }
        }
        let n = Double(Swift.max(count, 1))
        let mu = sum.map { $0 / n }
        for i in 0..<count {
            for j in 0..<width { let x = Double(values[i * width + j]) - mu[j]; sumSq[j] += x * x }
        }
        // A column is constant when every training value is equal. Its computed std is then the
        // rounding error of the mean, not always 0: neither a divisor nor a vote in the median.
        let sd = sumSq.map { ($0 / n).squareRoot() }
        let varying = (0..<width).filter { j in count > 1 && (1..<count).contains { values[$0 * width + j] != values[j] } }
        let typical = Standardizer.median(varying.map { sd[$0] })
        let isVarying = Set(varying)
        let scaled = (0..<width).map { j in scaling && isVarying.contains(j) && sd[j] >= relativeFloor * typical }
        mean = mu.map { Float($0) }
        scale = (0..<width).map { scaled[$0] ? Float(sd[$0]) : 1 }
        unscaledColumns = (0..<width).filter { !scaled[$0] }
    }

    static func median(_ x: [Double]) -> Double {
        let s = x.sorted()
        guard !s.isEmpty else { return 0 }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    public func apply(to values: inout [Float]) {
        let width = mean.count
        guard width > 0 else { return }
        for i in 0..<(values.count / width) {
            for j in 0..<width { values[i * width + j] = (values[i * width + j] - mean[j]) / scale[j] }
        }
    }
}

extension DataSplit {
    /// Features (and, if asked, targets) standardized with *training* statistics; the test set
    /// gets the training mean and scale, so its mean is not exactly 0. `unscaledColumns`
    /// records the feature columns left unscaled.
    public func standardized(features: StandardizeMode = .zscore, targets: Bool = false) -> DataSplit {
        var out = self
        out.unscaledColumns = []
        if features != .off {
            let s = Standardizer(fitting: train.features, count: train.count, width: train.dimension,
                                 scaling: features == .zscore)
            s.apply(to: &out.train.features); s.apply(to: &out.test.features)
            out.unscaledColumns = s.unscaledColumns
        }
        if targets && train.targetDimension > 0 {
            // Targets keep only the constant-column rule: a target column is what the loss
            // measures, and leaving one unscaled would change the units of test MSE unrecorded.
            let s = Standardizer(fitting: train.targets, count: train.count, width: train.targetDimension, relativeFloor: 0)
            s.apply(to: &out.train.targets); s.apply(to: &out.test.targets)
        }
        return out
    }
}
