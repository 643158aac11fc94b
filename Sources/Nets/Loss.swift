import Linalg
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Per-example losses ℓ(f, y) and the batch loss `L = (1/b) Σ_i ℓ(f_i, y_i)` (lens.md §0).
///
/// Targets are an `m × k` matrix:
/// - `.mse`: `k = C`, `ℓ = ½‖f − y‖²`, seed `∂L/∂f_i = (f_i − y_i)/b`.
/// - `.crossEntropy` (C > 1): either `k = 1` holding the class index as a float, or `k = C` holding
///   a one-hot (or any probability) row; `ℓ = −Σ_c y_c log softmax(f)_c`, computed stably with the
///   log-sum-exp shift; seed `(softmax(f_i) − y_i)/b`.
public enum Loss: String, Sendable, Codable, CaseIterable {
    case mse, crossEntropy

    /// The loss for a config name: `mse`, or `cross_entropy` / `crossEntropy` / `ce`.
    public static func named(_ name: String) -> Loss? {
        switch name.lowercased() {
        case "mse": return .mse
        case "cross_entropy", "crossentropy", "ce": return .crossEntropy
        default: return nil
        }
    }

    /// Throws when this loss cannot train a network with `outputDimension` outputs (cross-entropy
    /// needs C > 1), so configs fail at validation rather than at the first step.
    public func check(outputDimension C: Int) throws {
        if self == .crossEntropy && C < 2 {
            throw LossError("cross-entropy needs at least 2 outputs, the model has \(C); use mse with ±1 targets for binary tasks")
        }
    }

    /// The batch loss `(1/b) Σ_i ℓ(f_i, y_i)`, accumulated in Double.
    public func loss(outputs: Matrix, targets: Matrix) -> Double {
        validate(outputs, targets)
        let b = outputs.rows, C = outputs.cols
        var total = 0.0
        for i in 0..<b {
            let f = outputs.row(i), y = targets.row(i)
            switch self {
            case .mse:
                for c in 0..<C { let r = Double(f[c]) - Double(y[c]); total += 0.5 * r * r }
            case .crossEntropy:
                let lse = logSumExp(f, C)
                if targets.cols == 1 {
                    total += lse - Double(f[Loss.classIndex(y[0], C)])
                } else {
                    for c in 0..<C where y[c] != 0 { total += Double(y[c]) * (lse - Double(f[c])) }
                }
            }
        }
        return b == 0 ? 0 : total / Double(b)
    }

    /// `seeds ← ∂L/∂f` for the batch (carries the 1/b), ready for `DifferentiableModel.vjp`.
    public func outputGradient(outputs: Matrix, targets: Matrix, into seeds: Matrix) {
        validate(outputs, targets)
        precondition(seeds.rows == outputs.rows && seeds.cols == outputs.cols, "seeds must match outputs")
        let b = outputs.rows, C = outputs.cols
        let invB = 1 / Float(max(b, 1))
        for i in 0..<b {
            let f = outputs.row(i), y = targets.row(i), g = seeds.row(i)
            switch self {
            case .mse:
                for c in 0..<C { g[c] = (f[c] - y[c]) * invB }
            case .crossEntropy:
                // ∂ℓ/∂f = softmax(f) − y.
                Loss.softmax(f, C, into: g)
                if targets.cols == 1 {
                    for c in 0..<C { g[c] *= invB }
                    g[Loss.classIndex(y[0], C)] -= invB
                } else {
                    for c in 0..<C { g[c] = (g[c] - y[c]) * invB }
                }
            }
        }
    }

    private func validate(_ outputs: Matrix, _ targets: Matrix) {
        precondition(targets.rows == outputs.rows, "targets have \(targets.rows) rows, outputs \(outputs.rows)")
        switch self {
        case .mse:
            precondition(targets.cols == outputs.cols, "mse targets must be m × C")
        case .crossEntropy:
            precondition(outputs.cols > 1, "cross-entropy needs C > 1 outputs (use mse with ±1 targets for C = 1)")
            precondition(targets.cols == 1 || targets.cols == outputs.cols,
                         "cross-entropy targets are class indices (m × 1) or one-hot rows (m × C)")
        }
    }

    /// `p = softmax(f)` of `C` logits into `p` (max-shifted, so huge logits are safe). The
    /// cross-entropy gradient and the lens's linearized softmax residual (lens.md (8.13)) share it.
    public static func softmax(_ f: UnsafePointer<Float>, _ C: Int, into p: UnsafeMutablePointer<Float>) {
        var top = f[0]
        for c in 1..<C { top = max(top, f[c]) }
        var sum: Float = 0
        for c in 0..<C { let e = expf(f[c] - top); p[c] = e; sum += e }
        let inverse = 1 / sum
        for c in 0..<C { p[c] *= inverse }
    }

    /// The class of a class-index target (trapping on one outside 0..<C: data are validated).
    public static func classIndex(_ y: Float, _ C: Int) -> Int {
        let k = Int(y.rounded())
        precondition(k >= 0 && k < C, "class index \(y) outside 0..<\(C)")
        return k
    }

    private func logSumExp(_ f: UnsafeMutablePointer<Float>, _ C: Int) -> Double {
        var mx = Double(f[0])
        for c in 1..<C { mx = Swift.max(mx, Double(f[c])) }
        var s = 0.0
        for c in 0..<C { s += exp(Double(f[c]) - mx) }
        return mx + log(s)
    }
}

public struct LossError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Reported metrics (docs/metrics.md, canonical names `*_mse`, `*_acc`).
public enum Metrics {
    /// Plain mean over examples and outputs of `(f − y)²` (lens.md §0).
    public static func mse(outputs: Matrix, targets: Matrix) -> Double {
        precondition(outputs.rows == targets.rows && outputs.cols == targets.cols, "mse needs equal shapes")
        let n = outputs.rows * outputs.cols
        if n == 0 { return 0 }
        var s = 0.0
        for i in 0..<outputs.rows {
            let f = outputs.row(i), y = targets.row(i)
            for c in 0..<outputs.cols { let r = Double(f[c]) - Double(y[c]); s += r * r }
        }
        return s / Double(n)
    }

    /// Fraction of correct predictions. `C > 1`: `argmax f` against the class (targets `m × 1`
    /// class indices, or `m × C` one-hot rows, whose argmax is the class). `C = 1`: `f ≥ t`
    /// against `y ≥ t`, with `t` the decision threshold of how the targets encode the two
    /// classes — 0 for ±1 targets, ½ for {0, 1} targets (Data's `TargetEncoding.decisionThreshold`);
    /// f = t counts as the upper class.
    public static func accuracy(outputs: Matrix, targets: Matrix, decisionThreshold t: Float = 0) -> Double {
        precondition(outputs.rows == targets.rows, "accuracy needs one target row per output row")
        let m = outputs.rows, C = outputs.cols
        if m == 0 { return 0 }
        var correct = 0
        for i in 0..<m {
            let f = outputs.row(i), y = targets.row(i)
            if C == 1 {
                precondition(targets.cols == 1, "binary accuracy needs m × 1 targets")
                if (f[0] >= t) == (y[0] >= t) { correct += 1 }
            } else {
                let label = targets.cols == 1 ? Int(y[0].rounded()) : argmax(y, targets.cols)
                if argmax(f, C) == label { correct += 1 }
            }
        }
        return Double(correct) / Double(m)
    }

    /// Accuracy against class labels (`C > 1`).
    public static func accuracy(outputs: Matrix, labels: [Int]) -> Double {
        precondition(outputs.rows == labels.count, "one label per output row")
        if labels.isEmpty { return 0 }
        var correct = 0
        for i in 0..<outputs.rows where argmax(outputs.row(i), outputs.cols) == labels[i] { correct += 1 }
        return Double(correct) / Double(labels.count)
    }

    static func argmax(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> Int {
        var best = 0
        for c in 1..<max(n, 1) where p[c] > p[best] { best = c }
        return best
    }
}
