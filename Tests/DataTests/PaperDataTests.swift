import Foundation
import XCTest
import Linalg
@testable import Data

/// The folder `data/` of the repository (the files the binary embeds).
let dataFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("data")

/// The text of a gzip file of data/, read from disk (not the embedded copy).
func dataFileText(_ name: String) throws -> String {
    let gz = [UInt8](try Data(contentsOf: dataFolder.appendingPathComponent(name)))
    return String(decoding: try Gzip.decompress(gz, location: name), as: UTF8.self)
}

final class BuiltinMNISTTests: XCTestCase {
    /// The loaded pixels are the file's values / 255 and the labels its last column, checked by
    /// an independent parse of data/mnist_5k.csv.gz (Foundation's string splitting).
    func testBuiltinMNISTIsTheFileScaledToTheUnitInterval() throws {
        let lines = try dataFileText("mnist_5k.csv.gz").split(separator: "\n")
        XCTAssertEqual(lines.count, 5000)
        let d = try BuiltinData.mnist5k()
        XCTAssertEqual(d.count, 5000)
        XCTAssertEqual(d.dimension, 784)
        XCTAssertEqual(d.classCount, 10)
        XCTAssertEqual(classCounts(d), [Int](repeating: 500, count: 10))
        for i in [0, 1, 499, 500, 2501, 4998, 4999] {
            let cells = lines[i].split(separator: ",").map { Int($0)! }
            XCTAssertEqual(cells.count, 785)
            XCTAssertEqual(d.labels![i], cells[784], "line \(i + 1)")
            XCTAssertEqual(Array(d.features[(i * 784)..<((i + 1) * 784)]), cells[0..<784].map { Float($0) / 255 }, "line \(i + 1)")
        }
        for (i, line) in lines.enumerated() { XCTAssertEqual(d.labels![i], Int(line.split(separator: ",").last!)!) }
    }

    func testMNISTWithoutFilesIsTheBuiltinSampleSplitEightyTwenty() throws {
        let s = try DataFactory.load(DataSpec(source: "mnist", options: ["classes": [3, 5], "downsample": 8, "n_train": 500]), seed: 1)
        XCTAssertEqual(s.test.count, 200)   // round(0.2 · 1,000 images of 3 and 5)
        XCTAssertEqual(s.train.count, 500)
        XCTAssertEqual(s.train.dimension, 64)
        XCTAssertEqual(Set(s.train.labels!), [0, 1])
        XCTAssertTrue(s.train.rowIDs.allSatisfy { (1500..<2000).contains($0) || (2500..<3000).contains($0) })
    }

    func testRefusalsAreOneLineNamingTheOption() {
        func error(_ options: [String: DataValue], source: String = "mnist") -> String {
            loadError { try DataFactory.load(DataSpec(source: source, options: options), seed: 0) }
        }
        XCTAssertEqual(error(["downsampel": 8]), "mnist: downsampel: unknown option for source mnist; did you mean `downsample`?")
        XCTAssertEqual(error(["downsample": 29]), "mnist: downsample: must be in 1…28 for images of 28×28 (tlens only shrinks), got 29")
        XCTAssertEqual(error(["labels": "l.idx"]), "mnist: images: missing; `labels` needs it (training images, IDX 0x00000803)")
        XCTAssertEqual(error(["test_images": "t.idx", "test_labels": "l.idx"]),
                       "mnist: `test_images` and `test_labels` need `images` and `labels` (without them mnist is the built-in 5,000)")
        XCTAssertTrue(error(["greyscale": true]).hasPrefix("mnist: greyscale: unknown option for source mnist"))
        XCTAssertTrue(error(["greyscale": "grey"], source: "cifar10").hasPrefix("cifar10: greyscale: must be true, false or mean, got grey"))
    }
}

final class DownsampleTests: XCTestCase {
    /// Area averaging computed another way: every input pixel split into size × size equal
    /// sub-pixels (an image of side·size), then plain means of side × side blocks of those.
    func supersampled(_ image: [Float], side: Int, to size: Int) -> [Float] {
        let fine = side * size
        var out = [Double](repeating: 0, count: size * size)
        for y in 0..<fine {
            for x in 0..<fine {
                out[(y / side) * size + x / side] += Double(image[(y / size) * side + x / size])
            }
        }
        return out.map { Float($0 / Double(side * side)) }
    }

    func testAreaAveragingMatchesSupersampledBlockMeans() throws {
        var rng = RandomSource(seed: 7, stream: .other)
        for (side, size) in [(28, 8), (28, 7), (28, 5), (32, 8), (8, 3), (28, 28), (28, 1)] {
            let images = (0..<3).map { _ in (0..<(side * side)).map { _ in Float(rng.uniform()) } }
            let d = Dataset(name: "t", features: images.flatMap { $0 }, count: 3, dimension: side * side, targets: [], targetDimension: 0)
            let (small, layout) = try d.downsampled(ImageLayout(height: side, width: side), to: size)
            XCTAssertEqual(layout, ImageLayout(height: size, width: size))
            XCTAssertEqual(small.dimension, size * size)
            for n in 0..<3 {
                let expected = supersampled(images[n], side: side, to: size)
                for k in 0..<(size * size) {
                    XCTAssertEqual(small.features[n * size * size + k], expected[k], accuracy: 2e-6, "\(side)→\(size) image \(n) pixel \(k)")
                }
            }
        }
    }

    func testBlockMeansWhenTheSizeDividesAndPlanesStaySeparate() throws {
        // Two 4×4 planes → 2×2: each output the mean of a 2×2 block of its own plane.
        let plane0: [Float] = (0..<16).map(Float.init), plane1: [Float] = (0..<16).map { Float(100 + $0) }
        let d = Dataset(name: "t", features: plane0 + plane1, count: 1, dimension: 32, targets: [], targetDimension: 0)
        let (small, layout) = try d.downsampled(ImageLayout(height: 4, width: 4, channels: 2), to: 2)
        XCTAssertEqual(layout.channels, 2)
        XCTAssertEqual(small.features, [2.5, 4.5, 10.5, 12.5, 102.5, 104.5, 110.5, 112.5])
    }

    func testGreyscaleCIFARCatsAndDogsAtEightByEight() throws {
        let files = TestFiles()
        // Records: label, then R, G, B planes of 32×32 with constant values per plane.
        func record(_ label: UInt8, _ r: UInt8, _ g: UInt8, _ b: UInt8) -> [UInt8] {
            [label] + [UInt8](repeating: r, count: 1024) + [UInt8](repeating: g, count: 1024) + [UInt8](repeating: b, count: 1024)
        }
        var bytes = record(3, 200, 100, 50) + record(5, 10, 20, 30) + record(1, 255, 255, 255)
        bytes[1 + 5] = 0   // one red pixel (row 0, column 5) dark: it lands in output pixel (0, 1)
        let path = files.write("batch.bin", bytes)
        let s = try DataFactory.load(DataSpec(source: "cifar10", options: [
            "train_files": .string(path), "classes": [3, 5], "greyscale": true, "downsample": 8, "n_test": 0]), seed: 0)
        XCTAssertEqual(s.train.count, 2)
        XCTAssertEqual(s.train.dimension, 64)
        XCTAssertEqual(s.train.labels, [0, 1])
        let cat = (0.299 * 200 + 0.587 * 100 + 0.114 * 50) / 255, dog = (0.299 * 10 + 0.587 * 20 + 0.114 * 30) / 255
        XCTAssertEqual(Double(s.train.features[0]), cat, accuracy: 1e-6)
        XCTAssertEqual(Double(s.train.features[1]), cat - 0.299 * 200 / 255 / 16, accuracy: 1e-6)
        XCTAssertEqual(Double(s.train.features[64 + 63]), dog, accuracy: 1e-6)
        let mean = try DataFactory.load(DataSpec(source: "cifar10", options: [
            "train_files": .string(path), "classes": [5], "greyscale": "mean", "n_test": 0]), seed: 0)
        XCTAssertEqual(mean.train.dimension, 1024)
        XCTAssertEqual(Double(mean.train.features[0]), 20.0 / 255, accuracy: 1e-6)
    }
}

final class FashionMNISTTests: XCTestCase {
    /// Pixels and labels against the IDX bytes of the Debian package's files, read here by
    /// offset (16-byte image header, 8-byte label header).
    func testFashionMNISTIsTheDebianFilesWithTheirSplit() throws {
        let dir = FashionMNIST.debianDirectory
        guard FileManager.default.fileExists(atPath: dir + "/" + FashionMNIST.files.trainImages) else {
            throw XCTSkip("dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)")
        }
        func raw(_ file: String) throws -> [UInt8] {
            try Gzip.decompress([UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/" + file))), location: file)
        }
        let s = try DataFactory.load(DataSpec(source: "fashion-mnist"), seed: 0)
        XCTAssertEqual(s.train.count, 60_000)
        XCTAssertEqual(s.test.count, 10_000)
        XCTAssertEqual(s.train.dimension, 784)
        for (d, images, labels, picks) in [(s.train, FashionMNIST.files.trainImages, FashionMNIST.files.trainLabels, [0, 1, 31_337, 59_999]),
                                           (s.test, FashionMNIST.files.testImages, FashionMNIST.files.testLabels, [0, 9_999])] {
            let img = try raw(images), lab = try raw(labels)
            for i in picks {
                XCTAssertEqual(d.rowIDs[i], i)
                XCTAssertEqual(d.labels![i], Int(lab[8 + i]), "\(labels) item \(i)")
                XCTAssertEqual(Array(d.features[(i * 784)..<((i + 1) * 784)]), img[(16 + i * 784)..<(16 + (i + 1) * 784)].map { Float($0) / 255 })
            }
        }
    }

    func testAMissingFileIsOneLineSayingWhereToGetIt() throws {
        let missing = loadError { try DataFactory.load(DataSpec(source: "fashion-mnist", options: ["directory": "/nonexistent"]), seed: 0) }
        XCTAssertEqual(missing, "fashion-mnist: directory: /nonexistent/train-images-idx3-ubyte.gz is missing; give `directory` the folder holding the four files of dataset-fashion-mnist")
        if !FileManager.default.fileExists(atPath: FashionMNIST.debianDirectory) {
            let line = loadError { try DataFactory.load(DataSpec(source: "fashion-mnist"), seed: 0) }
            XCTAssertTrue(line.hasSuffix("the Debian package is not installed: apt-get install dataset-fashion-mnist"), line)
        }
    }
}

final class MNIST1DTests: XCTestCase {
    func testShapesBalanceAndDeterminism() throws {
        let s = try DataFactory.load(DataSpec(source: "mnist1d"), seed: 4)
        XCTAssertEqual(s.train.count, 4000)
        XCTAssertEqual(s.test.count, 1000)
        XCTAssertEqual(s.train.dimension, 40)
        XCTAssertEqual(s.train.classCount, 10)
        let all = MNIST1D.generate(MNIST1D.Settings(), seed: 4)
        XCTAssertEqual(classCounts(all), [Int](repeating: 500, count: 10))
        // z-scored over the whole set, as the original.
        let mean = all.features.reduce(0) { $0 + Double($1) } / Double(all.features.count)
        let sd = (all.features.reduce(0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(all.features.count)).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 1e-5)
        XCTAssertEqual(sd, 1, accuracy: 1e-4)
        XCTAssertEqual(try DataFactory.load(DataSpec(source: "mnist1d"), seed: 4).train, s.train)
        XCTAssertNotEqual(MNIST1D.generate(MNIST1D.Settings(), seed: 5).features, all.features)
    }

    func testTemplatesStartAndEndAtZero() {
        XCTAssertEqual(MNIST1D.templates.count, 10)
        for t in MNIST1D.templates {
            XCTAssertEqual(t.count, 12)
            XCTAssertEqual(t[0], 0)
            XCTAssertEqual(t[11], 0, accuracy: 1e-12)
        }
        // Digit 0: (5, 6, 6.5, 6.75, 7, …): z-scored with mean 6.458… then shifted and ÷ 6.
        let raw = [5, 6, 6.5, 6.75, 7, 7, 7, 7, 6.75, 6.5, 6, 5]
        let m = raw.reduce(0, +) / 12, sd = (raw.map { ($0 - m) * ($0 - m) }.reduce(0, +) / 12).squareRoot()
        XCTAssertEqual(MNIST1D.templates[0][4], ((7 - m) / sd - (5 - m) / sd) / 6, accuracy: 1e-12)
    }

    /// With no noise, shear, scale or shift, a sample is the padded template stretched to 52 points
    /// and resampled to 40, z-scored over the set: computed here with interpolation by position.
    func testANoiselessSampleIsThePaddedResampledTemplate() throws {
        let s = try DataFactory.load(DataSpec(source: "mnist1d", options: [
            "num_samples": 20, "padding": [40, 40], "scale_coeff": 0, "max_translation": 1, "corr_noise_scale": 0,
            "iid_noise_scale": 0, "shear_scale": 0, "n_test": 0]), seed: 0)
        func interpolate(_ y: [Double], at t: Double) -> Double {   // y sampled at 0, 1/(n−1), …, 1
            let x = t * Double(y.count - 1)
            let lo = Int(x.rounded(.down)), hi = min(lo + 1, y.count - 1)
            return y[lo] + (x - Double(lo)) * (y[hi] - y[lo])
        }
        var expected: [[Double]] = []
        for t in MNIST1D.templates {
            let padded = t.map { $0 + 1e-8 } + [Double](repeating: 0, count: 40)
            let stretched = (0..<52).map { interpolate(padded, at: Double($0) / 51) }   // 12 + padding high
            expected.append((0..<40).map { interpolate(stretched, at: Double($0) / 39) })
        }
        let flat = expected.flatMap { [$0, $0] }.flatMap { $0 }   // two samples per digit
        let mean = flat.reduce(0, +) / Double(flat.count)
        let sd = (flat.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(flat.count)).squareRoot()
        XCTAssertEqual(s.train.count, 20)
        for i in 0..<20 {
            let digit = s.train.rowIDs[i] / 2
            XCTAssertEqual(s.train.labels![i], digit)
            for j in 0..<40 {
                XCTAssertEqual(Double(s.train.features[i * 40 + j]), (expected[digit][j] - mean) / sd, accuracy: 1e-5, "digit \(digit) point \(j)")
            }
        }
    }

    func testTranslationIsACircularShiftAndTheNoiseFillsOnlyTheBackground() {
        var settings = MNIST1D.Settings()
        settings.scaleCoefficient = 0; settings.shearScale = 0; settings.iidNoiseScale = 0
        settings.padding = (60, 60); settings.finalLength = 72   // no resampling: 12 + 60 = 72 points
        var rng = RandomSource(seed: 3, stream: .generator)
        let x = MNIST1D.example(MNIST1D.templates[3], settings, &rng)
        let template = MNIST1D.templates[3].map { $0 + 1e-8 }
        // The template sits at one circular offset k; every other point is background noise.
        func placed(at k: Int) -> Bool {
            for j in 0..<12 where abs(x[(k + j) % 72] - template[j]) >= 1e-12 { return false }
            return true
        }
        let k = (0..<48).first(where: placed)
        XCTAssertNotNil(k)
        let background = (0..<72).filter { i in !(0..<12).contains(((i - k!) % 72 + 72) % 72) }
        XCTAssertTrue(background.allSatisfy { x[$0] != 0 })
        XCTAssertTrue(background.allSatisfy { abs(x[$0]) < 1.5 })   // 0.25 × smoothed N(0, 1)
    }

    func testGaussianSmoothingMirrorsTheEdges() {
        // A unit impulse at the first point: mirrored, it counts twice at distances 0 and 1 …
        let x = [1.0] + [Double](repeating: 0, count: 20)
        let y = MNIST1D.gaussianSmooth(x, sigma: 2)
        let w = (-8...8).map { exp(-Double($0 * $0) / 8) }, total = w.reduce(0, +)
        XCTAssertEqual(y[0], (w[8] + w[7]) / total, accuracy: 1e-12)   // offsets 0 and −1 (mirror of 0)
        XCTAssertEqual(y[3], (w[8 + 3] + w[8 + 4]) / total, accuracy: 1e-12)
        XCTAssertEqual(y.reduce(0, +), 1, accuracy: 1e-9)
    }
}

final class DiamondsTests: XCTestCase {
    /// An independent parse of data/diamonds.csv.gz (quoted cells, header first), done once.
    static let parsed: (header: [String], rows: [[String]]) = {
        let lines = try! dataFileText("diamonds.csv.gz").split(separator: "\n")
        let cells = lines.map { $0.split(separator: ",", omittingEmptySubsequences: false).map { String($0.filter { $0 != "\"" }) } }
        return (cells[0], Array(cells.dropFirst()))
    }()
    func rows() throws -> (header: [String], rows: [[String]]) { DiamondsTests.parsed }

    func testNumericalFeaturesAndLogPriceAreTheFilesRows() throws {
        let (header, rows) = try rows()
        XCTAssertEqual(rows.count, 53_940)
        let s = try DataFactory.load(DataSpec(source: "diamonds", options: [
            "standardize": false, "standardize_targets": false, "n_test": 10_000]), seed: 2)
        XCTAssertEqual(s.train.count + s.test.count, 53_940)
        XCTAssertEqual(s.train.dimension, 6)
        let columns = ["carat", "depth", "table", "x", "y", "z"].map { header.firstIndex(of: $0)! }
        let price = header.firstIndex(of: "price")!
        for d in [s.train, s.test] {
            for i in stride(from: 0, to: d.count, by: 97) {
                let row = rows[d.rowIDs[i]]
                XCTAssertEqual(Array(d.features[(i * 6)..<(i * 6 + 6)]), columns.map { Float(row[$0])! })
                XCTAssertEqual(Double(d.targets[i]), log(Double(row[price])!), accuracy: 1e-5)
            }
        }
    }

    func testCategoricalsOrdinalAndOneHot() throws {
        let (_, rows) = try rows()
        let ordinal = try DataFactory.load(DataSpec(source: "diamonds", options: [
            "categoricals": "ordinal", "log_target": false, "standardize": false, "standardize_targets": false, "n_test": 0]), seed: 0)
        XCTAssertEqual(ordinal.train.dimension, 9)
        // Row 1: 0.23, Ideal, E, SI2, 61.5, 55, price 326, 3.95, 3.98, 2.43.
        let first = ordinal.train.rowIDs.firstIndex(of: 0)!
        XCTAssertEqual(Array(ordinal.train.features[(first * 9)..<(first * 9 + 9)]), [0.23, 4, 1, 1, 61.5, 55, 3.95, 3.98, 2.43])
        XCTAssertEqual(ordinal.train.targets[first], 326)
        XCTAssertEqual(rows[0][2], "Ideal")
        let onehot = try DataFactory.load(DataSpec(source: "diamonds", options: [
            "categoricals": "onehot", "standardize": false, "n_test": 0]), seed: 0)
        XCTAssertEqual(onehot.train.dimension, 1 + 5 + 7 + 8 + 5)
        let f = Array(onehot.train.features[(first * 26)..<(first * 26 + 26)])
        XCTAssertEqual(f[1...5].map { $0 }, [0, 0, 0, 0, 1])           // cut = Ideal
        XCTAssertEqual(f[6...12].map { $0 }, [0, 1, 0, 0, 0, 0, 0])    // color = E
        XCTAssertEqual(f[13...20].map { $0 }, [0, 1, 0, 0, 0, 0, 0, 0]) // clarity = SI2
    }

    /// `auto` logs the non-negative columns whose skewness (computed here) exceeds 1.
    func testAutoLogsTheSkewedColumns() throws {
        let (header, rows) = try rows()
        let names = ["carat", "depth", "table", "x", "y", "z"]
        var skewed: [String] = []
        for name in names {
            let v = rows.map { Double($0[header.firstIndex(of: name)!])! }
            let m = v.reduce(0, +) / Double(v.count)
            let m2 = v.map { pow($0 - m, 2) }.reduce(0, +) / Double(v.count), m3 = v.map { pow($0 - m, 3) }.reduce(0, +) / Double(v.count)
            if m3 / pow(m2, 1.5) > 1 { skewed.append(name) }
        }
        XCTAssertEqual(skewed, ["carat", "y", "z"])   // skewness 1.12, 2.43, 1.52
        let s = try DataFactory.load(DataSpec(source: "diamonds", options: ["log_features": "auto", "standardize": false, "n_test": 0]), seed: 0)
        let first = s.train.rowIDs.firstIndex(of: 0)!
        let expected: [Float] = [Float(log1p(0.23)), 61.5, 55, 3.95, Float(log1p(3.98)), Float(log1p(2.43))]
        for j in 0..<6 { XCTAssertEqual(s.train.features[first * 6 + j], expected[j], accuracy: 1e-6) }
    }
}

final class TabularPreprocessingTests: XCTestCase {
    let files = TestFiles()

    func testLogOptionsOnCSV() throws {
        var text = "a,b,y\n"
        for i in 0..<30 { text += "\(i * i * i),\(i % 7),\(i + 1)\n" }
        let path = files.write("t.csv", text: text)
        func load(_ extra: [String: DataValue]) throws -> DataSplit {
            var options: [String: DataValue] = ["path": .string(path), "target_column": "y", "n_test": 0,
                                                "standardize": false, "standardize_targets": false]
            options.merge(extra) { $1 }
            return try DataFactory.load(DataSpec(source: "csv", options: options), seed: 0)
        }
        let named = try load(["log_features": ["b"], "log_target": true])
        for i in 0..<30 {
            let r = named.train.rowIDs[i]
            XCTAssertEqual(named.train.features[2 * i], Float(r * r * r))
            XCTAssertEqual(named.train.features[2 * i + 1], Float(log1p(Double(r % 7))), accuracy: 1e-6)
            XCTAssertEqual(named.train.targets[i], Float(log(Double(r + 1))), accuracy: 1e-6)
        }
        // a = i³: logged exactly when its skewness, computed here, exceeds 1.
        let a = (0..<30).map { Double($0 * $0 * $0) }
        let auto = try load(["log_features": "auto"])
        let aLogged = auto.train.features[2 * auto.train.rowIDs.firstIndex(of: 29)!] != Float(29 * 29 * 29)
        XCTAssertEqual(aLogged, TabularPreprocessing.skewness(a) > 1)
        XCTAssertEqual(try load(["log_features": "none"]).train.features, try load([:]).train.features)
    }

    func testRefusals() {
        let path = files.write("n.csv", text: "a,b,y\n1,-2,3\n2,5,-1\n")
        func error(_ extra: [String: DataValue]) -> String {
            var options: [String: DataValue] = ["path": .string(path), "target_column": "y"]
            options.merge(extra) { $1 }
            return loadError { try DataFactory.load(DataSpec(source: "csv", options: options), seed: 0) }
        }
        XCTAssertEqual(error(["log_features": ["bb"]]), "\(path): log_features: no feature column named \"bb\"; did you mean \"b\"? (features: a, b)")
        XCTAssertEqual(error(["log_features": ["b"]]), "\(path): log_features: column \"b\" has -2.0 in data row 1; ln(1 + x) needs x > −1")
        XCTAssertEqual(error(["log_target": true]), "\(path): log_target: target -1.0 in data row 2 is not positive; ln(y) needs y > 0")
        XCTAssertEqual(loadError { try DataFactory.load(DataSpec(source: "diamonds", options: ["categoricals": "drp"]), seed: 0) },
                       "diamonds: categoricals: must be one of drop, ordinal, onehot, got drp; did you mean `drop`?")
    }
}
