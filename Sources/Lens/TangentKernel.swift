import Linalg
import Nets

/// A point set prepared for kernel evaluation at one θ: whatever a kernel path needs to form
/// `K(x, x')` for any pair of its points (layer factors, Jacobian rows, or the points themselves).
public protocol KernelOperand: AnyObject {
    var pointCount: Int { get }
}

/// The empirical tangent kernel `K(x, x') = J(x) P J(x')ᵀ ∈ R^{C×C}` (lens.md §4), with
/// `P` the optimizer's diagonal preconditioner (identity for SGD). Three paths share this
/// interface: layer Gram matrices (§5), explicit Jacobian rows, and VJP/JVP columns.
///
/// Kernel matrices are `(m·C) × (m'·C)`, row `i·C + c` for point `i`, output `c`.
public protocol TangentKernelPath: AnyObject {
    var name: String { get }
    /// Prepares `x` (m × d) at θ. `preconditioner` is diag P (nil for identity), read now.
    func prepare(_ x: Matrix, parameters θ: UnsafePointer<Float>, preconditioner: UnsafePointer<Float>?) -> KernelOperand
    /// `K(A[rowsA], B[rowsB])` into `out`; nil rows mean every point.
    func kernel(_ a: KernelOperand, rows rowsA: [Int]?, _ b: KernelOperand, rows rowsB: [Int]?, into out: Matrix)
    /// `tr K(x, x) = ‖J(x)‖²_P` per point (lens.md §6, `ktrace`).
    func traces(_ a: KernelOperand) -> [Double]
}

extension TangentKernelPath {
    /// Allocating convenience for `kernel(_:rows:_:rows:into:)`.
    public func kernel(_ a: KernelOperand, rows rowsA: [Int]? = nil, _ b: KernelOperand, rows rowsB: [Int]? = nil, outputs: Int) -> Matrix {
        let out = Matrix(rows: (rowsA?.count ?? a.pointCount) * outputs, cols: (rowsB?.count ?? b.pointCount) * outputs)
        kernel(a, rows: rowsA, b, rows: rowsB, into: out)
        return out
    }
}

// MARK: - Layer-Gram path (lens.md §5)

/// Per-layer factors of a point set at one θ. Deltas are kept output-major, as the model's one
/// backward pass for all C outputs produced them: layer l's block is `(C·m) × d_l` with output
/// c in rows `c·m ..< (c+1)·m`, so one GEMM yields every `(c, c')` block of `G^δ_l` at once.
public final class LayerFactorOperand: KernelOperand {
    public let pointCount: Int
    public let outputs: Int
    /// Per layer: `inputs` (m × d_{l-1}, weight multiplier folded in), `biasScale` β_l.
    public let inputs: [Matrix]
    public let biasScales: [Float]
    /// Per layer: `(C·m) × d_l`, output-major.
    public let deltas: [Matrix]

    public init(_ factors: [LayerKernelFactors], pointCount m: Int, outputs c: Int) {
        pointCount = m
        outputs = c
        inputs = factors.map(\.inputs)
        biasScales = factors.map(\.biasScale)
        deltas = factors.map { layer in
            let width = layer.deltas[0].cols
            let first = layer.deltas[0]
            // The MLP returns views of one contiguous block; take it whole when it is.
            let contiguous = first.stride == width && (0..<c).allSatisfy { layer.deltas[$0].base == first.base + $0 * m * width }
            if contiguous { return Matrix(rows: c * m, cols: width, stride: width, base: first.base, owner: first.owner) }
            let block = Matrix(rows: c * m, cols: width)
            for k in 0..<c { block.rows((k * m)..<((k + 1) * m)).copy(from: layer.deltas[k]) }
            return block
        }
    }

    init(pointCount: Int, outputs: Int, inputs: [Matrix], biasScales: [Float], deltas: [Matrix]) {
        self.pointCount = pointCount; self.outputs = outputs
        self.inputs = inputs; self.biasScales = biasScales; self.deltas = deltas
    }

    /// The factors of points `rows` only, in storage of their own: they outlive the step (and the
    /// model's transient buffers) as the reference of `grad_change`.
    public func selecting(_ rows: [Int]) -> LayerFactorOperand {
        LayerFactorOperand(pointCount: rows.count, outputs: outputs, inputs: inputs.map { ownedRows($0, rows) },
                           biasScales: biasScales, deltas: deltas.map { ownedBlocks($0, rows, blocks: outputs, height: pointCount) })
    }

    /// `δ_{l,c}(x_i)`.
    @inline(__always) func delta(_ l: Int, output c: Int, point i: Int) -> UnsafeMutablePointer<Float> {
        deltas[l].row(c * pointCount + i)
    }
}

/// `K(x,x')_{cc'} = Σ_l (δ_{l,c}(x)·δ_{l,c'}(x')) (h_{l-1}(x)·h_{l-1}(x') + β_l²)`: a sum over
/// layers of Hadamard products of Gram matrices, each a single GEMM, with no per-example
/// gradients (lens.md §5). Valid only without a preconditioner.
public final class LayerGramKernel: TangentKernelPath {
    public let name = "layer_gram"
    let model: LayerFactorizedModel
    let transient: Bool
    /// Gathers and Gram temporaries, reused from call to call.
    let scratch = Workspace()

    /// `transient`: operands live in the model's reused storage and are valid only until the next
    /// call on the model (one operand per step, as the Lens uses them).
    public init(model: LayerFactorizedModel, transient: Bool = false) { self.model = model; self.transient = transient }

    public func prepare(_ x: Matrix, parameters θ: UnsafePointer<Float>, preconditioner: UnsafePointer<Float>?) -> KernelOperand {
        precondition(preconditioner == nil, "the layer-Gram kernel has no preconditioned form (lens.md §5)")
        let factors = transient ? model.transientKernelFactors(x, parameters: θ) : model.kernelFactors(x, parameters: θ)
        return LayerFactorOperand(factors, pointCount: x.rows, outputs: model.outputDimension)
    }

    public func kernel(_ a: KernelOperand, rows rowsA: [Int]?, _ b: KernelOperand, rows rowsB: [Int]?, into out: Matrix) {
        let fa = a as! LayerFactorOperand, fb = b as! LayerFactorOperand
        let c = fa.outputs
        let ma = rowsA?.count ?? fa.pointCount, mb = rowsB?.count ?? fb.pointCount
        precondition(out.rows == ma * c && out.cols == mb * c, "kernel output shape")
        out.fill(0)
        let gramH = scratch.matrix(0, rows: ma, cols: mb)
        let gramDelta = scratch.matrix(1, rows: ma * c, cols: mb * c)
        for l in 0..<fa.inputs.count {
            let ha = gathered(fa.inputs[l], rowsA, scratch: (scratch, 2)), hb = gathered(fb.inputs[l], rowsB, scratch: (scratch, 3))
            let da = gatheredBlocks(fa.deltas[l], rowsA, blocks: c, height: fa.pointCount, scratch: (scratch, 4))
            let db = gatheredBlocks(fb.deltas[l], rowsB, blocks: c, height: fb.pointCount, scratch: (scratch, 5))
            gemm(ha, hb, transposeB: true, into: gramH)
            gemm(da, db, transposeB: true, into: gramDelta)
            let beta2 = fa.biasScales[l] * fa.biasScales[l]
            // G^δ_l ⊙ (G^h_l + β²): output-major Gram blocks land in point-major kernel rows.
            for ci in 0..<c {
                for i in 0..<ma {
                    let gh = gramH.row(i), o = out.row(i * c + ci), g = gramDelta.row(ci * ma + i)
                    if c == 1 {
                        for j in 0..<mb { o[j] += g[j] * (gh[j] + beta2) }
                    } else {
                        for cj in 0..<c {
                            let gBlock = g + cj * mb
                            for j in 0..<mb { o[j * c + cj] += gBlock[j] * (gh[j] + beta2) }
                        }
                    }
                }
            }
        }
    }

    public func traces(_ a: KernelOperand) -> [Double] {
        let f = a as! LayerFactorOperand
        var t = [Double](repeating: 0, count: f.pointCount)
        for l in 0..<f.inputs.count {
            let h = f.inputs[l], width = f.deltas[l].cols, beta2 = Double(f.biasScales[l] * f.biasScales[l])
            for i in 0..<f.pointCount {
                let hh = Vec.sumSquares(h.cols, h.row(i)) + beta2
                var dd = 0.0
                for k in 0..<f.outputs { dd += Vec.sumSquares(width, f.delta(l, output: k, point: i)) }
                t[i] += dd * hh
            }
        }
        return t
    }
}

/// Rows `rows` of each of `blocks` stacked blocks of height `height` (output-major deltas): a
/// view when that is possible, else a copy (into `scratch`'s slot when given).
func gatheredBlocks(_ m: Matrix, _ rows: [Int]?, blocks: Int, height: Int, scratch: (Workspace, Int)? = nil) -> Matrix {
    guard let rows, !isIdentity(rows, height) else { return m }
    if blocks == 1, let range = contiguousRange(rows) { return m.rows(range) }
    guard let (workspace, slot) = scratch else { return ownedBlocks(m, rows, blocks: blocks, height: height) }
    let out = workspace.matrix(slot, rows: rows.count * blocks, cols: m.cols)
    for b in 0..<blocks {
        for (k, i) in rows.enumerated() { out.row(b * rows.count + k).update(from: m.row(b * height + i), count: m.cols) }
    }
    return out
}

/// Rows `rows` of each of `blocks` stacked blocks of height `height`, always in new storage.
func ownedBlocks(_ m: Matrix, _ rows: [Int], blocks: Int, height: Int) -> Matrix {
    let out = Matrix(rows: rows.count * blocks, cols: m.cols)
    for b in 0..<blocks {
        for (k, i) in rows.enumerated() { out.row(b * rows.count + k).update(from: m.row(b * height + i), count: m.cols) }
    }
    return out
}

func isIdentity(_ rows: [Int], _ count: Int) -> Bool {
    rows.count == count && rows.enumerated().allSatisfy { $0.offset == $0.element }
}

/// `rows` as a range when they are consecutive and ascending: such a selection is a view.
func contiguousRange(_ rows: [Int]) -> Range<Int>? {
    guard let first = rows.first else { return nil }
    for (k, r) in rows.enumerated() where r != first + k { return nil }
    return first..<(first + rows.count)
}

/// Rows `rows` of `m` (blocks of `block` consecutive rows per point), always in new storage:
/// for callers that write to the result.
func ownedRows(_ m: Matrix, _ rows: [Int], block: Int = 1) -> Matrix {
    let out = Matrix(rows: rows.count * block, cols: m.cols)
    for (k, i) in rows.enumerated() {
        for b in 0..<block { out.row(k * block + b).update(from: m.row(i * block + b), count: m.cols) }
    }
    return out
}

/// Rows `rows` of `m` (blocks of `block` consecutive rows per point), or a view of `m` when the
/// rows are all of it or a consecutive range: read-only use (see `ownedRows`). A copy goes into
/// `scratch`'s slot when given, so a step loop does not allocate.
func gathered(_ m: Matrix, _ rows: [Int]?, block: Int = 1, scratch: (Workspace, Int)? = nil) -> Matrix {
    guard let rows, !isIdentity(rows, m.rows / block) else { return m }
    if let range = contiguousRange(rows) { return m.rows((range.lowerBound * block)..<(range.upperBound * block)) }
    guard let (workspace, slot) = scratch else { return ownedRows(m, rows, block: block) }
    return workspace.gathering(m, rows, block: block, slot: slot)
}

// MARK: - Explicit-Jacobian path

/// Jacobian rows of a point set, `(m·C) × P`, already scaled by `√P_diag` so that
/// `K^P = (J√P)(J√P)ᵀ` is one GEMM.
public final class JacobianOperand: KernelOperand {
    public let pointCount: Int
    public let rows: Matrix
    init(pointCount: Int, rows: Matrix) { self.pointCount = pointCount; self.rows = rows }
}

/// Forms per-example Jacobian rows by one VJP per point and output, then `J P J'ᵀ` by GEMM.
/// Cost `O(m·C·P)` memory: for small problems, and for any preconditioner (lens.md §5).
public final class ExplicitJacobianKernel: TangentKernelPath {
    public let name = "explicit"
    let model: DifferentiableModel
    let transient: Bool
    let scratch = Workspace()

    /// `transient`: the Jacobian rows live in storage reused by the next `prepare` (one operand
    /// per step, as the lens uses them).
    public init(model: DifferentiableModel, transient: Bool = false) { self.model = model; self.transient = transient }

    public func prepare(_ x: Matrix, parameters θ: UnsafePointer<Float>, preconditioner: UnsafePointer<Float>?) -> KernelOperand {
        let c = model.outputDimension, count = model.parameterCount
        let j = transient ? scratch.matrix(0, rows: x.rows * c, cols: count) : Matrix(rows: x.rows * c, cols: count)
        jacobianRows(model: model, x, parameters: θ, into: j, seed: scratch.matrix(1, rows: 1, cols: c))
        if let p = preconditioner {
            let root = scratch.matrix(2, rows: 1, cols: count).base
            for k in 0..<count { root[k] = p[k].squareRoot() }
            for r in 0..<j.rows { Vec.hadamard(count, j.row(r), root, j.row(r)) }
        }
        return JacobianOperand(pointCount: x.rows, rows: j)
    }

    public func kernel(_ a: KernelOperand, rows rowsA: [Int]?, _ b: KernelOperand, rows rowsB: [Int]?, into out: Matrix) {
        let ja = a as! JacobianOperand, jb = b as! JacobianOperand
        let c = model.outputDimension
        gemm(gathered(ja.rows, rowsA, block: c, scratch: (scratch, 3)), gathered(jb.rows, rowsB, block: c, scratch: (scratch, 4)),
             transposeB: true, into: out)
    }

    public func traces(_ a: KernelOperand) -> [Double] {
        let j = (a as! JacobianOperand).rows, c = model.outputDimension
        return (0..<a.pointCount).map { i in
            (0..<c).reduce(0.0) { $0 + Vec.sumSquares(j.cols, j.row(i * c + $1)) }
        }
    }
}

/// `J(X)` as `(m·C) × P` by brute force: one single-point forward, then one VJP per output.
/// Independent of any factorization, which is what makes it a reference for the other paths.
public func jacobianRows(model: DifferentiableModel, _ x: Matrix, parameters θ: UnsafePointer<Float>) -> Matrix {
    let j = Matrix(rows: x.rows * model.outputDimension, cols: model.parameterCount)
    jacobianRows(model: model, x, parameters: θ, into: j, seed: Matrix(rows: 1, cols: model.outputDimension))
    return j
}

/// The same into `j` (`(m·C) × P`), with `seed` (1 × C) as scratch.
func jacobianRows(model: DifferentiableModel, _ x: Matrix, parameters θ: UnsafePointer<Float>, into j: Matrix, seed: Matrix) {
    let c = model.outputDimension
    for i in 0..<x.rows {
        _ = model.forward(x.rows(i..<(i + 1)), parameters: θ)
        for k in 0..<c {
            seed.fill(0); seed[0, k] = 1
            model.vjp(seeds: seed, into: j.row(i * c + k), beta: 0)
        }
    }
}

// MARK: - VJP/JVP path (the label-sensitivity engine's primitives)

/// The points and θ, kept for column-by-column evaluation.
public final class PointOperand: KernelOperand {
    public let pointCount: Int
    let points: Matrix
    let parameters: FloatBuffer
    let preconditioner: FloatBuffer?
    init(points: Matrix, parameters: FloatBuffer, preconditioner: FloatBuffer?) {
        pointCount = points.rows; self.points = points; self.parameters = parameters; self.preconditioner = preconditioner
    }
}

/// Column `(x', c')` of `K^P(X, ·)` as `J(X) · P · J(x')ᵀ e_{c'}`: one VJP and one JVP, memory
/// `O(P)`, any model and any preconditioner. Slow per entry, but it scales where the others
/// cannot.
public final class VJPJVPKernel: TangentKernelPath {
    public let name = "vjp_jvp"
    let model: DifferentiableModel
    let transient: Bool
    let scratch = Workspace()

    /// `transient`: the operand's copies of X, θ and P live in storage reused by the next
    /// `prepare`.
    public init(model: DifferentiableModel, transient: Bool = false) { self.model = model; self.transient = transient }

    public func prepare(_ x: Matrix, parameters θ: UnsafePointer<Float>, preconditioner: UnsafePointer<Float>?) -> KernelOperand {
        let count = model.parameterCount
        func copy(_ source: UnsafePointer<Float>, slot: Int) -> FloatBuffer {
            let buffer = transient ? scratch.matrix(slot, rows: 1, cols: count).owner! : FloatBuffer(count: count)
            buffer.base.update(from: source, count: count)
            return buffer
        }
        let points = transient ? scratch.matrix(2, rows: x.rows, cols: x.cols) : Matrix(rows: x.rows, cols: x.cols)
        points.copy(from: x)
        return PointOperand(points: points, parameters: copy(θ, slot: 0), preconditioner: preconditioner.map { copy($0, slot: 1) })
    }

    public func kernel(_ a: KernelOperand, rows rowsA: [Int]?, _ b: KernelOperand, rows rowsB: [Int]?, into out: Matrix) {
        let pa = a as! PointOperand, pb = b as! PointOperand
        let c = model.outputDimension, count = model.parameterCount
        let xa = gathered(pa.points, rowsA, scratch: (scratch, 3)), xb = gathered(pb.points, rowsB, scratch: (scratch, 4))
        let direction = scratch.matrix(5, rows: 1, cols: count).base
        let seed = scratch.matrix(6, rows: 1, cols: c)
        for j in 0..<xb.rows {
            for k in 0..<c {
                _ = model.forward(xb.rows(j..<(j + 1)), parameters: pb.parameters.base)
                seed.fill(0); seed[0, k] = 1
                model.vjp(seeds: seed, into: direction, beta: 0)
                if let p = pa.preconditioner { Vec.hadamard(count, direction, p.base, direction) }
                let tangent = model.jvp(xa, parameters: pa.parameters.base, direction: direction).tangent
                for i in 0..<xa.rows {
                    for ci in 0..<c { out[i * c + ci, j * c + k] = tangent[i, ci] }
                }
            }
        }
    }

    public func traces(_ a: KernelOperand) -> [Double] {
        let pa = a as! PointOperand
        let c = model.outputDimension, count = model.parameterCount
        let g = scratch.matrix(5, rows: 1, cols: count).base
        let seed = scratch.matrix(6, rows: 1, cols: c)
        return (0..<pa.pointCount).map { i in
            _ = model.forward(pa.points.rows(i..<(i + 1)), parameters: pa.parameters.base)
            var t = 0.0
            for k in 0..<c {
                seed.fill(0); seed[0, k] = 1
                model.vjp(seeds: seed, into: g, beta: 0)
                if let p = pa.preconditioner {
                    for q in 0..<count { t += Double(g[q] * g[q] * p[q]) }
                } else {
                    t += Vec.sumSquares(count, g)
                }
            }
            return t
        }
    }
}
