import Foundation
import XCTest

/// The loadable build (libtlensvec) in the two hosts users have: Python's sqlite3 and the
/// stock sqlite3 shell. Both load the same source as CVecSQL, so these pin down the
/// extension entry point and the sqlite3_api indirection, not the arithmetic.
final class LoadableExtensionTests: XCTestCase {
    /// `.build/<config>/libtlensvec.so`, the directory the test bundle itself is built into.
    func extensionPath() throws -> String {
        if let path = ProcessInfo.processInfo.environment["TLENS_VEC_EXTENSION"] { return path }
        let name = "libtlensvec.so"
        var directories = [Bundle(for: Self.self).bundleURL.deletingLastPathComponent(),
                           Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
        if let exe = Bundle.main.executableURL { directories.append(exe.resolvingSymlinksInPath().deletingLastPathComponent()) }
        directories.append(URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent())
        for dir in directories {
            let candidate = dir.appendingPathComponent(name).path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        XCTFail("\(name) not found next to the test bundle in \(directories.map(\.path)); build the tlensvec product")
        throw XCTSkip("no \(name)")
    }

    /// Executables named `name` on PATH plus `extra`, without duplicates.
    func executables(_ name: String, extra: [String] = []) -> [String] {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        var seen = Set<String>(), out: [String] = []
        for candidate in path.split(separator: ":").map({ "\($0)/\(name)" }) + extra
        where FileManager.default.isExecutableFile(atPath: candidate) {
            let resolved = URL(fileURLWithPath: candidate).resolvingSymlinksInPath().path
            if seen.insert(resolved).inserted { out.append(candidate) }
        }
        return out
    }

    func run(_ executable: String, _ arguments: [String], stdin: String? = nil) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let outPipe = Pipe(), errPipe = Pipe(), inPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = inPipe
        try process.run()
        if let stdin { inPipe.fileHandleForWriting.write(Data(stdin.utf8)) }
        try inPipe.fileHandleForWriting.close()
        let out = outPipe.fileHandleForReading.readDataToEndOfFile()
        let err = errPipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    func testPythonSqlite3LoadsTheExtension() throws {
        let library = try extensionPath()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("check_extension.py").path
        // pyenv-style builds often lack enable_load_extension; the system Python usually has it.
        let pythons = executables("python3", extra: ["/usr/bin/python3", "/usr/local/bin/python3"])
        guard !pythons.isEmpty else { throw XCTSkip("no python3") }
        var skipped: [String] = []
        for python in pythons {
            let result = try run(python, [script, library])
            switch result.status {
            case 0:
                XCTAssert(result.out.hasPrefix("OK:"), result.out)
                return
            case 77:
                skipped.append(python)
            default:
                return XCTFail("\(python) \(script) exited \(result.status):\n\(result.out)\(result.err)")
            }
        }
        throw XCTSkip("no python3 with sqlite3 extension loading among \(skipped)")
    }

    func testStockSqlite3ShellLoadsTheExtension() throws {
        let library = try extensionPath()
        guard let shell = executables("sqlite3").first else { throw XCTSkip("no sqlite3 shell") }
        // `.load` without the suffix, as documented; SQLite derives sqlite3_tlensvec_init from the name.
        let stem = String(library.dropLast(".so".count))
        let sql = """
            .bail on
            .load \(stem)
            SELECT vec_len(vec_from_json('[1, 2, 3.5]')), vec_sum(vec_from_json('[1, 2, 3.5]')),
                   vec_to_json(vec_slice(vec_from_json('[1, 2, 3.5]'), 1, 2));
            SELECT group_concat(i || ':' || value, ' ') FROM vec_each(vec_from_json('[7, -0.5]'));
            SELECT vec_get(x'0000803f', 1);
            """
        let result = try run(shell, [":memory:"], stdin: sql)
        XCTAssertEqual(result.out, "3|6.5|[2,3.5]\n0:7.0 1:-0.5\n")
        XCTAssert(result.err.contains("vec_get: index 1 out of range for vector of length 1"), result.err)
        XCTAssertNotEqual(result.status, 0, "the last statement must fail")
    }
}
