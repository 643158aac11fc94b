#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The shape of the learning rate after warm-up.
public enum ScheduleSpec: Sendable, Equatable, Codable {
    /// γ_t = γ_0.
    case constant
    /// γ_t = γ_0 · factor^⌊(s−1)/every⌋, `s` counting steps after warm-up from 1.
    case step(every: Int, factor: Float)
    /// γ_t = floor + (γ_0 − floor)·½(1 + cos(π·min(s−1, S)/S)) with `S = totalSteps − warmupSteps`:
    /// γ_0 at the first post-warm-up step, `floor` (an absolute rate) after `S` more steps.
    case cosine(floor: Float)
}

/// γ_t for a 1-based step `t`: linear warm-up `min(1, t/warmupSteps)` multiplying the schedule
/// evaluated at `s = max(t − warmupSteps, 1)`. Warm-up composes with every `ScheduleSpec`.
///
///     let γ = LearningRateSchedule(base: 0.1, shape: .cosine(floor: 0), warmupSteps: 10, totalSteps: 1000)
///     γ.rate(step: 5)    // 0.05
public struct LearningRateSchedule: Sendable, Equatable {
    public var base: Double
    public var shape: ScheduleSpec
    public var warmupSteps: Int
    public var totalSteps: Int

    public init(base: Double, shape: ScheduleSpec = .constant, warmupSteps: Int = 0, totalSteps: Int = 0) {
        self.base = base; self.shape = shape; self.warmupSteps = warmupSteps; self.totalSteps = totalSteps
    }

    /// γ_t as the optimizer applies it (float32).
    public func rate(step t: Int) -> Float { Float(exactRate(step: t)) }

    /// γ_t in double precision from the configured base, what runs record as `lr`.
    public func exactRate(step t: Int) -> Double {
        let warm: Double = warmupSteps > 0 && t < warmupSteps ? Double(max(t, 0)) / Double(warmupSteps) : 1
        let s = max(t - warmupSteps, 1)
        let γ0 = Double(base)
        let main: Double
        switch shape {
        case .constant:
            main = γ0
        case .step(let every, let factor):
            main = γ0 * pow(Double(factor), Double((s - 1) / max(every, 1)))
        case .cosine(let floor):
            let span = max(totalSteps - warmupSteps, 1)
            let progress = Double(min(s - 1, span)) / Double(span)
            main = Double(floor) + (γ0 - Double(floor)) * 0.5 * (1 + cos(Double.pi * progress))
        }
        return warm * main
    }
}
