import Linalg
import Nets

/// What the lens records about kernels and gradients (lens.md §6, §7), and the metrics it
/// computes over prediction matrices.
extension JacobianInstrument {
    /// lens.md §6, against the train reference set R. `toReference` is K(U, R).
    func recordKernelStatistics(step s: Int, operand: KernelOperand, path: TangentKernelPath, toReference: Matrix?) {
        let c = outputs, k = keys
        let n = Double(problem.trainX.rows), r = points.uOfReference.count
        let traces = path.traces(operand)
        sink.scalar(k.ktraceTrain, step: s, value: mean(points.uOfEvalTrain.map { traces[$0] }))
        sink.scalar(k.ktraceTest, step: s, value: mean(points.uOfTest.map { traces[$0] }))
        guard r > 0, let toReference else { return }

        // ω(x) = ‖[K(x, x_r)]_{r∈R}‖_F · √(n/|R|), per evaluation point.
        let evalRows = points.uOfEval
        let scale = (n / Double(r)).squareRoot()
        let weightNorms = scratch.matrix(1, rows: 1, cols: evalRows.count)
        for (i, u) in evalRows.enumerated() {
            var sum = 0.0
            for o in 0..<c { sum += Vec.sumSquares(r * c, toReference.row(u * c + o)) }
            weightNorms.base[i] = Float(sum.squareRoot() * scale)
        }
        let m1 = points.uOfEvalTrain.count
        let trainNorms = UnsafeBufferPointer(start: weightNorms.base, count: m1)
        let testNorms = UnsafeBufferPointer(start: weightNorms.base + m1, count: evalRows.count - m1)
        sink.vector(.kwn, split: .train, step: s, values: trainNorms)
        sink.vector(.kwn, split: .test, step: s, values: testNorms)
        sink.scalar(k.kwnMeanTrain, step: s, value: mean(trainNorms.map(Double.init)))
        sink.scalar(k.kwnMeanTest, step: s, value: mean(testNorms.map(Double.init)))
        sink.scalar(k.kwnMaxTrain, step: s, value: Double(trainNorms.max() ?? 0))
        sink.scalar(k.kwnMaxTest, step: s, value: Double(testNorms.max() ?? 0))

        // kalign = yᵀ K_RR y / (‖K_RR‖_F ‖y‖²); drift and velocity of K_RR (lens.md §6).
        referenceKernelSlot ^= 1
        let kRR = scratch.gathering(toReference, points.uOfReference, block: c, slot: 2 + referenceKernelSlot)
        let y = scratch.matrix(4, rows: r, cols: c)
        problem.trainY.gatherRows(problem.reference, into: y)
        let ky = scratch.matrix(5, rows: r * c, cols: 1)
        gemm(kRR, Matrix(rows: r * c, cols: 1, stride: 1, base: y.base, owner: y.owner), into: ky)
        let yKy = Vec.dot(r * c, y.base, ky.base), yy = Vec.sumSquares(r * c, y.base)
        let kNorm = Vec.norm(kRR.count, kRR.base)
        sink.scalar(k.kalign, step: s, value: kNorm > 0 && yy > 0 ? yKy / (kNorm * yy) : 0)
        if initialReferenceKernel == nil { initialReferenceKernel = kRR.copied() }
        if let k0 = initialReferenceKernel {
            sink.scalar(k.kdrift0, step: s, value: relativeDistance(kRR, k0))
        }
        if let previous = previousReferenceKernel {
            sink.scalar(k.kvel, step: s, value: relativeDistance(kRR, previous))
        }
        previousReferenceKernel = kRR
    }

    /// Γ_l(s, t') on the reference set R (lens.md (7.6)) and, once, at the state `gradMSCStep`,
    /// the paper's mean squared change grad_msc/l(s, t') on the test probe (lens.md (7.8)), both
    /// from layer factors by the outer-product identity (7.7):
    /// ‖u vᵀ − u' v'ᵀ‖²_F = ‖u‖²‖v‖² + ‖u'‖²‖v'‖² − 2(u·u')(v·v'), plus the bias rows β²‖δ − δ'‖².
    /// The reference at t' holds R's rows, then the probe's when grad_msc is to be recorded.
    func recordGradientChange(step s: Int, parameters θ: UnsafePointer<Float>, operand: KernelOperand?) {
        guard factorized != nil, !problem.reference.isEmpty, s >= options.gradReferenceStep else { return }
        let r = problem.reference.count
        guard let reference = gradReference else {
            guard s == options.gradReferenceStep else { return }
            let probe = gradMSCStep != nil ? gradMSCProbeCount : 0
            let (current, rows, probeRows) = referenceFactors(parameters: θ, operand: operand, probe: probe)
            // Owned: the reference outlives this step and the model's transient buffers.
            gradReference = current.selecting(rows + probeRows)
            return
        }
        // A reference captured without the probe (the window ends past the run, or a checkpoint of
        // an older tlens) has only R's rows: no grad_msc then.
        let measuresMSC = s == gradMSCStep && reference.pointCount == r + gradMSCProbeCount
        let (current, rows, probeRows) = referenceFactors(parameters: θ, operand: operand, probe: measuresMSC ? gradMSCProbeCount : 0)
        for l in 0..<current.inputs.count {
            var total = 0.0
            for i in 0..<r {
                let (diff, base) = squaredJacobianChange(layer: l, current, rows[i], reference, i)
                total += base > 0 ? diff.squareRoot() / base.squareRoot() : 0
            }
            sink.scalar(keys.gradChange[l], step: s, value: total / Double(r))
            guard measuresMSC else { continue }
            // lens.md (7.8): the squared Frobenius change of the C × P_l block, per entry, per point.
            var squared = 0.0
            for (j, row) in probeRows.enumerated() {
                squared += squaredJacobianChange(layer: l, current, row, reference, r + j).difference
            }
            let entries = Double(outputs * layerShapes[l].parameterCount * probeRows.count)
            sink.scalar(keys.gradMSC[l], step: s, value: squared / entries)
        }
    }

    /// The state at which grad_msc/l is recorded: the first recorded state (a multiple of
    /// `every`, or T) at or after t' + w; nil when the window is off or ends after T (lens.md §7).
    var gradMSCStep: Int? {
        let w = options.gradMSCWindow, e = options.every, end = options.gradReferenceStep + w
        guard w > 0, end <= options.totalSteps, gradMSCProbeCount > 0 else { return nil }
        return min((end + e - 1) / e * e, options.totalSteps)
    }

    /// The probe of grad_msc: the first `LensOptions.gradMSCPoints` test evaluation points.
    var gradMSCProbeCount: Int { min(LensOptions.gradMSCPoints, points.testCount) }

    /// Layer factors at θ of R and of the first `probe` test evaluation points: rows of this
    /// step's operand over U when it has factors, else the model's transient factors of those
    /// points alone (used before any other call on the model). Returns the operand and the rows
    /// of R and of the probe in it.
    func referenceFactors(parameters θ: UnsafePointer<Float>, operand: KernelOperand?, probe: Int)
        -> (LayerFactorOperand, [Int], [Int]) {
        if let f = operand as? LayerFactorOperand {
            return (f, points.uOfReference, Array(points.uOfTest.prefix(probe)))
        }
        let r = problem.reference.count
        let x = scratch.matrix(6, rows: r + probe, cols: problem.trainX.cols)
        problem.trainX.gatherRows(problem.reference, into: x.rows(0..<r))
        if probe > 0 {
            let first = points.trainEvalCount
            x.rows(r..<(r + probe)).copy(from: points.evalX.rows(first..<(first + probe)))
        }
        let current = LayerFactorOperand(factorized!.transientKernelFactors(x, parameters: θ), pointCount: x.rows, outputs: outputs)
        return (current, Array(0..<r), Array(r..<(r + probe)))
    }

    /// For layer l, ‖J^{(l)}(x) − J^{(l)}_{t'}(x)‖²_F (clamped at 0 against rounding) and
    /// ‖J^{(l)}_{t'}(x)‖²_F, summed over the C outputs, from point `row` of `current` and point
    /// `referenceRow` of `reference` (lens.md (7.7)).
    func squaredJacobianChange(layer l: Int, _ current: LayerFactorOperand, _ row: Int,
                               _ reference: LayerFactorOperand, _ referenceRow: Int) -> (difference: Double, base: Double) {
        let h = current.inputs[l], h0 = reference.inputs[l], width = current.deltas[l].cols
        let beta2 = Double(current.biasScales[l] * current.biasScales[l])
        let hh = Vec.sumSquares(h.cols, h.row(row)), hh0 = Vec.sumSquares(h.cols, h0.row(referenceRow))
        let hx = Vec.dot(h.cols, h.row(row), h0.row(referenceRow))
        var diff = 0.0, base = 0.0
        for o in 0..<outputs {
            let d = current.delta(l, output: o, point: row), d0 = reference.delta(l, output: o, point: referenceRow)
            let dd = Vec.sumSquares(width, d), dd0 = Vec.sumSquares(width, d0), dx = Vec.dot(width, d, d0)
            diff += dd * hh + dd0 * hh0 - 2 * dx * hx + beta2 * (dd + dd0 - 2 * dx)
            base += dd0 * (hh0 + beta2)
        }
        return (max(diff, 0), base)
    }

    /// lens.md §7, per layer: ‖∇W_l‖, ‖∇b_l‖, ‖Δθ_l‖, ‖θ_{t,l}‖, their ratio, mean P_t.
    func recordGradientSummaries(step t: Int, parameters θ: UnsafePointer<Float>, update Δθ: UnsafePointer<Float>,
                                 gradient: UnsafePointer<Float>) {
        let p = optimizer.preconditioner
        for (l, layer) in layerShapes.enumerated() {
            let w = layer.weightOffset, nw = layer.weightCount
            let all = layer.parameterCount
            sink.scalar(keys.gradNorm[l], step: t, value: Vec.norm(nw, gradient + w))
            if layer.hasBias {
                sink.scalar(keys.gradNormBias[l], step: t, value: Vec.norm(layer.outputs, gradient + layer.biasOffset))
            }
            let updateNorm = Vec.norm(all, Δθ + w)
            var after = 0.0
            for i in w..<(w + all) { let v = Double(θ[i] + Δθ[i]); after += v * v }
            let before = Vec.norm(all, θ + w)
            sink.scalar(keys.updateNorm[l], step: t, value: updateNorm)
            sink.scalar(keys.weightNorm[l], step: t, value: after.squareRoot())
            sink.scalar(keys.updateRatio[l], step: t, value: before > 0 ? updateNorm / before : 0)
            // The median, not the mean: coordinates whose gradient is always zero (constant input
            // pixels) keep P = 1/ε = 1e8 and would dominate a mean (lens.md §7).
            if let p { sink.scalar(keys.precondMedian[l], step: t, value: median(p + w, count: all)) }
        }
    }
}

extension JacobianInstrument {
    /// The median of `count` floats by quickselect on a reused copy (O(count), no allocation
    /// after the first call); the lower median for an even count.
    func median(_ values: UnsafePointer<Float>, count: Int) -> Double {
        guard count > 0 else { return 0 }
        if medianScratch.count < count { medianScratch = FloatBuffer(count: count) }
        let a = medianScratch.base
        a.update(from: values, count: count)
        let k = (count - 1) / 2
        var lo = 0, hi = count - 1
        while lo < hi {
            let pivot = a[lo + (hi - lo) / 2]
            var i = lo, j = hi
            while i <= j {
                while a[i] < pivot { i += 1 }
                while a[j] > pivot { j -= 1 }
                if i <= j { let x = a[i]; a[i] = a[j]; a[j] = x; i += 1; j -= 1 }
            }
            if k <= j { hi = j } else if k >= i { lo = i } else { break }
        }
        return Double(a[k])
    }
}

// MARK: - Metrics over row ranges of an `m × C` prediction matrix

func meanAbsoluteDifference(_ a: Matrix, _ b: Matrix, _ rows: Range<Int>) -> Double {
    guard !rows.isEmpty else { return 0 }
    var s = 0.0
    for i in rows { for o in 0..<a.cols { s += Double(abs(a[i, o] - b[i, o])) } }
    return s / Double(rows.count * a.cols)
}

func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }

func relativeDistance(_ a: Matrix, _ b: Matrix) -> Double {
    var num = 0.0
    for i in 0..<a.count { let d = Double(a.base[i] - b.base[i]); num += d * d }
    let den = Vec.norm(b.count, b.base)
    return den > 0 ? num.squareRoot() / den : 0
}
