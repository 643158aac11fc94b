import Foundation
import Linalg

/// What this machine, in this build, does per second: `gemm` FLOP/s by shape class, the fixed
/// cost of one `gemm` call, and the rates of the three kinds of non-GEMM work the lens does
/// (plain Swift loops, `Vec.dot` reductions, memmove/memset). Measured once per process by
/// `RunCostModel.calibrate()`; the cost model divides its counts by these.
///
///     let rate = RunCostModel.calibrated
///     print(rate)   // gemm 61/38/17 GFLOP/s (large/skinny/small), 1.2 µs/call, …
public struct GEMMRate: Sendable, CustomStringConvertible {
    /// How fast a product runs depends mostly on its size and its thinnest side: products
    /// below `serialFlops` run on one thread (Sources/Linalg/GEMM.swift, `Threading`), and a side
    /// under `skinnySide` leaves oneDNN's blocking too little reuse to reach peak.
    public enum ShapeClass: String, Sendable, CaseIterable { case large, skinny, small }

    /// FLOP/s (2·m·n·k per product) of each class.
    public var large: Double
    public var skinny: Double
    public var small: Double
    /// Seconds of one `gemm` call beyond its FLOPs (dispatch, thread-count switch).
    public var secondsPerCall: Double
    /// Further seconds of a call that runs on both threads (large and skinny classes): the
    /// OpenMP fork and barrier. Near 10 µs on a quiet machine; when other processes hold a core,
    /// the barrier waits for the scheduler and this grows to milliseconds (GEMM.swift, Threading),
    /// which then dominates the lens's many mid-sized products.
    public var parallelCallSeconds: Double
    /// Element operations per second of a plain Swift loop over float pointers (`o[j] += g[j]·h[j]`),
    /// the shape of the activation, bias and Hadamard loops. Debug builds run these 10–50×
    /// slower than release, which is why the calibration runs in the same build as the run.
    public var elementwisePerSecond: Double
    /// Floats per second through explicit SIMD8 code, measured on `Vec.sumSquares`. Debug builds
    /// run SIMD8 types as unspecialized generic code, several times slower than scalar loops.
    public var simdPerSecond: Double
    /// Floats per second moved by memmove / zero-filled allocation (row gathers, workspaces).
    public var copiedPerSecond: Double

    public init(large: Double, skinny: Double, small: Double, secondsPerCall: Double, parallelCallSeconds: Double = 0,
                elementwisePerSecond: Double, simdPerSecond: Double, copiedPerSecond: Double) {
        self.large = large; self.skinny = skinny; self.small = small
        self.secondsPerCall = secondsPerCall; self.parallelCallSeconds = parallelCallSeconds
        self.elementwisePerSecond = elementwisePerSecond; self.simdPerSecond = simdPerSecond
        self.copiedPerSecond = copiedPerSecond
    }

    /// Fixed rates of the machine tlens is developed on (2 cores, AVX2, release build), for
    /// decisions that must not depend on the machine or its load: the defaults a config
    /// resolves to (RunDefaults). Estimates shown to a user use `RunCostModel.calibrated`.
    public static let reference = GEMMRate(large: 150e9, skinny: 120e9, small: 60e9, secondsPerCall: 0.5e-6,
                                           parallelCallSeconds: 15e-6, elementwisePerSecond: 2e9,
                                           simdPerSecond: 8e9, copiedPerSecond: 10e9)

    /// Linalg's serial threshold (TLENS_GEMM_SERIAL_FLOPS overrides it there, and here).
    public static let serialFlops: Double = {
        if let text = ProcessInfo.processInfo.environment["TLENS_GEMM_SERIAL_FLOPS"], let v = Double(text) { return v }
        return 1e7
    }()
    public static let skinnySide = 128

    /// The class of `C(m×n) = A(m×k)·B(k×n)`.
    public static func shapeClass(m: Int, n: Int, k: Int) -> ShapeClass {
        let flops = 2 * Double(m) * Double(n) * Double(k)
        if flops < serialFlops { return .small }
        return min(m, n, k) < skinnySide ? .skinny : .large
    }

    public func flopsPerSecond(_ c: ShapeClass) -> Double {
        switch c {
        case .large: return large
        case .skinny: return skinny
        case .small: return small
        }
    }

    public var description: String {
        let g = { (x: Double) in String(format: "%.1f", x / 1e9) }
        return "gemm \(g(large))/\(g(skinny))/\(g(small)) GFLOP/s (large/skinny/small), "
            + String(format: "%.2f µs/call (+%.0f µs on two threads), loops %.0f M/s, simd %.0f M/s, copy %.0f M floats/s",
                     secondsPerCall * 1e6, parallelCallSeconds * 1e6, elementwisePerSecond / 1e6, simdPerSecond / 1e6, copiedPerSecond / 1e6)
    }
}

extension RunCostModel {
    /// This machine's rates, measured on first use and kept for the process.
    public static let calibrated: GEMMRate = calibrate()

    /// Times `gemm` on three shapes, one per `GEMMRate.ShapeClass` — a square 512³ (large), a
    /// skinny (2000×64)·(64×512) (the lens's products against thin layers), and a batch-sized
    /// (100×64)·(64×256) that runs on one thread (the training step's) — plus one-row
    /// products (the call cost), a product just over the serial threshold (the two-thread call
    /// cost) and the three kinds of loop. Each is the median of a few runs after a warm-up: not
    /// the best, because a run on a loaded machine sees the load, and not the mean, because on a
    /// shared machine one burst of another process can stall a two-thread product for a
    /// scheduler slice (~8 ms) and would alone decide a mean of three. About 50 ms on a quiet
    /// machine, up to ~150 ms on a loaded one.
    public static func calibrate() -> GEMMRate {
        var rng = RandomSource(seed: 7, stream: .other)
        func filled(_ rows: Int, _ cols: Int) -> Matrix {
            let m = Matrix(rows: rows, cols: cols)
            for i in 0..<m.count { m.base[i] = Float(rng.normal()) }
            return m
        }
        func seconds(_ m: Int, _ n: Int, _ k: Int, repetitions: Int) -> Double {
            let a = filled(m, k), b = filled(k, n), c = Matrix(rows: m, cols: n)
            return median(repetitions) { gemm(a, b, into: c) }
        }
        // Two-thread products cost a fixed fork/barrier time plus their FLOPs: with the square
        // and a product just over the serial threshold (2·160·128·256 ≈ 1.05e7 FLOPs) both
        // measured, t = fixed + FLOPs/rate separates the two (the fixed part is milliseconds
        // when another process holds the second core, and would otherwise be counted twice).
        let flopsLarge = 2.0 * 512 * 512 * 512, flopsThreshold = 2.0 * 160 * 128 * 256, flopsSkinny = 2.0 * 2000 * 512 * 64
        let tLarge = seconds(512, 512, 512, repetitions: 3)
        let tThreshold = seconds(160, 128, 256, repetitions: 8)
        let tSkinny = seconds(2000, 512, 64, repetitions: 3)
        let small = 2.0 * 100 * 256 * 64 / seconds(100, 256, 64, repetitions: 10)
        var large = flopsLarge / tLarge, parallel = 0.0
        if tLarge > tThreshold {
            let r = (flopsLarge - flopsThreshold) / (tLarge - tThreshold)
            parallel = max(tThreshold - flopsThreshold / r, 0)
            if tLarge - parallel > 0 { large = flopsLarge / (tLarge - parallel) }
        }
        let skinny = flopsSkinny / max(tSkinny - parallel, tSkinny / 10)

        // One-row products (1×64)·(64×64), the per-point passes of explicit Jacobian rows: what
        // they take beyond their FLOPs at the small rate is the call cost.
        let row = filled(1, 64), square = filled(64, 64), out = Matrix(rows: 1, cols: 64)
        let calls = 200
        let perRow = median(3) { for _ in 0..<calls { gemm(row, square, into: out) } } / Double(calls)
        let perCall = max(perRow - 2 * 64 * 64 / small, 0)

        // The loops the lens runs outside GEMMs, in the form they take there.
        let count = 1 << 18
        let x = filled(1, count), y = filled(1, count), z = Matrix(rows: 1, cols: count)
        let loop = median(3) {
            let o = z.base, g = x.base, h = y.base, β: Float = 1
            for j in 0..<count { o[j] += g[j] * (h[j] + β) }
        }
        var sink = 0.0
        let dot = median(3) { sink += Vec.sumSquares(count, x.base) }
        let copy = median(3) { z.base.update(from: x.base, count: count) }
        if sink.isNaN { print("") }   // keeps the reduction from being optimized away
        return GEMMRate(large: large, skinny: skinny, small: small, secondsPerCall: perCall, parallelCallSeconds: parallel,
                        elementwisePerSecond: Double(count) / loop, simdPerSecond: Double(count) / dot,
                        copiedPerSecond: Double(count) / copy)
    }

    /// Median wall time of `repetitions` runs of `body`, in seconds, after one warm-up run.
    static func median(_ repetitions: Int, _ body: () -> Void) -> Double {
        body()
        var times: [Double] = []
        for _ in 0..<max(repetitions, 1) {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        times.sort()
        let mid = times.count / 2
        return max(times.count % 2 == 1 ? times[mid] : (times[mid - 1] + times[mid]) / 2, 1e-9)
    }
}
