import CDNNL

/// Floating-point operations executed by `gemm`, counted as 2·m·n·k per product, so benchmarks
/// report achieved GFLOP/s from what actually ran rather than from a formula.
public enum GEMMCounter {
    nonisolated(unsafe) public static var flops: Double = 0
}

/// `C ← α·op(A)·op(B) + β·C`, every matrix product in tlens goes through here (docs/architecture.md:
/// one GEMM backend, oneDNN's `dnnl_sgemm`, row-major). Transposes are flags; nothing is copied.
public func gemm(_ a: Matrix, transposeA: Bool = false,
                 _ b: Matrix, transposeB: Bool = false,
                 into c: Matrix, alpha: Float = 1, beta: Float = 0) {
    let m = transposeA ? a.cols : a.rows
    let k = transposeA ? a.rows : a.cols
    let kb = transposeB ? b.cols : b.rows
    let n = transposeB ? b.rows : b.cols
    precondition(k == kb && c.rows == m && c.cols == n,
                 "gemm shapes: op(A) \(m)×\(k), op(B) \(kb)×\(n), C \(c.rows)×\(c.cols)")
    if m == 0 || n == 0 { return }
    if k == 0 {
        if beta == 0 { c.fill(0) } else { scale(c, by: beta) }
        return
    }
    GEMMCounter.flops += 2 * Double(m) * Double(n) * Double(k)
    let status = dnnl_sgemm(transposeA ? 84 : 78, transposeB ? 84 : 78,   // 'T' : 'N'
                            Int64(m), Int64(n), Int64(k), alpha,
                            a.base, Int64(max(a.stride, 1)), b.base, Int64(max(b.stride, 1)),
                            beta, c.base, Int64(max(c.stride, 1)))
    precondition(status == dnnl_success, "dnnl_sgemm failed with status \(status.rawValue)")
}

func scale(_ c: Matrix, by factor: Float) {
    for i in 0..<c.rows {
        let r = c.row(i)
        for j in 0..<c.cols { r[j] *= factor }
    }
}
