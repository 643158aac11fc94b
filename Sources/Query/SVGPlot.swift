import Foundation

/// Line plots as SVG text: axes with nice ticks (or decades on log axes), title, axis labels,
/// a legend, optional error bars and markers. Pure: data in, a string out.
///
///     let svg = SVGPlot.render([PlotSeries(label: "train", points: points)],
///                              options: PlotOptions(title: "Loss", xLabel: "step", yLabel: "loss", logY: true))
///     try svg.write(toFile: "loss.svg", atomically: true, encoding: .utf8)
///
/// The result is a complete SVG 1.1 document with no XML declaration, so it is both a valid
/// `.svg` file and an element to paste into HTML. Each series is one
/// `<path class="series" data-series="LABEL">`, its error bars one `<path class="errorbar">`,
/// its markers `<circle class="marker">`.
///
/// Whatever the input, it does not trap: NaN and infinite coordinates break the line, values a
/// log axis cannot show are left out and counted in a note, an interval of one value is widened,
/// and when nothing is drawable the frame says "no data".
public enum SVGPlot {
    /// Series colours, in order; series 11–20 reuse them dashed, and so on (`style(ofSeries:)`).
    /// Matplotlib's "tab10", chosen to stay distinguishable from each other and on white.
    public static let palette: [String] = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    ]

    /// Dash pattern per pass through the palette (nil: solid).
    static let dashPatterns: [String?] = [nil, "7 3", "2 3", "9 3 2 3"]

    static let fontFamily = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'DejaVu Sans', sans-serif"

    /// Font sizes in pixels: tick labels and legend, axis labels, title. The margins below follow
    /// from them. Reports show a 640-pixel plot at about 560 pixels, so these are a step larger
    /// than screen body text.
    static let tickFont = 12.0
    static let labelFont = 13.0
    static let titleFont = 15.0

    /// Colour and dash of series number `index`.
    static func style(ofSeries index: Int) -> (color: String, dash: String?) {
        let index = max(index, 0)
        return (palette[index % palette.count], dashPatterns[(index / palette.count) % dashPatterns.count])
    }

    /// Rough text width for layout: 0.6 em per character is about the average of DejaVu Sans,
    /// the widest common fallback font, so estimates err towards more room.
    static func textWidth(_ text: String, fontSize: Double) -> Double {
        Double(text.count) * fontSize * 0.6
    }

    /// The SVG document for `series` drawn with `options`.
    public static func render(_ series: [PlotSeries], options: PlotOptions) -> String {
        let width = options.width.isFinite ? min(max(options.width, 160), 10_000) : 640
        let height = options.height.isFinite ? min(max(options.height, 120), 10_000) : 400
        let extent = DataExtent(series, logX: options.logX, logY: options.logY)
        let markers = series.map { s in options.markers ?? (s.points.count <= 40) }

        // Layout, outside in: title band, legend, bottom bands, then the y tick labels decide
        // the left margin and what remains is the plot area.
        let title = Markup.truncated(options.title, to: Int((width - 20) / (titleFont * 0.6)))
        let top = title.isEmpty ? 16.0 : titleFont + 26
        let legend = PlotLegend(labels: series.map(\.label), width: width, height: height, top: top)
        let note = extent.dropped > 0 ? "\(extent.dropped) non-positive value\(extent.dropped == 1 ? "" : "s") not shown" : ""
        let xLabelBand = options.xLabel.isEmpty ? 0.0 : labelFont + 7
        let noteBand = note.isEmpty ? 0.0 : 15
        let bottomMargin = tickFont + 14 + xLabelBand + noteBand + legend.heightBelow + 6
        let plotHeight = max(height - top - bottomMargin, 20)
        let yAxis = PlotAxis(dataMin: extent.yMin, dataMax: extent.yMax, isLog: options.logY,
                             length: plotHeight, spacing: 44, labelExtent: { _ in tickFont + 4 })
        let yTickWidth = yAxis.ticks.map { textWidth($0.label, fontSize: tickFont) }.max() ?? 0
        let left = 10 + (options.yLabel.isEmpty ? 0 : labelFont + 8) + yTickWidth + 8
        let right = max(legend.widthBeside + 14, 22)
        let plotWidth = max(width - left - right, 20)
        let xAxis = PlotAxis(dataMin: extent.xMin, dataMax: extent.xMax, isLog: options.logX,
                             length: plotWidth, spacing: 85, labelExtent: { textWidth($0, fontSize: tickFont) })
        let frame = PlotFrame(left: left, top: top, width: plotWidth, height: plotHeight, xAxis: xAxis, yAxis: yAxis)

        var svg = ""
        svg.reserveCapacity(8192 + series.reduce(0) { $0 + min($1.points.count, Int(plotWidth) * 4) * 16 + $1.label.utf8.count })
        svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" class=\"tlens-plot\" viewBox=\"0 0 \(number(width)) \(number(height))\" width=\"\(number(width))\" height=\"\(number(height))\" font-family=\"\(fontFamily)\" font-size=\"\(number(tickFont))\">"
        if !options.title.isEmpty {
            svg += "<title>"
            Markup.appendEscaped(Markup.truncated(options.title, to: 500), to: &svg)
            svg += "</title>"
        }
        svg += "<rect class=\"background\" width=\"\(number(width))\" height=\"\(number(height))\" fill=\"#ffffff\"/>"
        svg += "<rect class=\"plot-area\" x=\"\(number(left))\" y=\"\(number(top))\" width=\"\(number(plotWidth))\" height=\"\(number(plotHeight))\" fill=\"#ffffff\" stroke=\"#c9c9c9\"/>"
        svg += axes(frame)
        svg += labels(frame, title: title, options: options, width: width, note: note, noteY: height - 6 - legend.heightBelow)

        for (index, s) in series.enumerated() {
            let style = style(ofSeries: index)
            let errorBars = frame.errorBarPath(s.points)
            if !errorBars.isEmpty {
                svg += "<path class=\"errorbar\" data-series=\""
                Markup.appendEscaped(s.label, to: &svg)
                svg += "\" fill=\"none\" stroke=\"\(style.color)\" stroke-opacity=\"0.75\" stroke-width=\"1.2\" d=\"\(errorBars)\"/>"
            }
            svg += "<path class=\"series\" data-series=\""
            Markup.appendEscaped(s.label, to: &svg)
            svg += "\" fill=\"none\" stroke=\"\(style.color)\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\""
            if let dash = style.dash { svg += " stroke-dasharray=\"\(dash)\"" }
            svg += " d=\""
            svg += frame.linePath(s.points)
            svg += "\"/>"
            if markers[index] {
                svg += "<g class=\"markers\" fill=\"\(style.color)\">"
                svg += frame.markers(s.points)
                svg += "</g>"
            }
        }
        if !extent.hasData {
            svg += "<text class=\"no-data\" x=\"\(number(left + plotWidth / 2))\" y=\"\(number(top + plotHeight / 2))\" dy=\"0.35em\" text-anchor=\"middle\" font-size=\"\(number(labelFont))\" fill=\"#888888\">no data</text>"
        }
        if !legend.entries.isEmpty || legend.hidden > 0 {
            let origin = legend.placement == .right
                ? (x: frame.right + 14, y: top)
                : (x: 12.0, y: height - legend.heightBelow)
            svg += legend.svg(originX: origin.x, originY: origin.y, markers: markers)
        }
        svg += "</svg>\n"
        return svg
    }

    /// Grid lines, tick marks and tick labels of both axes.
    private static func axes(_ frame: PlotFrame) -> String {
        var grid = "", minorGrid = "", marks = "", text = ""
        for tick in frame.xAxis.ticks {
            guard let f = frame.xAxis.fraction(tick.value) else { continue }
            let x = number(frame.left + f * frame.width)
            grid += "M\(x) \(number(frame.top))V\(number(frame.bottom))"
            marks += "M\(x) \(number(frame.bottom))v4"
            text += "<text class=\"tick-label x\" x=\"\(x)\" y=\"\(number(frame.bottom + tickFont + 6))\" text-anchor=\"middle\">"
            Markup.appendEscaped(tick.label, to: &text)
            text += "</text>"
        }
        for tick in frame.yAxis.ticks {
            guard let f = frame.yAxis.fraction(tick.value) else { continue }
            let y = number(frame.bottom - f * frame.height)
            grid += "M\(number(frame.left)) \(y)H\(number(frame.right))"
            marks += "M\(number(frame.left)) \(y)h-4"
            text += "<text class=\"tick-label y\" x=\"\(number(frame.left - 7))\" y=\"\(y)\" dy=\"0.35em\" text-anchor=\"end\">"
            Markup.appendEscaped(tick.label, to: &text)
            text += "</text>"
        }
        for value in frame.xAxis.minorTicks {
            guard let f = frame.xAxis.fraction(value) else { continue }
            let x = number(frame.left + f * frame.width)
            minorGrid += "M\(x) \(number(frame.top))V\(number(frame.bottom))"
            marks += "M\(x) \(number(frame.bottom))v2"
        }
        for value in frame.yAxis.minorTicks {
            guard let f = frame.yAxis.fraction(value) else { continue }
            let y = number(frame.bottom - f * frame.height)
            minorGrid += "M\(number(frame.left)) \(y)H\(number(frame.right))"
            marks += "M\(number(frame.left)) \(y)h-2"
        }
        var out = ""
        if !minorGrid.isEmpty { out += "<path class=\"grid minor\" d=\"\(minorGrid)\" stroke=\"#f2f2f2\" fill=\"none\"/>" }
        if !grid.isEmpty { out += "<path class=\"grid\" d=\"\(grid)\" stroke=\"#e6e6e6\" fill=\"none\"/>" }
        if !marks.isEmpty { out += "<path class=\"ticks\" d=\"\(marks)\" stroke=\"#888888\" fill=\"none\"/>" }
        return out + "<g class=\"tick-labels\" fill=\"#555555\">" + text + "</g>"
    }

    /// Title, axis labels and the note about values a log axis could not show.
    private static func labels(_ frame: PlotFrame, title: String, options: PlotOptions, width: Double,
                               note: String, noteY: Double) -> String {
        var out = ""
        let centerX = number(frame.left + frame.width / 2)
        if !title.isEmpty {
            // Centred on the plot area unless that would push a long title off the figure.
            let half = textWidth(title, fontSize: titleFont) / 2
            let x = min(max(frame.left + frame.width / 2, half + 8), width - half - 8)
            out += "<text class=\"title\" x=\"\(number(x))\" y=\"\(number(titleFont + 10))\" text-anchor=\"middle\" font-size=\"\(number(titleFont))\" font-weight=\"600\" fill=\"#222222\">"
            Markup.appendEscaped(title, to: &out)
            out += "</text>"
        }
        if !options.xLabel.isEmpty {
            let label = Markup.truncated(options.xLabel, to: Int(frame.width / (labelFont * 0.6)))
            out += "<text class=\"axis-label x\" x=\"\(centerX)\" y=\"\(number(frame.bottom + tickFont + labelFont + 12))\" text-anchor=\"middle\" font-size=\"\(number(labelFont))\" fill=\"#333333\">"
            Markup.appendEscaped(label, to: &out)
            out += "</text>"
        }
        if !options.yLabel.isEmpty {
            let label = Markup.truncated(options.yLabel, to: Int(frame.height / (labelFont * 0.6)))
            let y = number(frame.top + frame.height / 2)
            out += "<text class=\"axis-label y\" x=\"16\" y=\"\(y)\" transform=\"rotate(-90 16 \(y))\" dy=\"0.35em\" text-anchor=\"middle\" font-size=\"\(number(labelFont))\" fill=\"#333333\">"
            Markup.appendEscaped(label, to: &out)
            out += "</text>"
        }
        if !note.isEmpty {
            out += "<text class=\"note\" x=\"\(number(frame.right))\" y=\"\(number(noteY))\" text-anchor=\"end\" font-size=\"11\" font-style=\"italic\" fill=\"#777777\">\(note)</text>"
        }
        return out
    }

    /// A coordinate as short text ("12.5").
    static func number(_ v: Double) -> String {
        var s = ""
        PlotFrame.appendCoordinate(v, to: &s)
        return s
    }
}

/// The data interval of all drawable points (error bars included) and how many points a log
/// axis had to leave out.
struct DataExtent {
    var xMin: Double?
    var xMax: Double?
    var yMin: Double?
    var yMax: Double?
    var dropped = 0

    var hasData: Bool { xMin != nil }

    init(_ series: [PlotSeries], logX: Bool, logY: Bool) {
        var xLo = Double.infinity, xHi = -Double.infinity, yLo = Double.infinity, yHi = -Double.infinity
        for s in series {
            for p in s.points where p.x.isFinite && p.y.isFinite {
                if (logX && p.x <= 0) || (logY && p.y <= 0) {
                    dropped += 1
                    continue
                }
                xLo = min(xLo, p.x); xHi = max(xHi, p.x)
                yLo = min(yLo, p.y); yHi = max(yHi, p.y)
                if let e = p.error, e.isFinite, e > 0 {
                    let (up, down) = (p.y + e, p.y - e)
                    if up.isFinite { yHi = max(yHi, up) }
                    // On a log axis a bar reaching zero or below is cut at the bottom edge
                    // instead of stretching the axis down towards zero.
                    if down.isFinite && (!logY || down > 0) { yLo = min(yLo, down) }
                }
            }
        }
        if xLo <= xHi && yLo <= yHi {
            (xMin, xMax, yMin, yMax) = (xLo, xHi, yLo, yHi)
        }
    }
}
