import Linalg
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// `tlens bench train`: the training engine's hot paths against this machine's own sgemm,
/// measured in the same run. Only ratios taken in one run are reported: absolute times on a
/// shared machine move from run to run, and figures from another machine compare nothing.
public enum TrainBenchmark {
    public struct Measurement: Codable, Sendable {
        /// Best wall time per call over the interleaved rounds, after warm-up.
        public var milliseconds: Double
        /// 2·m·n·k summed over the GEMMs one repetition executed (GEMMCounter).
        public var flops: Double
        public var gflops: Double
        /// `gflops` over the sgemm rate of the same run.
        public var fractionOfSgemm: Double
    }

    public struct Result: Codable, Sendable {
        public var widths: [Int]
        public var activation: String
        public var batchSize: Int
        public var evaluationPoints: Int
        public var sgemmSize: Int
        public var sgemm: Measurement
        /// forward + loss gradient + VJP + optimizer update, batch `batchSize`.
        public var sgdStep: Measurement
        /// fused forward+JVP over `evaluationPoints` points.
        public var forwardJVP: Measurement
        /// Diagnostic: the same GEMMs as `forwardJVP` without the element-wise work, so
        /// `forwardJVP.milliseconds − forwardJVPProductsOnly.milliseconds` is the non-GEMM overhead.
        public var forwardJVPProductsOnly: Measurement
        /// OpenMP settings oneDNN ran under. On a shared, oversubscribed machine
        /// `OMP_WAIT_POLICY=passive` keeps idle GEMM threads from spinning against the
        /// single-threaded element-wise passes and changes the figures markedly.
        public var environment: String
    }

    /// Runs the benchmark. Build with `-c release`; debug builds measure the debugger, not the code.
    public static func run(widths: [Int] = [64, 512, 512, 1], batchSize: Int = 128, evaluationPoints: Int = 2000,
                           sgemmSize: Int = 2048, rounds: Int = 15) throws -> Result {
        // sgemm reference: C = A·B, square.
        let n = sgemmSize
        var rng = RandomSource(seed: 0, stream: .other)
        let a = filled(n, n, &rng), b = filled(n, n, &rng), c = Matrix(rows: n, cols: n)

        let spec = MLPSpec(inputDimension: widths[0], hidden: Array(widths.dropFirst().dropLast()),
                           outputDimension: widths.last!, activation: .relu)
        let net = MLP(spec)
        let θ = FloatBuffer(net.initialParameters(seed: 0))
        let P = net.parameterCount
        let direction = FloatBuffer((0..<P).map { _ in Float(1e-3 * rng.normal()) })
        // The real training step, on a training set of one batch (each step a fresh order of it).
        let xb = filled(batchSize, spec.inputDimension, &rng)
        let yb = filled(batchSize, spec.outputDimension, &rng)
        let learner = try MLPLearner(model: MLP(spec), loss: .mse, optimizer: OptimizerSpec(kind: .sgd, lr: 0.01),
                                     trainX: xb, trainY: yb, batchSize: batchSize, seed: 0)
        let xe = filled(evaluationPoints, spec.inputDimension, &rng)

        // Interleaved rounds, best of each: on a shared machine the load moves during the run,
        // and interleaving keeps the three measurements under the same conditions.
        let timings = measureInterleaved(rounds: rounds, warmup: 2, [
            (1, { gemm(a, b, into: c) }),
            (8, { _ = learner.step() }),
            (1, { _ = net.jvp(xe, parameters: θ.base, direction: direction.base) }),
            (1, { net.forwardJVPProductsOnly(xe, parameters: θ.base, direction: direction.base) }),
        ])
        let sgemm = timings[0], step = timings[1], jvp = timings[2], products = timings[3]

        func report(_ m: (seconds: Double, flops: Double), reference: Double) -> Measurement {
            let g = m.flops / m.seconds / 1e9
            return Measurement(milliseconds: m.seconds * 1e3, flops: m.flops, gflops: g, fractionOfSgemm: reference > 0 ? g / reference : 0)
        }
        let sgemmRate = sgemm.flops / sgemm.seconds / 1e9
        let stepM = report(step, reference: sgemmRate), jvpM = report(jvp, reference: sgemmRate)
        return Result(widths: widths, activation: spec.activation.name, batchSize: batchSize,
                      evaluationPoints: evaluationPoints, sgemmSize: n,
                      sgemm: report(sgemm, reference: sgemmRate), sgdStep: stepM, forwardJVP: jvpM,
                      forwardJVPProductsOnly: report(products, reference: sgemmRate),
                      environment: openMPEnvironment())
    }

    private static func openMPEnvironment() -> String {
        let names: [String] = ["OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT"]
        return names.map { (name: String) -> String in
            "\(name)=" + (getenv(name).map { String(cString: $0) } ?? "(unset)")
        }.joined(separator: " ")
    }

    private static func filled(_ rows: Int, _ cols: Int, _ rng: inout RandomSource) -> Matrix {
        let m = Matrix(rows: rows, cols: cols)
        for i in 0..<(rows * cols) { m.base[i] = Float(rng.normal()) }
        return m
    }

    /// For each body, the best seconds per call over `rounds` interleaved rounds (each round calls
    /// body k `inner_k` times in a row) after `warmup` rounds, and the GEMM flops of one call.
    private static func measureInterleaved(rounds: Int, warmup: Int,
                                           _ bodies: [(inner: Int, body: () -> Void)]) -> [(seconds: Double, flops: Double)] {
        let clock = ContinuousClock()
        var best = [Double](repeating: .infinity, count: bodies.count)
        var flops = [Double](repeating: 0, count: bodies.count)
        for round in 0..<(warmup + max(rounds, 1)) {
            for (k, entry) in bodies.enumerated() {
                for _ in 0..<entry.inner {
                    let before = GEMMCounter.flops
                    let elapsed = clock.measure { entry.body() }
                    if round < warmup { continue }
                    flops[k] = GEMMCounter.flops - before
                    let (s, atto) = elapsed.components
                    best[k] = min(best[k], Double(s) + Double(atto) * 1e-18)
                }
            }
        }
        return zip(best, flops).map { ($0, $1) }
    }
}
