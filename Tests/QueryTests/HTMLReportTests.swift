import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import Query

/// ReportPage's HTML read back as XML: every section, table and figure present, text escaped,
/// nothing fetched from anywhere and nothing executable.
final class HTMLReportTests: XCTestCase {
    static func samplePage(sections count: Int = 3) -> ReportPage {
        let plot = SVGPlot.render([PlotSeries(label: "loss", points: (0..<10).map { PlotPoint(x: Double($0), y: 1 / Double($0 + 1)) })],
                                  options: PlotOptions(title: "Loss"))
        let sections = (0..<count).map { i in
            ReportSection(heading: "Section \(i) <b>bold</b> & more",
                          text: "First paragraph of \(i).\nSecond line.\n\n  Second paragraph.  ",
                          tables: [ReportTable(header: ["run", "final loss"], rows: [["a\(i)", "0.25"], ["b\(i)", "1.5"]],
                                               numericColumns: [1])],
                          figures: i == 1 ? [plot, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + plot] : [plot])
        }
        return ReportPage(title: "Sweep \"12\" <all runs>", subtitle: "24 runs & 3 seeds", sections: sections)
    }

    private func parse(_ html: String) throws -> XMLDocument {
        try XMLDocument(xmlString: html, options: [])
    }

    private func elements(_ document: XMLDocument, _ name: String) -> [XMLElement] {
        ((try? document.nodes(forXPath: "//*[local-name()='\(name)']")) ?? []).compactMap { $0 as? XMLElement }
    }

    func testPageContainsEverySectionTableAndFigure() throws {
        let page = HTMLReportTests.samplePage()
        let html = page.html()
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        let document = try parse(html)
        let sections = elements(document, "section")
        XCTAssertEqual(sections.map { $0.elements(forName: "h2").first?.stringValue }, page.sections.map(\.heading))
        XCTAssertEqual(elements(document, "table").count, 3)
        XCTAssertEqual(elements(document, "figure").count, 4)
        XCTAssertEqual(elements(document, "svg").count, 4)
        XCTAssertFalse(html.contains("<?xml"), "XML declarations are dropped from inlined figures")
        XCTAssertEqual(elements(document, "title").first?.stringValue, page.title)
        XCTAssertEqual(elements(document, "h1").first?.stringValue, page.title)
        // Two paragraphs, the first keeping its line break (CSS white-space: pre-line shows it).
        let paragraphs = sections[0].elements(forName: "p").map { $0.stringValue }
        XCTAssertEqual(paragraphs, ["First paragraph of 0.\nSecond line.", "  Second paragraph.  "])
    }

    func testTableOfContentsLinksEverySectionWhenMoreThanTwo() throws {
        let document = try parse(HTMLReportTests.samplePage(sections: 3).html())
        let links = elements(document, "a").compactMap { $0.attributeValue("href") }
        let ids = elements(document, "section").compactMap { $0.attributeValue("id") }
        XCTAssertEqual(links, ids.map { "#\($0)" })
        XCTAssertEqual(Set(ids).count, 3)
        XCTAssertEqual(ids[0], "section-0-b-bold-b-more")
        XCTAssertTrue(elements(try parse(HTMLReportTests.samplePage(sections: 2).html()), "nav").isEmpty)
    }

    func testAnchorsAreSlugsAndUnique() {
        let anchors = ReportPage.anchors(for: [
            ReportSection(heading: "Learning rate (log)"), ReportSection(heading: "Learning rate (log)"),
            ReportSection(heading: "∑∆"), ReportSection(heading: "x", id: "Custom ID!"), ReportSection(heading: "y", id: "custom-id"),
        ])
        XCTAssertEqual(anchors, ["learning-rate-log", "learning-rate-log-2", "section-3", "custom-id", "custom-id-2"])
    }

    func testNumericColumnsAreRightAlignedAndRaggedRowsPadded() throws {
        let table = ReportTable(header: ["run", "lr", "loss"], rows: [["a", "0.1"], ["b", "0.01", "0.4", "extra"]], numericColumns: [1, 2])
        let page = ReportPage(title: "t", sections: [ReportSection(heading: "h", tables: [table])])
        let document = try parse(page.html())
        let rows = elements(document, "tr")
        XCTAssertEqual(rows.map { $0.children?.count ?? 0 }, [4, 4, 4])
        XCTAssertEqual(rows[0].elements(forName: "th").map { $0.attributeValue("class") }, [nil, "num", "num", nil])
        XCTAssertEqual(rows[2].elements(forName: "td").map { $0.stringValue }, ["b", "0.01", "0.4", "extra"])
        XCTAssertEqual(rows[1].elements(forName: "td").map { $0.stringValue }, ["a", "0.1", "", ""])
    }

    func testTextIsEscapedAndNothingIsFetchedOrRun() throws {
        let hostile = "</p><script>alert('x')</script><img src=\"https://example.com/x.png\"/>\u{0}"
        let page = ReportPage(title: hostile, subtitle: hostile, sections: [
            ReportSection(heading: hostile, text: hostile,
                          tables: [ReportTable(header: [hostile], rows: [[hostile]])],
                          figures: [SVGPlot.render([PlotSeries(label: hostile, points: [PlotPoint(x: 0, y: 0)])],
                                                   options: PlotOptions(title: hostile))]),
        ])
        let html = page.html()
        XCTAssertFalse(html.lowercased().contains("<script"))
        XCTAssertFalse(html.contains("<img"))
        XCTAssertFalse(html.contains("\u{0}"))
        let document = try parse(html)
        let visible = hostile.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}")
        XCTAssertEqual(elements(document, "h1").first?.stringValue, visible)
        XCTAssertEqual(elements(document, "td").first?.stringValue, visible)
        XCTAssertTrue(elements(document, "img").isEmpty)
    }

    func testPageReferencesNothingOutsideItself() {
        let html = HTMLReportTests.samplePage().html()
        // The only URL is the SVG namespace name, which is never fetched.
        let urls = html.components(separatedBy: "http").dropFirst().map { "http" + $0.prefix(30) }
        XCTAssertFalse(urls.isEmpty)
        XCTAssertTrue(urls.allSatisfy { $0.hasPrefix("http://www.w3.org/2000/svg\"") }, "\(urls)")
        XCTAssertFalse(html.contains("url("), "no CSS resources")
        XCTAssertFalse(html.contains("@import"))
        XCTAssertFalse(html.contains("src="))
        XCTAssertFalse(html.lowercased().contains("<script"))
        XCTAssertFalse(html.lowercased().contains("<link"))
    }

    func testEmptyPageIsStillAPage() throws {
        let document = try parse(ReportPage(title: "", sections: []).html())
        XCTAssertEqual(elements(document, "section").count, 0)
        XCTAssertEqual(elements(document, "style").count, 1)
    }
}
