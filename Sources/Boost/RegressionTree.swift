/// One regression tree of a boosted ensemble (lens.md §9): nodes in breadth-first order in flat
/// arrays, node 0 the root, and for every leaf its value and how many subsample rows it holds.
///
/// A row goes left at a node when its bin of `feature` is at most `splitBin` — equivalently
/// (FeatureBins) when its raw value is at most `threshold`, the cut point of that bin.
public struct RegressionTree: Equatable, Sendable {
    /// Per node: the split feature, or −1 for a leaf.
    public internal(set) var feature: [Int32] = []
    /// Per node: rows whose bin is ≤ this go left.
    public internal(set) var splitBin: [UInt16] = []
    /// Per node: raw values ≤ this go left (the cut point `edges[feature][splitBin]`).
    public internal(set) var threshold: [Float] = []
    /// Per node: the left child (the right child is the next node), or for a leaf its leaf number.
    public internal(set) var child: [Int32] = []
    /// Per leaf: `γ Σ_{i∈leaf∩S_t} r_i / (|leaf ∩ S_t| + λ_leaf)`, the tree's contribution γ h_t
    /// (lens.md §9).
    public internal(set) var leafValue: [Float] = []
    /// Per leaf: |leaf ∩ S_t|.
    public internal(set) var leafCount: [Int32] = []

    public init() {}

    public var nodeCount: Int { feature.count }
    public var leafTotal: Int { leafValue.count }

    /// The leaf a binned row falls in (one- or two-byte bin indices, BinnedPoints).
    @inline(__always) public func leaf<Code: FixedWidthInteger & UnsignedInteger>(binned row: UnsafePointer<Code>) -> Int {
        feature.withUnsafeBufferPointer { feature in
            splitBin.withUnsafeBufferPointer { splitBin in
                child.withUnsafeBufferPointer { child in
                    var node = 0
                    while feature[node] >= 0 {
                        node = Int(child[node]) + (UInt16(row[Int(feature[node])]) <= splitBin[node] ? 0 : 1)
                    }
                    return Int(child[node])
                }
            }
        }
    }

    /// The leaf a raw point falls in (the same leaf as its bins, by FeatureBins' cut rule).
    @inline(__always) public func leaf(point x: UnsafePointer<Float>) -> Int {
        feature.withUnsafeBufferPointer { feature in
            threshold.withUnsafeBufferPointer { threshold in
                child.withUnsafeBufferPointer { child in
                    var node = 0
                    while feature[node] >= 0 {
                        node = Int(child[node]) + (x[Int(feature[node])] <= threshold[node] ? 0 : 1)
                    }
                    return Int(child[node])
                }
            }
        }
    }

    /// Appends a node that is a leaf until `split` turns it into an inner node.
    mutating func appendNode() -> Int {
        feature.append(-1); splitBin.append(0); threshold.append(0); child.append(-1)
        return feature.count - 1
    }

    mutating func split(_ node: Int, feature f: Int, bin: UInt16, threshold t: Float) -> Int {
        let left = appendNode()
        _ = appendNode()
        feature[node] = Int32(f); splitBin[node] = bin; threshold[node] = t; child[node] = Int32(left)
        return left
    }

    mutating func setLeaf(_ node: Int, value: Float, count: Int) {
        child[node] = Int32(leafValue.count)
        leafValue.append(value)
        leafCount.append(Int32(count))
    }

    /// Arrays as they are in the learner state (BoostedTreesLearner): checks every node's
    /// links, so a corrupt blob is refused rather than followed out of bounds.
    init(feature: [Int32], splitBin: [UInt16], threshold: [Float], child: [Int32], leafValue: [Float],
         leafCount: [Int32], featureCount: Int) throws {
        let n = feature.count
        guard n > 0, splitBin.count == n, threshold.count == n, child.count == n, leafValue.count == leafCount.count else {
            throw TreeError("a tree's node arrays disagree in length")
        }
        var leaves = 0
        for k in 0..<n {
            if feature[k] < 0 {
                guard child[k] == Int32(leaves) else { throw TreeError("node \(k) names leaf \(child[k]), expected \(leaves)") }
                leaves += 1
            } else {
                // Children come after their parent (breadth-first), so following them ends.
                guard Int(feature[k]) < featureCount, child[k] > Int32(k), Int(child[k]) + 1 < n else {
                    throw TreeError("node \(k) links outside the tree")
                }
            }
        }
        guard leaves == leafValue.count else { throw TreeError("the tree has \(leaves) leaves and \(leafValue.count) leaf values") }
        self.feature = feature; self.splitBin = splitBin; self.threshold = threshold; self.child = child
        self.leafValue = leafValue; self.leafCount = leafCount
    }
}

public struct TreeError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
