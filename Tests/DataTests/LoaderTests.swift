import Foundation
import XCTest
@testable import Data

final class CSVLoaderTests: XCTestCase {
    let files = TestFiles()

    func csv(_ options: [String: DataValue]) -> DataSpec { DataSpec(source: "csv", options: options) }

    func testOneFileIsSplitBySeedAndKeepsLineOrderAsRowIDs() throws {
        var text = "x1,x2,y\n"
        for i in 0..<20 { text += "\(i),\(2 * i),\(3 * i)\n" }
        let path = files.write("a.csv", text: text)
        let s = try DataFactory.load(csv(["path": .string(path), "target_column": "y", "n_test": 5,
                                          "standardize": false, "standardize_targets": false]), seed: 1)
        XCTAssertEqual(s.train.count, 15)
        XCTAssertEqual(s.test.count, 5)
        XCTAssertEqual(Set(s.train.rowIDs + s.test.rowIDs), Set(0..<20))
        for d in [s.train, s.test] {
            for i in 0..<d.count {
                let row = Float(d.rowIDs[i])
                XCTAssertEqual(Array(d.features[(2 * i)..<(2 * i + 2)]), [row, 2 * row])
                XCTAssertEqual(d.targets[i], 3 * row)
            }
        }
    }

    func testSeparateTrainAndTestFilesWithSeveralTargetsAndQuotedHeader() throws {
        let train = files.write("train.csv", text: "\"a\",b,t1,t2\r\n1,2,3,4\r\n5,6,7,8\r\n\r\n")
        let test = files.write("test.csv", text: "a,b,t1,t2\n9, 10 ,11,12\n")
        let s = try DataFactory.load(csv(["train_path": .string(train), "test_path": .string(test),
                                          "target_columns": ["t2", "t1"], "standardize": false,
                                          "standardize_targets": false]), seed: 0)
        XCTAssertEqual(s.train.features, [1, 2, 5, 6])
        XCTAssertEqual(s.train.targets, [4, 3, 8, 7])
        XCTAssertEqual(s.test.features, [9, 10])
        XCTAssertEqual(s.test.targets, [12, 11])
        XCTAssertEqual(s.test.rowIDs, [0])
    }

    func testClassificationColumnBecomesLabels() throws {
        let path = files.write("c.csv", text: "f,label\n0.5,2\n0.1,0\n0.3,1\n0.2,2\n")
        let s = try DataFactory.load(csv(["path": .string(path), "target_column": "label", "task": "classification",
                                          "n_test": 0, "standardize": false]), seed: 0)
        XCTAssertEqual(s.train.labels, [2, 0, 1, 2])
        XCTAssertEqual(s.train.classCount, 3)
        XCTAssertEqual(s.train.targets, [0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1])
    }

    func error(_ name: String, _ text: String, _ extra: [String: DataValue] = [:]) -> String {
        let path = files.write(name, text: text)
        var options: [String: DataValue] = ["path": .string(path), "target_column": "y"]
        options.merge(extra) { $1 }
        return loadError { try DataFactory.load(self.csv(options), seed: 0) }
    }

    func testMalformedFilesGiveOneLineNamingFileLineAndProblem() {
        let ragged = error("ragged.csv", "x,y\n1,2\n3\n")
        XCTAssertTrue(ragged.hasSuffix("ragged.csv:3: ragged row: 1 cells, but the header has 2 columns"), ragged)
        let word = error("word.csv", "x,y\n1,2\n3,abc\n")
        XCTAssertTrue(word.hasSuffix("word.csv:3: non-numeric cell \"abc\" in column 2 (\"y\")"), word)
        let nan = error("nan.csv", "x,y\n1,2\n\n4,NaN\n")
        XCTAssertTrue(nan.hasSuffix("nan.csv:4: NaN value \"NaN\" in column 2 (\"y\")"), nan)
        let inf = error("inf.csv", "x,y\n-inf,2\n")
        XCTAssertTrue(inf.hasSuffix("inf.csv:2: infinite value \"-inf\" in column 1 (\"x\")"), inf)
        let empty = error("empty.csv", "")
        XCTAssertTrue(empty.hasSuffix("empty.csv: empty file: no header row"), empty)
        let headerOnly = error("header.csv", "x,y\n")
        XCTAssertTrue(headerOnly.hasSuffix("header.csv: no data rows after the header"), headerOnly)
        let missingCell = error("hole.csv", "x,y\n1,\n")
        XCTAssertTrue(missingCell.hasSuffix("hole.csv:2: empty cell in column 2 (\"y\")"), missingCell)
        let column = error("col.csv", "x,target\n1,2\n")
        XCTAssertTrue(column.contains("col.csv:1: no column named \"y\""), column)
        let absent = error("cls.csv", "x,y\n1,0\n2,1\n", ["task": "classification", "classes": [0, 7]])
        XCTAssertTrue(absent.hasSuffix("cls.csv: classes: class 7 is absent (classes present: 0, 1)"), absent)
        let badLabel = error("lab.csv", "x,y\n1,0.5\n", ["task": "classification"])
        XCTAssertTrue(badLabel.hasSuffix("lab.csv:2: class label 0.5 in column \"y\" is not a non-negative integer"), badLabel)
        let missing = loadError { try DataFactory.load(self.csv(["path": "/nonexistent/x.csv", "target_column": "y"]), seed: 0) }
        XCTAssertEqual(missing, "/nonexistent/x.csv: no such file")
    }
}

final class IDXLoaderTests: XCTestCase {
    let files = TestFiles()

    /// Four 2×3 images whose pixel k of image i is 10·i + k, labels 3, 1, 4, 1.
    let pixels: [UInt8] = (0..<4).flatMap { i in (0..<6).map { UInt8(10 * i + $0) } }
    let labels: [UInt8] = [3, 1, 4, 1]

    func spec(_ images: String, _ labels: String, _ extra: [String: DataValue] = [:]) -> DataSpec {
        var options: [String: DataValue] = ["images": .string(images), "labels": .string(labels)]
        options.merge(extra) { $1 }
        return DataSpec(source: "mnist", options: options)
    }

    func check(_ s: DataSplit) {
        XCTAssertEqual(s.train.count, 4)
        XCTAssertEqual(s.train.dimension, 6)
        XCTAssertEqual(s.train.labels, [3, 1, 4, 1])
        XCTAssertEqual(s.train.classCount, 10)
        XCTAssertEqual(s.train.features, pixels.map { Float($0) / 255 })
    }

    func testPlainAndGzipIDXFilesLoadTheSameImages() throws {
        let img = files.write("img.idx", idx(dims: [4, 2, 3], payload: pixels))
        let lab = files.write("lab.idx", idx(dims: [4], payload: labels))
        check(try DataFactory.load(spec(img, lab, ["n_test": 0]), seed: 0))
        let imgGz = files.write("img.idx.gz", idx(dims: [4, 2, 3], payload: pixels), gzip: true)
        let labGz = files.write("lab.idx.gz", idx(dims: [4], payload: labels), gzip: true)
        let s = try DataFactory.load(spec(imgGz, labGz, ["n_test": 0]), seed: 0)
        check(s)
        XCTAssertEqual(s.fingerprint, try DataFactory.load(spec(img, lab, ["n_test": 0]), seed: 0).fingerprint)
    }

    func testSeparateTestFilesAndClassSubset() throws {
        let img = files.write("img.idx", idx(dims: [4, 2, 3], payload: pixels))
        let lab = files.write("lab.idx", idx(dims: [4], payload: labels))
        let s = try DataFactory.load(spec(img, lab, ["test_images": .string(img), "test_labels": .string(lab),
                                                     "classes": [1, 3], "target": "pm1"]), seed: 0)
        XCTAssertEqual(s.train.rowIDs, [0, 1, 3])
        XCTAssertEqual(s.train.labels, [1, 0, 0])
        XCTAssertEqual(s.train.targets, [1, -1, -1])
        XCTAssertEqual(s.test.rowIDs, [0, 1, 3])
    }

    func testMalformedIDXFilesAreRejectedWithTheFileAndProblem() {
        let goodLabels = files.write("lab.idx", idx(dims: [4], payload: labels))
        let goodImages = files.write("img.idx", idx(dims: [4, 2, 3], payload: pixels))
        func err(_ images: String, _ labels: String) -> String { loadError { try DataFactory.load(self.spec(images, labels), seed: 0) } }

        let magic = files.write("magic.idx", idx(dims: [4, 2, 3], payload: pixels, magic: [0x1f, 0x00, 0x08, 0x03]))
        XCTAssertTrue(err(magic, goodLabels).hasSuffix("magic.idx: wrong magic number 0x1f000803: not an IDX images file (expected 0x00000803)"),
                      err(magic, goodLabels))
        let swapped = err(goodLabels, goodImages)
        XCTAssertTrue(swapped.contains("lab.idx: wrong magic number 0x00000801: 1 dimensions, an IDX images file has 3"), swapped)
        let type = files.write("type.idx", idx(dims: [4, 2, 3], payload: pixels, magic: [0, 0, 0x0d, 3]))
        XCTAssertTrue(err(type, goodLabels).contains("type.idx: unsupported IDX element type 0xd"), err(type, goodLabels))
        let truncated = files.write("short.idx", idx(dims: [4, 2, 3], payload: Array(pixels.dropLast(5))))
        XCTAssertTrue(err(truncated, goodLabels).hasSuffix("short.idx: truncated: header promises 4×2×3 (24 bytes after the 16-byte header), found 19"),
                      err(truncated, goodLabels))
        let header = files.write("header.idx", [0, 0, 8, 3, 0, 0])
        XCTAssertTrue(err(header, goodLabels).hasSuffix("header.idx: truncated: header needs 16 bytes, file has 6"), err(header, goodLabels))
        let extra = files.write("extra.idx", idx(dims: [4, 2, 3], payload: pixels + [1, 2]))
        XCTAssertTrue(err(extra, goodLabels).hasSuffix("extra.idx: 2 unexpected bytes after the 4×2×3 data the header promises"), err(extra, goodLabels))
        let three = files.write("three.idx", idx(dims: [3], payload: [1, 2, 3]))
        XCTAssertTrue(err(goodImages, three).hasSuffix("three.idx: holds 3 labels but \(goodImages) holds 4 images"), err(goodImages, three))
        let big = files.write("big.idx", idx(dims: [4], payload: [1, 2, 12, 3]))
        XCTAssertTrue(err(goodImages, big).hasSuffix("big.idx: label 12 of item 2 (byte offset 10) is not a digit 0…9"), err(goodImages, big))
        let gz = Gzip.compress(idx(dims: [4, 2, 3], payload: pixels))
        let cut = files.write("cut.idx.gz", Array(gz.prefix(gz.count - 10)))
        XCTAssertTrue(err(cut, goodLabels).contains("cut.idx.gz: truncated gzip stream"), err(cut, goodLabels))
        var corrupt = gz; corrupt[12] ^= 0xff; corrupt[13] ^= 0xff
        let bad = files.write("bad.idx.gz", corrupt)
        XCTAssertTrue(err(bad, goodLabels).contains("bad.idx.gz: "), err(bad, goodLabels))
        let absent = loadError { try DataFactory.load(self.spec(goodImages, goodLabels, ["classes": [1, 2]]), seed: 0) }
        XCTAssertTrue(absent.hasSuffix("mnist: classes: class 2 is absent (classes present: 1, 3, 4)"), absent)
    }
}

final class CIFARLoaderTests: XCTestCase {
    let files = TestFiles()

    func record(label: UInt8, fill: UInt8) -> [UInt8] { [label] + [UInt8](repeating: fill, count: 3072) }

    func testBatchesAreConcatenatedInOrderAndScaledToUnitRange() throws {
        let a = files.write("data_batch_1.bin", record(label: 6, fill: 255) + record(label: 9, fill: 0))
        let b = files.write("data_batch_2.bin", record(label: 2, fill: 51))
        let t = files.write("test_batch.bin", record(label: 0, fill: 102))
        let s = try DataFactory.load(DataSpec(source: "cifar10", options: ["train_files": [.string(a), .string(b)],
                                                                         "test_files": .string(t)]), seed: 0)
        XCTAssertEqual(s.train.count, 3)
        XCTAssertEqual(s.train.dimension, 3072)
        XCTAssertEqual(s.train.labels, [6, 9, 2])
        XCTAssertEqual(s.train.rowIDs, [0, 1, 2])
        XCTAssertEqual(s.train.features[0], 1)
        XCTAssertEqual(s.train.features[3072], 0)
        XCTAssertEqual(s.train.features[2 * 3072 + 5], 0.2, accuracy: 1e-6)
        XCTAssertEqual(s.test.labels, [0])
    }

    func testMalformedBatchesAreRejected() {
        func err(_ path: String) -> String {
            loadError { try DataFactory.load(DataSpec(source: "cifar10", options: ["train_files": .string(path)]), seed: 0) }
        }
        let short = files.write("short.bin", record(label: 1, fill: 0) + [1, 2, 3])
        XCTAssertTrue(err(short).hasSuffix("short.bin: length 3076 is not a multiple of the 3073-byte CIFAR-10 record (truncated after 1 records?)"), err(short))
        let label = files.write("label.bin", record(label: 1, fill: 0) + record(label: 10, fill: 0))
        XCTAssertTrue(err(label).hasSuffix("label.bin: record 1 (byte offset 3073) has label 10; CIFAR-10 labels are 0…9"), err(label))
        let empty = files.write("empty.bin", [])
        XCTAssertTrue(err(empty).hasSuffix("empty.bin: empty file: no CIFAR-10 records"), err(empty))
    }
}
