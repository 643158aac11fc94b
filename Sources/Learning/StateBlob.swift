import Linalg

/// A versioned binary blob of a learner's or a lens's state (lens.md §11, docs/schema.md
/// "checkpoints"). Layout, all little-endian:
///
///     magic   4 bytes   "TLSB"
///     kind    4 bytes   ASCII tag of what wrote it ("MLPL", "LENS", …)
///     version u32       the writer's layout version
///     fields  …         u64 counts, f32/f64/u64 arrays, in the order the writer defines
///
/// Readers check magic, kind and version first and every length against what is left, so a
/// blob of the wrong kind, version or size is refused with a message instead of a trap.
///
///     var w = StateWriter(kind: "MLPL", version: 1)
///     w.floats(θ); w.integer(stepsTaken)
///     var r = try StateReader(w.bytes, kind: "MLPL", version: 1)
///     let θ = try r.floats(count: P); let t = try r.integer()
public struct StateWriter {
    public private(set) var bytes: [UInt8] = []

    /// `capacity`: bytes to reserve, when the caller knows about how large the blob will be.
    public init(kind: String, version: UInt32, capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
        bytes.append(contentsOf: Array("TLSB".utf8))
        bytes.append(contentsOf: StateWriter.tag(kind))
        append(UInt64(version), width: 4)
    }

    static func tag(_ kind: String) -> [UInt8] {
        let utf8 = Array(kind.utf8.prefix(4))
        return utf8 + [UInt8](repeating: 0x20, count: 4 - utf8.count)
    }

    private mutating func append(_ value: UInt64, width: Int) {
        for k in 0..<width { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(k)))) }
    }

    public mutating func integer(_ value: Int) { append(UInt64(bitPattern: Int64(value)), width: 8) }
    public mutating func unsigned(_ value: UInt64) { append(value, width: 8) }
    public mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }
    public mutating func double(_ value: Double) { append(value.bitPattern, width: 8) }

    /// A count, then the floats' bit patterns (exact: no rounding, NaN payloads kept).
    public mutating func floats(_ values: UnsafeBufferPointer<Float>) {
        integer(values.count)
        if isLittleEndianHost {
            bytes.append(contentsOf: UnsafeRawBufferPointer(values))
            return
        }
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: values.count * 4))
        guard let source = values.baseAddress else { return }
        bytes.withUnsafeMutableBytes { raw in
            let out = raw.baseAddress! + start
            if isLittleEndianHost { out.copyMemory(from: source, byteCount: 4 * values.count); return }
            for (i, v) in values.enumerated() {
                var bits = v.bitPattern.littleEndian
                withUnsafeBytes(of: &bits) { (out + 4 * i).copyMemory(from: $0.baseAddress!, byteCount: 4) }
            }
        }
    }
    public mutating func floats(_ values: [Float]) { values.withUnsafeBufferPointer { floats($0) } }
    public mutating func floats(_ base: UnsafePointer<Float>, count: Int) { floats(UnsafeBufferPointer(start: base, count: count)) }
    /// A matrix's shape, then its rows (only the `cols` used of each row, whatever its stride).
    public mutating func matrix(_ m: Matrix) {
        integer(m.rows); integer(m.cols)
        integer(m.rows * m.cols)
        if isLittleEndianHost {
            for i in 0..<m.rows { bytes.append(contentsOf: UnsafeRawBufferPointer(start: m.row(i), count: 4 * m.cols)) }
            return
        }
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: m.rows * m.cols * 4))
        bytes.withUnsafeMutableBytes { raw in
            let out = raw.baseAddress! + start
            for i in 0..<m.rows {
                // Float32 rows are stored as their little-endian bytes: on little-endian hosts
                // (x86, ARM) a plain copy; otherwise byte-swapped value by value.
                let destination = out + 4 * i * m.cols
                if isLittleEndianHost {
                    destination.copyMemory(from: m.row(i), byteCount: 4 * m.cols)
                } else {
                    let row = m.row(i), words = destination.assumingMemoryBound(to: UInt32.self)
                    for j in 0..<m.cols { words[j] = row[j].bitPattern.littleEndian }
                }
            }
        }
    }
    public mutating func integers(_ values: [Int]) { integer(values.count); for v in values { integer(v) } }
    /// A nested blob (e.g. a component's own state), length-prefixed.
    public mutating func blob(_ inner: [UInt8]) { integer(inner.count); bytes.append(contentsOf: inner) }
}

/// Reads what `StateWriter` wrote, checking every length.
public struct StateReader {
    let bytes: [UInt8]
    var position = 0
    public let kind: String
    /// A validating pass: every length and shape is checked, but `…(into:)` reads write nothing,
    /// so an importer can check a whole blob before it changes any state.
    public let validating: Bool

    public init(_ bytes: [UInt8], kind: String, version: UInt32, validating: Bool = false) throws {
        self.bytes = bytes
        self.kind = kind
        self.validating = validating
        guard bytes.count >= 12, Array(bytes[0..<4]) == Array("TLSB".utf8) else {
            throw StateError("\(kind) state: not a tlens state blob (\(bytes.count) bytes, no TLSB header)")
        }
        let tag = Array(bytes[4..<8])
        guard tag == StateWriter.tag(kind) else {
            throw StateError("\(kind) state: the blob holds \(String(decoding: tag.filter { $0 != 0x20 }, as: UTF8.self)) state, not \(kind)")
        }
        position = 8
        let found = UInt32(truncatingIfNeeded: try take(4))
        guard found == version else {
            throw StateError("\(kind) state: layout version \(found), this tlens reads version \(version)")
        }
    }

    public var isAtEnd: Bool { position == bytes.count }

    /// Refuses trailing bytes: a blob longer than its layout is not the state it claims to be.
    public func finish() throws {
        guard isAtEnd else { throw StateError("\(kind) state: \(bytes.count - position) unexpected trailing bytes") }
    }

    private mutating func take(_ width: Int) throws -> UInt64 {
        guard bytes.count - position >= width else {
            throw StateError("\(kind) state: truncated at byte \(position) of \(bytes.count)")
        }
        var v: UInt64 = 0
        for k in 0..<width { v |= UInt64(bytes[position + k]) << (8 * UInt64(k)) }
        position += width
        return v
    }

    public mutating func integer() throws -> Int { Int(Int64(bitPattern: try take(8))) }
    public mutating func unsigned() throws -> UInt64 { try take(8) }
    public mutating func bool() throws -> Bool { try take(1) != 0 }
    public mutating func double() throws -> Double { Double(bitPattern: try take(8)) }

    /// A count that must equal `expected` (when given) and fit in what is left.
    private mutating func count(expected: Int?, elementBytes: Int, what: String) throws -> Int {
        let n = try integer()
        if let expected, n != expected {
            throw StateError("\(kind) state: \(what) holds \(n) values, expected \(expected)")
        }
        guard n >= 0, n <= (bytes.count - position) / max(elementBytes, 1) else {
            throw StateError("\(kind) state: \(what) claims \(n) values, more than the blob holds")
        }
        return n
    }

    public mutating func floats(count expected: Int? = nil, what: String = "a float array") throws -> [Float] {
        let n = try count(expected: expected, elementBytes: 4, what: what)
        var out = [Float](repeating: 0, count: n)
        readFloats(into: &out, n)
        return out
    }

    private mutating func readFloats(into out: inout [Float], _ n: Int) {
        out.withUnsafeMutableBufferPointer { dst in
            bytes.withUnsafeBytes { raw in
                let src = raw.baseAddress! + position
                if isLittleEndianHost, n > 0 { UnsafeMutableRawPointer(dst.baseAddress!).copyMemory(from: src, byteCount: 4 * n); return }
                for i in 0..<n {
                    var bits: UInt32 = 0
                    withUnsafeMutableBytes(of: &bits) { $0.copyMemory(from: UnsafeRawBufferPointer(start: src + 4 * i, count: 4)) }
                    dst[i] = Float(bitPattern: UInt32(littleEndian: bits))
                }
            }
        }
        position += 4 * n
    }

    /// A matrix of the given shape, read into `m` (which must have that shape).
    public mutating func matrix(into m: Matrix, what: String) throws {
        let rows = try integer(), cols = try integer()
        guard rows == m.rows, cols == m.cols else {
            throw StateError("\(kind) state: \(what) is \(rows)×\(cols), expected \(m.rows)×\(m.cols)")
        }
        let n = try count(expected: rows * cols, elementBytes: 4, what: what)
        if validating { position += 4 * n; return }
        bytes.withUnsafeBytes { raw in
            let src = (raw.baseAddress! + position)
            for i in 0..<rows {
                let row = m.row(i)
                if isLittleEndianHost {
                    UnsafeMutableRawPointer(row).copyMemory(from: src + 4 * i * cols, byteCount: 4 * cols)
                    continue
                }
                for j in 0..<cols {
                    var bits: UInt32 = 0
                    withUnsafeMutableBytes(of: &bits) { $0.copyMemory(from: UnsafeRawBufferPointer(start: src + 4 * (i * cols + j), count: 4)) }
                    row[j] = Float(bitPattern: UInt32(littleEndian: bits))
                }
            }
        }
        position += 4 * n
    }

    /// A matrix of whatever shape was written (fresh storage).
    public mutating func matrix(what: String) throws -> Matrix {
        let save = position
        let rows = try integer(), cols = try integer()
        guard rows >= 0, cols >= 0, rows.multipliedReportingOverflow(by: cols).overflow == false,
              rows * cols <= (bytes.count - position) / 4 else {
            throw StateError("\(kind) state: \(what) claims \(rows)×\(cols) values, more than the blob holds")
        }
        position = save
        let m = Matrix(rows: rows, cols: cols)
        try matrix(into: m, what: what)
        return m
    }

    public mutating func integers(what: String) throws -> [Int] {
        let n = try count(expected: nil, elementBytes: 8, what: what)
        return try (0..<n).map { _ in try integer() }
    }

    public mutating func blob(what: String) throws -> [UInt8] {
        let n = try count(expected: nil, elementBytes: 1, what: what)
        defer { position += n }
        return Array(bytes[position..<(position + n)])
    }
}

let isLittleEndianHost = 1.littleEndian == 1

/// A state blob that cannot be imported: wrong kind, version, size or shape.
public struct StateError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
