import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import Query

/// SVGPlot's output read back as XML: structure, the data-to-pixel map checked against the
/// tick labels the plot itself prints, and everything hostile or degenerate input can do.
final class SVGPlotTests: XCTestCase {
    private func line(_ label: String, _ points: [(Double, Double)]) -> PlotSeries {
        PlotSeries(label: label, points: points.map { PlotPoint(x: $0.0, y: $0.1) })
    }

    private func seriesPaths(_ svg: SVGInspection) -> [XMLElement] { svg.elements("path", class: "series") }

    func testDocumentIsSVGWithOnePathPerSeriesInPaletteColours() throws {
        let series = ["train", "validation", "test"].enumerated().map { i, label in
            line(label, (0..<50).map { (Double($0), Double($0 * (i + 1))) })
        }
        let text = SVGPlot.render(series, options: PlotOptions(title: "Loss", xLabel: "step", yLabel: "loss"))
        XCTAssertFalse(text.hasPrefix("<?xml"), "no XML declaration, so the SVG can be inlined in HTML")
        let svg = try SVGInspection(text)
        XCTAssertEqual(svg.root.localName, "svg")
        XCTAssertEqual(svg.root.uri, "http://www.w3.org/2000/svg")
        XCTAssertEqual(svg.root.attributeValue("viewBox"), "0 0 640 400")
        XCTAssertEqual(svg.root.attributeValue("width"), "640")
        XCTAssertEqual(svg.root.attributeValue("height"), "400")
        let paths = seriesPaths(svg)
        XCTAssertEqual(paths.map { $0.attributeValue("data-series") }, ["train", "validation", "test"])
        XCTAssertEqual(paths.map { $0.attributeValue("stroke") }, Array(SVGPlot.palette.prefix(3)))
        XCTAssertEqual(svg.elements("g", class: "legend-entry").count, 3)
        XCTAssertEqual(svg.elements("text", class: "title").first?.stringValue, "Loss")
        XCTAssertEqual(svg.elements("text", class: "axis-label").map { $0.stringValue }, ["step", "loss"])
    }

    func testPathCoordinatesFollowTheTickLabels() throws {
        let series = line("s", [(0, 0), (20, 0.3), (50, 0.8), (100, 1)])
        let svg = try SVGInspection(SVGPlot.render([series], options: PlotOptions(xLabel: "x", yLabel: "y")))
        let xTicks = svg.ticks("x"), yTicks = svg.ticks("y")
        XCTAssertGreaterThanOrEqual(xTicks.count, 3)
        XCTAssertGreaterThanOrEqual(yTicks.count, 3)
        let toX = try XCTUnwrap(mapping(from: xTicks)), toY = try XCTUnwrap(mapping(from: yTicks))
        // Every tick lies on the same line (the axis is linear), and y grows upwards.
        for tick in xTicks { XCTAssertEqual(toX(tick.value), tick.pixel, accuracy: 0.02) }
        for tick in yTicks { XCTAssertEqual(toY(tick.value), tick.pixel, accuracy: 0.02) }
        XCTAssertLessThan(toY(1), toY(0))
        // The axis ends on ticks, so the plot area spans exactly first to last tick.
        let area = try XCTUnwrap(svg.plotArea())
        XCTAssertEqual(xTicks.first!.pixel, area.x, accuracy: 0.02)
        XCTAssertEqual(xTicks.last!.pixel, area.x + area.width, accuracy: 0.02)
        XCTAssertEqual(yTicks.first!.pixel, area.y + area.height, accuracy: 0.02)
        XCTAssertEqual(yTicks.last!.pixel, area.y, accuracy: 0.02)

        let drawn = subpaths(try XCTUnwrap(seriesPaths(svg).first?.attributeValue("d")))
        XCTAssertEqual(drawn.count, 1)
        XCTAssertEqual(drawn[0].count, 4)
        for (point, data) in zip(drawn[0], series.points) {
            XCTAssertEqual(point.x, toX(data.x), accuracy: 0.02)
            XCTAssertEqual(point.y, toY(data.y), accuracy: 0.02)
        }
    }

    func testTicksAreOneTwoOrFiveTimesAPowerOfTen() throws {
        for (low, high) in [(0.013, 0.97), (-3.0, 1_234.0), (1e-7, 3e-6), (40_000.0, 2e6), (5.0, 5.0001)] {
            let svg = try SVGInspection(SVGPlot.render([line("s", [(low, low), (high, high)])], options: PlotOptions()))
            let values = svg.ticks("y").map(\.value)
            guard values.count >= 2 else { XCTFail("\(values.count) ticks for \(low)...\(high)"); continue }
            XCTAssertLessThanOrEqual(values.first ?? .nan, low, "ticks cover the data")
            XCTAssertGreaterThanOrEqual(values.last ?? .nan, high, "ticks cover the data")
            let step = values[1] - values[0]
            let mantissa = step / pow(10, floor(log10(step)))
            XCTAssertTrue([1.0, 2, 5, 10].contains { abs(mantissa - $0) < 1e-6 }, "step \(step) for \(low)...\(high)")
            for i in 1..<values.count { XCTAssertEqual(values[i] - values[i - 1], step, accuracy: step * 1e-6) }
        }
    }

    func testTickLabelsAreCompact() {
        XCTAssertEqual(TickLabel.labels(for: [0, 50_000, 100_000, 150_000], step: 50_000), ["0", "5e4", "1e5", "1.5e5"])
        XCTAssertEqual(TickLabel.labels(for: [0, 0.05, 0.1, 0.15000000000000002], step: 0.05), ["0", "0.05", "0.1", "0.15"])
        XCTAssertEqual(TickLabel.labels(for: [0, 1000, 2000], step: 1000), ["0", "1000", "2000"])
        XCTAssertEqual(TickLabel.labels(for: [0, 1e-4, 2e-4], step: 1e-4), ["0", "1e-4", "2e-4"])
        XCTAssertEqual(TickLabel.labels(for: [1e6, 1.5e6, 2e6], step: 5e5), ["1e6", "1.5e6", "2e6"])
        XCTAssertEqual(TickLabel.labels(for: [-1, -0.5, 0, 0.5], step: 0.5), ["-1", "-0.5", "0", "0.5"])
        XCTAssertEqual(TickLabel.labels(for: [0.01, 0.1, 1, 10], step: nil), ["0.01", "0.1", "1", "10"])
        XCTAssertEqual(TickLabel.labels(for: [1e-6, 1e-4, 1e-2], step: nil), ["1e-6", "1e-4", "1e-2"])
        XCTAssertEqual(TickLabel.labels(for: [0, 5e-4, 1e-3], step: 5e-4), ["0", "5e-4", "1e-3"])
    }

    func testLogAxisPlacesDecadesEvenlyAndCountsNonPositiveValues() throws {
        let series = line("loss", [(1, 1e-3), (2, 1e-2), (3, 0), (4, -1), (5, 0.1), (6, 1)])
        let text = SVGPlot.render([series], options: PlotOptions(logY: true))
        let svg = try SVGInspection(text)
        XCTAssertEqual(svg.elements("text", class: "note").first?.stringValue, "2 non-positive values not shown")
        let drawn = subpaths(try XCTUnwrap(seriesPaths(svg).first?.attributeValue("d")))
        XCTAssertEqual(drawn.map(\.count), [2, 2], "the dropped values break the line")
        let ys = drawn.flatMap { $0.map(\.y) }
        XCTAssertEqual(ys[0] - ys[1], ys[1] - ys[2], accuracy: 0.02, "a decade is the same height everywhere")
        XCTAssertEqual(ys[1] - ys[2], ys[2] - ys[3], accuracy: 0.02)
        XCTAssertGreaterThan(ys[0] - ys[1], 10)
        let toY = try XCTUnwrap(mapping(from: svg.ticks("y"), log: true))
        for (y, value) in zip(ys, [1e-3, 1e-2, 0.1, 1]) { XCTAssertEqual(y, toY(value), accuracy: 0.02) }
        for tick in svg.ticks("y") {
            XCTAssertEqual(log10(tick.value), log10(tick.value).rounded(), accuracy: 1e-9, "decade ticks only: \(tick.value)")
        }

        // Log x with a zero step (step 0 is common) and an error bar reaching below zero.
        let logX = SVGPlot.render([PlotSeries(label: "a", points: [PlotPoint(x: 0, y: 1), PlotPoint(x: 10, y: 2, error: 5),
                                                                 PlotPoint(x: 1000, y: 3)])],
                                  options: PlotOptions(logX: true, logY: true))
        let parsed = try SVGInspection(logX)
        XCTAssertEqual(parsed.elements("text", class: "note").first?.stringValue, "1 non-positive value not shown")
        XCTAssertEqual(parsed.elements("path", class: "errorbar").count, 1)
    }

    func testNaNAndInfinityBreakTheLine() throws {
        let series = line("s", [(0, 1), (1, 2), (2, .nan), (3, 4), (.infinity, 5), (5, 6), (6, -.infinity)])
        let svg = try SVGInspection(SVGPlot.render([series], options: PlotOptions()))
        let drawn = subpaths(try XCTUnwrap(seriesPaths(svg).first?.attributeValue("d")))
        // Isolated points become zero-length segments (dots with round caps).
        XCTAssertEqual(drawn.count, 3)
        XCTAssertEqual(drawn.map(\.count), [2, 2, 2])
        XCTAssertEqual(drawn[1][0].x, drawn[1][1].x)
        XCTAssertLessThan(drawn[0][1].x, drawn[1][0].x)
        XCTAssertLessThan(drawn[1][0].x, drawn[2][0].x)
        XCTAssertNil(svg.elements("text", class: "note").first)
    }

    func testNoDrawablePointsShowsTheFrameWithNoData() throws {
        let cases: [([PlotSeries], PlotOptions)] = [
            ([], PlotOptions(title: "empty")),
            ([PlotSeries(label: "none", points: [])], PlotOptions()),
            ([line("nan", [(.nan, 1), (2, .nan), (.infinity, .infinity)])], PlotOptions()),
            ([line("neg", [(1, -1), (2, 0)])], PlotOptions(logY: true)),
        ]
        for (series, options) in cases {
            let svg = try SVGInspection(SVGPlot.render(series, options: options))
            XCTAssertNotNil(svg.plotArea())
            XCTAssertEqual(svg.elements("text", class: "no-data").first?.stringValue, "no data")
            XCTAssertEqual(seriesPaths(svg).count, series.count)
            XCTAssertTrue(seriesPaths(svg).allSatisfy { $0.attributeValue("d") == "" })
            XCTAssertTrue(svg.ticks("x").isEmpty)
        }
    }

    func testOneValueOrAConstantStillGetsARange() throws {
        for series in [line("one", [(5, 3)]), line("flat", [(0, 0), (1, 0), (2, 0)]), line("tiny", [(1e-300, 7), (1e-300, 7)]),
                       line("huge", [(-1e308, -1e308), (1e308, 1e308)])] {
            let svg = try SVGInspection(SVGPlot.render([series], options: PlotOptions()))
            let area = try XCTUnwrap(svg.plotArea())
            XCTAssertGreaterThanOrEqual(svg.ticks("y").count, 2, series.label)
            for point in subpaths(seriesPaths(svg).first?.attributeValue("d") ?? "").flatMap({ $0 }) {
                // 0.01: coordinates are printed with two decimals.
                XCTAssertTrue((area.x - 0.01...area.x + area.width + 0.01).contains(point.x), "\(series.label): \(point)")
                XCTAssertTrue((area.y - 0.01...area.y + area.height + 0.01).contains(point.y), "\(series.label): \(point)")
            }
        }
        let single = try SVGInspection(SVGPlot.render([line("one", [(5, 3)])], options: PlotOptions()))
        XCTAssertEqual(single.elements("circle", class: "marker").count, 1, "a lone point is visible")
    }

    func testHostileLabelsAreEscapedAndTheDocumentStillParses() throws {
        let labels = ["</svg><script>alert(1)</script>", "\"double\" & 'single' <tag>", "nul\u{0}byte\u{1B}esc",
                      String(repeating: "long label ", count: 10_000)]
        let options = PlotOptions(title: "<title>&</title>", xLabel: "x < 1 & y > 2", yLabel: "'\"")
        let text = SVGPlot.render(labels.map { line($0, [(0, 1), (1, 2)]) }, options: options)
        XCTAssertFalse(text.contains("<script"))
        XCTAssertFalse(text.contains("\u{0}"))
        let svg = try SVGInspection(text)
        let expected = labels.map { $0.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}").replacingOccurrences(of: "\u{1B}", with: "\u{FFFD}") }
        XCTAssertEqual(seriesPaths(svg).map { $0.attributeValue("data-series") }, expected)
        XCTAssertEqual(svg.elements("text", class: "title").first?.stringValue, "<title>&</title>")
        XCTAssertEqual(svg.elements("text", class: "axis-label").first?.stringValue, "x < 1 & y > 2")
        // The legend shows a cut label rather than a 110,000-character line.
        let legendTexts = svg.elements("g", class: "legend-entry").compactMap { $0.stringValue }
        XCTAssertEqual(legendTexts.count, 4)
        XCTAssertTrue(legendTexts.allSatisfy { $0.count <= PlotLegend.maxLabelCharacters }, "\(legendTexts.map(\.count))")
    }

    func testTwentyThousandPointsRenderFastAndKeepTheirExtremes() throws {
        let n = 20_000
        var points: [PlotPoint] = []
        var state: UInt64 = 42
        for i in 0..<n {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let noise = Double(state >> 11) / Double(1 << 53) - 0.5
            points.append(PlotPoint(x: Double(i), y: sin(Double(i) / 2000) + 0.2 * noise))
        }
        let series = [PlotSeries(label: "a", points: points), PlotSeries(label: "b", points: points.map { PlotPoint(x: $0.x, y: $0.y * 2) })]
        let start = Date()
        let text = SVGPlot.render(series, options: PlotOptions(title: "dense"))
        let seconds = Date().timeIntervalSince(start)
        XCTAssertLessThan(seconds, 2, "two 20,000-point series took \(seconds) s")
        let svg = try SVGInspection(text)
        let area = try XCTUnwrap(svg.plotArea())
        let drawn = subpaths(try XCTUnwrap(seriesPaths(svg).first?.attributeValue("d")))
        XCTAssertEqual(drawn.count, 1)
        XCTAssertLessThanOrEqual(drawn[0].count, 4 * (Int(area.width) + 2), "thinned to at most 4 points per pixel column")
        XCTAssertTrue(svg.elements("circle", class: "marker").isEmpty, "no automatic markers on dense series")
        // Thinning keeps the extremes: the drawn y range is the data's.
        let toY = try XCTUnwrap(mapping(from: svg.ticks("y")))
        let ys = drawn[0].map(\.y)
        XCTAssertEqual(ys.min()!, toY(points.map(\.y).max()!), accuracy: 0.02)
        XCTAssertEqual(ys.max()!, toY(points.map(\.y).min()!), accuracy: 0.02)
        // x never runs backwards for increasing data.
        XCTAssertTrue(zip(drawn[0], drawn[0].dropFirst()).allSatisfy { $0.x <= $1.x })
    }

    func testErrorBarsSpanValuePlusMinusError() throws {
        let points = [PlotPoint(x: 0, y: 1, error: 0.5), PlotPoint(x: 1, y: 2, error: 0.25), PlotPoint(x: 2, y: 3, error: .nan),
                      PlotPoint(x: 3, y: 2.5)]
        let svg = try SVGInspection(SVGPlot.render([PlotSeries(label: "ci", points: points)], options: PlotOptions()))
        let toY = try XCTUnwrap(mapping(from: svg.ticks("y")))
        let bars = try XCTUnwrap(svg.elements("path", class: "errorbar").first?.attributeValue("d"))
        // Per bar: the vertical line, then a cap at each end.
        let drawn = subpaths(bars)
        XCTAssertEqual(drawn.count, 6, "two bars (NaN and missing errors draw none), each with two caps")
        XCTAssertEqual(drawn[0][0].y, toY(1.5), accuracy: 0.02)
        XCTAssertEqual(drawn[0][1].y, toY(0.5), accuracy: 0.02)
        XCTAssertEqual(drawn[3][0].y, toY(2.25), accuracy: 0.02)
        XCTAssertEqual(drawn[3][1].y, toY(1.75), accuracy: 0.02)
        XCTAssertLessThanOrEqual(svg.ticks("y").first!.value, 0.5, "the axis covers the bars")
    }

    func testMarkersAreAutomaticUpToFortyPoints() throws {
        func markers(_ count: Int, _ setting: Bool?) throws -> Int {
            let series = line("s", (0..<count).map { (Double($0), Double($0)) })
            let svg = try SVGInspection(SVGPlot.render([series], options: PlotOptions(markers: setting)))
            return svg.elements("circle", class: "marker").count
        }
        XCTAssertEqual(try markers(40, nil), 40)
        XCTAssertEqual(try markers(41, nil), 0)
        XCTAssertEqual(try markers(41, true), 41)
        XCTAssertEqual(try markers(5, false), 0)
    }

    func testLegendSitsBesideFewSeriesAndBelowManyNeverOnThePlot() throws {
        let few = try SVGInspection(SVGPlot.render((0..<3).map { line("run \($0)", [(0, 0), (1, 1)]) }, options: PlotOptions()))
        let fewArea = try XCTUnwrap(few.plotArea())
        for text in few.elements("g", class: "legend-entry").compactMap({ $0.elements(forName: "text").first }) {
            XCTAssertGreaterThan(Double(text.attributeValue("x") ?? "") ?? 0, fewArea.x + fewArea.width)
        }

        let many = (0..<24).map { line("learning rate \($0) seed \($0 % 3)", [(0, Double($0)), (1, Double($0 + 1))]) }
        let svg = try SVGInspection(SVGPlot.render(many, options: PlotOptions()))
        let area = try XCTUnwrap(svg.plotArea())
        let entries = svg.elements("g", class: "legend-entry")
        XCTAssertFalse(entries.isEmpty)
        for text in entries.compactMap({ $0.elements(forName: "text").first }) {
            XCTAssertGreaterThan(Double(text.attributeValue("y") ?? "") ?? 0, area.y + area.height + 20)
        }
        let shown = entries.count
        if shown < many.count {
            XCTAssertEqual(svg.elements("text", class: "legend-more").first?.stringValue, "+\(many.count - shown) more")
        }
        // Past the palette the colours repeat with a dash pattern.
        let paths = seriesPaths(svg)
        XCTAssertEqual(paths.count, 24)
        XCTAssertEqual(paths[10].attributeValue("stroke"), SVGPlot.palette[0])
        XCTAssertNil(paths[0].attributeValue("stroke-dasharray"))
        XCTAssertNotNil(paths[10].attributeValue("stroke-dasharray"))
        XCTAssertNotEqual(paths[10].attributeValue("stroke-dasharray"), paths[20].attributeValue("stroke-dasharray"))
    }

    func testUnusableSizesAreReplaced() throws {
        for (w, h) in [(Double.nan, 400.0), (0, 0), (-5, 1e9), (.infinity, 300)] {
            let svg = try SVGInspection(SVGPlot.render([line("s", [(0, 0), (1, 1)])], options: PlotOptions(width: w, height: h)))
            let width = Double(svg.root.attributeValue("width") ?? "") ?? 0
            let height = Double(svg.root.attributeValue("height") ?? "") ?? 0
            XCTAssertTrue((160...10_000).contains(width) && (120...10_000).contains(height), "\(w)×\(h) → \(width)×\(height)")
        }
    }
}
