/// One line of a plot: a label for the legend and its points, drawn in the order given.
///
///     let loss = PlotSeries(label: "run 3 · train loss",
///                           points: steps.indices.map { PlotPoint(x: Double(steps[$0]), y: losses[$0]) })
public struct PlotSeries: Sendable, Equatable {
    /// Legend text; also written in full to the path's `data-series` attribute.
    public var label: String
    /// The points; a NaN or infinite coordinate breaks the line there.
    public var points: [PlotPoint]

    public init(label: String, points: [PlotPoint]) {
        self.label = label
        self.points = points
    }
}

/// A point of a `PlotSeries`, with an optional error bar.
///
///     PlotPoint(x: 1000, y: 0.82, error: 0.03)   // drawn as 0.82 ± 0.03, e.g. a 95% CI
public struct PlotPoint: Sendable, Equatable {
    public var x: Double
    public var y: Double
    /// Half-width of a vertical error bar (e.g. of a 95% confidence interval); nil, NaN or ≤ 0
    /// for none.
    public var error: Double?

    public init(x: Double, y: Double, error: Double? = nil) {
        self.x = x
        self.y = y
        self.error = error
    }
}

/// How `SVGPlot` draws: titles, log axes, size, markers.
///
///     var options = PlotOptions(title: "Validation loss", xLabel: "step", yLabel: "loss")
///     options.logY = true
public struct PlotOptions: Sendable, Equatable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    /// Log-scale axes; non-positive values cannot be shown there and are counted in a note.
    public var logX = false
    public var logY = false
    /// Size in pixels (and SVG user units); values that are not finite or below 160 × 120
    /// are replaced by the nearest usable size.
    public var width = 640.0
    public var height = 400.0
    /// Circles at the data points: true, false, or nil for automatic (when a series has at
    /// most 40 points, so sparse evaluations stay visible and dense curves stay clean).
    public var markers: Bool? = nil

    public init(title: String = "", xLabel: String = "", yLabel: String = "", logX: Bool = false,
                logY: Bool = false, width: Double = 640, height: Double = 400, markers: Bool? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.logX = logX
        self.logY = logY
        self.width = width
        self.height = height
        self.markers = markers
    }
}
