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
    /// Σ x_i y_i, accumulated in Double: reductions over hundreds of thousands of parameters
    /// would otherwise lose the digits the finite-difference tests compare.
    @inlinable public static func dot(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Double {
        var s0 = 0.0, s1 = 0.0
        var i = 0
        while i + 1 < n { s0 += Double(x[i] * y[i]); s1 += Double(x[i + 1] * y[i + 1]); i += 2 }
        if i < n { s0 += Double(x[i] * y[i]) }
        return s0 + s1
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
