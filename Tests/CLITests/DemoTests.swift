#if canImport(FoundationXML)
import FoundationXML
#endif
import Foundation
import Store
import Studies
import XCTest

/// `tlens demo` end to end at the CI size (`--smoke`): every study runs into a scratch
/// database, each report and the index are written and parse, and the summary names every
/// study with a verdict for each of its findings.
final class DemoTests: TemporaryDirectoryTestCase {
    func testDemoRunsEveryStudyWritesTheReportsAndPrintsTheSummary() throws {
        let db = path("demo.sqlite"), index = path("report.html")
        let (process, out, err) = try startTLens(["demo", "--smoke", "--db", db, "--out", index, "--quiet"], in: directory, capture: true)
        let stdout = String(decoding: out!.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err!.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, stderr)

        let verdicts = ["held", "did not hold", "not evaluated"]
        for study in Studies.all {
            XCTAssertTrue(stdout.split(separator: "\n").contains { $0.hasPrefix(study.name + " ") }, "summary lacks \(study.name):\n\(stdout)")
            let report = path("report-\(study.name).html")
            let html = try String(contentsOfFile: report, encoding: .utf8)
            XCTAssertNoThrow(try XMLDocument(xmlString: html, options: []), report)
            XCTAssertTrue(html.contains("Findings"), report)
            XCTAssertTrue(verdicts.contains { html.contains(">\($0)<") }, "\(report) shows no verdict")
        }
        let page = try String(contentsOfFile: index, encoding: .utf8)
        XCTAssertNoThrow(try XMLDocument(xmlString: page, options: []))
        for study in Studies.all { XCTAssertTrue(page.contains("href=\"report-\(study.name).html\""), "index does not link \(study.name)") }
        XCTAssertTrue(stdout.contains("studies in"), stdout)
        // Every finding is evaluated and tagged with its origin: the paper's figure or tlens's own
        // extension (the studies share one database here, as in `make demo`).
        let findings = stdout.split(separator: "\n").filter { line in
            ["held", "did not hold", "not evaluated"].contains { line.contains("  \($0)  ") }
        }
        XCTAssertGreaterThan(findings.count, Studies.all.count, stdout)
        XCTAssertFalse(stdout.contains("not evaluated"), stdout)
        for line in findings {
            XCTAssertTrue(line.contains("(paper Fig.") || line.contains("(tlens extension)"), "untagged finding: \(line)")
        }
        // Every sweep of every study is in the database, completed.
        let database = try Database(path: db, mode: .readOnly)
        XCTAssertEqual(try database.scalarInt("SELECT count(*) FROM runs WHERE status != 'completed'"), 0)
        XCTAssertGreaterThan(try database.scalarInt("SELECT count(*) FROM runs") ?? 0, 0)
    }
}
