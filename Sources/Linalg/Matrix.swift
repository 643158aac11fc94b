/// Owned float32 storage, 64-byte aligned, zero-filled. A class so that workspaces are shared,
/// never copied: the step loop reuses the same buffers (no hidden allocation).
public final class FloatBuffer: @unchecked Sendable {
    public let count: Int
    public let base: UnsafeMutablePointer<Float>

    /// Buffers allocated so far in this process: tests check that a step loop adds none after
    /// warm-up. Counted without a lock — read it only while one thread allocates.
    nonisolated(unsafe) public static var allocations = 0

    public init(count: Int) {
        precondition(count >= 0, "negative buffer size")
        FloatBuffer.allocations &+= 1
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        base.initialize(repeating: 0, count: max(count, 1))
    }

    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { base.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { UnsafeMutableRawPointer(base).deallocate() }

    public subscript(i: Int) -> Float {
        get { base[i] }
        set { base[i] = newValue }
    }

    public var array: [Float] { Array(UnsafeBufferPointer(start: base, count: count)) }
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: base, count: count) }
}

/// A row-major float32 matrix view: `rows × cols` with row stride `stride` (≥ cols).
/// Views share storage with the buffer they came from; `owner` keeps that storage alive.
public struct Matrix: @unchecked Sendable {
    public let rows: Int
    public let cols: Int
    public let stride: Int
    public let base: UnsafeMutablePointer<Float>
    public let owner: FloatBuffer?

    /// A new zero-filled contiguous matrix.
    public init(rows: Int, cols: Int) {
        let storage = FloatBuffer(count: rows * cols)
        self.init(rows: rows, cols: cols, stride: cols, base: storage.base, owner: storage)
    }

    /// A new contiguous matrix holding `values` in row-major order.
    public init(rows: Int, cols: Int, values: [Float]) {
        precondition(values.count == rows * cols, "Matrix(rows:cols:values:) needs rows*cols values")
        let storage = FloatBuffer(values)
        self.init(rows: rows, cols: cols, stride: cols, base: storage.base, owner: storage)
    }

    /// A view of `rows × cols` floats of `buffer` starting at `offset`.
    public init(_ buffer: FloatBuffer, offset: Int = 0, rows: Int, cols: Int) {
        precondition(offset + rows * cols <= buffer.count, "view exceeds its buffer")
        self.init(rows: rows, cols: cols, stride: cols, base: buffer.base + offset, owner: buffer)
    }

    public init(rows: Int, cols: Int, stride: Int, base: UnsafeMutablePointer<Float>, owner: FloatBuffer?) {
        self.rows = rows
        self.cols = cols
        self.stride = stride
        self.base = base
        self.owner = owner
    }

    public var count: Int { rows * cols }
    public var isContiguous: Bool { stride == cols || rows <= 1 }

    public subscript(i: Int, j: Int) -> Float {
        get { base[i * stride + j] }
        nonmutating set { base[i * stride + j] = newValue }
    }

    public func row(_ i: Int) -> UnsafeMutablePointer<Float> { base + i * stride }

    /// Rows `range` as a view (no copy).
    public func rows(_ range: Range<Int>) -> Matrix {
        Matrix(rows: range.count, cols: cols, stride: stride, base: base + range.lowerBound * stride, owner: owner)
    }

    /// Columns `range` as a strided view (no copy).
    public func columns(_ range: Range<Int>) -> Matrix {
        Matrix(rows: rows, cols: range.count, stride: stride, base: base + range.lowerBound, owner: owner)
    }

    public func fill(_ value: Float) {
        for i in 0..<rows { row(i).update(repeating: value, count: cols) }
    }

    public func copy(from other: Matrix) {
        precondition(other.rows == rows && other.cols == cols, "copy between different shapes")
        for i in 0..<rows { row(i).update(from: other.row(i), count: cols) }
    }

    /// A contiguous copy with its own storage.
    public func copied() -> Matrix {
        let m = Matrix(rows: rows, cols: cols)
        m.copy(from: self)
        return m
    }

    /// Row-major values.
    public var array: [Float] {
        var out = [Float](); out.reserveCapacity(count)
        for i in 0..<rows { out.append(contentsOf: UnsafeBufferPointer(start: row(i), count: cols)) }
        return out
    }

    /// Rows `indices` gathered into `destination` (which must be `indices.count × cols`).
    public func gatherRows(_ indices: [Int], into destination: Matrix) {
        precondition(destination.rows == indices.count && destination.cols == cols, "gather shape")
        for (k, i) in indices.enumerated() { destination.row(k).update(from: row(i), count: cols) }
    }
}
