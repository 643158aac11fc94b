import ArgumentParser
import Foundation
import Query

struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write an SVG plot: keys over steps for runs, or a metric against a sweep axis.",
        discussion: """
        Curves: name runs and --key; one series per run and key, with a legend. Sweep: \
        --sweep S (and/or --where) with --x AXIS and --key MEASURE (final or derived, e.g. \
        final.test_mse, p_ratio): a point per axis value at the mean over seeds, with 95% \
        confidence bars; --series AXIS2 draws a series per value of another axis. --log-x \
        and --log-y use log axes (non-positive values are left out, and the plot says how \
        many). Reads only; writes only --out.

        Examples:
          tlens plot 3 7 --key test_mse --log-y --out test_mse.svg
          tlens plot 3 --key approx_err_tel,approx_err_lin --log-y --out approx.svg
          tlens plot --sweep dd --x model.hidden --key final.p_test --log-x --out dd.svg
        """)

    @Argument(help: ArgumentHelp("Runs to draw curves for: ids, uuids (prefixes) or names.", valueName: "run"))
    var runs: [String] = []

    @Option(name: .customLong("key"), help: ArgumentHelp("Keys (curves) or measures (sweep), comma-separated, repeatable.", valueName: "keys"))
    var keys: [String] = []

    @OptionGroup var selectionOptions: SelectionOptions

    @Option(help: ArgumentHelp("Sweep plots: the axis on the x axis (a config path such as model.hidden).", valueName: "path"))
    var x: String?

    @Option(help: ArgumentHelp("Sweep plots: one series per value of this axis.", valueName: "path"))
    var series: String?

    @Option(help: "Curves: only steps that are multiples of N.")
    var every: Int?

    @Flag(name: .customLong("log-x"), help: "Logarithmic x axis.")
    var logX = false

    @Flag(name: .customLong("log-y"), help: "Logarithmic y axis.")
    var logY = false

    @Option(help: "Plot title (default: the keys).")
    var title: String?

    @Option(help: ArgumentHelp("The SVG file to write.", valueName: "file.svg"))
    var out: String

    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        if commaList(keys).isEmpty { throw ValidationError("--key: name what to plot (e.g. --key test_mse)") }
        let sweepPlot = selectionOptions.sweep != nil || !selectionOptions.conditions.isEmpty || x != nil
        if sweepPlot && !runs.isEmpty { throw ValidationError("name runs (curves) or use --sweep/--where with --x (sweep plot), not both") }
        if sweepPlot && x == nil { throw ValidationError("a sweep plot needs --x AXIS (e.g. --x model.hidden)") }
        if !sweepPlot && runs.isEmpty { throw ValidationError("name runs to plot, or --sweep S --x AXIS") }
        if let every, every < 1 { throw ValidationError("--every must be 1 or more") }
    }

    func run() throws {
        let reader = try openCatalog(database)
        let request = x.map { PlotRequest.sweep(selectionOptions.selection(), x: $0, measures: commaList(keys), seriesBy: series, logX: logX, logY: logY, title: title) }
            ?? PlotRequest.curves(runs: runs, keys: commaList(keys), every: every, logX: logX, logY: logY, title: title)
        let (drawn, options) = try request.series(reader)
        try writeStaged(SVGPlot.render(drawn, options: options), to: out)
        FileHandle.standardError.write(Data("wrote \(out) (\(drawn.count) series, \(drawn.reduce(0) { $0 + $1.points.count }) points)\n".utf8))
    }
}

/// Writes `text` to a temporary file beside `path` and renames it over `path`, so a failed or
/// interrupted write never leaves a half-written file under the final name. A destination that
/// exists and is not a regular file (`/dev/stdout`, `/dev/null`, a pipe) is written in place:
/// renaming over it would replace the device node itself (as root, even /dev/null).
func writeStaged(_ text: String, to path: String) throws {
    var status = stat()
    if lstat(path, &status) == 0, (status.st_mode & S_IFMT) != S_IFREG {
        guard (status.st_mode & S_IFMT) != S_IFDIR else { throw CLIError("\(path): is a directory; give a file name") }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw CLIError("\(path): cannot write there (\(String(cString: strerror(errno))))")
        }
        defer { try? handle.close() }
        do { try handle.write(contentsOf: Data(text.utf8)) } catch {
            throw CLIError("\(path): cannot write (\((error as NSError).localizedDescription))")
        }
        return
    }
    let url = URL(fileURLWithPath: path)
    let staged = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial-\(getpid())")
    do {
        try Data(text.utf8).write(to: staged)
    } catch {
        try? FileManager.default.removeItem(at: staged)
        throw CLIError("\(path): cannot write there (\(String(cString: strerror(errno))))")
    }
    // rename(2) replaces the destination atomically within one file system.
    guard rename(staged.path, url.path) == 0 else {
        let reason = String(cString: strerror(errno))
        try? FileManager.default.removeItem(at: staged)
        throw CLIError("\(path): cannot write (\(reason))")
    }
}
