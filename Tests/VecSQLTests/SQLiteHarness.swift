import CSQLite
import CVecSQL
import XCTest

/// One SQLite value as the tests see it; `error` carries the message of a failed step.
enum SQLValue: Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
    case error(String)

    var double: Double? {
        switch self {
        case .real(let d): return d
        case .integer(let i): return Double(i)
        default: return nil
        }
    }
}

/// An in-memory connection with the vector functions registered through `tlens_vec_register`.
final class VecDatabase {
    let handle: OpaquePointer
    private var statements: [String: OpaquePointer] = [:]

    init() throws {
        var db: OpaquePointer?
        guard sqlite3_open(":memory:", &db) == SQLITE_OK, let db else {
            throw NSError(domain: "sqlite", code: 1, userInfo: [NSLocalizedDescriptionKey: "open failed"])
        }
        handle = db
        let rc = tlens_vec_register(db)
        guard rc == SQLITE_OK else {
            throw NSError(domain: "sqlite", code: Int(rc),
                          userInfo: [NSLocalizedDescriptionKey: "tlens_vec_register: \(String(cString: sqlite3_errmsg(db)))"])
        }
    }

    deinit {
        for (_, s) in statements { sqlite3_finalize(s) }
        sqlite3_close(handle)
    }

    /// Prepared once per SQL text, so the hostile-input loops measure the functions, not the parser.
    private func statement(_ sql: String) -> OpaquePointer {
        if let s = statements[sql] { return s }
        var s: OpaquePointer?
        let rc = sqlite3_prepare_v2(handle, sql, -1, &s, nil)
        precondition(rc == SQLITE_OK && s != nil, "prepare failed: \(String(cString: sqlite3_errmsg(handle))) in \(sql)")
        statements[sql] = s!
        return s!
    }

    private func bind(_ s: OpaquePointer, _ index: Int32, _ value: SQLValue) {
        switch value {
        case .null, .error: sqlite3_bind_null(s, index)
        case .integer(let i): sqlite3_bind_int64(s, index, i)
        case .real(let d): sqlite3_bind_double(s, index, d)
        case .text(let t): sqlite3_bind_text(s, index, t, -1, tlens_sqlite_transient())
        case .blob(let b):
            // A zero-length blob must stay a BLOB (a nil pointer would bind NULL).
            if b.isEmpty { sqlite3_bind_zeroblob(s, index, 0) }
            else { b.withUnsafeBytes { _ = sqlite3_bind_blob(s, index, $0.baseAddress, Int32(b.count), tlens_sqlite_transient()) } }
        }
    }

    private func column(_ s: OpaquePointer, _ c: Int32) -> SQLValue {
        switch sqlite3_column_type(s, c) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(s, c))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(s, c))
        case SQLITE_TEXT: return .text(String(cString: sqlite3_column_text(s, c)))
        case SQLITE_BLOB:
            let n = Int(sqlite3_column_bytes(s, c))
            guard n > 0, let p = sqlite3_column_blob(s, c) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: p, count: n)))
        default: return .null
        }
    }

    /// All rows of `sql` with `args` bound, or a single `.error` row if any step fails.
    func rows(_ sql: String, _ args: [SQLValue] = []) -> [[SQLValue]] {
        let s = statement(sql)
        defer { sqlite3_reset(s); sqlite3_clear_bindings(s) }
        for (k, a) in args.enumerated() { bind(s, Int32(k + 1), a) }
        var out: [[SQLValue]] = []
        while true {
            let rc = sqlite3_step(s)
            if rc == SQLITE_DONE { return out }
            guard rc == SQLITE_ROW else { return [[.error(String(cString: sqlite3_errmsg(handle)))]] }
            out.append((0..<sqlite3_column_count(s)).map { column(s, $0) })
        }
    }

    /// First column of the first row.
    func value(_ sql: String, _ args: [SQLValue] = []) -> SQLValue {
        rows(sql, args).first?.first ?? .null
    }
}

/// SplitMix64: tiny, seedable, and the same sequence on every platform.
struct SeededRNG: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// float32 little-endian encoding, written out byte by byte so it does not share code
/// (or a host-endianness assumption) with the C side.
func encode(_ v: [Float]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(v.count * 4)
    for x in v {
        let u = x.bitPattern
        out += [UInt8(u & 0xFF), UInt8((u >> 8) & 0xFF), UInt8((u >> 16) & 0xFF), UInt8(u >> 24)]
    }
    return out
}

func decode(_ b: [UInt8]) -> [Float] {
    precondition(b.count % 4 == 0)
    return stride(from: 0, to: b.count, by: 4).map { k in
        Float(bitPattern: UInt32(b[k]) | UInt32(b[k + 1]) << 8 | UInt32(b[k + 2]) << 16 | UInt32(b[k + 3]) << 24)
    }
}

func randomVector(_ n: Int, _ rng: inout SeededRNG) -> [Float] {
    (0..<n).map { _ in
        // Some exact zeros and small integers among the spread, as real metrics have.
        switch Int.random(in: 0..<10, using: &rng) {
        case 0: return 0
        case 1: return Float(Int.random(in: -5...5, using: &rng))
        default: return Float.random(in: -100...100, using: &rng)
        }
    }
}

/// Lengths every function is checked at, including the empty and single-element vectors.
let testLengths = [0, 1, 2, 3, 7, 16, 100, 1000]

func assertClose(_ actual: SQLValue, _ expected: Double, relative: Double = 1e-12, _ message: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    guard let a = actual.double else {
        XCTFail("\(message): expected \(expected), got \(actual)", file: file, line: line)
        return
    }
    let tolerance = relative * max(1, abs(expected))
    XCTAssert(abs(a - expected) <= tolerance, "\(message): expected \(expected), got \(a)", file: file, line: line)
}

func assertError(_ actual: SQLValue, containing fragment: String, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    guard case .error(let m) = actual else {
        XCTFail("\(message): expected an error containing '\(fragment)', got \(actual)", file: file, line: line)
        return
    }
    XCTAssert(m.contains(fragment), "\(message): error '\(m)' does not contain '\(fragment)'", file: file, line: line)
}
