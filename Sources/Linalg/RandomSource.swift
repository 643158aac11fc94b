/// The one seeded generator of tlens: PCG-XSH-RR 64/32 (O'Neill 2014) with a stream selector, so
/// initialization, data order, label noise and splits each draw from their own stream of the
/// same seed and never perturb one another. Same seed, same stream: same numbers, on any machine.
public struct RandomSource: Sendable {
    private var state: UInt64
    private let increment: UInt64
    private var spareNormal: Double?

    /// Named streams keep unrelated consumers of one seed independent.
    public enum Stream: UInt64, Sendable {
        case initialization = 1, dataOrder, labelNoise, split, generator, probes, evaluation, other
        /// The rows each boosting round fits (lens.md §9, S_t).
        case subsample
    }

    public init(seed: UInt64, stream: UInt64 = 0) {
        state = 0
        increment = (stream << 1) | 1
        _ = nextUInt32()
        state &+= seed
        _ = nextUInt32()
    }

    public init(seed: UInt64, stream: Stream) { self.init(seed: seed, stream: stream.rawValue) }

    /// The generator's whole state, for checkpoints: a restored generator continues the same
    /// sequence (lens.md §11). `spareNormal` is the second Box–Muller value not yet handed out.
    public var snapshot: (state: UInt64, increment: UInt64, spareNormal: Double?) { (state, increment, spareNormal) }

    public init(snapshot: (state: UInt64, increment: UInt64, spareNormal: Double?)) {
        state = snapshot.state
        increment = snapshot.increment
        spareNormal = snapshot.spareNormal
    }

    public mutating func nextUInt32() -> UInt32 {
        let old = state
        state = old &* 6364136223846793005 &+ increment
        let xorShifted = UInt32(truncatingIfNeeded: ((old >> 18) ^ old) >> 27)
        let rotation = UInt32(truncatingIfNeeded: old >> 59)
        return (xorShifted >> rotation) | (xorShifted << ((~rotation &+ 1) & 31))
    }

    public mutating func nextUInt64() -> UInt64 {
        (UInt64(nextUInt32()) << 32) | UInt64(nextUInt32())
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double {
        Double(nextUInt64() >> 11) * 0x1.0p-53
    }

    /// Uniform integer in 0..<bound, without modulo bias (Lemire's method).
    public mutating func integer(below bound: Int) -> Int {
        precondition(bound > 0, "integer(below:) needs a positive bound")
        let b = UInt64(bound)
        var x = nextUInt64()
        var m = x.multipliedFullWidth(by: b)
        if m.low < b {
            let threshold = (0 &- b) % b
            while m.low < threshold {
                x = nextUInt64()
                m = x.multipliedFullWidth(by: b)
            }
        }
        return Int(m.high)
    }

    /// Uniform in 0..<n, or 0 when n ≤ 1 (so an empty or one-element range needs no guard).
    public mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : integer(below: n) }

    /// A uniformly chosen element of a non-empty array.
    public mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// Standard normal by the polar Box–Muller method (deterministic given the stream).
    public mutating func normal() -> Double {
        if let s = spareNormal { spareNormal = nil; return s }
        while true {
            let u = 2 * uniform() - 1, v = 2 * uniform() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 {
                let f = (-2 * _log(s) / s).squareRoot()
                spareNormal = v * f
                return u * f
            }
        }
    }

    /// ±1 with equal probability (Rademacher probes, lens.md §8).
    public mutating func rademacher() -> Float { (nextUInt32() & 1) == 0 ? -1 : 1 }

    /// Fisher–Yates shuffle.
    public mutating func shuffle<T>(_ a: inout [T]) {
        if a.count < 2 { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            a.swapAt(i, integer(below: i + 1))
        }
    }

    /// A random permutation of 0..<n.
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        shuffle(&p)
        return p
    }
}

@inline(__always) private func _log(_ x: Double) -> Double {
    // Foundation-free natural log so Linalg stays dependency-light.
    return Double.log(x)
}

extension Double {
    @inline(__always) static func log(_ x: Double) -> Double {
        #if canImport(Glibc)
        return Glibc.log(x)
        #else
        return Darwin.log(x)
        #endif
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
