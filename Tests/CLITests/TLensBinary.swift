import Foundation
import XCTest

/// The tlens executable SwiftPM built next to the test bundle.
func tlensBinary() throws -> URL {
    let candidates = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent(),
                      URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
        + Bundle.allBundles.map { $0.bundleURL.deletingLastPathComponent() }
    guard let binary = candidates.map({ $0.appendingPathComponent("tlens") })
        .first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        XCTFail("tlens executable not found next to the test bundle")
        throw CocoaError(.fileNoSuchFile)
    }
    return binary
}

/// A tlens child process in `directory`, its output discarded or captured.
func startTLens(_ arguments: [String], in directory: URL, capture: Bool = false,
                environment: [String: String] = [:]) throws -> (Process, Pipe?, Pipe?) {
    let process = Process()
    process.executableURL = try tlensBinary()
    process.arguments = arguments
    if !environment.isEmpty {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    process.currentDirectoryURL = directory
    let out = capture ? Pipe() : nil, err = capture ? Pipe() : nil
    process.standardOutput = out ?? FileHandle.nullDevice
    process.standardError = err ?? FileHandle.nullDevice
    try process.run()
    return (process, out, err)
}

/// A test case with a temporary directory of its own, and `tlens` children run to the end.
class TemporaryDirectoryTestCase: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tlens-\(type(of: self))-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// What a finished `tlens` printed and returned.
    struct Outcome { var status: Int32; var stdout: String; var stderr: String }

    /// Runs `tlens arguments` in the directory to the end, capturing both streams.
    func tlens(_ arguments: [String], environment: [String: String] = [:]) throws -> Outcome {
        let (process, out, err) = try startTLens(arguments, in: directory, capture: true, environment: environment)
        let stdout = out!.fileHandleForReading.readDataToEndOfFile()
        let stderr = err!.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                       stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// A refusal as users must see it: non-zero exit, one line on stderr naming `text`, no trap.
    func assertOneLineError(_ o: Outcome, containing text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(o.status, 0, "expected a failure", file: file, line: line)
        let lines = o.stderr.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        XCTAssertEqual(lines.count, 1, "stderr: \(o.stderr)", file: file, line: line)
        XCTAssertTrue(o.stderr.contains(text), "stderr: \(o.stderr)", file: file, line: line)
        XCTAssertFalse(o.stderr.contains("Fatal error"), file: file, line: line)
    }

    /// Runs `tlens arguments` in the directory to the end: exit status and stderr.
    func finish(_ arguments: [String]) throws -> (Int32, String) {
        let (process, _, err) = try startTLens(arguments, in: directory, capture: true)
        let stderr = String(decoding: err!.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, stderr)
    }
}
