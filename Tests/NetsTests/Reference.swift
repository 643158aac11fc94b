import Foundation
import Linalg
@testable import Nets

/// An independent Float64 MLP written from the equations (lens.md §5, MLPSpec docs), with
/// its own element loops and no GEMM, so finite differences on it are accurate to ~1e-9.
struct ReferenceMLP {
    let spec: MLPSpec

    func phi(_ z: Double) -> Double {
        switch spec.activation {
        case .relu: return max(z, 0)
        case .tanh: return Foundation.tanh(z)
        case .sigmoid: return 1 / (1 + Foundation.exp(-z))
        case .gelu: return 0.5 * z * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (z + 0.044715 * z * z * z)))
        case .quadratic: return z * z
        case .linear: return z
        case .epsQuadratic(let ε): return z + Double(ε) / 2 * z * z
        }
    }

    /// f_θ(x) for one point.
    func outputs(_ x: [Double], _ θ: [Double]) -> [Double] {
        let w = spec.widths
        var h = x
        var offset = 0
        for l in 1..<w.count {
            let din = w[l - 1], dout = w[l]
            if spec.readout == .fixedMean && l == w.count - 1 {
                // Kumar et al.'s readout: the mean of the hidden units, no parameters.
                return [h.reduce(0, +) / Double(din)]
            }
            let s = spec.parameterization == .ntk ? 1 / Double(din).squareRoot() : 1
            var z = [Double](repeating: 0, count: dout)
            for j in 0..<dout {
                var acc = 0.0
                for k in 0..<din { acc += θ[offset + j * din + k] * h[k] }
                z[j] = s * acc
            }
            offset += dout * din
            if spec.bias {
                for j in 0..<dout { z[j] += θ[offset + j] }
                offset += dout
            }
            h = l == w.count - 1 ? z : z.map(phi)
        }
        return h
    }

    func batchLoss(_ loss: Loss, _ xs: [[Double]], _ ys: [[Double]], _ θ: [Double]) -> Double {
        var total = 0.0
        for (x, y) in zip(xs, ys) {
            let f = outputs(x, θ)
            switch loss {
            case .mse: for c in 0..<f.count { total += 0.5 * (f[c] - y[c]) * (f[c] - y[c]) }
            case .crossEntropy:
                let k = Int(y[0])
                let lse = Foundation.log(f.map { Foundation.exp($0) }.reduce(0, +))
                total += lse - f[k]
            }
        }
        return total / Double(xs.count)
    }
}

func randomMatrix(_ rows: Int, _ cols: Int, _ rng: inout RandomSource, scale: Double = 1) -> Matrix {
    Matrix(rows: rows, cols: cols, values: (0..<(rows * cols)).map { _ in Float(scale * rng.normal()) })
}

func rows(of m: Matrix) -> [[Double]] {
    (0..<m.rows).map { i in (0..<m.cols).map { Double(m[i, $0]) } }
}
