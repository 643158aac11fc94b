import CZlib
import Foundation
import XCTest

/// The PNG decoder the browser tests rely on, checked against PNGs written here with every row
/// filter, so a decoding bug cannot pass for a rendering bug (or hide one).
final class PNGImageTests: XCTestCase {
    /// A PNG of `pixels` (row-major, `channels` bytes each), row y filtered with filter y % 5.
    private func encode(width: Int, height: Int, channels: Int, pixels: [UInt8], corruptCRC: Bool = false) -> [UInt8] {
        let stride = width * channels
        var raw: [UInt8] = []
        for y in 0..<height {
            let filter = UInt8(y % 5)
            raw.append(filter)
            for i in 0..<stride {
                let x = Int(pixels[y * stride + i])
                let a = i >= channels ? Int(pixels[y * stride + i - channels]) : 0
                let b = y > 0 ? Int(pixels[(y - 1) * stride + i]) : 0
                let c = i >= channels && y > 0 ? Int(pixels[(y - 1) * stride + i - channels]) : 0
                let predictor: Int
                switch filter {
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                case 4:
                    let p = a + b - c
                    predictor = abs(p - a) <= abs(p - b) && abs(p - a) <= abs(p - c) ? a : abs(p - b) <= abs(p - c) ? b : c
                default: predictor = 0
                }
                raw.append(UInt8(truncatingIfNeeded: x - predictor))
            }
        }
        var compressedLength = compressBound(uLong(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(compressedLength))
        XCTAssertEqual(compress(&compressed, &compressedLength, raw, uLong(raw.count)), Z_OK)
        compressed.removeLast(compressed.count - Int(compressedLength))

        func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            let crc = Int(crc32(0, body, uInt(body.count))) ^ (corruptCRC && type == "IDAT" ? 1 : 0)
            return be32(data.count) + body + be32(crc)
        }
        let colorType: UInt8 = [1: 0, 2: 4, 3: 2, 4: 6][channels]!
        return [137, 80, 78, 71, 13, 10, 26, 10]
            + chunk("IHDR", be32(width) + be32(height) + [8, colorType, 0, 0, 0])
            + chunk("tEXt", Array("Comment\u{0}ignored".utf8))
            + chunk("IDAT", Array(compressed.prefix(compressed.count / 2)))
            + chunk("IDAT", Array(compressed.suffix(from: compressed.count / 2)))
            + chunk("IEND", [])
    }

    private func pattern(width: Int, height: Int, channels: Int) -> [UInt8] {
        (0..<width * height * channels).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ ($0 / 7) &* 11) }
    }

    func testDecodesEveryFilterTypeAndColourType() throws {
        let (width, height) = (13, 11)
        for channels in [1, 2, 3, 4] {
            let pixels = pattern(width: width, height: height, channels: channels)
            let image = try PNGImage(bytes: encode(width: width, height: height, channels: channels, pixels: pixels))
            XCTAssertEqual(image.width, width)
            XCTAssertEqual(image.height, height)
            for y in 0..<height {
                for x in 0..<width {
                    let p = (y * width + x) * channels
                    let expected: PNGImage.Color
                    switch channels {
                    case 1: expected = .init(r: pixels[p], g: pixels[p], b: pixels[p])
                    case 2: expected = .init(r: pixels[p], g: pixels[p], b: pixels[p], a: pixels[p + 1])
                    case 3: expected = .init(r: pixels[p], g: pixels[p + 1], b: pixels[p + 2])
                    default: expected = .init(r: pixels[p], g: pixels[p + 1], b: pixels[p + 2], a: pixels[p + 3])
                    }
                    XCTAssertEqual(image[x, y], expected, "channels \(channels), pixel (\(x), \(y)), filter \(y % 5)")
                }
            }
        }
    }

    func testCountsPixelsNearAColour() throws {
        // Left half pure blue, right half within 10 of it, one red pixel.
        let (width, height) = (10, 4)
        var pixels: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width {
                pixels += x == 0 && y == 0 ? [255, 0, 0] : x < 5 ? [0x1f, 0x77, 0xb4] : [0x29, 0x6d, 0xb4]
            }
        }
        let image = try PNGImage(bytes: encode(width: width, height: height, channels: 3, pixels: pixels))
        let blue = PNGImage.Color(hex: "#1f77b4")
        XCTAssertEqual(image.count(near: blue, tolerance: 0), 19)
        XCTAssertEqual(image.count(near: blue, tolerance: 10), 39)
        XCTAssertEqual(image.fraction(near: PNGImage.Color(hex: "#ff0000"), tolerance: 0), 1.0 / 40)
        XCTAssertEqual(image.count(near: blue, tolerance: 10, rows: 0..<1, columns: 0..<5), 4)
        XCTAssertEqual(image.rowCounts(near: [blue], tolerance: 0), [4, 5, 5, 5])
    }

    func testRejectsCorruptFiles() {
        let good = encode(width: 3, height: 2, channels: 3, pixels: pattern(width: 3, height: 2, channels: 3))
        XCTAssertThrowsError(try PNGImage(bytes: Array(good.dropFirst())))
        XCTAssertThrowsError(try PNGImage(bytes: Array(good.prefix(good.count - 20))))
        XCTAssertThrowsError(try PNGImage(bytes: encode(width: 3, height: 2, channels: 3, pixels: pattern(width: 3, height: 2, channels: 3),
                                                        corruptCRC: true)))
        XCTAssertThrowsError(try PNGImage(bytes: []))
    }
}
