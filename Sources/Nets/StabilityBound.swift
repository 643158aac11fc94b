/// How large the smoother's stability number `γ_t · λ_max(H_B^½ K^P_t(B,B) H_B^½)/b_t`
/// (lens.md (8.16)) may grow before the optimizer's linear rule, its data-dependent factors
/// frozen at step t's values, stops contracting (lens.md (8.17)–(8.22)). Each optimizer reports
/// its own: 2 for plain gradient descent (8.18), 2(1+μ)/(1−τ) for heavy-ball momentum (8.19),
/// 2(1+μ)/(1+μ(2−τ)) for Nesterov (8.20), (1+β₁)(2−γλ_d)/(1−β₁) for Adam and AdamW (8.21);
/// coupled L2 and clipping move it as (8.22) says.
///
///     let bound = optimizer.stabilityBound(step: t)
///     if stability > bound.value { print("past \(bound.value), the bound of \(bound.rule)") }
public struct StabilityBound: Sendable, Equatable {
    /// The largest stable stability number: +∞ when no gradient reaches the rule (dampening 1,
    /// a zero clipping factor), ≤ 0 when the decay alone is unstable.
    public let value: Double
    /// The optimizer and the formula, for messages:
    /// "SGD with heavy-ball momentum (μ = 0.9, τ = 0.0), 2(1+μ)/(1−τ)".
    public let rule: String

    public init(value: Double, rule: String) {
        self.value = value
        self.rule = rule
    }

    /// lens.md (8.22): the frozen rule contracts while `γ_t a < raw`, with `a = c_t λ + shift` the
    /// top eigenvalue of the operator a step multiplies — the clipped Gauss–Newton part `c_t λ`
    /// plus what coupled L2 adds — so on the stability number `γ_t λ` the bound is
    /// `(raw − γ_t·shift)/c_t`.
    static func frozen(_ rule: String, raw: Double, learningRate γ: Double, shift: Double = 0,
                       shiftName: String = "λ", clipFactor c: Float) -> StabilityBound {
        var value = raw, rule = rule
        if shift > 0 {
            value -= γ * shift
            rule += ", less γ·\(shiftName) for coupled L2"
        }
        if c < 1 {
            value = c > 0 ? value / Double(c) : .infinity
            rule += ", over the clipping factor \(c)"
        }
        return StabilityBound(value: value, rule: rule)
    }
}
