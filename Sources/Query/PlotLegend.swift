/// Where the legend goes and what it shows. To the right of the plot when the entries are few
/// and short enough to fit in a column there; otherwise below it, in as many columns as the
/// width allows, with a "+N more" entry when even that runs out of rows. Either way it never
/// covers the plot area.
///
///     let legend = PlotLegend(labels: ["train", "val"], width: 640, height: 400, top: 36)
///     legend.placement   // .right
struct PlotLegend {
    enum Placement { case right, below }

    static let rowHeight = 18.0
    static let fontSize = SVGPlot.tickFont
    /// Swatch, gap, and the padding after the text.
    static let entryChrome = 22.0 + 6 + 14
    /// Longest label shown beside the plot, and anywhere; the rest is cut with "…". Below the
    /// plot a label may use the whole width up to the overall limit.
    static let maxLabelCharactersBeside = 34
    static let maxLabelCharacters = 120

    /// Entries shown, as (index of the series, label to draw).
    let entries: [(series: Int, label: String)]
    /// Series not listed for lack of room (shown as "+N more").
    let hidden: Int
    let placement: Placement
    let columns: Int
    let rows: Int
    let columnWidth: Double

    /// Width taken to the right of the plot (zero when below).
    var widthBeside: Double { placement == .right && !entries.isEmpty ? columnWidth + 12 : 0 }
    /// Height taken below the plot (zero when beside).
    var heightBelow: Double { placement == .below && rows > 0 ? Double(rows) * PlotLegend.rowHeight + 8 : 0 }

    init(labels: [String], width: Double, height: Double, top: Double) {
        func widest(_ labels: [String]) -> Double {
            (labels.map { SVGPlot.textWidth($0, fontSize: PlotLegend.fontSize) }.max() ?? 0) + PlotLegend.entryChrome
        }
        let short = labels.map { Markup.truncated($0, to: PlotLegend.maxLabelCharactersBeside) }
        let entryWidth = widest(short)
        // Beside the plot: only if a column keeps at least ~70% of the width for the plot and
        // every entry fits between the top margin and the x tick labels.
        let rowsBeside = Int((height - top - 60) / PlotLegend.rowHeight)
        if labels.count <= rowsBeside && entryWidth <= width * 0.3 {
            placement = .right
            entries = short.enumerated().map { ($0.offset, $0.element) }
            hidden = 0
            columns = 1
            rows = labels.count
            columnWidth = entryWidth
            return
        }
        placement = .below
        let available = max(width - 24, 1)
        // At most a quarter of the height goes to the legend.
        let maxRows = max(1, Int(height * 0.25 / PlotLegend.rowHeight))
        // Labels may take the full width when one column holds them all, half of it otherwise
        // (one long label should not push the others into "+N more").
        let columnsWanted = labels.count <= maxRows ? 1.0 : 2.0
        let fitting = Int((available / columnsWanted - PlotLegend.entryChrome) / (PlotLegend.fontSize * 0.6))
        let limit = min(max(fitting, PlotLegend.maxLabelCharactersBeside), PlotLegend.maxLabelCharacters)
        let shown = labels.map { Markup.truncated($0, to: limit) }
        let columns = max(1, min(labels.count, Int(available / widest(shown))))
        let rowsNeeded = (labels.count + columns - 1) / columns
        self.columns = columns
        rows = min(rowsNeeded, maxRows)
        columnWidth = available / Double(columns)
        let capacity = rows * columns
        let listed = labels.count <= capacity ? labels.count : max(capacity - 1, 0)
        entries = shown.prefix(listed).enumerated().map { ($0.offset, $0.element) }
        hidden = labels.count - listed
    }

    /// The legend's SVG: per entry a swatch in the series' colour and dash (with a marker dot
    /// when the series has markers) and its label. `origin` is the top-left corner.
    func svg(originX: Double, originY: Double, markers: [Bool]) -> String {
        var out = "<g class=\"legend\" fill=\"#333333\">"
        func position(_ slot: Int) -> (x: Double, y: Double) {
            // Column-major below the plot reads like a list; the right-hand column is one column.
            let column = placement == .right ? 0 : slot / max(rows, 1)
            let row = placement == .right ? slot : slot % max(rows, 1)
            return (originX + Double(column) * columnWidth, originY + Double(row) * PlotLegend.rowHeight)
        }
        for (slot, entry) in entries.enumerated() {
            let (x, y) = position(slot)
            let style = SVGPlot.style(ofSeries: entry.series)
            let mid = y + PlotLegend.rowHeight / 2
            out += "<g class=\"legend-entry\"><path class=\"swatch\" d=\"M"
            PlotFrame.appendCoordinate(x, to: &out)
            out += " "
            PlotFrame.appendCoordinate(mid, to: &out)
            out += "h22\" stroke=\"\(style.color)\" stroke-width=\"2.5\" fill=\"none\""
            if let dash = style.dash { out += " stroke-dasharray=\"\(dash)\"" }
            out += "/>"
            if entry.series < markers.count && markers[entry.series] {
                out += "<circle cx=\""
                PlotFrame.appendCoordinate(x + 11, to: &out)
                out += "\" cy=\""
                PlotFrame.appendCoordinate(mid, to: &out)
                out += "\" r=\"2.8\" fill=\"\(style.color)\"/>"
            }
            out += "<text x=\""
            PlotFrame.appendCoordinate(x + 28, to: &out)
            out += "\" y=\""
            PlotFrame.appendCoordinate(mid, to: &out)
            out += "\" dy=\"0.35em\">"
            Markup.appendEscaped(entry.label, to: &out)
            out += "</text></g>"
        }
        if hidden > 0 {
            let (x, y) = position(entries.count)
            out += "<text class=\"legend-more\" x=\""
            PlotFrame.appendCoordinate(x + 28, to: &out)
            out += "\" y=\""
            PlotFrame.appendCoordinate(y + PlotLegend.rowHeight / 2, to: &out)
            out += "\" dy=\"0.35em\" fill=\"#777777\">+\(hidden) more</text>"
        }
        return out + "</g>"
    }
}
