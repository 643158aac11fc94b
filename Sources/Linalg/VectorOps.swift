/// Element-wise kernels over contiguous float32 buffers. Loops are plain so the optimizer
/// vectorizes them; nothing here allocates.
public enum Vec {
    /// y ← y + a·x
    @inlinable public static func axpy(_ n: Int, _ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        for i in 0..<n { y[i] += a * x[i] }
    }
    /// x ← a·x
    @inlinable public static func scale(_ n: Int, _ a: Float, _ x: UnsafeMutablePointer<Float>) {
        for i in 0..<n { x[i] *= a }
    }
    /// z ← x ⊙ y
    @inlinable public static func hadamard(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>) {
        for i in 0..<n { z[i] = x[i] * y[i] }
    }
    /// Σ x_i y_i. Eight float lanes accumulate blocks of at most 512 products, and each block is
    /// added in Double: SIMD speed, while reductions over hundreds of thousands of parameters keep
    /// the digits the finite-difference tests compare.
    @inlinable public static func dot(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Double {
        var total = 0.0
        var i = 0
        while i + 8 <= n {
            var lanes = SIMD8<Float>()
            let end = Swift.min(n, i + 512)
            while i + 8 <= end {
                let a = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
                let b = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
                lanes += a * b
                i += 8
            }
            total += Double(lanes.sum())
        }
        while i < n { total += Double(x[i]) * Double(y[i]); i += 1 }
        return total
    }
    @inlinable public static func sumSquares(_ n: Int, _ x: UnsafePointer<Float>) -> Double { dot(n, x, x) }
    @inlinable public static func norm(_ n: Int, _ x: UnsafePointer<Float>) -> Double { sumSquares(n, x).squareRoot() }
    @inlinable public static func sum(_ n: Int, _ x: UnsafePointer<Float>) -> Double {
        var s = 0.0
        for i in 0..<n { s += Double(x[i]) }
        return s
    }
    @inlinable public static func copy(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        y.update(from: x, count: n)
    }
    @inlinable public static func zero(_ n: Int, _ x: UnsafeMutablePointer<Float>) {
        x.update(repeating: 0, count: n)
    }
}
