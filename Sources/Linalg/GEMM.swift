import CDNNL
#if canImport(Glibc)
import Glibc
#endif

/// OpenMP's team size for the next product. A parallel region's barrier waits for both cores;
/// when another process holds one of these 2 cores, small products spend most of their time
/// there (a 200-step probe run took 27 s instead of 5 s), so products below `serialFlops` run on
/// the calling thread alone. On a quiet machine the threshold measured neutral. The symbols come
/// from the OpenMP runtime oneDNN already loads; without one, nothing changes.
enum Threading {
    typealias SetThreads = @convention(c) (Int32) -> Void
    typealias GetThreads = @convention(c) () -> Int32
    static let setThreads: SetThreads? = symbol("omp_set_num_threads")
    /// The team size of products above `serialFlops`: OpenMP's default, or what a run fixed.
    nonisolated(unsafe) static var maximum: Int32 = machine
    static let machine: Int32 = symbol("omp_get_max_threads").map { ($0 as GetThreads)() } ?? 1
    nonisolated(unsafe) static var current: Int32 = machine
    /// 2·m·n·k below which a product runs on one thread (TLENS_GEMM_SERIAL_FLOPS overrides).
    static let serialFlops: Double = {
        if let text = getenv("TLENS_GEMM_SERIAL_FLOPS"), let value = Double(String(cString: text)) { return value }
        return 1e7
    }()

    static func symbol<T>(_ name: String) -> T? {
        #if canImport(Glibc)
        guard let address = dlsym(nil, name) else { return nil }
        return unsafeBitCast(address, to: T.self)
        #else
        return nil
        #endif
    }

    @inline(__always) static func use(threads: Int32) {
        guard threads != current, let setThreads else { return }
        setThreads(threads)
        current = threads
    }
}

/// What a run's numbers depend on besides its config (stored with every run, checked by
/// `tlens reproduce`): the GEMM backend and its version, and OpenMP's thread count.
public enum ComputeEnvironment {
    /// The threads products above the serial threshold use: OpenMP's default until a run fixes it.
    public static var threads: Int { Int(Threading.maximum) }
    /// OpenMP's default for this process (`OMP_NUM_THREADS`, else the cores): a config's default.
    public static var machineThreads: Int { Int(Threading.machine) }

    /// Fixes the team size of every later product (a run's `threads`, so that its results do
    /// not depend on the machine or on how it was scheduled).
    public static func use(threads: Int) {
        let n = Int32(clamping: max(threads, 1))
        guard n != Threading.maximum else { return }
        Threading.maximum = n
        if Threading.current != 1 { Threading.use(threads: n) }
    }
    public static var gemm: String {
        guard let v = dnnl_version()?.pointee else { return "oneDNN" }
        return "oneDNN \(v.major).\(v.minor).\(v.patch)"
    }
}

/// Floating-point operations executed by `gemm`, counted as 2·m·n·k per product, so benchmarks
/// report achieved GFLOP/s from what actually ran rather than from a formula.
public enum GEMMCounter {
    nonisolated(unsafe) public static var flops: Double = 0
}

/// `C ← α·op(A)·op(B) + β·C`, every matrix product in tlens goes through here (by design:
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
    let flops = 2 * Double(m) * Double(n) * Double(k)
    GEMMCounter.flops += flops
    Threading.use(threads: flops < Threading.serialFlops ? 1 : Threading.maximum)
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
