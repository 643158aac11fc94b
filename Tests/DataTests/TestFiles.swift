import Foundation
@testable import Data

/// A scratch folder of fixture files written by a test, removed when it is released.
final class TestFiles {
    let folder: URL

    init() {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("tlens-data-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8], gzip: Bool = false) -> String {
        let url = folder.appendingPathComponent(name)
        try! Data(gzip ? Gzip.compress(bytes) : bytes).write(to: url)
        return url.path
    }

    @discardableResult
    func write(_ name: String, text: String) -> String { write(name, Array(text.utf8)) }
}

/// IDX bytes: magic 00 00 08 NDIMS, big-endian sizes, payload.
func idx(dims: [Int], payload: [UInt8], magic: [UInt8]? = nil) -> [UInt8] {
    var b = magic ?? [0, 0, 0x08, UInt8(dims.count)]
    for d in dims { b += [UInt8(d >> 24 & 0xff), UInt8(d >> 16 & 0xff), UInt8(d >> 8 & 0xff), UInt8(d & 0xff)] }
    return b + payload
}

func loadError(_ body: () throws -> Any) -> String {
    do { _ = try body(); return "no error" } catch { return "\(error)" }
}

/// How many examples of each class 0..<classCount `d` holds.
func classCounts(_ d: Dataset) -> [Int] {
    var counts = [Int](repeating: 0, count: d.classCount ?? 0)
    for l in d.labels ?? [] { counts[l] += 1 }
    return counts
}
