import Linalg
import Nets

/// Predictions and Jacobian-vector products read off layer factors (lens.md §5):
/// `f(x) = s_L W_L h_{L-1}(x) + β b_L` (the model's `outputs(lastFactorInputs:)`, which also
/// covers a fixed readout) and
/// `J(x)v = Σ_l Σ_k δ_{l,c}(x)_k · (s_l V_l h_{l-1}(x) + β v_{b,l})_k`,
/// one GEMM per layer, so a step that needs the factors anyway gets its forward+JVP pass for
/// the price of a forward pass. Scratch matrices are kept between calls.
final class FactorWorkspace {
    private let layerProducts = Workspace()
    private let gathers = Workspace()

    private func workspace(_ l: Int, rows: Int, cols: Int) -> Matrix { layerProducts.matrix(l, rows: rows, cols: cols) }

    /// A `d_l × d_{l-1}` weight (or direction) block of a flat parameter vector, as a view.
    private func weights(_ layer: LayerShape, _ p: UnsafePointer<Float>) -> Matrix {
        Matrix(rows: layer.outputs, cols: layer.inputs, stride: layer.inputs,
               base: UnsafeMutablePointer(mutating: p + layer.weightOffset), owner: nil)
    }

    /// `out` (|rows| × C) ← f_θ at the points `rows` of the operand.
    func primal(_ f: LayerFactorOperand, rows: [Int]?, model: LayerFactorizedModel, parameters θ: UnsafePointer<Float>, into out: Matrix) {
        let h = gathered(f.inputs[f.inputs.count - 1], rows, scratch: (gathers, 0))
        model.outputs(lastFactorInputs: h, parameters: θ, into: out)
    }

    /// `out` (|rows| × C) ← J(x)v at the points `rows` of the operand.
    func tangent(_ f: LayerFactorOperand, rows: [Int]?, layers: [LayerShape], direction v: UnsafePointer<Float>, into out: Matrix) {
        let m = rows?.count ?? f.pointCount, c = f.outputs
        precondition(out.rows == m && out.cols == c, "tangent output shape")
        out.fill(0)
        for (l, layer) in layers.enumerated() {
            let h = gathered(f.inputs[l], rows, scratch: (gathers, 0))
            let a = workspace(l, rows: m, cols: layer.outputs)
            gemm(h, weights(layer, v), transposeB: true, into: a)
            if layer.hasBias {
                let β = f.biasScales[l], vb = v + layer.biasOffset
                for i in 0..<m { Vec.axpy(layer.outputs, β, vb, a.row(i)) }
            }
            for k in 0..<c {
                for i in 0..<m {
                    let point = rows?[i] ?? i
                    out[i, k] += Float(Vec.dot(layer.outputs, f.delta(l, output: k, point: point), a.row(i)))
                }
            }
        }
    }
}
