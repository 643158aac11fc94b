import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import Query

/// `tlens report` on a real database (the fixture's sweep), rendered by headless Chromium:
/// the page parses, every figure holds the series asked for, and in the screenshot every
/// figure shows pixels of each of its series' colours.
final class ReportRenderingTests: XCTestCase {
    /// The stroke colour of each `path.series` of an SVG, in order.
    func seriesColors(_ svg: String) -> [String] {
        var colors: [String] = []
        var rest = svg[...]
        while let range = rest.range(of: "class=\"series\"") {
            let tagStart = rest[..<range.lowerBound].range(of: "<path", options: .backwards)?.lowerBound ?? range.lowerBound
            let tagEnd = rest[range.upperBound...].firstIndex(of: ">") ?? rest.endIndex
            let tag = rest[tagStart..<tagEnd]
            if let stroke = tag.range(of: "stroke=\"") {
                colors.append(String(tag[stroke.upperBound...].prefix { $0 != "\"" }))
            }
            rest = rest[tagEnd...]
        }
        return colors
    }

    func testSweepReportRendersEveryPlotWithItsSeries() throws {
        let fixture = try QueryFixture()
        let reader = try fixture.reader()
        let page = try ReportRequest(selection: RunSelection(sweep: "dd")).page(reader)
        let html = page.html()
        XCTAssertNoThrow(try XMLDocument(xmlString: html, options: []))
        XCTAssertFalse(html.contains("<script"))

        // What the fixture recorded decides the sections: no train_loss, tel/lin MSE, kvel,
        // kalign or ktrace, so those plots are absent and the omission is said.
        let headings = page.sections.map(\.heading)
        XCTAssertEqual(headings, ["Runs", "Along the sweep axes", "Loss and accuracy", "Network, telescoped and linearized",
                                  "Approximation error", "Tangent kernel", "Effective parameters"])
        let figures = page.sections.flatMap(\.figures)
        XCTAssertEqual(figures.count, 4 + 3 + 4 + 2 + 1 + 2)
        for figure in figures { XCTAssertFalse(seriesColors(figure).isEmpty, "a figure without series") }
        // The sweep plots: one point per width, error bars from the three seeds.
        XCTAssertEqual(figures[0].components(separatedBy: "class=\"errorbar\"").count - 1 > 0, true)
        // The curves: 12 runs overlaid, labelled by run name.
        XCTAssertTrue(figures[4].contains("data-series=\"hidden=4 seed=0\""), "a sweep run is labelled by its axes")
        XCTAssertEqual(seriesColors(figures[4]).count, 12)

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tlens-report-rendering")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let htmlURL = directory.appendingPathComponent("report.html"), pngURL = directory.appendingPathComponent("report.png")
        try html.write(to: htmlURL, atomically: true, encoding: .utf8)
        let image = try renderScreenshot(html: htmlURL, width: 1280, height: 5600, savingTo: pngURL)
        print("ReportRenderingTests: screenshot saved to \(pngURL.path)")
        let background = image.dominantColor()
        XCTAssertGreaterThan(Double(image.count { !$0.isNear(background, tolerance: 8) }) / Double(image.width * image.height), 0.02)

        // Each figure of the report, exactly as written, in a cell of known position on a
        // second page: every figure must show pixels of each of its series' colours.
        var grid = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"/><style>body{margin:0;background:#fff}"
            + "div{position:absolute;width:640px;height:440px;overflow:hidden}</style></head><body>"
        for (i, figure) in figures.enumerated() {
            grid += "<div style=\"left:\((i % 2) * 640)px;top:\((i / 2) * 440)px\">\(figure)</div>"
        }
        grid += "</body></html>"
        let gridURL = directory.appendingPathComponent("figures.html")
        try grid.write(to: gridURL, atomically: true, encoding: .utf8)
        let cells = try renderScreenshot(html: gridURL, width: 1280, height: 440 * ((figures.count + 1) / 2),
                                         savingTo: directory.appendingPathComponent("figures.png"))
        for (i, figure) in figures.enumerated() {
            let rows = (i / 2) * 440..<(i / 2) * 440 + 440, columns = (i % 2) * 640..<(i % 2) * 640 + 640
            for hex in Set(seriesColors(figure)) {
                let n = cells.count(near: PNGImage.Color(hex: hex), rows: rows, columns: columns)
                XCTAssertGreaterThan(n, 40, "figure \(i + 1): only \(n) pixels of its series colour \(hex)")
            }
        }
        // And the same colours are drawn on the report page itself.
        for hex in Set(figures.flatMap(seriesColors)) {
            XCTAssertGreaterThan(image.count(near: PNGImage.Color(hex: hex)), 100, "report page: colour \(hex) not drawn")
        }
    }
}
