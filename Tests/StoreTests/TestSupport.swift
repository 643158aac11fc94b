import Foundation
import XCTest
@testable import Store

/// A fresh directory per test, removed afterwards.
final class TemporaryDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("tlens-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit {
        // Undo chmods so the directory can be removed.
        if let names = try? FileManager.default.contentsOfDirectory(atPath: url.path) {
            for name in names { chmod(path(name), 0o644) }
        }
        try? FileManager.default.removeItem(at: url)
    }
}

func fileBytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

func fileExists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

/// Asserts that `body` throws a DatabaseError and returns it.
@discardableResult
func assertDatabaseError(_ body: @autoclosure () throws -> Any, file: StaticString = #filePath, line: UInt = #line) -> DatabaseError? {
    do {
        _ = try body()
        XCTFail("expected a DatabaseError", file: file, line: line)
        return nil
    } catch let error as DatabaseError {
        return error
    } catch {
        XCTFail("expected a DatabaseError, got \(error)", file: file, line: line)
        return nil
    }
}

/// The StoreChild executable SwiftPM builds next to the test bundle.
func storeChildURL() throws -> URL {
    var folders = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent(),
                   URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
    folders += Bundle.allBundles.map { $0.bundleURL.deletingLastPathComponent() }
    for folder in folders {
        let candidate = folder.appendingPathComponent("StoreChild")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    throw XCTSkip("StoreChild executable not found next to the test bundle (\(folders.map(\.path)))")
}

/// A running StoreChild with its stdout read line by line.
final class ChildProcess {
    let process = Process()
    private let output = Pipe()
    private let errors = Pipe()
    private var buffer = Data()

    init(arguments: [String]) throws {
        process.executableURL = try storeChildURL()
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = errors
        try process.run()
    }

    /// The next line of stdout, or nil at end of file.
    func readLine() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                return line
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
        }
    }

    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Waits for exit; returns (status, remaining stdout lines, stderr).
    func finish() -> (status: Int32, lines: [String], stderr: String) {
        var lines: [String] = []
        while let line = readLine() { lines.append(line) }
        process.waitUntilExit()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (process.terminationStatus, lines, stderr)
    }
}
