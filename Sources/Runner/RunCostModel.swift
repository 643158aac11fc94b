/// Work in the units `GEMMRate` measures: GEMM FLOPs by shape class and calls, plain-loop
/// element operations, floats through explicit SIMD8 kernels, and memmove'd floats.
public struct Work: Sendable, Equatable {
    /// 2·m·n·k summed per `GEMMRate.ShapeClass`.
    public var largeFlops = 0.0, skinnyFlops = 0.0, smallFlops = 0.0
    public var gemmCalls = 0.0
    /// Calls of the large and skinny classes, which run on two threads.
    public var parallelCalls = 0.0
    public var elementwise = 0.0
    /// Floats through explicit SIMD8 code (`Vec.dot`, the ReLU kernels of Activation.swift), in
    /// units of one `Vec.dot` float; a kernel that loads or stores more per element counts more.
    public var simd = 0.0
    public var copied = 0.0

    public init() {}

    /// GEMM FLOPs (what GEMMCounter would count).
    public var flops: Double { largeFlops + skinnyFlops + smallFlops }

    /// `times` products `C(m×n) = A(m×k)·B(k×n)`.
    public mutating func gemm(_ m: Int, _ n: Int, _ k: Int, times: Double = 1) {
        guard m > 0, n > 0, k > 0, times > 0 else { return }
        let f = 2 * Double(m) * Double(n) * Double(k) * times
        switch GEMMRate.shapeClass(m: m, n: n, k: k) {
        case .large: largeFlops += f; parallelCalls += times
        case .skinny: skinnyFlops += f; parallelCalls += times
        case .small: smallFlops += f
        }
        gemmCalls += times
    }
    public mutating func loop(_ n: Double) { elementwise += n }
    public mutating func simd(_ n: Double) { simd += n }
    public mutating func copy(_ n: Double) { copied += n }

    public mutating func add(_ other: Work, times: Double = 1) {
        largeFlops += other.largeFlops * times; skinnyFlops += other.skinnyFlops * times
        smallFlops += other.smallFlops * times; gemmCalls += other.gemmCalls * times
        parallelCalls += other.parallelCalls * times
        elementwise += other.elementwise * times; simd += other.simd * times; copied += other.copied * times
    }

    /// Seconds at `rate`: each kind of work over its own measured rate, plus a fixed cost per call.
    public func seconds(at rate: GEMMRate) -> Double {
        largeFlops / rate.large + skinnyFlops / rate.skinny + smallFlops / rate.small
            + gemmCalls * rate.secondsPerCall + parallelCalls * rate.parallelCallSeconds + elementwise / rate.elementwisePerSecond
            + simd / rate.simdPerSecond + copied / rate.copiedPerSecond
    }
}

/// The cost of one step of a run and of the whole run, by part, before anything runs.
public struct RunCostEstimate: Sendable {
    /// Where a step's time goes (docs/architecture.md, "Data flow of one step").
    public enum Part: String, Sendable, CaseIterable {
        /// Forward and backward on the batch, the optimizer's update.
        case training
        /// The lens's forward+JVP over the m evaluation points (telescoping.md §2).
        case evaluation
        /// Kernel operands over U and the blocks K(U, B ∪ R) (§4–5).
        case kernels
        /// Ŝ_t's update and, at recorded steps, p (§8).
        case smoother
        /// Recorded-state work: f_lin, metrics, kernel statistics, grad_change, gradient norms
        /// (§3, §6, §7), amortized over `every`.
        case statistics
    }
    /// What occupies memory at the peak step.
    public enum Holding: String, Sendable, CaseIterable {
        /// θ, gradient, update, θ_0, θ − θ_0, the optimizer's buffers.
        case model
        case data
        /// The MLP's activation buffers, kernel factors over U, kernel blocks and Gram scratch.
        case workspaces
        /// Evaluation matrices, f̃, f_lin, f_0, θ_0's layer factors, reference kernels.
        case lens
        case smoother
        /// θ and optimizer state copied into checkpoint blobs.
        case checkpoints
    }

    public var shape: RunShape
    public var rate: GEMMRate
    /// Per step; recorded-state work is already multiplied by `shape.recordedFraction`.
    public var work: [Part: Work]
    public var bytes: [Holding: Double]
    /// One-off work before step 1 (f_0 over U and the evaluation points, θ_0's factors, probes).
    public var setup: Work

    public func seconds(_ part: Part) -> Double { work[part, default: Work()].seconds(at: rate) }
    public func flops(_ part: Part) -> Double { work[part, default: Work()].flops }
    public var flopsPerStep: Double { Part.allCases.reduce(0) { $0 + flops($1) } }
    public var secondsPerStep: Double { Part.allCases.reduce(0) { $0 + seconds($1) } }
    public var totalSeconds: Double { setup.seconds(at: rate) + Double(shape.steps) * secondsPerStep }
    public var peakBytes: Double { Holding.allCases.reduce(0) { $0 + bytes[$1, default: 0] } }
}

/// A cost model of a run from the GEMMs (and loops) each part of a step executes, counted from
/// the code that runs them and priced at this machine's measured rates (`calibrated`).
///
/// Notation: widths `w_0 = d, w_1 … w_{L-1}` hidden, `w_L = C`; n training points, b batch, m
/// evaluation points, U kernel points, R reference points, k label directions.
public enum RunCostModel {
    public static func estimate(_ shape: RunShape, rate: GEMMRate = RunCostModel.calibrated) -> RunCostEstimate {
        if let trees = shape.trees { return TreeCostModel.estimate(shape, trees: trees, rate: rate) }
        let net = NetCost(widths: shape.widths, bias: shape.bias)
        let n = shape.trainCount, c = shape.outputs, d = shape.inputDimension, b = shape.batchSize
        let m = shape.evaluationPointCount, u = shape.kernelPointCount, r = shape.referenceSize
        let p = shape.parameterCount, rf = shape.recordedFraction
        let engine = shape.smootherEngine
        let kernelEveryStep = engine == .kernelProducts
        let gram = shape.kernelPath == .layerGram
        let Pd = Double(p), optimizerLoop = shape.plainSGD ? 2.0 : 4 + 2 * Double(shape.optimizerBuffers)

        // Training step (TrainingLoop.run): gather, forward on b rows, loss and ∂L/∂f, VJP, the
        // optimizer's rule (one pass over θ per buffer), θ += Δθ.
        var training = net.forward(b)
        training.add(net.vjp(b))
        training.copy(Double(b * (d + c)))
        training.loop(3 * Double(b * c) + (optimizerLoop + 1) * Pd)

        // The lens's pass at θ_{t-1} (TelescopingLens.observe): read off the layer factors over U
        // (FactorWorkspace: one GEMM per layer for f, one per layer plus C·m dots for J·Δθ) on
        // steps that prepare them, else MLP.jvp over the m points; then f̃ += J·Δθ.
        let factorShare = kernelEveryStep ? 1 : (shape.kernelStatistics && gram ? rf : 0)
        var evaluation = Work()
        evaluation.add(net.factorPrimal(m), times: factorShare)
        evaluation.add(net.factorTangent(m), times: factorShare)
        var jvp = net.jvp(m, directions: 1)
        jvp.copy(2 * Double(m * c))
        evaluation.add(jvp, times: 1 - factorShare)
        evaluation.loop(Double(m * c))

        // Kernel operands over U, every step for the kernel-product smoother (it needs K(U, B)),
        // at recorded steps for the statistics; the block K(U, B ∪ R) from one call.
        var kernels = Work()
        let prepareShare = kernelEveryStep ? 1 : (shape.kernelStatistics ? rf : 0)
        kernels.add(prepare(shape, net, points: u), times: prepareShare)
        let referenceShare = shape.kernelStatistics ? rf : 0
        if kernelEveryStep {
            kernels.add(block(shape, net, points: u, columns: b), times: 1 - referenceShare)
            kernels.add(block(shape, net, points: u, columns: b + r), times: referenceShare)
        } else {
            kernels.add(block(shape, net, points: u, columns: r), times: referenceShare)
        }

        // Ŝ_{t-1} → Ŝ_t (Smoother.swift) and p at recorded steps.
        var smoother = Work()
        let smootherRows = Double(n + shape.evalTest)
        switch engine {
        case .none: break
        case .kernelProducts:
            // Ŝ_t(U) = Ŝ_{t-1}(U) − (γ/b) K_t(U,B)(Ŝ_{t-1}(B) − E_B): one (|U|·C)×(n·C)×(b·C) GEMM,
            // after gathering the b·C rows of Ŝ_{t-1}(B) into a fresh (zeroed) matrix.
            let nc = Double(n * c), bc = Double(b * c)
            smoother.copy(2 * bc * nc)
            smoother.loop(2 * bc)
            smoother.gemm(u * c, n * c, b * c)
            smoother.gemm(u * c, 1, b * c)
            // p_I = (n/(|I|·C)) Σ ‖Ŝ(x)‖²: every row of Ŝ summed at each recorded state.
            smoother.simd(smootherRows * Double(c) * nc * rf)
        case .sensitivities(let k):
            // Per chunk of ≤ 16 directions: one batch forward, per direction a batch VJP and the
            // optimizer's sensitivity rule, then one JVP over U along the chunk's directions.
            let total = k + 1, chunk = 16
            let full = total / chunk, rest = total % chunk
            var perChunk = net.forward(b)
            perChunk.copy(Double(b * d))
            smoother.add(perChunk, times: Double(full + (rest > 0 ? 1 : 0)))
            smoother.add(net.jvp(u, directions: chunk), times: Double(full))
            if rest > 0 { smoother.add(net.jvp(u, directions: rest)) }
            var perDirection = net.vjp(b)
            perDirection.loop(3 * Double(b * c) + (optimizerLoop + 1) * Pd + Double(u * c))
            smoother.add(perDirection, times: Double(total))
            smoother.simd(Double(k) * smootherRows * Double(c) * rf)
        }

        // Recorded states (TelescopingLens.recordState, LensStatistics), amortized.
        var statistics = Work()
        statistics.loop(Pd + Double(m * c) * 13 + 6 * Pd)   // θ − θ_0, metrics, gradient norms
        statistics.add(net.factorTangent(m))                 // f_lin from θ_0's factors
        statistics.copy(3 * Double(m * c))                   // pred / tel / lin vectors to the sink
        if engine != .none { statistics.loop(Double(shape.evalTest * c)) }
        if shape.kernelStatistics && r > 0 {
            statistics.add(traces(shape, net, points: u))
            let rc = Double(r * c)
            statistics.simd(Double(m * c) * rc + 2 * rc * rc)   // ω(x) per point; ‖K_RR‖, yᵀK y
            statistics.copy(2 * rc * rc)
            statistics.gemm(r * c, 1, r * c)
            statistics.loop(4 * rc * rc)                           // kdrift0, kvel
        }
        if r > 0 {
            // grad_change: the reference rows' factors (selected from U's, or computed), then
            // three dot products per layer, point and output.
            let hSum = Double(net.inputSum), dSum = Double(net.outputSum)
            if shape.kernelStatistics && gram {
                statistics.copy(Double(r) * (hSum + Double(c) * dSum))
            } else {
                statistics.add(net.factors(r))
                statistics.copy(Double(r) * (hSum + Double(c) * dSum))
            }
            statistics.simd(3 * Double(r) * (hSum + Double(c) * dSum))
        }
        var amortized = Work()
        amortized.add(statistics, times: rf)

        // Before step 1: f_0 over the evaluation points and θ_0's factors; f_0 over U for a
        // smoother; the label directions of the sensitivity engine.
        var setup = net.forward(m)
        setup.add(net.factors(m))
        if engine != .none { setup.add(net.forward(u)) }
        if case .sensitivities(let k) = engine { setup.copy(Double(k) * Double(n * c)); setup.loop(20 * Double(k * n * c)) }

        return RunCostEstimate(shape: shape, rate: rate,
                               work: [.training: training, .evaluation: evaluation, .kernels: kernels,
                                      .smoother: smoother, .statistics: amortized],
                               bytes: memory(shape, net), setup: setup)
    }

    /// Preparing a kernel operand over `points` points (TangentKernel.swift).
    static func prepare(_ shape: RunShape, _ net: NetCost, points u: Int) -> Work {
        let c = shape.outputs, p = shape.parameterCount
        switch shape.kernelPath {
        case .layerGram:
            // MLP.transientKernelFactors: a forward over U, then C backward passes stacked into
            // one (C·U)-row GEMM per layer.
            return net.factors(u)
        case .explicit:
            // jacobianRows: per point a one-row forward and C one-row VJPs; J·√P when preconditioned.
            var w = net.forward(1)
            w.add(net.vjp(1), times: Double(c))
            w.loop(Double(c))
            var all = Work()
            all.add(w, times: Double(u))
            all.copy(Double(u * c) * Double(p))
            if shape.preconditioned { all.loop(Double(u * c) * Double(p)) }
            return all
        case .vjpJvp:
            var w = Work()
            w.copy(Double(u * shape.inputDimension + 2 * p))
            return w
        }
    }

    /// `K(U, columns)` (TangentKernelPath.kernel), `(|U|·C) × (columns·C)`.
    static func block(_ shape: RunShape, _ net: NetCost, points u: Int, columns: Int) -> Work {
        let c = shape.outputs, p = shape.parameterCount
        var w = Work()
        guard columns > 0, u > 0 else { return w }
        let entries = Double(u * c) * Double(columns * c)
        switch shape.kernelPath {
        case .layerGram:
            // telescoping.md §5: per layer G^h = H_U H_Bᵀ and G^δ = Δ_U Δ_Bᵀ (one GEMM each over
            // all C outputs), then K += G^δ ⊙ (G^h + β²) element by element; the output and the
            // G^δ scratch are fresh zeroed matrices, the column rows gathered copies.
            for l in 1..<net.widths.count {
                let inputs = net.widths[l - 1], width = net.widths[l]
                w.copy(Double(columns) * Double(inputs + c * width))
                w.gemm(u, columns, inputs)
                w.gemm(u * c, columns * c, width)
                w.loop(entries)
                w.copy(entries + Double(u * columns))
            }
            w.copy(2 * entries)
        case .explicit:
            // One GEMM of the Jacobian rows: (|U|·C) × (columns·C) × P.
            w.copy(Double(columns * c) * Double(p) + entries)
            w.gemm(u * c, columns * c, p)
        case .vjpJvp:
            // Per column (x', c'): a one-point forward and VJP, then a JVP over U.
            var column = net.forward(1)
            column.add(net.vjp(1))
            column.add(net.jvp(u, directions: 1))
            column.loop(3 * Double(u * c) + (shape.preconditioned ? Double(p) : 0))
            w.add(column, times: Double(columns * c))
        }
        return w
    }

    /// `tr K(x, x)` over U (ktrace, telescoping.md §6).
    static func traces(_ shape: RunShape, _ net: NetCost, points u: Int) -> Work {
        let c = shape.outputs, p = shape.parameterCount
        var w = Work()
        switch shape.kernelPath {
        case .layerGram:
            w.simd(Double(u) * Double(net.inputSum + c * net.outputSum))
        case .explicit:
            w.simd(Double(u * c) * Double(p))
        case .vjpJvp:
            var point = net.forward(1)
            point.add(net.vjp(1), times: Double(c))
            point.simd(Double(c * p))
            w.add(point, times: Double(u))
        }
        return w
    }

    /// Bytes held at the peak step, by holding (4 bytes per float).
    static func memory(_ shape: RunShape, _ net: NetCost) -> [RunCostEstimate.Holding: Double] {
        let n = shape.trainCount, c = shape.outputs, d = shape.inputDimension, b = shape.batchSize
        let m = shape.evaluationPointCount, u = shape.kernelPointCount, r = shape.referenceSize
        let p = Double(shape.parameterCount), f = 4.0
        let hSum = Double(net.inputSum), dSum = Double(net.outputSum)
        let engine = shape.smootherEngine
        let usesKernels = shape.kernelStatistics || engine == .kernelProducts
        let columns = (engine == .kernelProducts ? b : 0) + (shape.kernelStatistics ? r : 0)

        // θ, gradient, update (the loop), θ_0 and θ − θ_0 (the lens), θ_0 as an array, optimizer.
        let model = f * p * Double(6 + shape.optimizerBuffers)
        // The dataset's arrays, the run's matrices and the evaluation subsets: about three copies.
        let data = f * 3 * Double(n + shape.evalTest) * Double(d + c)
        // Evaluation matrices (X, Y, f, f̃, f_lin, J·Δθ, f_0), the kernel points, θ_0's factors
        // over the evaluation points, K_RR now/initial/previous, grad_change's reference factors.
        var lens = f * (Double(m * d) + 6 * Double(m * c) + Double(u * d) + Double(m) * (hSum + Double(c) * dSum))
        if shape.kernelStatistics { lens += f * 3 * Double(r * c) * Double(r * c) }
        lens += f * Double(r) * (hSum + Double(c) * dSum)

        // MLP workspaces: pre- and post-activations for the most rows any pass stacks (2m for a
        // JVP, U for factors, (1 + 16)·U for chunked probe JVPs), two backward buffers.
        var rows = max(2 * b, 2 * m)
        if usesKernels { rows = max(rows, 2 * u) }
        if case .sensitivities(let k) = engine { rows = max(rows, (1 + min(16, k + 1)) * u) }
        let hiddenSum = Double(shape.hidden.reduce(0, +))
        var workspaces = f * Double(rows) * (dSum + hiddenSum)
        workspaces += f * 2 * Double(max(b, m, u)) * Double(net.widths.max() ?? 1)
        workspaces += f * Double(m) * dSum                      // FactorWorkspace
        if usesKernels && columns > 0 {
            let entries = Double(u * c) * Double(columns * c)
            switch shape.kernelPath {
            case .layerGram:
                // Factors over U (C·U rows per layer), the block, the G^δ and G^h scratch.
                workspaces += f * (Double(u) * (Double(c) * dSum + hSum) + 2 * entries + Double(u * columns))
            case .explicit:
                workspaces += f * (Double(u * c) * p + Double(columns * c) * p + entries)
            case .vjpJvp:
                workspaces += f * (entries + Double(u * d))
            }
        }

        var smoother = 0.0
        switch engine {
        case .none: break
        case .kernelProducts:
            // Smoother.swift: Ŝ over U, (|U|·C) × (n·C), and the step's (b·C) × (n·C) residual.
            smoother = f * Double(c) * Double(n * c) * Double(u + b) + f * Double(u * c)
        case .sensitivities(let k):
            // Per direction (k + 1 with the shadow): u over U, q, the optimizer's state, z.
            let s = Double(shape.sensitivityBuffers) * p
            smoother = f * Double(k + 1) * (p + s + Double(u * c) + Double(n * c)) + f * Double(min(16, k + 1)) * p
                + f * Double(b) * Double(c + d)
        }
        let checkpoints = f * p * Double(2 + shape.optimizerBuffers)
        return [.model: model, .data: data, .workspaces: workspaces, .lens: lens, .smoother: smoother, .checkpoints: checkpoints]
    }
}

/// GEMMs and loops of the MLP's passes (Sources/Nets/MLP.swift, MLP+Kernel.swift), per call.
struct NetCost {
    let widths: [Int]
    let bias: Bool
    var layers: Int { widths.count - 1 }
    /// Σ_l w_{l-1} (layer inputs) and Σ_l w_l (layer outputs), l = 1…L.
    var inputSum: Int { widths.dropLast().reduce(0, +) }
    var outputSum: Int { widths.dropFirst().reduce(0, +) }

    /// MLP.forward: per layer Z = H·Wᵀ (m × w_l × w_{l-1}), then bias and activation.
    func forward(_ m: Int) -> Work {
        var w = Work()
        for l in 1...layers {
            w.gemm(m, widths[l], widths[l - 1])
            w.loop(Double(m * widths[l]) * (l < layers ? 2 : 1))
        }
        return w
    }

    /// MLP.vjp: per layer ∂W = gᵀH (w_l × w_{l-1} × m) and bias sums; below the first layer
    /// g·W (m × w_{l-1} × w_l) and φ'.
    func vjp(_ m: Int) -> Work {
        var w = Work()
        for l in stride(from: layers, through: 1, by: -1) {
            w.gemm(widths[l], widths[l - 1], m)
            if bias { w.loop(Double(m * widths[l])) }
            if l > 1 {
                w.gemm(m, widths[l - 1], widths[l])
                w.simd(2 * Double(m * widths[l - 1]))   // φ' (reluBackward: loads g and z)
            }
        }
        return w
    }

    /// MLP.jvp with k directions: the first layer X·Wᵀ and k products X·V_jᵀ; above it one
    /// stacked [H; Ḣ_1…Ḣ_k]·Wᵀ of height (1+k)·m and k products H·V_jᵀ; activations and their
    /// derivatives on every block.
    func jvp(_ m: Int, directions k: Int) -> Work {
        var w = Work()
        guard m > 0 else { return w }
        for l in 1...layers {
            let inputs = widths[l - 1], width = widths[l]
            if l == 1 {
                w.gemm(m, width, inputs, times: Double(1 + k))
            } else {
                w.gemm((1 + k) * m, width, inputs)
                w.gemm(m, width, inputs, times: Double(k))
            }
            let block = Double(m * width)
            if l == layers {
                w.loop(Double(1 + k) * block)                    // biases
            } else if k == 1 {
                w.simd(3 * block)                                // the fused ReLU pass: 4 loads, 3 stores
            } else {
                w.loop(Double(1 + k) * block + block)            // biases, φ(z)
                w.copy(Double(k) * block)                        // ḣ_j ← ż_j
                w.simd(2 * Double(k) * block)                    // ḣ_j ⊙ φ'(z)
            }
        }
        return w
    }

    /// MLP.transientKernelFactors: a forward, then all C backward passes stacked, one
    /// (C·m) × w_{l-1} × w_l GEMM and φ' per layer below the top.
    func factors(_ m: Int) -> Work {
        let c = widths.last!
        var w = forward(m)
        w.copy(Double(c * m * c))
        w.loop(Double(c * m))
        if layers >= 2 {
            for l in stride(from: layers, to: 1, by: -1) {
                w.gemm(c * m, widths[l - 1], widths[l])
                w.simd(2 * Double(c * m * widths[l - 1]))
            }
        }
        return w
    }

    /// FactorWorkspace.primal: f = H_{L-1}·W_Lᵀ + β b.
    func factorPrimal(_ m: Int) -> Work {
        var w = Work()
        w.gemm(m, widths[layers], widths[layers - 1])
        w.loop(Double(m * widths[layers]))
        return w
    }

    /// FactorWorkspace.tangent: per layer A = H·V_lᵀ (+ β v_b), then C·m dot products δ·A.
    func factorTangent(_ m: Int) -> Work {
        let c = widths.last!
        var w = Work()
        for l in 1...layers {
            w.gemm(m, widths[l], widths[l - 1])
            w.loop(Double(m * widths[l]) + 2 * Double(m * c))
            w.simd(Double(m * c * widths[l]))
        }
        return w
    }
}
