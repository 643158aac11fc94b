import XCTest

/// 10,000 malformed or hostile argument lists per function: every call must end in a value
/// or an SQL error naming the function, never a crash or a read past a blob.
final class VecHostileInputTests: XCTestCase {
    static let casesPerFunction = 10_000

    var db: VecDatabase!
    var rng = SeededRNG(seed: 0xBAD_B10B)

    override func setUpWithError() throws {
        db = try VecDatabase()
    }

    override func tearDown() {
        db = nil // XCTest keeps case instances alive; close the connection now
    }

    /// Float payloads that tend to break arithmetic: NaNs with payloads, infinities, extremes.
    let nastyBits: [UInt32] = [0x7FC0_0000, 0xFFC0_0000, 0x7F80_0001, 0x7FBF_FFFF, 0xFFFF_FFFF, 0x7F80_0000,
                               0xFF80_0000, 0x7F7F_FFFF, 0xFF7F_FFFF, 0x0000_0001, 0x8000_0001, 0x8000_0000,
                               0x0080_0000, 0x0000_0000]

    func hostileBlob() -> [UInt8] {
        // Mostly short, sometimes long; lengths deliberately include non-multiples of 4.
        let length = Int.random(in: 0..<20, using: &rng) == 0 ? Int.random(in: 0...4099, using: &rng)
                                                              : Int.random(in: 0...67, using: &rng)
        var bytes = [UInt8](repeating: 0, count: length)
        let style = Int.random(in: 0..<3, using: &rng)
        var k = 0
        while k < length {
            let word: UInt32
            switch style {
            case 0: word = UInt32.random(in: 0...UInt32.max, using: &rng)
            case 1: word = nastyBits.randomElement(using: &rng)!
            default: word = Float.random(in: -1e3...1e3, using: &rng).bitPattern
            }
            for b in 0..<4 where k + b < length { bytes[k + b] = UInt8((word >> (8 * UInt32(b))) & 0xFF) }
            k += 4
        }
        return bytes
    }

    func hostileVector() -> SQLValue {
        switch Int.random(in: 0..<20, using: &rng) {
        case 0: return .null
        case 1: return .text(["", "abc", "[1,2]", "\u{0}\u{1}", String(repeating: "x", count: 9)].randomElement(using: &rng)!)
        case 2: return .integer(Int64.random(in: Int64.min...Int64.max, using: &rng))
        case 3: return .real([.nan, .infinity, -1.5, 0, 1e308].randomElement(using: &rng)!)
        default: return .blob(hostileBlob())
        }
    }

    func hostileInteger() -> SQLValue {
        switch Int.random(in: 0..<12, using: &rng) {
        case 0: return .null
        case 1: return .real([0.5, -0.0, .nan, .infinity, 3].randomElement(using: &rng)!)
        case 2: return .text(["1", "-1", "", "9223372036854775808"].randomElement(using: &rng)!)
        case 3: return .blob(hostileBlob())
        case 4: return .integer([Int64.min, Int64.max, Int64.min + 1, Int64.max - 1, -1, 1 << 62, -(1 << 62),
                                 Int64(Int32.max), Int64(Int32.min), 1 << 32].randomElement(using: &rng)!)
        default: return .integer(Int64.random(in: -5...20, using: &rng))
        }
    }

    func hostileP() -> SQLValue {
        switch Int.random(in: 0..<8, using: &rng) {
        case 0: return .text(["inf", "Inf", "-inf", "infinity", "", "2"].randomElement(using: &rng)!)
        case 1: return .real([.nan, .infinity, -.infinity, 0.999999, 1, 1e300, 1e-300, 7.5].randomElement(using: &rng)!)
        case 2: return .blob(hostileBlob())
        case 3: return .null
        default: return .integer([Int64.min, -1, 0, 1, 2, 3, 100, 1000, Int64.max].randomElement(using: &rng)!)
        }
    }

    func hostileJSON() -> String {
        let pieces = ["[", "]", ",", " ", "1", "-", "0", ".", "e", "E", "+", "9", "1e38", "1e39", "NaN", "Infinity",
                      "-Infinity", "\"", "null", "true", "{", "}", "[[", "]]", "\n", "0.1", "123456789012345678901234567890",
                      "\u{00e9}", "\u{0}", "inf", "0x1p3"]
        let n = Int.random(in: 0...24, using: &rng)
        var s = Int.random(in: 0..<4, using: &rng) == 0 ? "" : "["
        for _ in 0..<n { s += pieces.randomElement(using: &rng)! }
        if Int.random(in: 0..<2, using: &rng) == 0 { s += "]" }
        return s
    }

    /// Runs `sql` on generated arguments; the outcome must be a value or an error naming `fn`.
    func fuzz(_ fn: String, _ sql: String, file: StaticString = #filePath, line: UInt = #line,
              _ makeArgs: () -> [SQLValue], check: ([SQLValue], [[SQLValue]]) -> Void = { _, _ in }) {
        var errors = 0, values = 0
        for _ in 0..<Self.casesPerFunction {
            let args = makeArgs()
            let rows = db.rows(sql, args)
            if case .error(let message)? = rows.first?.first {
                errors += 1
                if !message.hasPrefix("\(fn): ") {
                    XCTFail("\(fn): error does not name the function: \(message)", file: file, line: line)
                    return
                }
            } else {
                values += 1
                check(args, rows)
            }
        }
        // Both outcomes must occur, or the generator is not exercising the function.
        XCTAssert(errors > 0 && values > 0, "\(fn): \(errors) errors, \(values) values", file: file, line: line)
    }

    /// sqlite3_bind_double binds a NaN as NULL.
    func isNull(_ v: SQLValue) -> Bool {
        if case .real(let d) = v { return d.isNaN }
        return v == .null
    }

    /// Independent validity of a vector argument: a BLOB whose length is a multiple of 4.
    func elementCount(_ v: SQLValue) -> Int? {
        if case .blob(let b) = v, b.count % 4 == 0 { return b.count / 4 }
        return nil
    }

    func testSingleVectorFunctionsSurviveHostileBlobs() {
        for fn in ["vec_len", "vec_sum", "vec_mean", "vec_min", "vec_max", "vec_norm", "vec_to_json"] {
            fuzz(fn, "SELECT \(fn)(?)", { [hostileVector()] }) { args, rows in
                // A value (not an error) only for NULL or a well-formed vector.
                XCTAssert(isNull(args[0]) || elementCount(args[0]) != nil, "\(fn) accepted \(args[0])")
                if fn == "vec_len", let n = elementCount(args[0]) { XCTAssertEqual(rows[0][0], .integer(Int64(n))) }
            }
        }
    }

    func testGetSurvivesHostileIndices() {
        fuzz("vec_get", "SELECT vec_get(?, ?)", { [hostileVector(), hostileInteger()] }) { args, _ in
            guard let n = elementCount(args[0]), case .integer(let i) = args[1] else { return }
            XCTAssert(i >= 0 && i < n, "vec_get accepted index \(i) for length \(n)")
        }
    }

    func testNormSurvivesHostileP() {
        fuzz("vec_norm", "SELECT vec_norm(?, ?)", { [hostileVector(), hostileP()] })
    }

    func testPairwiseFunctionsSurviveHostilePairs() {
        for fn in ["vec_dot", "vec_dist", "vec_mae"] {
            fuzz(fn, "SELECT \(fn)(?, ?)", {
                let a = hostileVector()
                // Half the time a same-length partner, so the arithmetic itself runs on hostile floats.
                if Int.random(in: 0..<2, using: &rng) == 0, case .blob(let b) = a {
                    var c = hostileBlob()
                    c = Array((c + [UInt8](repeating: 0x7F, count: max(0, b.count - c.count))).prefix(b.count))
                    return [a, .blob(c)]
                }
                return [a, hostileVector()]
            }) { args, _ in
                guard let n = elementCount(args[0]), let m = elementCount(args[1]) else { return }
                XCTAssertEqual(n, m, "\(fn) accepted mismatched lengths")
            }
        }
    }

    func testSliceSurvivesHostileRanges() {
        fuzz("vec_slice", "SELECT vec_slice(?, ?, ?)", { [hostileVector(), hostileInteger(), hostileInteger()] }) { args, rows in
            guard case .blob(let b) = args[0], case .integer(let i) = args[1], case .integer(let n) = args[2] else { return }
            XCTAssertEqual(rows[0][0], .blob(Array(b[Int(i) * 4..<Int(i + n) * 4])))
        }
    }

    func testFromJSONSurvivesHostileText() {
        fuzz("vec_from_json", "SELECT vec_from_json(?)", {
            Int.random(in: 0..<10, using: &rng) == 0 ? [hostileVector()] : [.text(hostileJSON())]
        })
    }

    func testEachSurvivesHostileBlobs() {
        fuzz("vec_each", "SELECT count(*), total(value), max(i) FROM vec_each(?)", { [hostileVector()] }) { args, rows in
            let n = elementCount(args[0]) ?? 0
            XCTAssertEqual(rows[0][0], .integer(Int64(n)))
        }
    }
}
