import Foundation
import XCTest
@testable import Data
import Linalg

/// The CSV and IDX loaders on mutated copies of small valid files, in process: truncations, byte
/// flips, NUL bytes, invalid UTF-8, huge/negative/NaN cells, IDX headers promising terabytes. No
/// input may trap or allocate what the header promises before the bytes are there; every
/// refusal is a `DataError` of one line naming the file (and line or offset where there is one).
final class LoaderFuzzTests: XCTestCase {
    static let iterations = 6_000

    func checkRefusal(_ error: Error, location: String, iteration: Int, file: StaticString = #filePath, line: UInt = #line) {
        guard let error = error as? DataError else { return XCTFail("iteration \(iteration): not a DataError: \(error)", file: file, line: line) }
        XCTAssertEqual(error.location, location, "iteration \(iteration)", file: file, line: line)
        XCTAssertFalse(error.description.contains(where: \.isNewline), "iteration \(iteration): \(error)", file: file, line: line)
        XCTAssertTrue(error.description.hasPrefix(location + ":"), "iteration \(iteration): \(error)", file: file, line: line)
    }

    func mutateBytes(_ bytes: inout [UInt8], _ random: inout RandomSource) {
        switch random.below(5) {
        case 0: bytes = Array(bytes.prefix(random.below(bytes.count + 1)))
        case 1: for _ in 0..<(1 + random.below(4)) where !bytes.isEmpty { bytes[random.below(bytes.count)] ^= UInt8(1 << random.below(8)) }
        case 2: bytes.insert(contentsOf: random.pick([[0], [0xFF], [0xC3], [0xED, 0xA0, 0x80], [0x0D], [0x22]]), at: random.below(bytes.count + 1))
        case 3: if !bytes.isEmpty { bytes[random.below(bytes.count)] = UInt8(truncatingIfNeeded: random.nextUInt64()) }
        default:
            let a = random.below(bytes.count + 1)
            bytes.removeSubrange(a..<min(bytes.count, a + random.below(12)))
        }
    }

    func testMutatedCSVFilesNeverTrapAndRefuseInOneLine() {
        var base = "x1,x2,y\n"
        for i in 0..<8 { base += "\(Double(i) * 0.5),\(i * i),\(i % 3)\n" }
        let cells = ["NaN", "nan", "-inf", "inf", "1e400", "-1e400", "-1", "-0", "1e-320", "99999999999999999999", "\"\"",
                     "\"1,2\"", "\"unterminated", "\u{0}", "\u{FEFF}1", "0x1p3", "", "  ", "1_000", "١", "+.5"]
        var random = RandomSource(seed: 7, stream: .other)
        var accepted = 0, refused = 0
        let start = Date()
        for iteration in 0..<Self.iterations {
            var bytes = Array(base.utf8)
            if random.below(2) == 0 {
                // A cell replaced with a hostile number or text.
                var lines = base.components(separatedBy: "\n")
                let row = 1 + random.below(8)
                var fields = lines[row].components(separatedBy: ",")
                fields[random.below(fields.count)] = random.pick(cells)
                lines[row] = fields.joined(separator: random.below(10) == 0 ? ";" : ",")
                bytes = Array(lines.joined(separator: random.pick(["\n", "\r\n", "\r"])).utf8)
            }
            for _ in 0..<random.below(3) { mutateBytes(&bytes, &random) }
            do {
                let table = try CSVTable.parse(bytes: bytes, location: "fuzz.csv")
                XCTAssertTrue(table.values.allSatisfy(\.isFinite), "iteration \(iteration)")
                _ = try table.dataset(name: "csv", targetColumns: ["y"], classification: random.below(2) == 0, location: "fuzz.csv")
                accepted += 1
            } catch {
                refused += 1
                checkRefusal(error, location: "fuzz.csv", iteration: iteration)
            }
        }
        print("CSV fuzz: \(Self.iterations) inputs, \(accepted) accepted, \(refused) refused, "
              + String(format: "%.1f s", Date().timeIntervalSince(start)))
        XCTAssertGreaterThan(refused, 0)
        XCTAssertGreaterThan(accepted, 0)
    }

    func idx(dims: [UInt32], payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, 8, UInt8(dims.count)]
        for d in dims { bytes += [UInt8(d >> 24), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)] }
        return bytes + payload
    }

    func testMutatedIDXFilesNeverTrapNorAllocateWhatTheHeaderPromises() {
        let images = idx(dims: [3, 2, 2], payload: (0..<12).map { UInt8($0 * 20) })
        let labels = idx(dims: [3], payload: [7, 0, 9])
        let hugeSizes: [UInt32] = [0, 1, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 60_000, 28]
        var random = RandomSource(seed: 11, stream: .other)
        var accepted = 0, refused = 0
        let start = Date()
        for iteration in 0..<Self.iterations {
            var img = images, lab = labels
            if random.below(3) == 0 {
                // Header sizes that promise anything up to 2^96 bytes.
                img = idx(dims: (0..<3).map { _ in random.pick(hugeSizes) }, payload: Array(images[16...]))
                if random.below(2) == 0 { lab = idx(dims: [random.pick(hugeSizes)], payload: Array(labels[8...])) }
            }
            if random.below(2) == 0 { mutateBytes(&img, &random) } else { mutateBytes(&lab, &random) }
            do {
                let i = try IDX.parse(img, location: "img.idx", expectedDims: 3, what: "images")
                XCTAssertEqual(i.bytes.count, i.dims.reduce(1, *), "iteration \(iteration)")
                let l = try IDX.parse(lab, location: "lab.idx", expectedDims: 1, what: "labels")
                let d = try IDX.dataset(images: i, imagesLocation: "img.idx", labels: l, labelsLocation: "lab.idx", name: "mnist")
                XCTAssertEqual(d.features.count, d.count * d.dimension)
                accepted += 1
            } catch {
                refused += 1
                let location = (error as? DataError)?.location ?? ""
                XCTAssertTrue(["img.idx", "lab.idx"].contains(location), "iteration \(iteration): \(error)")
                checkRefusal(error, location: location, iteration: iteration)
            }
        }
        print("IDX fuzz: \(Self.iterations) inputs, \(accepted) accepted, \(refused) refused, "
              + String(format: "%.1f s", Date().timeIntervalSince(start)))
        XCTAssertGreaterThan(refused, 0)
        XCTAssertGreaterThan(accepted, 0)
    }

    func testIDXHeaderPromisingTwoToTheNinetySixBytesIsRefusedAsTruncated() {
        let header = idx(dims: [0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF], payload: [1, 2, 3])
        XCTAssertEqual(loadError { try IDX.parse(header, location: "big.idx", expectedDims: 3, what: "images") },
                       "big.idx: truncated: header promises 4294967295×4294967295×4294967295 bytes after the 16-byte header, found 3")
        let noPixels = idx(dims: [2, 0, 5], payload: [])
        let labels = idx(dims: [2], payload: [1, 2])
        XCTAssertEqual(loadError {
            try IDX.dataset(images: try IDX.parse(noPixels, location: "flat.idx", expectedDims: 3, what: "images"), imagesLocation: "flat.idx",
                            labels: try IDX.parse(labels, location: "lab.idx", expectedDims: 1, what: "labels"), labelsLocation: "lab.idx", name: "mnist")
        }, "flat.idx: images of 0×5 pixels hold no pixels")
    }
}
