/// The plot area in SVG pixels with its two axes, and the path data drawn inside it: the line of
/// a series (thinned to a few points per pixel column), its error bars and its markers.
///
///     let frame = PlotFrame(left: 60, top: 30, width: 500, height: 300, xAxis: x, yAxis: y)
///     frame.pixel(x: 100, y: 0.5)   // (x: 310, y: 180) when both axes run 0...200 and 0...1
struct PlotFrame {
    var left: Double
    var top: Double
    var width: Double
    var height: Double
    var xAxis: PlotAxis
    var yAxis: PlotAxis

    var right: Double { left + width }
    var bottom: Double { top + height }

    /// SVG coordinates of a data point; nil when an axis cannot show it (NaN, infinite, or not
    /// positive on a log axis).
    func pixel(x: Double, y: Double) -> (x: Double, y: Double)? {
        guard let fx = xAxis.fraction(x), let fy = yAxis.fraction(y) else { return nil }
        return (PlotFrame.clamped(left + fx * width), PlotFrame.clamped(bottom - fy * height))
    }

    /// The pixel row of `y`, or nil.
    func pixelY(_ y: Double) -> Double? {
        yAxis.fraction(y).map { PlotFrame.clamped(bottom - $0 * height) }
    }

    /// Keeps coordinates printable as short numbers (and convertible to Int) whatever the data.
    static func clamped(_ v: Double) -> Double {
        v.isNaN ? 0 : min(max(v, -1e6), 1e6)
    }

    /// Path data for the line through `points`: a new subpath after every point that cannot be
    /// drawn, and an isolated point drawn as a dot (a zero-length segment, which round caps
    /// render). Within one pixel column only the first, lowest, highest and last points are kept,
    /// in their original order, so 20,000 points cost about 4 × width coordinates and the picture
    /// is the same.
    func linePath(_ points: [PlotPoint]) -> String {
        var d = ""
        d.reserveCapacity(min(points.count, Int(width) * 4 + 16) * 14)
        var bucket: ColumnBucket?
        var inSubpath = 0   // points emitted in the current subpath

        func emit(_ p: ColumnBucket.Point) {
            d += inSubpath == 0 ? "M" : "L"
            PlotFrame.appendCoordinate(p.x, to: &d)
            d += " "
            PlotFrame.appendCoordinate(p.y, to: &d)
            inSubpath += 1
        }
        func flush() {
            bucket?.keptPoints.forEach(emit)
            bucket = nil
        }
        func breakLine() {
            flush()
            if inSubpath == 1 { d += "h0" }
            inSubpath = 0
        }

        for (index, point) in points.enumerated() {
            guard let p = pixel(x: point.x, y: point.y) else { breakLine(); continue }
            let column = Int(p.x.rounded(.down))
            let current = ColumnBucket.Point(index: index, x: p.x, y: p.y)
            if bucket?.column == column {
                bucket?.add(current)
            } else {
                flush()
                bucket = ColumnBucket(column: column, first: current)
            }
        }
        breakLine()
        return d
    }

    /// Path data for vertical error bars (y ± error) with 6-pixel caps; an end the plot area cuts
    /// (or, on a log axis, a lower end at or below zero) runs to the edge and gets no cap.
    func errorBarPath(_ points: [PlotPoint]) -> String {
        var d = ""
        for point in points {
            guard let error = point.error, error.isFinite, error > 0,
                  let center = pixel(x: point.x, y: point.y) else { continue }
            let upperY = pixelY(point.y + error)
            let lowerY = pixelY(point.y - error)   // nil: y − error ≤ 0 on a log axis
            let y1 = min(max(upperY ?? top, top), bottom)
            let y2 = min(max(lowerY ?? bottom, top), bottom)
            d += "M"; PlotFrame.appendCoordinate(center.x, to: &d)
            d += " "; PlotFrame.appendCoordinate(y1, to: &d)
            d += "V"; PlotFrame.appendCoordinate(y2, to: &d)
            let caps = [(y1, upperY.map { $0 >= top } ?? false), (y2, lowerY.map { $0 <= bottom } ?? false)]
            for (y, capped) in caps where capped {
                d += "M"; PlotFrame.appendCoordinate(center.x - 3, to: &d)
                d += " "; PlotFrame.appendCoordinate(y, to: &d)
                d += "h6"
            }
        }
        return d
    }

    /// `<circle class="marker">` elements at the drawable points.
    func markers(_ points: [PlotPoint]) -> String {
        var out = ""
        for point in points {
            guard let p = pixel(x: point.x, y: point.y) else { continue }
            out += "<circle class=\"marker\" cx=\""
            PlotFrame.appendCoordinate(p.x, to: &out)
            out += "\" cy=\""
            PlotFrame.appendCoordinate(p.y, to: &out)
            out += "\" r=\"2.8\"/>"
        }
        return out
    }

    /// Appends `v` with at most two decimals ("12.5", "-3", "0.07"): a hundredth of a pixel is
    /// invisible, and `String(format:)` would be the slowest part of a 20,000-point plot.
    static func appendCoordinate(_ v: Double, to out: inout String) {
        var hundredths = Int((clamped(v) * 100).rounded())
        if hundredths < 0 {
            out += "-"
            hundredths = -hundredths
        }
        out += String(hundredths / 100)
        let fraction = hundredths % 100
        if fraction == 0 { return }
        out += fraction < 10 ? ".0" : "."
        out += String(fraction % 10 == 0 ? fraction / 10 : fraction)
    }
}

/// The points of a series that fall in one pixel column; keeping first, lowest, highest and
/// last draws exactly the same vertical extent and the same joins to the neighbouring columns.
private struct ColumnBucket {
    struct Point {
        var index: Int
        var x: Double
        var y: Double
    }

    let column: Int
    var first: Point
    var last: Point
    var lowest: Point
    var highest: Point

    init(column: Int, first: Point) {
        self.column = column
        self.first = first
        last = first
        lowest = first
        highest = first
    }

    mutating func add(_ p: Point) {
        last = p
        if p.y < lowest.y { lowest = p }
        if p.y > highest.y { highest = p }
    }

    /// The kept points in their original order, each once.
    var keptPoints: [Point] {
        var kept = [first, lowest, highest, last].sorted { $0.index < $1.index }
        var i = 1
        while i < kept.count {
            if kept[i].index == kept[i - 1].index { kept.remove(at: i) } else { i += 1 }
        }
        return kept
    }
}
