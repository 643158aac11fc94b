import CZlib
import Foundation

/// A PNG decoded to 8-bit RGBA, enough to check what a browser drew: 8-bit greyscale, grey +
/// alpha, RGB and RGBA, not interlaced (what Chromium's screenshots are). Chunk CRCs are
/// verified and all five row filters undone.
///
///     let image = try PNGImage(contentsOf: URL(fileURLWithPath: "/tmp/shot.png"))
///     image.fraction(near: PNGImage.Color(hex: "#1f77b4"))   // 0.004: 0.4% of pixels are that blue
struct PNGImage {
    struct Color: Equatable, CustomStringConvertible {
        var r: UInt8
        var g: UInt8
        var b: UInt8
        var a: UInt8 = 255

        /// `#rrggbb`; anything else is black, which no test expects to find by accident.
        init(hex: String) {
            let digits = hex.hasPrefix("#") ? String(hex.dropFirst()) : hex
            let value = digits.count == 6 ? UInt32(digits, radix: 16) ?? 0 : 0
            (r, g, b) = (UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF))
        }

        init(r: UInt8, g: UInt8, b: UInt8, a: UInt8 = 255) {
            (self.r, self.g, self.b, self.a) = (r, g, b, a)
        }

        /// True when every channel of RGB is within `tolerance` of `other`'s.
        func isNear(_ other: Color, tolerance: Int) -> Bool {
            abs(Int(r) - Int(other.r)) <= tolerance && abs(Int(g) - Int(other.g)) <= tolerance
                && abs(Int(b) - Int(other.b)) <= tolerance
        }

        var description: String { String(format: "#%02x%02x%02x", r, g, b) + (a == 255 ? "" : " alpha \(a)") }
    }

    struct DecodeError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = "PNG: \(description)" }
    }

    let width: Int
    let height: Int
    /// Row-major RGBA, 4 bytes per pixel.
    let rgba: [UInt8]

    init(contentsOf url: URL) throws {
        try self.init(bytes: [UInt8](try Data(contentsOf: url)))
    }

    init(bytes: [UInt8]) throws {
        let signature: [UInt8] = [137, 80, 78, 71, 13, 10, 26, 10]
        guard bytes.count >= 8, Array(bytes[0..<8]) == signature else { throw DecodeError("not a PNG (bad signature)") }
        var offset = 8
        var header: (width: Int, height: Int, depth: UInt8, colorType: UInt8, interlace: UInt8)?
        var compressed: [UInt8] = []
        func readUInt32(_ at: Int) -> Int {
            Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
        }
        chunks: while true {
            guard offset + 12 <= bytes.count else { throw DecodeError("truncated before IEND") }
            let length = readUInt32(offset)
            guard length <= bytes.count - offset - 12 else { throw DecodeError("chunk at byte \(offset) runs past the end") }
            let type = String(decoding: bytes[offset + 4..<offset + 8], as: UTF8.self)
            let data = offset + 8..<offset + 8 + length
            let stored = readUInt32(offset + 8 + length)
            let computed = bytes[offset + 4..<offset + 8 + length].withContiguousStorageIfAvailable {
                Int(crc32(0, $0.baseAddress, uInt($0.count)))
            } ?? -1
            guard stored == computed else { throw DecodeError("CRC mismatch in \(type) chunk at byte \(offset)") }
            switch type {
            case "IHDR":
                guard length == 13 else { throw DecodeError("IHDR of \(length) bytes") }
                let d = data.lowerBound
                header = (readUInt32(d), readUInt32(d + 4), bytes[d + 8], bytes[d + 9], bytes[d + 12])
            case "IDAT":
                compressed.append(contentsOf: bytes[data])
            case "IEND":
                break chunks
            default:
                break   // ancillary chunks (gamma, text, physical size) do not change the pixels
            }
            offset = data.upperBound + 4
        }
        guard let header else { throw DecodeError("no IHDR chunk") }
        let channelsByType: [UInt8: Int] = [0: 1, 2: 3, 4: 2, 6: 4]
        guard header.depth == 8, let channels = channelsByType[header.colorType] else {
            throw DecodeError("unsupported bit depth \(header.depth) / colour type \(header.colorType) (8-bit grey, RGB, RGBA only)")
        }
        guard header.interlace == 0 else { throw DecodeError("interlaced images are not supported") }
        guard header.width > 0, header.height > 0, header.width <= 1 << 15, header.height <= 1 << 15 else {
            throw DecodeError("unreasonable size \(header.width) × \(header.height)")
        }
        let stride = header.width * channels
        var raw = try PNGImage.inflate(compressed, expectedCount: header.height * (stride + 1))
        try PNGImage.unfilter(&raw, height: header.height, stride: stride, bytesPerPixel: channels)

        var rgba = [UInt8](repeating: 255, count: header.width * header.height * 4)
        raw.withUnsafeBufferPointer { src in
            rgba.withUnsafeMutableBufferPointer { dst in
                for y in 0..<header.height {
                    let row = y * (stride + 1) + 1
                    for x in 0..<header.width {
                        let s = row + x * channels, o = (y * header.width + x) * 4
                        switch channels {
                        case 1, 2:
                            (dst[o], dst[o + 1], dst[o + 2]) = (src[s], src[s], src[s])
                            if channels == 2 { dst[o + 3] = src[s + 1] }
                        default:
                            (dst[o], dst[o + 1], dst[o + 2]) = (src[s], src[s + 1], src[s + 2])
                            if channels == 4 { dst[o + 3] = src[s + 3] }
                        }
                    }
                }
            }
        }
        (width, height, self.rgba) = (header.width, header.height, rgba)
    }

    subscript(x: Int, y: Int) -> Color {
        let o = (y * width + x) * 4
        return Color(r: rgba[o], g: rgba[o + 1], b: rgba[o + 2], a: rgba[o + 3])
    }

    /// Pixels (in `rows`, all by default) for which `predicate` holds.
    func count(rows: Range<Int>? = nil, columns: Range<Int>? = nil, where predicate: (Color) -> Bool) -> Int {
        let rows = (rows ?? 0..<height).clamped(to: 0..<height)
        let columns = (columns ?? 0..<width).clamped(to: 0..<width)
        return rgba.withUnsafeBufferPointer { p in
            var n = 0
            for y in rows {
                for x in columns {
                    let o = (y * width + x) * 4
                    if predicate(Color(r: p[o], g: p[o + 1], b: p[o + 2], a: p[o + 3])) { n += 1 }
                }
            }
            return n
        }
    }

    /// How many pixels are within `tolerance` (per RGB channel) of `color`.
    func count(near color: Color, tolerance: Int = 24, rows: Range<Int>? = nil, columns: Range<Int>? = nil) -> Int {
        count(rows: rows, columns: columns) { $0.isNear(color, tolerance: tolerance) }
    }

    /// The fraction of all pixels within `tolerance` of `color`.
    func fraction(near color: Color, tolerance: Int = 24) -> Double {
        Double(count(near: color, tolerance: tolerance)) / Double(max(width * height, 1))
    }

    /// Per row, how many pixels in `columns` are within `tolerance` of any of `colors`.
    func rowCounts(near colors: [Color], tolerance: Int = 24, columns: Range<Int>? = nil) -> [Int] {
        let columns = (columns ?? 0..<width).clamped(to: 0..<width)
        return rgba.withUnsafeBufferPointer { p in
            (0..<height).map { y in
                var n = 0
                for x in columns {
                    let o = (y * width + x) * 4
                    let pixel = Color(r: p[o], g: p[o + 1], b: p[o + 2])
                    if colors.contains(where: { pixel.isNear($0, tolerance: tolerance) }) { n += 1 }
                }
                return n
            }
        }
    }

    /// The most common colour: the page background of a screenshot.
    func dominantColor() -> Color {
        var counts: [UInt32: Int] = [:]
        for y in Swift.stride(from: 0, to: height, by: 4) {
            for x in Swift.stride(from: 0, to: width, by: 4) {
                let c = self[x, y]
                counts[UInt32(c.r) << 16 | UInt32(c.g) << 8 | UInt32(c.b), default: 0] += 1
            }
        }
        let best = counts.max { $0.value < $1.value }?.key ?? 0
        return Color(r: UInt8(best >> 16 & 0xFF), g: UInt8(best >> 8 & 0xFF), b: UInt8(best & 0xFF))
    }

    private static func inflate(_ input: [UInt8], expectedCount: Int) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit_(&stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DecodeError("zlib could not be initialized")
        }
        defer { inflateEnd(&stream) }
        // One spare byte: a stream that still has output when `expectedCount` are written is
        // longer than the header says.
        var output = [UInt8](repeating: 0, count: expectedCount + 1)
        var input = input
        let (status, produced): (Int32, Int) = input.withUnsafeMutableBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = inBuf.baseAddress
                stream.avail_in = uInt(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = uInt(outBuf.count)
                let status = CZlib.inflate(&stream, Z_FINISH)
                return (status, outBuf.count - Int(stream.avail_out))
            }
        }
        guard status == Z_STREAM_END else {
            let reason = stream.msg.map { String(cString: $0) } ?? "status \(status)"
            throw DecodeError("image data does not inflate (\(reason), \(produced) of \(expectedCount) bytes)")
        }
        guard produced == expectedCount else {
            throw DecodeError("image data inflates to \(produced) bytes, the header implies \(expectedCount)")
        }
        output.removeLast()
        return output
    }

    /// Undoes the per-row filters in place (PNG specification §9: None, Sub, Up, Average,
    /// Paeth); each row is its filter-type byte followed by `stride` bytes.
    private static func unfilter(_ raw: inout [UInt8], height: Int, stride: Int, bytesPerPixel bpp: Int) throws {
        try raw.withUnsafeMutableBufferPointer { p in
            for y in 0..<height {
                let row = y * (stride + 1)
                let prior = row - (stride + 1)   // the previous row's filter byte; unused for y == 0
                let filter = p[row]
                for i in 0..<stride {
                    let at = row + 1 + i
                    let a = i >= bpp ? Int(p[at - bpp]) : 0
                    let b = y > 0 ? Int(p[prior + 1 + i]) : 0
                    let c = i >= bpp && y > 0 ? Int(p[prior + 1 + i - bpp]) : 0
                    let predictor: Int
                    switch filter {
                    case 0: predictor = 0
                    case 1: predictor = a
                    case 2: predictor = b
                    case 3: predictor = (a + b) / 2
                    case 4:
                        let estimate = a + b - c
                        let (pa, pb, pc) = (abs(estimate - a), abs(estimate - b), abs(estimate - c))
                        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
                    default: throw DecodeError("unknown filter type \(filter) on row \(y)")
                    }
                    p[at] = UInt8(truncatingIfNeeded: Int(p[at]) + predictor)
                }
            }
        }
    }
}
