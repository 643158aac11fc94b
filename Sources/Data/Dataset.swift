/// A dataset as training and the Lens consume it: float32 features `n × d` (row-major, contiguous)
/// and float32 targets `n × targetDimension` (regression values, ±1 for binary, one-hot for MSE
/// classification). Classification data also carries class indices for cross-entropy and
/// accuracy. `rowIDs[i]` is the row of the source (file line order, generator index) that example
/// `i` came from, so every stored per-point vector maps back to a dataset row.
public struct Dataset: Sendable, Equatable {
    public var name: String
    public var features: [Float]
    public var count: Int
    public var dimension: Int
    public var targets: [Float]
    public var targetDimension: Int
    /// Class index per example for classification tasks, nil for regression.
    public var labels: [Int]?
    /// Number of classes for classification tasks (labels are 0..<classCount), nil for regression.
    public var classCount: Int?
    public var rowIDs: [Int]

    public init(name: String, features: [Float], count: Int, dimension: Int,
                targets: [Float], targetDimension: Int, labels: [Int]? = nil, classCount: Int? = nil,
                rowIDs: [Int]? = nil) {
        precondition(features.count == count * dimension, "features must be count × dimension")
        precondition(targets.count == count * targetDimension, "targets must be count × targetDimension")
        self.name = name
        self.features = features
        self.count = count
        self.dimension = dimension
        self.targets = targets
        self.targetDimension = targetDimension
        self.labels = labels
        self.classCount = classCount
        self.rowIDs = rowIDs ?? Array(0..<count)
    }

    /// Examples `indices`, in that order (features, targets, labels and row identities together).
    public func subset(_ indices: [Int]) -> Dataset {
        var f = [Float](); f.reserveCapacity(indices.count * dimension)
        var t = [Float](); t.reserveCapacity(indices.count * targetDimension)
        for i in indices {
            f.append(contentsOf: features[(i * dimension)..<((i + 1) * dimension)])
            t.append(contentsOf: targets[(i * targetDimension)..<((i + 1) * targetDimension)])
        }
        return Dataset(name: name, features: f, count: indices.count, dimension: dimension,
                       targets: t, targetDimension: targetDimension,
                       labels: labels.map { l in indices.map { l[$0] } }, classCount: classCount,
                       rowIDs: indices.map { rowIDs[$0] })
    }
}

/// A train/test pair with a fingerprint of the exact data used (for `runs.data_fingerprint`).
public struct DataSplit: Sendable {
    public var train: Dataset
    public var test: Dataset
    /// `rowIDs` of the training examples whose label `label_noise` replaced (ascending).
    public var noisyTrainRowIDs: [Int] = []
    /// `rowIDs` of the test examples a generator made irregular on purpose (`tabular`).
    public var irregularTestRowIDs: [Int] = []
    /// Feature columns `standardize` centred but did not scale (ascending): constant or under the
    /// floor in training, or all of them for `standardize: center`. Empty when it is off.
    public var unscaledColumns: [Int] = []
    /// How class labels became targets (`data.target`), nil for regression data.
    public var targetEncoding: TargetEncoding?
    /// The one-output decision threshold of these targets (`TargetEncoding.decisionThreshold`;
    /// 0 for regression data, where accuracy is not recorded).
    public var decisionThreshold: Float { targetEncoding?.decisionThreshold ?? 0 }
    public init(train: Dataset, test: Dataset) { self.train = train; self.test = test }
}
