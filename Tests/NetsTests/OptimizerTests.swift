import XCTest
import Foundation
import Linalg
@testable import Nets

/// The first three steps of each optimizer against the published update equations (PyTorch's
/// documentation of SGD, Adam, AdamW and clip_grad_norm_), written out by hand in Float64.
final class OptimizerTests: XCTestCase {
    let θ0: [Double] = [0.5, -1.0, 2.0]
    let grads: [[Double]] = [[0.1, -0.2, 0.3], [-0.4, 0.5, 0.05], [0.2, 0.2, -0.6]]

    /// Runs three real steps, applying θ ← θ + Δθ, and returns the Δθ of each.
    func run(_ spec: OptimizerSpec) throws -> [[Double]] {
        let opt = try spec.makeOptimizer(parameterCount: 3)
        var θ = θ0.map(Float.init)
        var out: [[Double]] = []
        for t in 1...3 {
            let g = grads[t - 1].map(Float.init)
            var u = [Float](repeating: .nan, count: 3)
            opt.proposeUpdate(parameters: θ, gradient: g, update: &u, step: t)
            out.append(u.map(Double.init))
            for i in 0..<3 { θ[i] += u[i] }
        }
        return out
    }

    func assertClose(_ a: [[Double]], _ b: [[Double]], _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        for t in 0..<3 {
            for i in 0..<3 {
                XCTAssertEqual(a[t][i], b[t][i], accuracy: 1e-6 * max(1, abs(b[t][i])), "\(message) step \(t + 1) [\(i)]",
                               file: file, line: line)
            }
        }
    }

    func testPlainSGD() throws {
        let expected = grads.map { $0.map { -0.1 * $0 } }
        assertClose(try run(OptimizerSpec(kind: .sgd, lr: 0.1)), expected, "sgd")
    }

    func testSGDMomentumWithDampening() throws {
        let γ = 0.1, μ = 0.9, τ = 0.2
        var b = grads[0]                                     // first step: buf = g
        var expected = [b.map { -γ * $0 }]
        for t in 1..<3 {
            b = (0..<3).map { μ * b[$0] + (1 - τ) * grads[t][$0] }
            expected.append(b.map { -γ * $0 })
        }
        assertClose(try run(OptimizerSpec(kind: .sgd, lr: 0.1, momentum: 0.9, dampening: 0.2)), expected, "momentum")
    }

    func testSGDNesterov() throws {
        let γ = 0.05, μ = 0.8
        var b = [0.0, 0, 0]
        var expected: [[Double]] = []
        for t in 0..<3 {
            b = t == 0 ? grads[0] : (0..<3).map { μ * b[$0] + grads[t][$0] }
            expected.append((0..<3).map { -γ * (grads[t][$0] + μ * b[$0]) })
        }
        assertClose(try run(OptimizerSpec(kind: .sgd, lr: 0.05, momentum: 0.8, nesterov: true)), expected, "nesterov")
    }

    func testSGDCoupledL2() throws {
        let γ = 0.1, λ = 0.5
        var θ = θ0
        var expected: [[Double]] = []
        for t in 0..<3 {
            let u = (0..<3).map { -γ * (grads[t][$0] + λ * θ[$0]) }
            expected.append(u)
            θ = (0..<3).map { θ[$0] + u[$0] }
        }
        assertClose(try run(OptimizerSpec(kind: .sgd, lr: 0.1, weightDecay: 0.5)), expected, "sgd+L2")
    }

    func adamExpected(γ: Double, β1: Double, β2: Double, ε: Double, λ: Double, decoupled: Bool) -> [[Double]] {
        var θ = θ0, m = [0.0, 0, 0], v = [0.0, 0, 0]
        var expected: [[Double]] = []
        for t in 1...3 {
            let g = (0..<3).map { grads[t - 1][$0] + (decoupled ? 0 : λ * θ[$0]) }
            m = (0..<3).map { β1 * m[$0] + (1 - β1) * g[$0] }
            v = (0..<3).map { β2 * v[$0] + (1 - β2) * g[$0] * g[$0] }
            let mHat = m.map { $0 / (1 - pow(β1, Double(t))) }
            let vHat = v.map { $0 / (1 - pow(β2, Double(t))) }
            let u = (0..<3).map { -γ * (mHat[$0] / (vHat[$0].squareRoot() + ε) + (decoupled ? λ * θ[$0] : 0)) }
            expected.append(u)
            θ = (0..<3).map { θ[$0] + u[$0] }
        }
        return expected
    }

    func testAdamWithCoupledWeightDecay() throws {
        let spec = OptimizerSpec(kind: .adam, lr: 0.01, weightDecay: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-3)
        assertClose(try run(spec), adamExpected(γ: 0.01, β1: 0.9, β2: 0.99, ε: 1e-3, λ: 0.1, decoupled: false), "adam")
    }

    func testAdamWDecoupled() throws {
        let spec = OptimizerSpec(kind: .adamw, lr: 0.01, weightDecay: 0.2, beta1: 0.8, beta2: 0.95, eps: 1e-8)
        assertClose(try run(spec), adamExpected(γ: 0.01, β1: 0.8, β2: 0.95, ε: 1e-8, λ: 0.2, decoupled: true), "adamw")
    }

    func testAdamPreconditionerIsInverseRootOfCorrectedSecondMoment() throws {
        let opt = try OptimizerSpec(kind: .adam, lr: 0.01, beta2: 0.9, eps: 1e-4).makeOptimizer(parameterCount: 3)
        var u = [Float](repeating: 0, count: 3)
        opt.proposeUpdate(parameters: θ0.map(Float.init), gradient: grads[0].map(Float.init), update: &u, step: 1)
        // After one step v̂ = g², so P = 1/(|g| + ε).
        for i in 0..<3 { XCTAssertEqual(Double(opt.preconditioner![i]), 1 / (abs(grads[0][i]) + 1e-4), accuracy: 1e-2) }
        XCTAssertNil(try OptimizerSpec(kind: .sgd).makeOptimizer(parameterCount: 3).preconditioner)
    }

    func testGlobalNormClipping() throws {
        let γ = 0.1, maxNorm = 0.25
        let expected = grads.map { g -> [Double] in
            let norm = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let c = min(1, maxNorm / (norm + 1e-6))
            return g.map { -γ * c * $0 }
        }
        assertClose(try run(OptimizerSpec(kind: .sgd, lr: 0.1, clipNorm: 0.25)), expected, "clip")
    }

    func testWarmupAndStepSchedule() throws {
        // warm-up over 2 steps (γ/2, γ), then ×0.5 every step counted from the first post-warm-up
        // step: γ = 0.05, 0.1, 0.1 (and 0.05 at step 4, see testScheduleClosedForms).
        let spec = OptimizerSpec(kind: .sgd, lr: 0.1, schedule: .step(every: 1, factor: 0.5), warmupSteps: 2)
        XCTAssertEqual(spec.learningRateSchedule.rate(step: 4), 0.05)
        let rates = [0.05, 0.1, 0.1]
        let expected = (0..<3).map { t in grads[t].map { -rates[t] * $0 } }
        assertClose(try run(spec), expected, "warm-up + step")
    }

    func testScheduleClosedForms() {
        let cosine = LearningRateSchedule(base: 1, shape: .cosine(floor: 0.1), warmupSteps: 0, totalSteps: 10)
        XCTAssertEqual(cosine.rate(step: 1), 1, accuracy: 1e-6)
        XCTAssertEqual(cosine.rate(step: 6), Float(0.1 + 0.9 * 0.5 * (1 + cos(Double.pi * 0.5))), accuracy: 1e-6)
        XCTAssertEqual(cosine.rate(step: 11), 0.1, accuracy: 1e-6)
        XCTAssertEqual(cosine.rate(step: 50), 0.1, accuracy: 1e-6)
        let step = LearningRateSchedule(base: 0.8, shape: .step(every: 3, factor: 0.5))
        XCTAssertEqual([1, 3, 4, 7].map { step.rate(step: $0) }, [0.8, 0.8, 0.4, 0.2])
        let warm = LearningRateSchedule(base: 0.4, shape: .cosine(floor: 0), warmupSteps: 4, totalSteps: 8)
        XCTAssertEqual([1, 2, 4, 5, 8].map { warm.rate(step: $0) }[0..<3], [0.1, 0.2, 0.4])
        XCTAssertEqual(warm.rate(step: 6), Float(0.4 * 0.5 * (1 + cos(Double.pi * 0.25))), accuracy: 1e-6)
    }

    /// With ḡ = the real gradient and q = θ_{t-1}, the sensitivity rule is the real rule, so it must
    /// reproduce Δθ_t exactly (lens.md §8: same β, bias correction, clipping factor, P_t).
    func testSensitivityUpdateReplaysTheRealRule() throws {
        let specs = [
            OptimizerSpec(kind: .sgd, lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.3, clipNorm: 0.3),
            OptimizerSpec(kind: .sgd, lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.3),
            OptimizerSpec(kind: .sgd, lr: 0.1, weightDecay: 0.3),
            OptimizerSpec(kind: .adam, lr: 0.01, weightDecay: 0.1, clipNorm: 0.3),
            OptimizerSpec(kind: .adamw, lr: 0.01, weightDecay: 0.1, schedule: .cosine(floor: 0), totalSteps: 5),
        ]
        for spec in specs {
            let opt = try spec.makeOptimizer(parameterCount: 3)
            var θ = θ0.map(Float.init)
            let state = FloatBuffer(count: opt.sensitivityStateCount)   // ≥ 1 float allocated even when empty
            for t in 1...3 {
                let g = grads[t - 1].map(Float.init)
                var u = [Float](repeating: 0, count: 3), du = [Float](repeating: 0, count: 3)
                opt.proposeUpdate(parameters: θ, gradient: g, update: &u, step: t)
                opt.sensitivityUpdate(gradient: g, sensitivity: θ, state: state.base, update: &du, step: t)
                for i in 0..<3 { XCTAssertEqual(du[i], u[i], accuracy: 1e-7, "\(spec.kind) step \(t)") }
                for i in 0..<3 { θ[i] += u[i] }
            }
        }
    }

    func testStateExportImportResumesBitIdentically() throws {
        for spec in [OptimizerSpec(kind: .sgd, lr: 0.1, momentum: 0.9), OptimizerSpec(kind: .adamw, lr: 0.01, weightDecay: 0.1)] {
            let a = try spec.makeOptimizer(parameterCount: 3)
            var θ = θ0.map(Float.init)
            var u = [Float](repeating: 0, count: 3)
            a.proposeUpdate(parameters: θ, gradient: grads[0].map(Float.init), update: &u, step: 1)
            for i in 0..<3 { θ[i] += u[i] }
            let b = try spec.makeOptimizer(parameterCount: 3)
            try b.importState(a.exportState())
            XCTAssertEqual(b.stepsTaken, 1)
            var ua = [Float](repeating: 0, count: 3), ub = [Float](repeating: 0, count: 3)
            a.proposeUpdate(parameters: θ, gradient: grads[1].map(Float.init), update: &ua, step: 2)
            b.proposeUpdate(parameters: θ, gradient: grads[1].map(Float.init), update: &ub, step: 2)
            XCTAssertEqual(ua, ub)
            XCTAssertThrowsError(try b.importState([9, 0]))
        }
    }

    func testInvalidSpecsAreRejected() {
        XCTAssertThrowsError(try OptimizerSpec(kind: .sgd, nesterov: true).makeOptimizer(parameterCount: 1))
        XCTAssertThrowsError(try OptimizerSpec(kind: .adam, beta1: 1).makeOptimizer(parameterCount: 1))
        XCTAssertThrowsError(try OptimizerSpec(schedule: .cosine(floor: 0), totalSteps: 0).makeOptimizer(parameterCount: 1))
    }
}
