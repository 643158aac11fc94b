import Foundation
import XCTest

/// blob → rows → blob through vec_each, and blob → JSON → blob through the JSON pair.
final class VecRoundTripTests: XCTestCase {
    var db: VecDatabase!
    var rng = SeededRNG(seed: 0xB10B)

    override func setUpWithError() throws {
        db = try VecDatabase()
    }

    override func tearDown() {
        db = nil // XCTest keeps case instances alive; close the connection now
    }

    /// Random bit patterns cover every exponent, subnormals and -0, unlike uniform reals.
    func arbitraryFloats(_ n: Int) -> [Float] {
        var out: [Float] = []
        while out.count < n {
            let x = Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &rng))
            if !x.isNaN { out.append(x) }
        }
        return out
    }

    let specials: [Float] = [0, -0.0, 1, -1, 0.1, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                             .leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                             .infinity, -.infinity, 16_777_216, Float(bitPattern: 0x0001_16C2), 3.14159274]

    func testEachRowsRebuildTheIdenticalBlob() {
        for n in testLengths {
            let v = arbitraryFloats(n) + (n > 0 ? specials : [])
            let rows = db.rows("SELECT i, value FROM vec_each(?) ORDER BY i", [.blob(encode(v))])
            XCTAssertEqual(rows.count, v.count)
            var rebuilt: [Float] = []
            for (k, row) in rows.enumerated() {
                XCTAssertEqual(row[0], .integer(Int64(k)))
                guard case .real(let x) = row[1] else { return XCTFail("row \(k): \(row)") }
                rebuilt.append(Float(x)) // exact: the double was widened from this float
            }
            XCTAssertEqual(encode(rebuilt), encode(v), "n=\(n)")
        }
    }

    func testEachJoinsAgainstATableColumn() {
        _ = db.rows("CREATE TABLE points(id INTEGER PRIMARY KEY, v BLOB)")
        let a: [Float] = [1, 2, 3], b: [Float] = [10]
        _ = db.rows("INSERT INTO points(id, v) VALUES (1, ?), (2, ?), (3, NULL)", [.blob(encode(a)), .blob(encode(b))])
        let rows = db.rows("SELECT p.id, e.i, e.value FROM points p, vec_each(p.v) e ORDER BY p.id, e.i")
        XCTAssertEqual(rows, [[.integer(1), .integer(0), .real(1)], [.integer(1), .integer(1), .real(2)],
                              [.integer(1), .integer(2), .real(3)], [.integer(2), .integer(0), .real(10)]])
        XCTAssertEqual(db.value("SELECT sum(value) FROM points, vec_each(points.v)"), .real(16))
        XCTAssertEqual(db.value("SELECT count(*) FROM vec_each(?) WHERE i >= 998", [.blob(encode(arbitraryFloats(1000)))]),
                       .integer(2))
    }

    func testJSONRoundTripIsBitExact() {
        for n in testLengths {
            let v = arbitraryFloats(n) + (n > 0 ? specials : [])
            let blob = SQLValue.blob(encode(v))
            guard case .text(let json) = db.value("SELECT vec_to_json(?)", [blob]) else { return XCTFail("n=\(n)") }
            XCTAssertEqual(db.value("SELECT vec_from_json(?)", [.text(json)]), blob, "n=\(n)")
            // Independent reader: Swift's own float parser sees the same bits.
            let tokens = json.dropFirst().dropLast().split(separator: ",")
            XCTAssertEqual(tokens.count, v.count)
            for (t, x) in zip(tokens, v) {
                let parsed: Float? = t == "Infinity" ? .infinity : t == "-Infinity" ? -.infinity : Float(String(t))
                XCTAssertEqual(parsed?.bitPattern, x.bitPattern, "token \(t) for \(x)")
            }
        }
    }

    func testToJSONIsShortestForSimpleValuesAndValidJSON() throws {
        let v: [Float] = [0.1, 1, -2.5, 100, .leastNonzeroMagnitude, -0.0, 0.3, 123456.7]
        XCTAssertEqual(db.value("SELECT vec_to_json(?)", [.blob(encode(v))]),
                       .text("[0.1,1,-2.5,100,1e-45,-0,0.3,123456.7]"))
        guard case .text(let json) = db.value("SELECT vec_to_json(?)", [.blob(encode(arbitraryFloats(200)))]) else {
            return XCTFail()
        }
        let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [Any]
        XCTAssertEqual(parsed?.count, 200)
        XCTAssertEqual(db.value("SELECT vec_to_json(?)", [.blob(encode([.nan, .infinity, -.infinity]))]),
                       .text("[NaN,Infinity,-Infinity]"))
    }

    func testFromJSONRoundsDecimalTextToNearestFloat32() {
        for n in testLengths {
            let v = randomVector(n, &rng)
            // Swift's description is an independent shortest round-trip printer.
            let text = "[" + v.map { String(describing: $0) }.joined(separator: ", \n") + "]"
            XCTAssertEqual(db.value("SELECT vec_from_json(?)", [.text(text)]), .blob(encode(v)), text)
        }
        let decimals = ["0.1000000000000000055511151231257827", "3.4028234663852886e38", "1e-50", "-1E+2",
                        "0.333333333333333333333333333333", "16777217", "2.5e-45"]
        for d in decimals {
            XCTAssertEqual(db.value("SELECT vec_from_json(?)", [.text(" [ \(d) ] ")]), .blob(encode([Float(d)!])), d)
        }
        let nonFinite = db.value("SELECT vec_from_json('[NaN, Infinity, -Infinity]')")
        guard case .blob(let b) = nonFinite else { return XCTFail("\(nonFinite)") }
        let f = decode(b)
        XCTAssert(f.count == 3 && f[0].isNaN && f[1] == .infinity && f[2] == -.infinity)
    }

    func testFromJSONRejectsEverythingButAFlatArrayOfNumbers() {
        let bad = ["", "1", "[", "]", "[1,]", "[,1]", "[1 2]", "[\"1\"]", "[[1]]", "[[]]", "[true]", "[null]", "[01]",
                   "[1.]", "[.5]", "[+1]", "[1e]", "[1e+]", "[-]", "[1]x", "[1][2]", "[0x10]", "[1e39]", "[-1e39]",
                   "[nan]", "[inf]", "[Infinity1]", "{\"a\":1}", "[1,\u{0}2]", "[1;2]", "[1\u{00A0}]"]
        for text in bad {
            assertError(db.value("SELECT vec_from_json(?)", [.text(text)]), containing: "vec_from_json: ", text)
        }
        assertError(db.value("SELECT vec_from_json(?)", [.integer(1)]), containing: "vec_from_json: argument must be TEXT")
        assertError(db.value("SELECT vec_from_json('[1, 1e39]')"),
                    containing: "vec_from_json: number outside float32 range at offset 4 (element 1)")
    }
}
