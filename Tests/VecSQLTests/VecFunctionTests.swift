import XCTest

/// Each SQL function against a plain Swift computation on seeded random vectors.
final class VecFunctionTests: XCTestCase {
    var db: VecDatabase!
    var rng = SeededRNG(seed: 0x7E1E_5C0E)

    override func setUpWithError() throws {
        db = try VecDatabase()
    }

    override func tearDown() {
        db = nil // XCTest keeps case instances alive; close the connection now
    }

    func vectors() -> [[Float]] {
        testLengths.map { randomVector($0, &rng) }
    }

    func testLenCountsFloat32Elements() {
        for v in vectors() {
            XCTAssertEqual(db.value("SELECT vec_len(?)", [.blob(encode(v))]), .integer(Int64(v.count)))
        }
    }

    func testGetReadsEachElementExactlyAndRejectsOutOfRange() {
        for v in vectors() {
            let blob = SQLValue.blob(encode(v))
            for (i, x) in v.enumerated() {
                XCTAssertEqual(db.value("SELECT vec_get(?, ?)", [blob, .integer(Int64(i))]), .real(Double(x)))
            }
            assertError(db.value("SELECT vec_get(?, ?)", [blob, .integer(Int64(v.count))]),
                        containing: "vec_get: index \(v.count) out of range for vector of length \(v.count)")
            assertError(db.value("SELECT vec_get(?, ?)", [blob, .integer(-1)]),
                        containing: "vec_get: index -1 out of range")
        }
    }

    func testSumAndMeanAccumulateInDouble() {
        for v in vectors() {
            let blob = SQLValue.blob(encode(v))
            let sum = v.reduce(0.0) { $0 + Double($1) }
            assertClose(db.value("SELECT vec_sum(?)", [blob]), sum, "vec_sum n=\(v.count)")
            if v.isEmpty {
                XCTAssertEqual(db.value("SELECT vec_mean(?)", [blob]), .null)
            } else {
                assertClose(db.value("SELECT vec_mean(?)", [blob]), sum / Double(v.count), "vec_mean n=\(v.count)")
            }
        }
        // Float32 accumulation would lose the 1s next to 2^24; double does not.
        let v: [Float] = [16_777_216] + Array(repeating: 1, count: 10)
        XCTAssertEqual(db.value("SELECT vec_sum(?)", [.blob(encode(v))]), .real(16_777_226))
    }

    func testMinAndMaxAreExactAndNullWhenEmpty() {
        for v in vectors() {
            let blob = SQLValue.blob(encode(v))
            XCTAssertEqual(db.value("SELECT vec_min(?)", [blob]), v.min().map { .real(Double($0)) } ?? .null)
            XCTAssertEqual(db.value("SELECT vec_max(?)", [blob]), v.max().map { .real(Double($0)) } ?? .null)
        }
    }

    func testMinAndMaxSkipNaN() {
        let v: [Float] = [.nan, 3, -2, .nan, 7]
        XCTAssertEqual(db.value("SELECT vec_min(?)", [.blob(encode(v))]), .real(-2))
        XCTAssertEqual(db.value("SELECT vec_max(?)", [.blob(encode(v))]), .real(7))
        XCTAssertEqual(db.value("SELECT vec_max(?)", [.blob(encode([.nan, .nan]))]), .null)
    }

    func testNormMatchesPowerSumForSeveralP() {
        for v in vectors() {
            let blob = SQLValue.blob(encode(v))
            let abs = v.map { Double(Swift.abs($0)) }
            func pNorm(_ p: Double) -> Double { pow(abs.reduce(0) { $0 + pow($1, p) }, 1 / p) }
            let maxAbs = abs.max() ?? 0
            assertClose(db.value("SELECT vec_norm(?)", [blob]), pNorm(2), relative: 1e-12, "p default n=\(v.count)")
            assertClose(db.value("SELECT vec_norm(?, 2)", [blob]), pNorm(2), relative: 1e-12, "p=2 n=\(v.count)")
            assertClose(db.value("SELECT vec_norm(?, 1)", [blob]), pNorm(1), relative: 1e-12, "p=1 n=\(v.count)")
            assertClose(db.value("SELECT vec_norm(?, 3)", [blob]), pNorm(3), relative: 1e-10, "p=3 n=\(v.count)")
            assertClose(db.value("SELECT vec_norm(?, 2.5)", [blob]), pNorm(2.5), relative: 1e-10, "p=2.5 n=\(v.count)")
            XCTAssertEqual(db.value("SELECT vec_norm(?, 'inf')", [blob]), .real(maxAbs))
            XCTAssertEqual(db.value("SELECT vec_norm(?, 'INF')", [blob]), .real(maxAbs))
            XCTAssertEqual(db.value("SELECT vec_norm(?, ?)", [blob, .real(.infinity)]), .real(maxAbs))
        }
    }

    func testNormLargePDoesNotOverflow() {
        let v: [Float] = [3e38, -2e38, 1]
        // For p = 50 the sum is dominated by the largest term: the norm is 3e38 to ~1e-9.
        assertClose(db.value("SELECT vec_norm(?, 50)", [.blob(encode(v))]), Double(Float(3e38)), relative: 1e-8, "p=50")
    }

    func testNormRejectsPBelowOneAndUnknownText() {
        let blob = SQLValue.blob(encode([1, 2]))
        assertError(db.value("SELECT vec_norm(?, 0.5)", [blob]), containing: "vec_norm: p must be >= 1")
        assertError(db.value("SELECT vec_norm(?, 0)", [blob]), containing: "vec_norm: p must be >= 1")
        assertError(db.value("SELECT vec_norm(?, 'two')", [blob]), containing: "vec_norm: p must be >= 1")
        assertError(db.value("SELECT vec_norm(?, x'00')", [blob]), containing: "vec_norm: p must be >= 1")
        XCTAssertEqual(db.value("SELECT vec_norm(?, NULL)", [blob]), .null)
    }

    func testDotDistMaeAgainstElementwiseSums() {
        for n in testLengths {
            let a = randomVector(n, &rng), b = randomVector(n, &rng)
            let args: [SQLValue] = [.blob(encode(a)), .blob(encode(b))]
            let pairs = zip(a.map(Double.init), b.map(Double.init))
            let dot = pairs.reduce(0.0) { $0 + $1.0 * $1.1 }
            let dist = sqrt(pairs.reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) })
            let absDiff = pairs.reduce(0.0) { $0 + Swift.abs($1.0 - $1.1) }
            assertClose(db.value("SELECT vec_dot(?, ?)", args), dot, "vec_dot n=\(n)")
            assertClose(db.value("SELECT vec_dist(?, ?)", args), dist, "vec_dist n=\(n)")
            if n == 0 {
                XCTAssertEqual(db.value("SELECT vec_mae(?, ?)", args), .null)
            } else {
                assertClose(db.value("SELECT vec_mae(?, ?)", args), absDiff / Double(n), "vec_mae n=\(n)")
            }
            XCTAssertEqual(db.value("SELECT vec_dist(?, ?)", [args[0], args[0]]), .real(0))
        }
    }

    func testPairwiseFunctionsRejectMismatchedLengths() {
        let a = SQLValue.blob(encode([1, 2, 3])), b = SQLValue.blob(encode([1, 2]))
        for fn in ["vec_dot", "vec_dist", "vec_mae"] {
            assertError(db.value("SELECT \(fn)(?, ?)", [a, b]), containing: "\(fn): length mismatch, 3 vs 2")
        }
    }

    func testSliceCopiesTheRequestedRange() {
        for v in vectors() {
            let blob = SQLValue.blob(encode(v))
            var ranges = [(0, v.count), (0, 0), (v.count, 0)]
            for _ in 0..<5 where !v.isEmpty {
                let i = Int.random(in: 0..<v.count, using: &rng)
                ranges.append((i, Int.random(in: 0...(v.count - i), using: &rng)))
            }
            for (i, n) in ranges {
                XCTAssertEqual(db.value("SELECT vec_slice(?, ?, ?)", [blob, .integer(Int64(i)), .integer(Int64(n))]),
                               .blob(encode(Array(v[i..<i + n]))), "slice \(i) \(n) of \(v.count)")
            }
            assertError(db.value("SELECT vec_slice(?, ?, ?)", [blob, .integer(0), .integer(Int64(v.count + 1))]),
                        containing: "vec_slice: range start 0 count \(v.count + 1) out of range")
            assertError(db.value("SELECT vec_slice(?, ?, ?)", [blob, .integer(Int64.max), .integer(Int64.max)]),
                        containing: "vec_slice:")
            assertError(db.value("SELECT vec_slice(?, ?, ?)", [blob, .integer(1), .integer(-1)]), containing: "vec_slice:")
        }
    }

    func testEmptyVectorSemantics() {
        let e = SQLValue.blob([])
        XCTAssertEqual(db.value("SELECT typeof(?)", [e]), .text("blob"))
        XCTAssertEqual(db.value("SELECT vec_len(?)", [e]), .integer(0))
        XCTAssertEqual(db.value("SELECT vec_sum(?)", [e]), .real(0))
        XCTAssertEqual(db.value("SELECT vec_norm(?)", [e]), .real(0))
        XCTAssertEqual(db.value("SELECT vec_dot(?, ?)", [e, e]), .real(0))
        XCTAssertEqual(db.value("SELECT vec_dist(?, ?)", [e, e]), .real(0))
        for fn in ["vec_mean", "vec_min", "vec_max"] {
            XCTAssertEqual(db.value("SELECT \(fn)(?)", [e]), .null, fn)
        }
        XCTAssertEqual(db.value("SELECT vec_to_json(?)", [e]), .text("[]"))
        XCTAssertEqual(db.value("SELECT vec_from_json('[ ]')"), .blob([]))
        XCTAssertEqual(db.value("SELECT typeof(vec_slice(?, 0, 0))", [e]), .text("blob"))
        assertError(db.value("SELECT vec_get(?, 0)", [e]), containing: "vec_get: index 0 out of range for vector of length 0")
    }

    func testNullInGivesNullOut() {
        let v = SQLValue.blob(encode([1, 2]))
        let calls: [(String, [SQLValue])] = [
            ("vec_len(?)", [.null]), ("vec_sum(?)", [.null]), ("vec_mean(?)", [.null]), ("vec_min(?)", [.null]),
            ("vec_max(?)", [.null]), ("vec_norm(?)", [.null]), ("vec_norm(?, ?)", [.null, .integer(2)]),
            ("vec_get(?, ?)", [.null, .integer(0)]), ("vec_get(?, ?)", [v, .null]),
            ("vec_dot(?, ?)", [.null, v]), ("vec_dist(?, ?)", [v, .null]), ("vec_mae(?, ?)", [.null, .null]),
            ("vec_slice(?, ?, ?)", [v, .null, .integer(1)]), ("vec_slice(?, ?, ?)", [.null, .integer(0), .integer(1)]),
            ("vec_from_json(?)", [.null]), ("vec_to_json(?)", [.null]),
        ]
        for (call, args) in calls {
            XCTAssertEqual(db.value("SELECT \(call)", args), .null, call)
        }
        XCTAssertEqual(db.rows("SELECT * FROM vec_each(NULL)").count, 0)
    }

    func testWrongTypesAndBadLengthsAreNamedErrors() {
        let v = SQLValue.blob(encode([1, 2]))
        assertError(db.value("SELECT vec_len(?)", [.text("abc")]), containing: "vec_len: argument 1 must be a BLOB")
        assertError(db.value("SELECT vec_sum(?)", [.integer(3)]), containing: "vec_sum: argument 1 must be a BLOB")
        assertError(db.value("SELECT vec_dot(?, ?)", [v, .real(1)]), containing: "vec_dot: argument 2 must be a BLOB")
        assertError(db.value("SELECT vec_mean(?)", [.blob([1, 2, 3, 4, 5])]),
                    containing: "vec_mean: argument 1 has 5 bytes, not a multiple of 4")
        assertError(db.value("SELECT vec_get(?, ?)", [v, .real(1)]), containing: "vec_get: index (argument 2) must be an INTEGER")
        assertError(db.value("SELECT vec_get(?, ?)", [v, .text("1")]), containing: "vec_get: index (argument 2) must be an INTEGER")
        assertError(db.value("SELECT vec_from_json(?)", [v]), containing: "vec_from_json: argument must be TEXT")
        assertError(db.value("SELECT * FROM vec_each(?)", [.text("x")]), containing: "vec_each: argument 1 must be a BLOB")
        assertError(db.value("SELECT * FROM vec_each"), containing: "vec_each: requires a vector argument")
    }

    func testNaNElementReadsAsNullAndInfinityPassesThrough() {
        let v = SQLValue.blob(encode([.nan, .infinity, -.infinity]))
        XCTAssertEqual(db.value("SELECT vec_get(?, 0)", [v]), .null)
        XCTAssertEqual(db.value("SELECT vec_get(?, 1)", [v]), .real(.infinity))
        XCTAssertEqual(db.value("SELECT vec_get(?, 2)", [v]), .real(-.infinity))
        XCTAssertEqual(db.value("SELECT vec_sum(?)", [v]), .null)
        XCTAssertEqual(db.value("SELECT vec_norm(?, 'inf')", [v]), .null)
        XCTAssertEqual(db.value("SELECT vec_norm(?, 'inf')", [.blob(encode([1, -.infinity]))]), .real(.infinity))
    }

    func testFunctionsAreUsableInIndexesAndGeneratedColumns() {
        // Only DETERMINISTIC functions are allowed in index expressions.
        XCTAssertEqual(db.rows("CREATE TABLE p(v BLOB, n AS (vec_len(v)))"), [])
        XCTAssertEqual(db.rows("CREATE INDEX p_norm ON p(vec_norm(v))"), [])
        XCTAssertEqual(db.rows("INSERT INTO p(v) VALUES (vec_from_json('[3,4]'))"), [])
        XCTAssertEqual(db.rows("SELECT n, vec_norm(v) FROM p WHERE vec_norm(v) = 5"), [[.integer(2), .real(5)]])
    }
}
