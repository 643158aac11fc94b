import Boost
import Foundation
import Lens

/// A boosted-trees run's memory, part by part (docs/lens.md §9), in the parts MemoryEstimate
/// names for a network: `parameters` are the trees and the per-row state of the learner,
/// `activations` the grower's histograms and bins, `parameterBlob` the learner's checkpoint blob.
extension MemoryEstimate {
    /// A gbt run as PreparedRun sees it: `testCount` evaluated test rows.
    public init(trees: BoostedTreesSpec, features d: Int, trainCount n: Int, evalTrainCount: Int, testCount: Int,
                lens: LensOptions) {
        self.init(rounds: trees.rounds, maxDepth: trees.maxDepth, bins: trees.binsPerFeature(trainCount: n),
                  subsample: trees.subsampleSize(trainCount: n), features: d, trainCount: n,
                  evalTrainCount: evalTrainCount, testCount: testCount,
                  smoother: RunShape.Smoother(rawValue: lens.smoother.rawValue) ?? .off, probes: lens.probes,
                  weightNorms: lens.kernel)
    }

    /// The same from a cost-model shape.
    init(treeShape s: RunShape, trees: RunShape.TreeShape) {
        self.init(rounds: s.steps, maxDepth: trees.maxDepth, bins: trees.bins, subsample: s.batchSize,
                  features: s.inputDimension, trainCount: s.trainCount, evalTrainCount: s.evalTrain,
                  testCount: s.evalTest, smoother: s.smoother, probes: s.probes, weightNorms: s.kernelStatistics)
    }

    init(rounds: Int, maxDepth: Int, bins: Int, subsample b: Int, features d: Int, trainCount n: Int,
         evalTrainCount: Int, testCount: Int, smoother mode: RunShape.Smoother, probes: Int, weightNorms: Bool) {
        let float = 4.0, nn = Double(n), bb = Double(b), dd = Double(d), tests = Double(testCount)
        let m = Double(evalTrainCount) + tests
        // U: ExactKernelInstrument watches every training row and the test rows with a smoother.
        let u = mode != .off ? nn + tests : m
        let depth = min(maxDepth, 40)
        let nodes = min(pow(2, Double(depth + 1)) - 1, 2 * bb - 1), leaves = min(pow(2, Double(depth)), bb)
        let directions: Int? = mode == .probes ? probes : nil
        // Bin indices are one byte up to 256 bins, two beyond (FeatureBins.codeWidth).
        let codeBytes = Double(RunShape.TreeShape(maxDepth: maxDepth, bins: bins, subsampled: false).codeWidth)
        let columns = mode == .off ? 0 : Double(directions ?? n)

        parameterCount = 0
        // Nodes: feature, bin, threshold, child; leaves: value, count. f_t, g and leaf ids per row.
        parameters = Double(rounds) * (13 * nodes + 8 * leaves) + 12 * nn
        optimizerState = 0
        // Two levels of histograms (Σg, count in doubles over d·B bins), the row index and its
        // spill-over, the bins of the training and watched points (codeBytes each), the
        // smoother's leaf sums.
        activations = 2 * min(pow(2, Double(max(depth - 1, 0))), bb) * dd * Double(bins) * 16
            + 8 * nn + codeBytes * (nn + u) * dd + float * leaves * columns
        // f, f̃, linearized and increment over m; f_{t−1} and the learner's increment over U; ω.
        lensState = float * (4 * m + (weightNorms ? 3 : 2) * u)
        smoother = mode == .off ? 0
            : KernelSmoother.memoryBytes(trainCount: n, outputs: 1, points: Int(u), batch: b, directions: directions)
        kernel = 0
        data = 2 * float * (nn + tests) * (dd + 1)
        // The learner's blob: 8-byte integers for the node arrays, floats for thresholds and
        // leaf values, f_t and the cut points.
        parameterBlob = Double(rounds) * (28 * nodes + 12 * leaves) + float * (nn + dd * Double(bins))
        optimizerBlob = 0
    }

    /// Refuses a gbt run whose learner state cannot be stored as one SQLite blob, or whose total
    /// exceeds `physicalMemory`, naming the config key that would bring it down.
    public func checkTrees(physicalMemory: Double) throws {
        if parameterBlob >= Self.blobLimit {
            throw ConfigError("model.rounds: the trees need about \(Self.format(parameterBlob)) as a checkpoint blob, over SQLite's 1 GB blob limit; reduce model.rounds or model.max_depth")
        }
        guard total > physicalMemory else { return }
        let largest = parts[0]
        let key: String, advice: String
        switch largest.name {
        case "smoother": (key, advice) = ("lens.smoother", "use lens.smoother: probes or off")
        case "activations": (key, advice) = ("model.max_depth", "reduce model.max_depth or model.bins (or use model.split: hist)")
        case "data": (key, advice) = ("data", "reduce data.n_train / data.n_test")
        case "lens state": (key, advice) = ("lens.eval_train", "reduce lens.eval_train / lens.eval_test")
        default: (key, advice) = ("model.rounds", "reduce model.rounds or model.max_depth")
        }
        throw ConfigError("\(key): the run needs about \(Self.format(total)) of memory, more than this machine's \(Self.format(physicalMemory)) (\(largest.name) \(Self.format(largest.bytes)) of it); \(advice)")
    }
}
