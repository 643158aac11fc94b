import Learning
import Linalg
import Nets

/// The Gauss–Newton sharpness of a step's batch and the smoother's stability number
/// (lens.md (8.15)–(8.16)): `gn_sharpness = λ_max(K_BB H_B) / b` — `K_BB` the (preconditioned, for Adam)
/// tangent kernel of the batch at θ_{t-1}, `H_B` the loss's output Hessian (I for squared loss,
/// `diag(p) − ppᵀ` per point for cross-entropy) — and `stability = γ_t · gn_sharpness`. The
/// smoother's recursion multiplies Ŝ_B by `I − (γ/b) K_BB H_B` each step, so under plain SGD it
/// stays stable only while `stability < 2`; other optimizers report their own bound
/// (lens.md (8.17)–(8.22), `Optimizer.stabilityBound`).
///
/// By power iteration, never a dense eigendecomposition: on `K_BB` taken from this step's kernel
/// block when the smoother formed one, else on `K_BB` by layer Gram matrices of the batch (one
/// backward pass and a few Gram products), else matrix-free (a VJP and a JVP per iteration).
extension JacobianInstrument {
    static let sharpnessIterations = 40

    func batchSharpness(_ o: StepObservation) -> Double {
        let b = o.batch.count, c = outputs, m = b * c
        let θ = learner.previousParameters
        let batchX = scratch.matrix(20, rows: b, cols: problem.trainX.cols)
        problem.trainX.gatherRows(o.batch, into: batchX)
        // H_B at the network's batch outputs (cross-entropy only).
        let probabilities: Matrix? = learner.loss == .crossEntropy ? scratch.matrix(21, rows: b, cols: c) : nil
        if let probabilities {
            let f = model.forward(batchX, parameters: θ)
            for r in 0..<b { Loss.softmax(f.row(r), c, into: probabilities.row(r)) }
        }
        func applyH(_ v: UnsafePointer<Float>, into w: UnsafeMutablePointer<Float>) {
            guard let probabilities else { w.update(from: v, count: m); return }
            for r in 0..<b {
                let p = probabilities.row(r), vi = v + r * c
                var pv: Float = 0
                for k in 0..<c { pv += p[k] * vi[k] }
                for k in 0..<c { w[r * c + k] = p[k] * (vi[k] - pv) }
            }
        }

        // K_BB as a dense block when it is cheap to have; otherwise products by VJP and JVP.
        var dense: Matrix? = nil
        if let k = batchKernel {
            batchRows.removeAll(keepingCapacity: true)
            for i in o.batch { batchRows.append(points.uOfTrain[i]) }
            dense = scratch.gathering(k, batchRows, block: c, slot: 22)
        } else if factorized != nil, !optimizer.isPreconditioned {
            let operand = batchGram.prepare(batchX, parameters: θ, preconditioner: nil)
            let kbb = scratch.matrix(22, rows: m, cols: m)
            batchGram.kernel(operand, rows: nil, operand, rows: nil, into: kbb)
            dense = kbb
        }
        let direction = scratch.matrix(23, rows: 1, cols: parameterCount).base
        let seeds = scratch.matrix(24, rows: b, cols: c)
        func applyK(_ w: UnsafeMutablePointer<Float>, into y: UnsafeMutablePointer<Float>) {
            if let dense {
                gemm(dense, Matrix(rows: m, cols: 1, stride: 1, base: w, owner: nil),
                     into: Matrix(rows: m, cols: 1, stride: 1, base: y, owner: nil))
                return
            }
            seeds.base.update(from: w, count: m)
            _ = model.forward(batchX, parameters: θ)
            model.vjp(seeds: seeds, into: direction, beta: 0)
            if let p = optimizer.preconditioner { Vec.hadamard(parameterCount, direction, p, direction) }
            y.update(from: model.jvp(batchX, parameters: θ, direction: direction).tangent.base, count: m)
        }

        // Power iteration with the Rayleigh quotient of the symmetric form H^½ K H^½:
        // λ ≈ (Hv)ᵀ K (Hv) / vᵀ H v. The start is drawn from the step number, so a resumed run
        // draws the same.
        let v = scratch.matrix(25, rows: 1, cols: m).base, w = scratch.matrix(26, rows: 1, cols: m).base
        let y = scratch.matrix(27, rows: 1, cols: m).base
        var rng = RandomSource(seed: options.seed &+ UInt64(o.step), stream: .other)
        for i in 0..<m { v[i] = Float(rng.normal()) }
        var λ = 0.0
        for iteration in 0..<Self.sharpnessIterations {
            applyH(v, into: w)
            applyK(w, into: y)
            let vHv = Vec.dot(m, v, w)
            guard vHv > 0 else { break }
            let next = Vec.dot(m, w, y) / vHv
            let norm = Vec.norm(m, y)
            guard norm > 0, next.isFinite else { λ = max(next, 0); break }
            Vec.scale(m, Float(1 / norm), y)
            v.update(from: y, count: m)
            let converged = iteration >= 3 && abs(next - λ) <= 1e-5 * abs(next)
            λ = next
            if converged { break }
        }
        return λ / Double(b)
    }
}
