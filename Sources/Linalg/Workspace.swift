/// Grow-only scratch storage for step loops (docs: lens.md §0, "no allocation in the step
/// loop"): `matrix(slot, rows:, cols:)` returns a rows × cols matrix in storage that the same
/// slot reuses from call to call, allocated only when a larger shape is first asked for. Its
/// contents are whatever the slot last held: callers overwrite (or `fill`) what they read.
///
///     let scratch = Workspace()
///     let gram = scratch.matrix(0, rows: m, cols: b)     // the same storage every step
public final class Workspace {
    private var buffers: [FloatBuffer] = []

    public init() {}

    public func matrix(_ slot: Int, rows: Int, cols: Int) -> Matrix {
        while buffers.count <= slot { buffers.append(FloatBuffer(count: 0)) }
        if buffers[slot].count < rows * cols { buffers[slot] = FloatBuffer(count: rows * cols) }
        let storage = buffers[slot]
        return Matrix(rows: rows, cols: cols, stride: max(cols, 1), base: storage.base, owner: storage)
    }

    /// Rows `rows` of `m` (blocks of `block` consecutive rows per point) copied into slot `slot`.
    public func gathering(_ m: Matrix, _ rows: [Int], block: Int = 1, slot: Int) -> Matrix {
        let out = matrix(slot, rows: rows.count * block, cols: m.cols)
        for (k, i) in rows.enumerated() {
            for b in 0..<block { out.row(k * block + b).update(from: m.row(i * block + b), count: m.cols) }
        }
        return out
    }
}
