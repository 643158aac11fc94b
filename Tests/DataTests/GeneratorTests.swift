import XCTest
@testable import Data

final class GeneratorTests: XCTestCase {
    let generated: [DataSpec] = [
        DataSpec(source: "teacher-quadratic", options: ["n_train": 50, "n_test": 20, "d": 5, "noise": 0.1]),
        DataSpec(source: "modular", options: ["p": 11, "op": "*", "label_noise": 0.1]),
        DataSpec(source: "tabular", options: ["n_train": 60, "n_test": 30, "irregular_fraction": 0.2]),
        DataSpec(source: "gaussian-mixture", options: ["n_train": 40, "n_test": 20, "k": 4, "d": 3]),
        DataSpec(source: "digits", options: ["classes": [3, 5], "n_train": 100, "label_noise": 0.2]),
    ]

    func testSameSeedGivesIdenticalDataAndDifferentSeedsDiffer() throws {
        for spec in generated {
            let a = try DataFactory.load(spec, seed: 7), b = try DataFactory.load(spec, seed: 7)
            let c = try DataFactory.load(spec, seed: 8)
            XCTAssertEqual(a.train, b.train, spec.source)
            XCTAssertEqual(a.test, b.test, spec.source)
            XCTAssertEqual(a.noisyTrainRowIDs, b.noisyTrainRowIDs, spec.source)
            XCTAssertEqual(a.fingerprint, b.fingerprint, spec.source)
            XCTAssertNotEqual(a.fingerprint, c.fingerprint, spec.source)
            XCTAssertNotEqual(a.train.features + a.train.targets, c.train.features + c.train.targets, spec.source)
            XCTAssertEqual(a.fingerprint.count, 16)
        }
    }

    func testTeacherQuadraticTargetsAreASquaredProjectionMinusOne() throws {
        let s = try DataFactory.load(DataSpec(source: "teacher-quadratic", options: ["n_train": 4000, "n_test": 10, "d": 6]), seed: 1)
        let y = s.train.targets.map(Double.init)
        XCTAssertGreaterThanOrEqual(y.min()!, -1 - 1e-6)           // (w·x)² ≥ 0
        func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }
        let ym = mean(y)
        let variance: Double = y.map { ($0 - ym) * ($0 - ym) }.reduce(0, +) / Double(y.count)
        XCTAssertEqual(mean(y), 0, accuracy: 0.1)                     // E[z²] − 1 for z ~ N(0, 1)
        XCTAssertEqual(variance, 2, accuracy: 0.3)                 // Var[z²] = 2
        // E[(y + 1) x xᵀ] = I + 2 w wᵀ (Isserlis): its top eigenvector (power iteration)
        // recovers ±w, and then y + 1 must be (ŵ·x)² for every point.
        let d = 6, n = s.train.count
        let x = (0..<n).map { i in (0..<d).map { Double(s.train.features[i * d + $0]) } }
        var m = [[Double]](repeating: [Double](repeating: 0, count: d), count: d)
        for i in 0..<n { for a in 0..<d { for b in 0..<d { m[a][b] += (y[i] + 1) * x[i][a] * x[i][b] / Double(n) } } }
        var w = [Double](repeating: 1, count: d)
        for _ in 0..<200 {
            let v = (0..<d).map { a in (0..<d).map { m[a][$0] * w[$0] }.reduce(0, +) }
            let norm = v.map { $0 * $0 }.reduce(0, +).squareRoot()
            w = v.map { $0 / norm }
        }
        let fit = x.map { xi in pow(zip(w, xi).map(*).reduce(0, +), 2) }
        let fm = mean(fit)
        var cov = 0.0, vf = 0.0, vy = 0.0
        for i in 0..<n {
            let a = fit[i] - fm, b = y[i] - ym
            cov += a * b; vf += a * a; vy += b * b
        }
        let corr = cov / (vf * vy).squareRoot()
        XCTAssertGreaterThan(corr, 0.97)
        XCTAssertEqual(s.test.rowIDs, Array(4000..<4010))
    }

    func decode(_ d: Dataset, p: Int, row i: Int) -> (Int, Int) {
        let f = Array(d.features[(i * 2 * p)..<((i + 1) * 2 * p)])
        XCTAssertEqual(f.reduce(0, +), 2)
        return (f[0..<p].firstIndex(of: 1)!, f[p...].firstIndex(of: 1)! - p)
    }

    func testModularPairsCoverAllPSquaredExactlyOnceWithTheRightLabels() throws {
        let p = 13
        for op in ["+", "-", "*"] {
            let s = try DataFactory.load(DataSpec(source: "modular", options: ["p": .int(p), "op": .string(op), "train_fraction": 0.3]), seed: 2)
            XCTAssertEqual(s.train.count, 51)          // round(0.3 · 169)
            XCTAssertEqual(s.train.count + s.test.count, p * p)
            XCTAssertEqual(Set(s.train.rowIDs + s.test.rowIDs), Set(0..<(p * p)))
            for d in [s.train, s.test] {
                XCTAssertEqual(d.dimension, 2 * p)
                XCTAssertEqual(d.classCount, p)
                for i in 0..<d.count {
                    let (a, b) = decode(d, p: p, row: i)
                    XCTAssertEqual(d.rowIDs[i], a * p + b)
                    let expected = op == "+" ? (a + b) % p : op == "-" ? (a - b + p) % p : (a * b) % p
                    XCTAssertEqual(d.labels![i], expected)
                    XCTAssertEqual(d.targets[i * p + expected], 1)
                }
            }
        }
        let div = try DataFactory.load(DataSpec(source: "modular", options: ["p": .int(p), "op": "/"]), seed: 2)
        XCTAssertEqual(div.train.count + div.test.count, p * (p - 1))
        for i in 0..<div.train.count {
            let (a, b) = decode(div.train, p: p, row: i)
            XCTAssertEqual(div.train.labels![i] * b % p, a)    // c = a / b  ⇔  c·b = a
        }
        XCTAssertEqual(loadError { try DataFactory.load(DataSpec(source: "modular", options: ["p": 12, "op": "/"]), seed: 0) },
                       "modular: p: division needs a prime modulus, got 12")
    }

    /// Mean distance to the 10 nearest training inputs after z-scoring (lens.md §10),
    /// computed by brute force.
    func irregularity(_ s: DataSplit, test i: Int) -> Double {
        let d = s.train.dimension
        var distances: [Double] = []
        for t in 0..<s.train.count {
            var sum = 0.0
            for j in 0..<d { let e = Double(s.test.features[i * d + j] - s.train.features[t * d + j]); sum += e * e }
            distances.append(sum.squareRoot())
        }
        return distances.sorted().prefix(10).reduce(0, +) / 10
    }

    func testTabularHasHeavyTailsAndExactlyTheRequestedShareOfIrregularTestPoints() throws {
        let s = try DataFactory.load(DataSpec(source: "tabular", options: ["n_train": 2000, "n_test": 200, "d": 6,
                                                                           "irregular_fraction": 0.1]), seed: 4)
        XCTAssertEqual(s.irregularTestRowIDs.count, 20)
        XCTAssertTrue(s.irregularTestRowIDs.allSatisfy { (2000..<2200).contains($0) })
        // Heavy tails: kurtosis of a standardized feature well above the Gaussian 3.
        let x = (0..<s.train.count).map { Double(s.train.features[$0 * 6]) }
        let m2 = x.map { $0 * $0 }.reduce(0, +) / Double(x.count), m4 = x.map { $0 * $0 * $0 * $0 }.reduce(0, +) / Double(x.count)
        XCTAssertGreaterThan(m4 / (m2 * m2), 4)
        // Correlation: neighbouring features correlate near ρ = 0.5.
        let y = (0..<s.train.count).map { Double(s.train.features[$0 * 6 + 1]) }
        let corr = zip(x, y).map { $0 * $1 }.reduce(0, +) / Double(x.count)
        XCTAssertEqual(corr, 0.5, accuracy: 0.15)
        // Irregular points are farther from the training data than regular ones.
        let irregular = Set(s.irregularTestRowIDs)
        var irr: [Double] = [], reg: [Double] = []
        for i in 0..<s.test.count {
            (irregular.contains(s.test.rowIDs[i]) ? { irr.append($0) } : { reg.append($0) })(irregularity(s, test: i))
        }
        XCTAssertGreaterThan(irr.reduce(0, +) / Double(irr.count), 2 * reg.reduce(0, +) / Double(reg.count))
        // Zero fraction: the same regular points, none irregular.
        let plain = try DataFactory.load(DataSpec(source: "tabular", options: ["n_train": 2000, "n_test": 200, "d": 6,
                                                                               "standardize": false]), seed: 4)
        let shifted = try DataFactory.load(DataSpec(source: "tabular", options: ["n_train": 2000, "n_test": 200, "d": 6,
                                                                                 "standardize": false, "irregular_fraction": 0.1]), seed: 4)
        XCTAssertTrue(plain.irregularTestRowIDs.isEmpty)
        XCTAssertEqual(plain.train, shifted.train)
        for i in 0..<200 where !irregular.contains(2000 + i) {
            XCTAssertEqual(plain.test.features[(i * 6)..<(i * 6 + 6)], shifted.test.features[(i * 6)..<(i * 6 + 6)])
        }
    }

    func testGaussianMixtureIsBalancedAndSeparable() throws {
        let s = try DataFactory.load(DataSpec(source: "gaussian-mixture", options: ["n_train": 300, "n_test": 300, "k": 3,
                                                                                    "d": 5, "separation": 6]), seed: 5)
        XCTAssertEqual(s.train.labels!.filter { $0 == 2 }.count, 100)
        // Nearest class mean (estimated on train) classifies nearly all test points.
        var means = [[Double]](repeating: [Double](repeating: 0, count: 5), count: 3)
        for i in 0..<300 { for j in 0..<5 { means[s.train.labels![i]][j] += Double(s.train.features[i * 5 + j]) / 100 } }
        var correct = 0
        for i in 0..<300 {
            let dist = means.map { m in (0..<5).map { j in pow(Double(s.test.features[i * 5 + j]) - m[j], 2) }.reduce(0, +) }
            if dist.firstIndex(of: dist.min()!) == s.test.labels![i] { correct += 1 }
        }
        XCTAssertGreaterThan(correct, 290)
    }
}

/// Kumar et al.'s form of the teacher (the paper's Fig. 4 task): x ~ N(0, I/d), y = ½(βᵀx)².
final class KumarTeacherTests: XCTestCase {
    func testScaledInputsAndHalfSquareTargetsKeepTheDrawsOfTheDefault() throws {
        let common: [String: DataValue] = ["n_train": 3000, "n_test": 10, "d": 100]
        let plain = try DataFactory.load(DataSpec(source: "teacher-quadratic", options: common), seed: 2)
        var options = common
        options["input_scale"] = "1/sqrt(d)"; options["target"] = "half-square"
        let kumar = try DataFactory.load(DataSpec(source: "teacher-quadratic", options: options), seed: 2)
        // Same draws: features are the default's divided by √d, targets ½((w·z)² − 1 + 1).
        for (a, b) in zip(kumar.train.features, plain.train.features) { XCTAssertEqual(Double(a), Double(b) / 10, accuracy: 1e-6) }
        for (a, b) in zip(kumar.train.targets, plain.train.targets) { XCTAssertEqual(Double(a), 0.5 * (Double(b) + 1), accuracy: 1e-5) }
        // x ~ N(0, I/d): per-coordinate variance 1/d; y = ½χ²₁: mean ½, variance ½.
        let x = kumar.train.features.map(Double.init), y = kumar.train.targets.map(Double.init)
        XCTAssertEqual(x.reduce(0) { $0 + $1 * $1 } / Double(x.count), 0.01, accuracy: 0.0005)
        let ym = y.reduce(0, +) / Double(y.count)
        XCTAssertEqual(ym, 0.5, accuracy: 0.05)
        XCTAssertEqual(y.reduce(0) { $0 + ($1 - ym) * ($1 - ym) } / Double(y.count), 0.5, accuracy: 0.1)
        XCTAssertGreaterThanOrEqual(y.min()!, 0)
    }

    func testUnknownChoicesAreRefused() {
        XCTAssertThrowsError(try DataFactory.load(DataSpec(source: "teacher-quadratic", options: ["target": "square"]), seed: 0))
        XCTAssertThrowsError(try DataFactory.load(DataSpec(source: "teacher-quadratic", options: ["input_scale": "0.1"]), seed: 0))
    }
}
