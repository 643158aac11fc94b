import Foundation
import XCTest
@testable import Data

final class TransformTests: XCTestCase {
    func column(_ d: Dataset, _ j: Int) -> [Double] { (0..<d.count).map { Double(d.features[$0 * d.dimension + j]) } }
    func mean(_ x: [Double]) -> Double { x.reduce(0, +) / Double(x.count) }
    func std(_ x: [Double]) -> Double { let m = mean(x); return (x.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(x.count)).squareRoot() }

    func testStandardizationUsesTrainingStatisticsOnly() throws {
        let raw = try DataFactory.load(DataSpec(source: "diabetes", options: ["standardize": false, "standardize_targets": false]), seed: 0)
        let z = try DataFactory.load(DataSpec(source: "diabetes", options: ["standardize": true, "standardize_targets": false]), seed: 0)
        XCTAssertEqual(raw.train.rowIDs, z.train.rowIDs)
        for j in 0..<10 {
            XCTAssertEqual(mean(column(z.train, j)), 0, accuracy: 1e-4)
            XCTAssertEqual(std(column(z.train, j)), 1, accuracy: 1e-4)
            // Test: (x − train mean) / train std, so its own mean is not 0.
            let mu = mean(column(raw.train, j)), sd = std(column(raw.train, j))
            XCTAssertEqual(mean(column(z.test, j)), (mean(column(raw.test, j)) - mu) / sd, accuracy: 1e-4)
            XCTAssertGreaterThan(abs(mean(column(z.test, j))), 1e-4)
        }
        XCTAssertEqual(z.test.targets, raw.test.targets)
    }

    func testZeroVarianceFeaturesAreOnlyCentred() {
        let train = Dataset(name: "t", features: [1, 5, 1, 7], count: 2, dimension: 2, targets: [0, 0], targetDimension: 1)
        let test = Dataset(name: "t", features: [3, 6], count: 1, dimension: 2, targets: [0], targetDimension: 1)
        let s = DataSplit(train: train, test: test).standardized()
        XCTAssertEqual(s.train.features, [0, -1, 0, 1])
        XCTAssertEqual(s.test.features, [2, 0])
    }

    func testAConstantTrainingColumnIsCentredNotScaledAndRecorded() {
        // Column 0 is 5 in every training row; column 1 has mean 2 and population std 1.
        let train = Dataset(name: "t", features: [5, 1, 5, 3, 5, 1, 5, 3], count: 4, dimension: 2, targets: [0, 0, 0, 0], targetDimension: 1)
        let test = Dataset(name: "t", features: [7, 4], count: 1, dimension: 2, targets: [0], targetDimension: 1)
        let s = DataSplit(train: train, test: test).standardized()
        XCTAssertEqual(s.train.features, [0, -1, 0, 1, 0, -1, 0, 1])
        XCTAssertEqual(s.test.features, [2, 2])
        XCTAssertEqual(s.unscaledColumns, [0])
        XCTAssertTrue((s.train.features + s.test.features).allSatisfy(\.isFinite))
    }

    func testAColumnConstantOnlyInTrainingIsShiftedNotBlownUp() {
        // Column 1 is 3 in every training row and varies only in test: test values move by the
        // training mean (3) and keep their size.
        let train = Dataset(name: "t", features: [0, 3, 2, 3, 0, 3, 2, 3], count: 4, dimension: 2, targets: [0, 0, 0, 0], targetDimension: 1)
        let test = Dataset(name: "t", features: [1, 3, 1, 10, 1, -1], count: 3, dimension: 2, targets: [0, 0, 0], targetDimension: 1)
        let s = DataSplit(train: train, test: test).standardized()
        XCTAssertEqual(s.test.features, [0, 0, 0, 7, 0, -4])
        XCTAssertEqual(s.unscaledColumns, [1])
    }

    func testColumnsUnderOnePercentOfTheMedianSpreadAreOnlyCentred() {
        // Two rows ±a per column: standard deviations 1, 2, 0.001, 0.02. The median of the
        // four is (0.02 + 1) / 2 = 0.51, so the floor is 0.0051: column 2 is under it, column 3
        // (4× above) is not.
        let train = Dataset(name: "t", features: [1, 2, 0.001, 0.02, -1, -2, -0.001, -0.02], count: 2, dimension: 4,
                            targets: [0, 0], targetDimension: 1)
        let test = Dataset(name: "t", features: [1, 2, 0.5, 0.02], count: 1, dimension: 4, targets: [0], targetDimension: 1)
        let s = DataSplit(train: train, test: test).standardized()
        XCTAssertEqual(s.unscaledColumns, [2])
        XCTAssertEqual(s.test.features, [1, 1, 0.5, 1])
    }

    func testCenterModeCentresEveryColumnAndScalesNone() throws {
        let raw = try DataFactory.load(DataSpec(source: "diabetes", options: ["standardize": false, "standardize_targets": false]), seed: 0)
        let c = try DataFactory.load(DataSpec(source: "diabetes", options: ["standardize": "center", "standardize_targets": false]), seed: 0)
        XCTAssertEqual(c.unscaledColumns, Array(0..<10))
        XCTAssertEqual(raw.unscaledColumns, [])
        for j in 0..<10 {
            let mu = mean(column(raw.train, j))
            XCTAssertEqual(mean(column(c.train, j)), 0, accuracy: 1e-3)
            XCTAssertEqual(std(column(c.train, j)), std(column(raw.train, j)), accuracy: 1e-3 * std(column(raw.train, j)))
            for (a, b) in zip(column(c.test, j), column(raw.test, j)) { XCTAssertEqual(a, b - mu, accuracy: 1e-3 * max(1, abs(b))) }
        }
        XCTAssertEqual(try DataFactory.load(DataSpec(source: "diabetes"), seed: 0).unscaledColumns, [],
                       "every diabetes column is well above the floor (smallest: 0.04 of the median)")
    }

    /// The digits edge pixels that are non-zero in a handful of training rows: before the floor,
    /// one test pixel of seed 0 became 303 training standard deviations.
    func testDigitsEdgePixelsUnderTheFloorAreLeftUnscaled() throws {
        let raw = try DataFactory.load(DataSpec(source: "digits", options: ["standardize": false]), seed: 0)
        let z = try DataFactory.load(DataSpec(source: "digits", options: ["standardize": true]), seed: 0)
        let sd = (0..<64).map { std(column(raw.train, $0)) }
        let varying = (0..<64).filter { Set(column(raw.train, $0)).count > 1 }
        let spreads = varying.map { sd[$0] }.sorted()
        let median = spreads.count % 2 == 1 ? spreads[spreads.count / 2] : (spreads[spreads.count / 2 - 1] + spreads[spreads.count / 2]) / 2
        let expected = (0..<64).filter { !varying.contains($0) || sd[$0] < 0.01 * median }   // data/README.md, Standardization
        XCTAssertEqual(z.unscaledColumns, expected)
        XCTAssertEqual(expected, [0, 16, 24, 32, 39, 48, 56])
        for j in 0..<64 {
            let mu = mean(column(raw.train, j)), scale = expected.contains(j) ? 1 : sd[j]
            for (a, b) in zip(column(z.test, j), column(raw.test, j)) { XCTAssertEqual(a, (b - mu) / scale, accuracy: 1e-4 * max(1, abs(a))) }
        }
        let test = z.test.features.map { Double($0) }
        XCTAssertTrue(test.allSatisfy(\.isFinite))
        XCTAssertLessThan(test.map(abs).max()!, 50, "column 40 (5 training rows non-zero, 2.5% of the median) reaches 38")
        // Standardized training features have mean square ≤ 1; the test set's was 5.9 before the floor.
        XCTAssertLessThan(test.map { $0 * $0 }.reduce(0, +) / Double(test.count), 1.2)
    }

    func testStandardizeTakesTrueFalseOrCenter() {
        XCTAssertEqual(loadError { try DataFactory.resolve(DataSpec(source: "digits", options: ["standardize": "centre"])) },
                       "digits: standardize: must be true, false or center, got centre; did you mean `center`?")
        XCTAssertEqual(loadError { try DataFactory.resolve(DataSpec(source: "digits", options: ["standardize": 1])) },
                       "digits: standardize: must be true, false or center, got 1")
        XCTAssertEqual(try? DataFactory.resolve(DataSpec(source: "digits", options: ["standardize": "center"]))["standardize"], "center")
        XCTAssertEqual(loadError { try DataFactory.resolve(DataSpec(source: "diabetes", options: ["standardize_targets": "center"])) },
                       "diabetes: standardize_targets: must be true or false, got center")
    }

    /// A stored config's data section lists the columns loading left unscaled; read back, the
    /// list is accepted and dropped (loading finds it again), a malformed one is refused.
    func testRecordedUnscaledColumnsAreAcceptedAndDropped() throws {
        let plain = try DataFactory.resolve(DataSpec(source: "digits", options: ["standardize": true]))
        let stored = try DataFactory.resolve(DataSpec(source: "digits", options: ["standardize": true, "unscaled_columns": [0, 16, 24]]))
        XCTAssertEqual(stored, plain)
        XCTAssertEqual(try DataFactory.resolve(DataSpec(source: "digits", options: ["unscaled_columns": []])), try DataFactory.resolve(DataSpec(source: "digits")))
        XCTAssertEqual(loadError { try DataFactory.resolve(DataSpec(source: "digits", options: ["unscaled_columns": ["a"]])) },
                       "digits: unscaled_columns: must be an integer, got [a]")
    }

    func testLabelNoiseChangesExactlyTheRequestedShareToOtherClasses() throws {
        let clean = try DataFactory.load(DataSpec(source: "digits", options: ["n_train": 999]), seed: 3)
        for fraction in [0.0, 0.1, 0.25, 1.0] {
            let noisy = try DataFactory.load(DataSpec(source: "digits", options: ["n_train": 999, "label_noise": .double(fraction)]), seed: 3)
            XCTAssertEqual(noisy.train.rowIDs, clean.train.rowIDs)
            let changed = (0..<999).filter { noisy.train.labels![$0] != clean.train.labels![$0] }
            XCTAssertEqual(changed.count, Int((fraction * 999).rounded()))
            XCTAssertEqual(changed.map { noisy.train.rowIDs[$0] }, noisy.noisyTrainRowIDs)
            XCTAssertEqual(noisy.test, clean.test)                 // test labels stay clean
            for i in changed { XCTAssertEqual(noisy.train.targets[i * 10 + noisy.train.labels![i]], 1) }
        }
    }

    func testClassSubsetRemapsLabelsInTheGivenOrderAndKeepsRowIDs() throws {
        let digits = try BuiltinData.digits()
        let s = try DataFactory.load(DataSpec(source: "digits", options: ["classes": [5, 3], "target": "pm1"]), seed: 9)
        XCTAssertEqual(s.train.count + s.test.count, 182 + 183)
        XCTAssertEqual(s.train.classCount, 2)
        for d in [s.train, s.test] {
            XCTAssertEqual(d.targetDimension, 1)
            for i in 0..<d.count {
                let original = digits.labels![d.rowIDs[i]]
                XCTAssertEqual(d.labels![i], original == 5 ? 0 : 1)
                XCTAssertEqual(d.targets[i], original == 5 ? -1 : 1)
                XCTAssertEqual(Array(d.features[(i * 64)..<(i * 64 + 64)]),
                               Array(digits.features[(d.rowIDs[i] * 64)..<(d.rowIDs[i] * 64 + 64)]))
            }
        }
        let absent = loadError { try DataFactory.load(DataSpec(source: "modular", options: ["p": 5, "classes": [1, 9]]), seed: 0) }
        XCTAssertEqual(absent, "modular: classes: class 9 is absent (classes present: 0, 1, 2, 3, 4)")
        let pm1 = loadError { try DataFactory.load(DataSpec(source: "digits", options: ["target": "pm1"]), seed: 0) }
        XCTAssertEqual(pm1, "digits: target: pm1 needs exactly 2 classes, this data has 10 (choose two with `classes`)")
    }

    func testSplitIsDisjointAndGrowingNTrainKeepsTheTestSet() throws {
        let small = try DataFactory.load(DataSpec(source: "digits", options: ["n_train": 100, "n_test": 300, "target": "index"]), seed: 11)
        let large = try DataFactory.load(DataSpec(source: "digits", options: ["n_train": 1000, "n_test": 300, "target": "index"]), seed: 11)
        XCTAssertEqual(small.test, large.test)
        XCTAssertTrue(Set(small.train.rowIDs).isSubset(of: Set(large.train.rowIDs)))
        XCTAssertTrue(Set(large.train.rowIDs).isDisjoint(with: Set(large.test.rowIDs)))
        XCTAssertEqual(large.train.targets, large.train.labels!.map(Float.init))
        let tooMany = loadError { try DataFactory.load(DataSpec(source: "digits", options: ["classes": [3, 5], "n_train": 500]), seed: 0) }
        XCTAssertEqual(tooMany, "digits: n_train: 500 exceeds the 292 examples left after 73 test examples (of 365)")
    }

    func testFingerprintIsFNV1aOfTheExactArrays() throws {
        // FNV-1a 64 of the empty input is the offset basis; of "a" is af63dc4c8601ec8c.
        var h = FNV1a64(); XCTAssertEqual(h.hex, "cbf29ce484222325")
        h.add(Array("a".utf8)); XCTAssertEqual(h.hex, "af63dc4c8601ec8c")
        let s = try DataFactory.load(DataSpec(source: "gaussian-mixture", options: ["n_train": 10, "n_test": 5]), seed: 0)
        var t = s
        t.test.features[0] = t.test.features[0].nextUp
        XCTAssertNotEqual(s.fingerprint, t.fingerprint)
    }

    func testSpecsAreValidatedWithTheNearestValidName() {
        XCTAssertEqual(loadError { try DataFactory.resolve(DataSpec(source: "digit")) },
                       "data: source: unknown source `digit`; did you mean `digits`? (sources: digits, diabetes, teacher-quadratic, modular, tabular, gaussian-mixture, csv, diamonds, mnist, fashion-mnist, mnist1d, cifar10)")
        XCTAssertEqual(loadError { try DataFactory.resolve(DataSpec(source: "digits", options: ["n_trian": 5])) },
                       "digits: n_trian: unknown option for source digits; did you mean `n_train`?")
        XCTAssertEqual(loadError { try DataFactory.resolve(DataSpec(source: "digits", options: ["label_noise": 1.5])) },
                       "digits: label_noise: must be in 0…1, got 1.5")
        XCTAssertEqual(loadError { try DataFactory.resolve(DataSpec(source: "modular", options: ["op": "^"])) },
                       "modular: op: must be one of +, -, *, /, got ^")
        XCTAssertEqual(loadError { try DataFactory.load(DataSpec(source: "mnist", options: ["images": "x"]), seed: 0) },
                       "mnist: labels: missing; `images` needs it (training labels, IDX 0x00000801)")
        XCTAssertEqual(loadError { try DataFactory.resolve(DataSpec(source: "digits", options: ["n_train": 2.5])) },
                       "digits: n_train: must be an integer, got 2.5")
    }

    func testResolvedSpecsRoundTripThroughJSON() throws {
        let spec = try DataFactory.resolve(DataSpec(source: "digits", options: ["classes": [3, 5], "n_train": 200]))
        XCTAssertEqual(spec["label_noise"], .double(0))
        XCTAssertEqual(spec["target"], "onehot")
        let json = try JSONEncoder().encode(spec)
        XCTAssertEqual(try JSONDecoder().decode(DataSpec.self, from: json), spec)
        let object = try JSONSerialization.jsonObject(with: json) as! [String: Any]
        XCTAssertEqual(object["source"] as? String, "digits")
        XCTAssertEqual(DataValue(any: [3, 5] as [Any]), [3, 5])
    }
}

final class DocumentationTests: XCTestCase {
    /// data/README.md is the reference for `data:` blocks; it must name every source and option.
    func testReadmeNamesEverySourceAndOption() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("data/README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        for source in DataFactory.sources {
            XCTAssertTrue(text.contains("`\(source.name)`"), source.name)
            for option in source.options {
                XCTAssertTrue(text.contains("`\(option.name)`"), "\(source.name).\(option.name)")
            }
        }
    }
}

final class DataValueTests: XCTestCase {
    func testValuesFromJSONSerializationKeepTheirKinds() throws {
        let parsed = try JSONSerialization.jsonObject(with: Data(#"[1, 0, 2.5, true, false, "a", [3]]"#.utf8))
        let value = DataValue(any: parsed)
        XCTAssertEqual(value, [1, 0, 2.5, true, false, "a", [3]])
        guard case .list(let items)? = value else { return XCTFail() }
        if case .int = items[0] {} else { XCTFail("1 should stay an integer, got \(items[0])") }
        if case .bool = items[3] {} else { XCTFail("true should stay a bool, got \(items[3])") }
    }
}
