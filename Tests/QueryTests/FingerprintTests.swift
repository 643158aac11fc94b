import Foundation
import XCTest
@testable import Query
@testable import Store

/// The row digest, SHA-256, and the fingerprints built from them.
final class FingerprintTests: XCTestCase {
    var directory: QueryTestDirectory!

    override func setUpWithError() throws { directory = try QueryTestDirectory() }

    /// FIPS 180-4 test vectors.
    func testSHA256MatchesTheStandardsVectors() {
        func sha(_ bytes: [UInt8]) -> String { var h = SHA256(); h.update(bytes); return h.hex }
        XCTAssertEqual(sha([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(sha(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(sha(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var million = SHA256()
        for _ in 0..<1000 { million.update([UInt8](repeating: UInt8(ascii: "a"), count: 1000)) }
        XCTAssertEqual(million.hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// tlens_row_digest against the same hash written here from its definition (row_digest.c):
    /// per row FNV-1a 64 over tagged values, the splitmix64 finalizer, summed modulo 2^64.
    func testRowDigestIsTheSumOfPerRowHashesWhateverTheOrder() throws {
        let db = try Database(path: directory.path("d.sqlite"), mode: .create)
        try db.execute("CREATE TABLE t(a, b, c)")
        let rows: [[DatabaseValue]] = [[.integer(1), .real(0.5), .text("x")], [.integer(-7), .null, .blob([0, 255, 3])],
                                       [.real(-0.0), .text("héllo"), .blob([])], [.integer(.max), .real(1e-300), .text("")]]
        for row in rows { try db.execute("INSERT INTO t VALUES (?, ?, ?)", row) }
        func fnv(_ h: UInt64, _ bytes: [UInt8]) -> UInt64 { bytes.reduce(h) { ($0 ^ UInt64($1)) &* 0x100000001b3 } }
        func le(_ x: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: x >> (8 * UInt64($0))) } }
        func rowHash(_ row: [DatabaseValue]) -> UInt64 {
            var h: UInt64 = 0xcbf29ce484222325
            for value in row {
                switch value {
                case .integer(let i): h = fnv(h, [1] + le(UInt64(bitPattern: i)))
                case .real(let r): h = fnv(h, [2] + le(r.bitPattern))
                case .text(let t): h = fnv(h, [3] + le(UInt64(t.utf8.count)) + Array(t.utf8))
                case .blob(let b): h = fnv(h, [4] + le(UInt64(b.count)) + b)
                case .null: h = fnv(h, [5])
                }
            }
            var z = h
            z = (z ^ (z >> 30)) &* 0xbf58476d1ce4e5b9
            z = (z ^ (z >> 27)) &* 0x94d049bb133111eb
            return z ^ (z >> 31)
        }
        let expected = rows.map(rowHash).reduce(0, &+)
        XCTAssertEqual(try db.scalarInt("SELECT tlens_row_digest(a, b, c) FROM t").map { UInt64(bitPattern: $0) }, expected)
        XCTAssertEqual(try db.scalarInt("SELECT tlens_row_digest(a, b, c) FROM (SELECT * FROM t ORDER BY random())").map { UInt64(bitPattern: $0) }, expected)
        XCTAssertEqual(try db.scalarInt("SELECT tlens_row_digest(a) FROM t WHERE 0"), 0)
    }

    /// Scoped to runs, a fingerprint moves with a change to those runs' rows only; whole, with
    /// any change; it names the tables that changed.
    func testInputFingerprintsFollowTheRowsInTheirScope() throws {
        let fixture = try ShippedQueryFixture(path: directory.path("f.sqlite"))
        let runA = fixture.runs[0].id, runB = fixture.runs[1].id
        func fingerprint(_ runs: Set<Int64>?) throws -> InputFingerprint {
            try InputFingerprint(try Archive(path: fixture.path).database, tables: ["metrics", "runs", "metrics_named", "json_each"], runs: runs)
        }
        let scoped = try fingerprint([runA]), whole = try fingerprint(nil)
        XCTAssertEqual(scoped.parts.map(\.table), ["metrics", "runs"], "views and table-valued functions are not tables")
        XCTAssertEqual(scoped.parts[0].runs, [runA])
        XCTAssertEqual(scoped.parts[0].rows, Int64(fixture.runs[0].steps.count * ShippedQueryFixture.sweepKeys.count))
        XCTAssertNil(whole.parts[0].runs)
        XCTAssertEqual(try fingerprint([runA]), scoped, "deterministic")

        let db = try Database(path: fixture.path, mode: .readWrite)
        try db.execute("UPDATE metrics SET value = value + 1e-15 WHERE run_id = ? AND step = 150 AND key_id = 1", [.integer(runB)])
        XCTAssertEqual(try fingerprint([runA]), scoped, "run B is out of scope")
        XCTAssertNotEqual(try fingerprint(nil).value, whole.value)
        XCTAssertEqual(try fingerprint(nil).changedTables(since: whole), ["metrics"])
        try db.execute("UPDATE metrics SET step = 151 WHERE run_id = ? AND step = 150 AND key_id = 1", [.integer(runA)])
        XCTAssertEqual(try fingerprint([runA]).changedTables(since: scoped), ["metrics"])
        try db.execute("UPDATE runs SET name = 'renamed' WHERE id = ?", [.integer(runB)])
        XCTAssertEqual(try fingerprint([runA]).changedTables(since: scoped), ["metrics", "runs"])
    }

    func testResultFingerprintsTellStorageClassesAndBitPatternsApart() {
        func fp(_ value: DatabaseValue) -> String { ResultTable(columns: ["x"], rows: [[value]]).fingerprint }
        XCTAssertNotEqual(fp(.integer(1)), fp(.real(1)))
        XCTAssertNotEqual(fp(.text("1")), fp(.integer(1)))
        XCTAssertNotEqual(fp(.real(0)), fp(.real(-0.0)))
        XCTAssertNotEqual(fp(.text("")), fp(.null))
        XCTAssertNotEqual(ResultTable(columns: ["ab", "c"]).fingerprint, ResultTable(columns: ["a", "bc"]).fingerprint)
        XCTAssertEqual(fp(.real(0.1)), fp(.real(0.1)))
    }
}
