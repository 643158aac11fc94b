import Foundation
import Lens
import Nets

/// What a run will hold, part by part, worked out from the layer widths before anything of that
/// size is allocated. A network too large to store or to fit is then refused before its run row
/// exists, instead of trapping in an allocation or failing at the first checkpoint.
///
///     let estimate = MemoryEstimate(widths: [64, 256, 1], bias: true, optimizer: spec, batchSize: 64,
///                                   trainCount: 215, evalTrainCount: 215, referenceCount: 128,
///                                   testCount: 150, lens: options)
///     print(estimate.parts.map { "\($0.name) \(MemoryEstimate.format($0.bytes))" })
///
/// Every figure is in bytes (float32 throughout, as θ and the lens store them) and is computed
/// in Double, so absurd widths give an absurd number rather than an integer overflow.
public struct MemoryEstimate: Sendable {
    /// SQLite's largest string or blob (SQLITE_MAX_LENGTH, 1,000,000,000 bytes in stock builds);
    /// a longer θ fails at the first checkpoint insert.
    public static let blobLimit = 1_000_000_000.0

    /// P, the number of floats in θ: Σ_l w_l·w_{l+1} (+ w_{l+1} with biases).
    public var parameterCount: Double
    /// θ, the batch gradient and the proposed update: 3·P floats.
    public var parameters: Double
    /// The optimizer's buffers (SGD momentum: P floats; Adam: two moments and the diagonal, 3·P).
    public var optimizerState: Double
    /// Forward/backward workspaces: the batch pass and the lens's pass over its kernel points.
    public var activations: Double
    /// The lens's own state: predictions, telescoped, linearized, tangent and f_0 over the
    /// evaluation points, θ_0 and θ − θ_0, the layer factors at θ_0 (lens.md §2–§5).
    public var lensState: Double
    /// The smoother's buffers, as `SmootherEngineChoice.memoryBytes` computes them (§8).
    public var smoother: Double
    /// Reference kernels K_0(R) and K_{s−1}(R), and explicit Jacobian rows when that path is used.
    public var kernel: Double
    /// The loaded split and the matrices the run copies it into.
    public var data: Double
    /// One checkpoint's blobs, built in memory before they are written: θ and the optimizer state.
    public var parameterBlob: Double
    public var optimizerBlob: Double

    public var checkpoint: Double { parameterBlob + optimizerBlob }

    /// Named parts, largest first, for refusals and for printing an estimate.
    public var parts: [(name: String, bytes: Double)] {
        [("parameters", parameters), ("optimizer state", optimizerState), ("activations", activations),
         ("lens state", lensState), ("smoother", smoother), ("kernel", kernel), ("data", data),
         ("checkpoint", checkpoint)].sorted { $0.bytes > $1.bytes }
    }

    public var total: Double { parts.reduce(0) { $0 + $1.bytes } }

    /// `widths` = input dimension, hidden widths, outputs. Counts are those of the prepared run:
    /// `evalTrainCount` and `testCount` the evaluated rows, `referenceCount` the kernel reference set.
    public init(widths: [Int], bias: Bool, optimizer: OptimizerSpec, batchSize: Int, trainCount n: Int,
                evalTrainCount: Int, referenceCount: Int, testCount: Int, lens: LensOptions) {
        let w = widths.map(Double.init)
        let c = w.last ?? 1, d = w.first ?? 0
        let widthSum = w.reduce(0, +)
        var p = 0.0
        for l in 0..<max(w.count - 1, 0) { p += w[l] * w[l + 1] + (bias ? w[l + 1] : 0) }
        parameterCount = p
        let float = 4.0, nn = Double(n), b = Double(batchSize), tests = Double(testCount)
        let m = Double(evalTrainCount) + tests
        let smootherOn = lens.smoother != .off
        // Kernel points U (TelescopingLens): every training row when the smoother runs, else the
        // evaluation and reference rows (at most n), then the test rows.
        let u = smootherOn ? nn + tests
            : lens.kernel ? min(nn, Double(evalTrainCount + referenceCount)) + tests : 0

        parameters = 3 * p * float
        optimizerState = Double(optimizer.buffersPerParameter) * p * float
        // Pre-activations, activations and deltas of the batch; primal and tangent of the lens
        // pass over U (or the evaluation points), whose layer factors carry C output seeds.
        activations = float * (3 * b * widthSum + max(u, m) * widthSum * (2 + c))
        lensState = float * (5 * m * c + m * d + u * d + 2 * p + m * widthSum * (1 + c))
        let parameterInt = p < 1e15 ? Int(p) : Int(1e15)
        let engine = SmootherEngineChoice(mode: lens.smoother, plainGradientDescent: optimizer.isPlainGradientDescent,
                                          trainCount: n, outputs: Int(c), probes: lens.probes)
        smoother = p < 1e15 ? engine.memoryBytes(trainCount: n, testCount: testCount, outputs: Int(c), parameters: parameterInt,
                                                 batch: batchSize, optimizerStateCount: optimizer.sensitivityStatesPerParameter * parameterInt) : .infinity
        let r = Double(referenceCount) * c
        var kernelBytes = lens.kernel ? 2 * r * r * float : 0
        let explicitJacobian = float * u * c * p
        let gramPossible = !optimizer.isPreconditioned
        if lens.kernelPath == .explicit
            || (lens.kernelPath == .auto && !gramPossible && explicitJacobian <= lens.memoryBudgetBytes) {
            kernelBytes += explicitJacobian
        }
        kernel = kernelBytes
        data = 2 * float * (nn + tests) * (d + c)
        parameterBlob = p * float
        optimizerBlob = Double(optimizer.buffersPerParameter) * p * float
    }

    /// Refuses a network whose θ or optimizer state cannot be stored as one SQLite blob, and a
    /// run whose total exceeds `physicalMemory`, naming the config key that would bring it down.
    public func check(hidden: [Int], optimizerKind: OptimizerSpec.Kind, physicalMemory: Double) throws {
        let widths = "model.hidden: [\(hidden.map(String.init).joined(separator: ", "))]"
        let needs = "needs about \(Self.format(total)) of memory"
        if parameterBlob >= Self.blobLimit {
            throw ConfigError("\(widths) \(needs) (θ alone \(Self.format(parameterBlob)) as a checkpoint blob, over SQLite's 1 GB blob limit); reduce model.hidden")
        }
        if optimizerBlob >= Self.blobLimit {
            throw ConfigError("\(widths) \(needs) (the \(optimizerKind.rawValue) state alone \(Self.format(optimizerBlob)) as a checkpoint blob, over SQLite's 1 GB blob limit); reduce model.hidden, or use optimizer.kind: sgd")
        }
        guard total > physicalMemory else { return }
        let largest = parts[0]
        let key: String, advice: String
        switch largest.name {
        case "activations": (key, advice) = ("optimizer.batch_size", "reduce optimizer.batch_size or lens.eval_train / lens.eval_test")
        case "lens state": (key, advice) = ("lens.eval_train", "reduce lens.eval_train / lens.eval_test")
        case "smoother": (key, advice) = ("lens.smoother", "use lens.smoother: probes or off")
        case "kernel": (key, advice) = ("lens.kernel_path", "use lens.kernel_path: vjp_jvp, or reduce lens.reference")
        case "data": (key, advice) = ("data", "reduce data.n_train / data.n_test")
        default: (key, advice) = ("model.hidden", "reduce model.hidden")
        }
        throw ConfigError("\(key): the run \(needs), more than this machine's \(Self.format(physicalMemory)) (\(largest.name) \(Self.format(largest.bytes)) of it); \(advice)")
    }

    /// Decimal units, as SQLite's limit is stated: 1 GB = 10⁹ bytes.
    public static func format(_ bytes: Double) -> String {
        if !bytes.isFinite { return "more than any machine has" }
        if bytes >= 1e12 { return String(format: "%.1f TB", bytes / 1e12) }
        if bytes >= 1e10 { return String(format: "%.1f GB", bytes / 1e9) }
        // Two decimals near SQLite's limit, so 1.03 GB does not read as 1.0 GB.
        if bytes >= 1e9 { return String(format: "%.2f GB", bytes / 1e9) }
        return String(format: "%.0f MB", bytes / 1e6)
    }
}
