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
        XCTAssertEqual(absent, "modular: class 9 requested in `classes` is absent (classes present: 0, 1, 2, 3, 4)")
        let pm1 = loadError { try DataFactory.load(DataSpec(source: "digits", options: ["target": "pm1"]), seed: 0) }
        XCTAssertEqual(pm1, "digits: target pm1 needs exactly 2 classes, this data has 10 (choose two with `classes`)")
    }

    func testSplitIsDisjointAndGrowingNTrainKeepsTheTestSet() throws {
        let small = try DataFactory.load(DataSpec(source: "digits", options: ["n_train": 100, "n_test": 300, "target": "index"]), seed: 11)
        let large = try DataFactory.load(DataSpec(source: "digits", options: ["n_train": 1000, "n_test": 300, "target": "index"]), seed: 11)
        XCTAssertEqual(small.test, large.test)
        XCTAssertTrue(Set(small.train.rowIDs).isSubset(of: Set(large.train.rowIDs)))
        XCTAssertTrue(Set(large.train.rowIDs).isDisjoint(with: Set(large.test.rowIDs)))
        XCTAssertEqual(large.train.targets, large.train.labels!.map(Float.init))
        let tooMany = loadError { try DataFactory.load(DataSpec(source: "digits", options: ["classes": [3, 5], "n_train": 500]), seed: 0) }
        XCTAssertEqual(tooMany, "digits: n_train 500 exceeds the 292 examples left after 73 test examples (of 365)")
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
                       "data: unknown data source `digit`; did you mean `digits`? (sources: digits, diabetes, teacher-quadratic, modular, tabular, gaussian-mixture, csv, mnist, cifar10)")
        XCTAssertEqual(loadError { try DataFactory.resolve(DataSpec(source: "digits", options: ["n_trian": 5])) },
                       "digits: unknown option `n_trian` for source digits; did you mean `n_train`?")
        XCTAssertEqual(loadError { try DataFactory.resolve(DataSpec(source: "digits", options: ["label_noise": 1.5])) },
                       "digits: option `label_noise` must be in 0…1, got 1.5")
        XCTAssertEqual(loadError { try DataFactory.resolve(DataSpec(source: "modular", options: ["op": "^"])) },
                       "modular: option `op` must be one of +, -, *, /, got ^")
        XCTAssertEqual(loadError { try DataFactory.resolve(DataSpec(source: "mnist", options: ["images": "x"])) },
                       "mnist: missing required option `labels` (training labels, IDX 0x00000801)")
        XCTAssertEqual(loadError { try DataFactory.resolve(DataSpec(source: "digits", options: ["n_train": 2.5])) },
                       "digits: option `n_train` must be an integer, got 2.5")
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
