import Foundation

/// The cost of a boosted-trees run (docs/lens.md §9), in the units of `RunCostModel` and counted
/// from the code that does the work: the tree grower (Boost/TreeGrower.swift), the learner's
/// round (BoostedTreesLearner.step), and the lens's exact-kernel half (ExactKernelInstrument,
/// KernelSmoother through leaf sums). No GEMM runs at all.
///
/// Notation: n training rows, b = |S_t|, d features, B bins per feature (min(n, 65,535) for
/// `split: exact`), D the depth, m
/// evaluation points, U the watched points, k label directions (n for exact, else probes).
enum TreeCostModel {
    static func estimate(_ shape: RunShape, trees: RunShape.TreeShape, rate: GEMMRate) -> RunCostEstimate {
        let n = Double(shape.trainCount), b = Double(shape.batchSize), d = Double(shape.inputDimension)
        let m = Double(shape.evaluationPointCount), u = Double(watchedPoints(shape))
        let depth = Double(trees.maxDepth), rf = shape.recordedFraction
        let binsTotal = d * Double(trees.bins)
        // Inner levels that split: at most 2^L nodes at level L, and never more than b.
        var splitNodes = 0.0, histogramNodes = 0.0
        for level in 0..<trees.maxDepth {
            let nodes = min(Double(1 << min(level, 40)), b)
            splitNodes += nodes
            if level > 0 { histogramNodes += nodes / 2 }
        }

        // A round: the subsample draw, gradients and loss, the root histogram from b rows and per
        // deeper level the smaller children's (at most half the rows), the subtraction of the
        // larger children, the split scan over every bin of every node, the stable partition per
        // level, leaf sums, then every training row's leaf and f_t.
        var training = Work()
        if trees.subsampled { training.loop(n) }
        training.loop(3 * b)
        training.loop(2 * b * d * (1 + (depth - 1) / 2))
        training.loop(2 * histogramNodes * binsTotal)
        training.loop(3 * splitNodes * binsTotal)
        training.loop(2 * b * depth + b)
        training.loop(n * (depth + 1))

        // The watched points' leaves and increments; f̃ += the increment (TelescopingLens).
        var evaluation = Work()
        evaluation.loop(u * (depth + 1) + m)
        evaluation.copy(2 * m)

        // ω per watched point at recorded states.
        var kernels = Work()
        if shape.kernelStatistics { kernels.loop(2 * u * rf) }

        // KernelSmoother through leaf sums: gather Ŝ_{t−1}(B) (b × k), subtract the directions,
        // add rows per leaf, one axpy of k per watched point; p over n + test rows when recorded.
        var smoother = Work()
        let k: Double
        switch shape.smoother {
        case .off: k = 0
        case .exact: k = n
        case .probes: k = Double(shape.probes)
        }
        if k > 0 {
            smoother.copy(b * k)
            smoother.loop(shape.smoother == .probes ? b * k : b)
            smoother.simd(2 * (b * k + u * k))
            let rows = n + Double(shape.evalTest)
            smoother.simd(rows * k * rf)
            if shape.smoother == .probes { smoother.loop(rows * k * rf) }
        }

        // Recorded states: MSEs, approximation errors, the pred and tel vectors.
        var statistics = Work()
        statistics.loop(m * 13)
        statistics.copy(2 * m)
        var amortized = Work()
        amortized.add(statistics, times: rf)

        // Before round 1: sorting every feature for its cut points, binning train and watched
        // points, f_0 over U; probe directions.
        var setup = Work()
        setup.loop(n * d * max(1, log2(n)))
        setup.loop((n + u) * d * log2(Double(trees.bins)))
        if shape.smoother == .probes { setup.loop(20 * Double(shape.probes) * n) }

        return RunCostEstimate(shape: shape, rate: rate,
                               work: [.training: training, .evaluation: evaluation, .kernels: kernels,
                                      .smoother: smoother, .statistics: amortized],
                               bytes: memory(shape, trees: trees), setup: setup)
    }

    /// U, as ExactKernelInstrument watches it: every training row and the test points with a
    /// smoother; the evaluation points otherwise.
    static func watchedPoints(_ shape: RunShape) -> Int {
        shape.smoother != .off ? shape.trainCount + shape.evalTest : shape.evalTrain + shape.evalTest
    }

    static func memory(_ shape: RunShape, trees: RunShape.TreeShape) -> [RunCostEstimate.Holding: Double] {
        let estimate = MemoryEstimate(treeShape: shape, trees: trees)
        return [.model: estimate.parameters, .data: estimate.data, .workspaces: estimate.activations,
                .lens: estimate.lensState, .smoother: estimate.smoother, .checkpoints: estimate.checkpoint]
    }
}
