import Learning
import Linalg
import Nets

/// How the residual a step feeds back depends on the predictions (lens.md (8.13)–(8.14)).
public enum ResidualModel: Sendable {
    /// Squared loss: the residual f − y is the predictions themselves, minus the labels.
    case squared
    /// Cross-entropy (tlens's extension): the residual softmax(f) − y, linearized around the
    /// smoother's own trajectory: its sensitivity to the labels is `H_i u(x_i) − z_i` with
    /// `H_i = diag(p_i) − p_i p_iᵀ`, `p_i = softmax(f̃_{t-1}(x_i))`.
    case softmax
}

/// Which engine computes Ŝ (lens.md §8) — decided here once, for the lens that builds the engine
/// and for the validation that checks its memory before a run starts.
public enum SmootherEngineChoice: Equatable {
    case none
    /// Kernel products `Ŝ_t = Ŝ_{t-1} − (γ/b) K_t(U, B)(Ŝ_{t-1}(B) − E_B)`: exact, plain gradient
    /// descent only (lens.md (8.2)).
    case kernelProducts
    /// The label-sensitivity engine over `directions` label directions (all n·C unit vectors when
    /// exact, Rademacher probes otherwise), any optimizer (lens.md (8.7)–(8.9)).
    case labelSensitivity(exact: Bool, directions: Int)

    public init(mode: SmootherMode, plainGradientDescent: Bool, trainCount n: Int, outputs c: Int, probes: Int) {
        switch mode {
        case .off: self = .none
        case .exact where plainGradientDescent: self = .kernelProducts
        case .exact: self = .labelSensitivity(exact: true, directions: n * c)
        case .probes: self = .labelSensitivity(exact: false, directions: probes)
        }
    }

    /// Bytes the engine holds over |U| = n + testCount points, for validation against the budget
    /// and the run's memory estimate.
    public func memoryBytes(trainCount n: Int, testCount: Int, outputs c: Int, parameters p: Int, batch: Int,
                            optimizerStateCount s: Int) -> Double {
        let u = n + testCount
        switch self {
        case .none: return 0
        case .kernelProducts: return KernelSmoother.memoryBytes(trainCount: n, outputs: c, points: u, batch: batch)
        case .labelSensitivity(_, let k):
            return LabelSensitivityEngine.memoryBytes(directions: k, parameters: p, stateCount: s, points: u, outputs: c, trainCount: n)
        }
    }
}

/// The smoother Ŝ_t and the effective number of parameters it implies (lens.md §8).
///
/// Both engines carry, over the smoother points `U` (every training point first, in training
/// order, then the test evaluation points), the label-linear part of the telescoping model with
/// self-consistent residuals, and a *shadow* trajectory `Ŝ_t vec(Y) + c_t` (the same recursion
/// started from `f_{θ_0}` and `θ_0` with `z = vec(Y)`), whose gap to the network is `smoother_err`.
public protocol SmootherEngine: AnyObject {
    /// Advances from step t−1 to t. Called after the optimizer's real `proposeUpdate` (so P_t and
    /// its buffers are those of step t) and before θ moves. `kernelToBatch` is K_t(U, B) when
    /// the engine asked for it (`needsBatchKernel`).
    func advance(step t: Int, parameters θ: UnsafePointer<Float>?, batch: [Int], learningRate γ: Float, kernelToBatch: Matrix?)
    var needsBatchKernel: Bool { get }
    /// `p_I = (n / (|I|·C)) Σ_{x∈I} ‖Ŝ_t(x)‖²_F` over rows `rows` of U, with its standard error
    /// (0 for exact engines).
    func effectiveParameters(rows: Range<Int>) -> (value: Double, standardError: Double)
    /// Shadow predictions `Ŝ_t(x) vec(Y) + c_t(x)` for row `row` of U (C floats).
    func shadow(row: Int) -> UnsafeMutablePointer<Float>
    /// Everything the engine carries between steps (lens.md §11).
    func export(into w: inout StateWriter)
    func importState(from r: inout StateReader) throws
}

/// Ŝ through kernel matrix products (lens.md (8.12)):
/// `Ŝ_t(U) = Ŝ_{t-1}(U) − (γ/b) K_t(U, B) (Ŝ_{t-1}(B) − E_B)`, cost `O(|U|·b·n·C³)` per step —
/// exact for plain SGD, and for learners with their own step kernel (boosting, lens.md §9),
/// which apply `A_t(U, B)` themselves, often without forming it.
///
/// Columns are label directions: all n·C unit vectors (exact, the columns are Ŝ itself), or,
/// for kernel learners with `probes`, k Rademacher vectors z (stream `probes`, drawn as the
/// label-sensitivity engine draws them), whose columns `Ŝ z` give unbiased `p` (lens.md (8.10)).
public final class KernelSmoother: SmootherEngine {
    let n: Int, c: Int, u: Int
    /// `(|U|·C) × columns`: row `x·C + c` is `Ŝ_t(x)_c` (exact) or `(Ŝ_t(x) z_j)_c` (column j).
    let smoother: Matrix
    /// `(|U|·C) × 1`: the shadow trajectory.
    let shadowValues: Matrix
    let targets: Matrix           // n × C
    /// `(n·C) × k` Rademacher directions, or nil for the unit directions of exact mode.
    let probeDirections: Matrix?
    /// The learner's step kernel already carries the step size (boosting's A_t, lens.md (9.1)),
    /// so the update is `Ŝ_{t-1} − A_t(U, B)(…)`; otherwise it is scaled by γ_t/b_t.
    let kernelIncludesStepSize: Bool
    let residualModel: ResidualModel
    /// The batch's residual rows, reused every step.
    let scratch = Workspace()
    /// Per-direction estimates of p, reused at every recorded state.
    var estimates: [Double]

    public let needsBatchKernel = true

    /// `initialPredictions` is f_0 over U, `(|U|) × C`. `probes`: k Rademacher directions
    /// instead of the n·C unit ones.
    public init(trainCount: Int, outputs: Int, points: Int, targets: Matrix, initialPredictions: Matrix,
                kernelIncludesStepSize: Bool, residualModel: ResidualModel = .squared,
                probes: (count: Int, seed: UInt64)? = nil) {
        n = trainCount; c = outputs; u = points
        self.kernelIncludesStepSize = kernelIncludesStepSize
        self.residualModel = residualModel
        if let probes {
            // Drawn direction by direction like LabelSensitivityEngine's, stored point-major.
            let z = Matrix(rows: n * c, cols: probes.count)
            var rng = RandomSource(seed: probes.seed, stream: .probes)
            for j in 0..<probes.count { for i in 0..<(n * c) { z[i, j] = rng.rademacher() } }
            probeDirections = z
        } else {
            probeDirections = nil
        }
        let columns = probes?.count ?? n * c
        smoother = Matrix(rows: u * c, cols: columns)
        estimates = [Double](repeating: 0, count: probes?.count ?? 0)
        shadowValues = Matrix(rows: u * c, cols: 1)
        for i in 0..<u { shadowValues.base.advanced(by: i * c).update(from: initialPredictions.row(i), count: c) }
        self.targets = targets
    }

    /// Bytes this engine holds, for the memory budget check at validation: Ŝ over U and the
    /// batch's residual rows, over n·C columns (exact) or `directions`.
    public static func memoryBytes(trainCount n: Int, outputs c: Int, points u: Int, batch b: Int, directions: Int? = nil) -> Double {
        4 * Double(c) * Double(directions ?? n * c) * Double(u + b) + 4 * Double(directions.map { $0 * n * c } ?? 0)
    }

    public func advance(step t: Int, parameters θ: UnsafePointer<Float>?, batch: [Int], learningRate γ: Float, kernelToBatch: Matrix?) {
        guard let k = kernelToBatch else { preconditionFailure("KernelSmoother needs K(U, B)") }
        let α = kernelIncludesStepSize ? -1 : -γ / Float(batch.count)
        advance(batch: batch, alpha: α) { residual, out, α in gemm(k, residual, into: out, alpha: α, beta: 1) }
    }

    /// One step with the kernel applied by `apply(r, out, α)`: `out += α K(U, B) r`.
    public func advance(batch: [Int], alpha α: Float, apply: (Matrix, Matrix, Float) -> Void) {
        let b = batch.count, z = probeDirections
        // Residual sensitivities Ŝ_{t-1}(B) − Z_B and shadow residuals (shadow(B) − Y_B), both
        // gathered before anything moves (Z_B = E_B, the unit rows, in exact mode).
        let residual = scratch.gathering(smoother, batch, block: c, slot: 0)
        let shadowResidual = scratch.matrix(1, rows: b * c, cols: 1)
        func subtractDirection(row r: Int, label l: Int) {
            if let z { Vec.axpy(z.cols, -1, z.row(l), residual.row(r)) } else { residual[r, l] -= 1 }
        }
        if case .softmax = residualModel {
            // lens.md (8.13): H_i Ŝ_{t-1}(x_i) − E_i, H_i = diag(p_i) − p_i p_iᵀ at the shadow's
            // p_i, and the shadow's own residual softmax(shadow(x_i)) − y_i.
            let width = residual.cols
            let p = scratch.matrix(2, rows: 1, cols: c).base, mix = scratch.matrix(3, rows: 1, cols: width).base
            for (r, i) in batch.enumerated() {
                Loss.softmax(shadowValues.base + i * c, c, into: p)
                mix.initialize(repeating: 0, count: width)
                for o in 0..<c { Vec.axpy(width, p[o], residual.row(r * c + o), mix) }
                for o in 0..<c {
                    let row = residual.row(r * c + o)
                    for j in 0..<width { row[j] = p[o] * (row[j] - mix[j]) }
                    subtractDirection(row: r * c + o, label: i * c + o)
                    shadowResidual[r * c + o, 0] = p[o] - targets[i, o]
                }
            }
        } else {
            for (r, i) in batch.enumerated() {
                for o in 0..<c {
                    subtractDirection(row: r * c + o, label: i * c + o)
                    shadowResidual[r * c + o, 0] = shadowValues[i * c + o, 0] - targets[i, o]
                }
            }
        }
        apply(residual, smoother, α)
        apply(shadowResidual, shadowValues, α)
    }

    public func effectiveParameters(rows: Range<Int>) -> (value: Double, standardError: Double) {
        let scale = Double(n) / (Double(rows.count) * Double(c)), width = smoother.cols
        guard probeDirections != nil else {
            var total = 0.0
            for r in (rows.lowerBound * c)..<(rows.upperBound * c) { total += Vec.sumSquares(width, smoother.row(r)) }
            return (scale * total, 0)
        }
        // lens.md (8.10)–(8.11): one estimate per direction, their mean and standard error.
        for j in 0..<width { estimates[j] = 0 }
        for r in (rows.lowerBound * c)..<(rows.upperBound * c) {
            let row = smoother.row(r)
            for j in 0..<width { estimates[j] += Double(row[j]) * Double(row[j]) }
        }
        var mean = 0.0
        for j in 0..<width { estimates[j] *= scale; mean += estimates[j] }
        mean /= Double(width)
        var variance = 0.0
        for j in 0..<width { variance += (estimates[j] - mean) * (estimates[j] - mean) }
        variance = width > 1 ? variance / Double(width - 1) : 0
        return (mean, (variance / Double(width)).squareRoot())
    }

    public func shadow(row: Int) -> UnsafeMutablePointer<Float> { shadowValues.base + row * c }

    public func export(into w: inout StateWriter) {
        w.matrix(smoother)
        w.matrix(shadowValues)
    }

    public func importState(from r: inout StateReader) throws {
        try r.matrix(into: smoother, what: "Ŝ")
        try r.matrix(into: shadowValues, what: "the smoother's shadow trajectory")
    }

    /// Ŝ_t(x) for row `row` of U: `C × (n·C)`, for tests (exact mode).
    public func smootherRows(_ row: Int) -> Matrix { smoother.rows((row * c)..<((row + 1) * c)) }
}

/// The label-sensitivity engine (lens.md §8, tlens): per label direction z it carries
/// `u_t = Ŝ_t z` over U, the parameter sensitivity `q_t = (dθ_t/dY) z` and the optimizer's
/// buffers for it, for any optimizer and any model. Unit directions give Ŝ exactly; Rademacher
/// directions give unbiased estimates of `p` with a standard error.
public final class LabelSensitivityEngine: SmootherEngine {
    public enum Directions { case unit, rademacher(count: Int, seed: UInt64) }

    let model: DifferentiableModel
    let optimizer: Optimizer
    let residualModel: ResidualModel
    let trainX: Matrix, pointsX: Matrix
    let n: Int, c: Int, u: Int, k: Int
    let isExact: Bool
    /// `k × (n·C)` label directions; the shadow direction (z = vec(Y)) is extra, last.
    let directions: Matrix
    /// `(k+1) × (|U|·C)`, `(k+1) × P`, `(k+1) × stateCount`.
    let sensitivities: Matrix
    let parameterSensitivities: Matrix
    let optimizerStates: Matrix
    let gradient: FloatBuffer
    /// Δq of the directions of one chunk, `chunk × P`.
    let chunkUpdates: Matrix
    let seeds: Matrix, batchPoints: Matrix
    static let chunk = 16
    var chunkSize: Int { chunkUpdates.rows }

    public let needsBatchKernel = false

    public init(model: DifferentiableModel, optimizer: Optimizer, trainX: Matrix, targets: Matrix,
                pointsX: Matrix, initialPredictions: Matrix, initialParameters: UnsafePointer<Float>,
                directions kind: Directions, maximumBatch: Int, residualModel: ResidualModel = .squared) {
        self.model = model; self.optimizer = optimizer
        self.residualModel = residualModel
        self.trainX = trainX; self.pointsX = pointsX
        n = trainX.rows; c = model.outputDimension; u = pointsX.rows
        let count = model.parameterCount
        switch kind {
        case .unit:
            isExact = true
            k = n * c
            directions = Matrix(rows: k, cols: n * c)
            for j in 0..<k { directions[j, j] = 1 }
        case .rademacher(let count, let seed):
            isExact = false
            k = count
            directions = Matrix(rows: k, cols: n * c)
            var rng = RandomSource(seed: seed, stream: .probes)
            for j in 0..<k { for i in 0..<(n * c) { directions[j, i] = rng.rademacher() } }
        }
        sensitivities = Matrix(rows: k + 1, cols: u * c)
        parameterSensitivities = Matrix(rows: k + 1, cols: count)
        optimizerStates = Matrix(rows: k + 1, cols: max(optimizer.sensitivityStateCount, 1))
        // The shadow direction starts where the real run starts: u = f_{θ_0}, q = θ_0, z = vec(Y).
        let shadow = sensitivities.row(k)
        for i in 0..<u { (shadow + i * c).update(from: initialPredictions.row(i), count: c) }
        parameterSensitivities.row(k).update(from: initialParameters, count: count)
        shadowTargets = Matrix(rows: 1, cols: n * c)
        for i in 0..<n { for o in 0..<c { shadowTargets[0, i * c + o] = targets[i, o] } }
        gradient = FloatBuffer(count: count)
        chunkUpdates = Matrix(rows: min(LabelSensitivityEngine.chunk, k + 1), cols: count)
        seeds = Matrix(rows: maximumBatch, cols: c)
        batchPoints = Matrix(rows: maximumBatch, cols: trainX.cols)
        batchProbabilities = Matrix(rows: maximumBatch, cols: c)
    }
    /// softmax of the shadow at the batch points, taken before any direction moves.
    let batchProbabilities: Matrix
    let shadowTargets: Matrix

    public static func memoryBytes(directions k: Int, parameters p: Int, stateCount s: Int, points u: Int, outputs c: Int, trainCount n: Int) -> Double {
        4 * Double(k + 1) * Double(p + s + u * c + n * c) + 4 * Double(min(chunk, k + 1)) * Double(p)
    }

    public func advance(step t: Int, parameters θ: UnsafePointer<Float>?, batch: [Int], learningRate γ: Float, kernelToBatch: Matrix?) {
        guard let θ else { preconditionFailure("the label-sensitivity engine differentiates a parametric model") }
        let b = batch.count, count = model.parameterCount
        let batchX = batchPoints.rows(0..<b)
        trainX.gatherRows(batch, into: batchX)
        let batchSeeds = seeds.rows(0..<b)
        if case .softmax = residualModel {
            let shadow = sensitivities.row(k)
            for (r, i) in batch.enumerated() { Loss.softmax(shadow + i * c, c, into: batchProbabilities.row(r)) }
        }
        // Directions go in chunks: one batch forward serves the chunk's VJPs, and one JVP pass
        // over U shares its primal across the chunk's tangents.
        for start in stride(from: 0, through: k, by: chunkSize) {
            let end = min(start + chunkSize, k + 1)
            _ = model.forward(batchX, parameters: θ)
            for j in start..<end {
                // r_i = u_{t-1}(x_i) − z_i; ḡ = (1/b) Σ J_{t-1}(x_i)ᵀ r_i (one VJP).
                let uj = sensitivities.row(j)
                let z = j == k ? shadowTargets.row(0) : directions.row(j)
                switch residualModel {
                case .squared:
                    for (r, i) in batch.enumerated() {
                        for o in 0..<c { batchSeeds[r, o] = (uj[i * c + o] - z[i * c + o]) / Float(b) }
                    }
                case .softmax:
                    // lens.md (8.13): H_i u(x_i) − z_i; the shadow direction's residual is the
                    // real one, softmax(shadow(x_i)) − y_i.
                    for (r, i) in batch.enumerated() {
                        let p = batchProbabilities.row(r), ui = uj + i * c
                        var pu: Float = 0
                        for o in 0..<c { pu += p[o] * ui[o] }
                        for o in 0..<c {
                            let residual = j == k ? p[o] : p[o] * (ui[o] - pu)
                            batchSeeds[r, o] = (residual - z[i * c + o]) / Float(b)
                        }
                    }
                }
                model.vjp(seeds: batchSeeds, into: gradient.base, beta: 0)
                // Δq by the optimizer's own rule with P_t frozen (this direction's buffers).
                optimizer.sensitivityUpdate(gradient: gradient.base, sensitivity: parameterSensitivities.row(j),
                                            state: optimizerStates.row(j), update: chunkUpdates.row(j - start), step: t)
            }
            // u_t(x) = u_{t-1}(x) + J_{t-1}(x) Δq over U; q_t = q_{t-1} + Δq.
            let directions = (start..<end).map { UnsafePointer(chunkUpdates.row($0 - start)) }
            let tangents = model.jvp(pointsX, parameters: θ, directions: directions).tangents
            for j in start..<end {
                let uj = sensitivities.row(j), tangent = tangents[j - start]
                for i in 0..<u { Vec.axpy(c, 1, tangent.row(i), uj + i * c) }
                Vec.axpy(count, 1, chunkUpdates.row(j - start), parameterSensitivities.row(j))
            }
        }
    }

    public func effectiveParameters(rows: Range<Int>) -> (value: Double, standardError: Double) {
        let scale = Double(n) / (Double(rows.count) * Double(c))
        var estimates = [Double](repeating: 0, count: k)
        for j in 0..<k {
            estimates[j] = scale * Vec.sumSquares(rows.count * c, sensitivities.row(j) + rows.lowerBound * c)
        }
        if isExact { return (estimates.reduce(0, +), 0) }
        // Each Rademacher estimate is unbiased for p; report their mean and its standard error.
        let mean = estimates.reduce(0, +) / Double(k)
        let variance = k > 1 ? estimates.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(k - 1) : 0
        return (mean, (variance / Double(k)).squareRoot())
    }

    public func shadow(row: Int) -> UnsafeMutablePointer<Float> { sensitivities.row(k) + row * c }

    /// Per direction (and the shadow direction): u over U, q, and the optimizer buffers. The
    /// directions themselves are redrawn from the seed, never stored.
    public func export(into w: inout StateWriter) {
        w.matrix(sensitivities)
        w.matrix(parameterSensitivities)
        w.matrix(optimizerStates)
    }

    public func importState(from r: inout StateReader) throws {
        try r.matrix(into: sensitivities, what: "the label sensitivities u")
        try r.matrix(into: parameterSensitivities, what: "the parameter sensitivities q")
        try r.matrix(into: optimizerStates, what: "the sensitivities' optimizer buffers")
    }

    /// Ŝ_t(x)_{o, j} for exact engines (tests compare with the kernel path).
    public func smootherEntry(row: Int, output o: Int, column j: Int) -> Float {
        precondition(isExact, "smoother entries exist only for unit directions")
        return sensitivities[j, row * c + o]
    }
}
