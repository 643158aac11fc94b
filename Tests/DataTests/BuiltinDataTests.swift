import Foundation
import XCTest
@testable import Data

final class BuiltinDataTests: XCTestCase {
    func testDigitsHas1797ImagesOf64PixelsWithTheUCIClassCounts() throws {
        let d = try BuiltinData.digits()
        XCTAssertEqual(d.count, 1797)
        XCTAssertEqual(d.dimension, 64)
        XCTAssertEqual(d.classCount, 10)
        XCTAssertEqual(classCounts(d), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
        XCTAssertEqual(d.rowIDs, Array(0..<1797))
        // First line of digits.csv: 0,0,5,13,9,1,0,0,0,0,13,15,…, label 0; pixels are divided by 16.
        XCTAssertEqual(Array(d.features[0..<6]), [0, 0, 5, 13, 9, 1].map { Float($0) / 16 })
        XCTAssertEqual(d.labels![0], 0)
        XCTAssertEqual(d.labels![1], 1)
        XCTAssertEqual(d.features.min(), 0)
        XCTAssertEqual(d.features.max(), 1)
    }

    func testDiabetesHas442PatientsWith10VariablesAndTheRawTargets() throws {
        let d = try BuiltinData.diabetes()
        XCTAssertEqual(d.count, 442)
        XCTAssertEqual(d.dimension, 10)
        XCTAssertEqual(d.targetDimension, 1)
        XCTAssertNil(d.labels)
        // First row of diabetes_data_raw.csv: 59 2 32.1 101.0 157 93.2 38.0 4.0 4.8598 87; target 151.
        XCTAssertEqual(Array(d.features[0..<10]), [59, 2, 32.1, 101.0, 157, 93.2, 38.0, 4.0, 4.8598, 87])
        XCTAssertEqual(d.targets[0], 151)
        XCTAssertEqual(d.targets[1], 75)
    }

    /// The binary carries data/ as base64, generated at build time by the EmbedResources plugin:
    /// the embedded bytes must be exactly the files'.
    func testEmbeddedDataMatchesDataFolder() throws {
        let dataFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("data")
        for name in ["digits.csv.gz", "diabetes_data_raw.csv.gz", "diabetes_target.csv.gz", "mnist_5k.csv.gz", "diamonds.csv.gz"] {
            let onDisk = try Data(contentsOf: dataFolder.appendingPathComponent(name))
            XCTAssertEqual(BuiltinData.embeddedFile(name), [UInt8](onDisk), "\(name): the EmbedResources plugin embedded other bytes")
        }
    }

    func testDigitsThroughTheFactoryIsAnEightyTwentySplitOfTheWholeSet() throws {
        let s = try DataFactory.load(DataSpec(source: "digits"), seed: 0)
        XCTAssertEqual(s.test.count, 359)   // round(0.2 · 1797)
        XCTAssertEqual(s.train.count, 1797 - 359)
        XCTAssertEqual(Set(s.train.rowIDs + s.test.rowIDs).count, 1797)
        XCTAssertEqual(s.train.targetDimension, 10)
    }

    func testDiabetesThroughTheFactoryStandardizesTargetsWithTrainingStatistics() throws {
        let s = try DataFactory.load(DataSpec(source: "diabetes", options: ["n_test": 100]), seed: 3)
        XCTAssertEqual(s.train.count, 342)
        XCTAssertEqual(s.test.count, 100)
        let mean = s.train.targets.reduce(0, +) / Float(s.train.count)
        XCTAssertEqual(mean, 0, accuracy: 1e-4)
    }
}
