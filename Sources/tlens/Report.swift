import ArgumentParser
import Foundation
import Query

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write one self-contained HTML report for runs or a sweep.",
        discussion: """
        The page has the headline table (and for a sweep, the groups aggregated over seeds), \
        then plots: batch loss, test/train MSE and accuracy; network vs telescoped vs \
        linearized test MSE; telescoping and linearized approximation errors; kernel trace, \
        drift, velocity and alignment; p_train and p_test; and for a sweep, final metrics \
        against each axis with 95% confidence bars. Plots are inline SVG: the file needs \
        no network, scripts or other files to read. Reads only; writes only --out.

        Examples:
          tlens report 3 --out run3.html
          tlens report --sweep sweep-lr --out sweep-lr.html
        """)

    @Argument(help: ArgumentHelp("Runs: ids, uuids (prefixes) or names.", valueName: "run"))
    var runs: [String] = []

    @OptionGroup var selectionOptions: SelectionOptions

    @Option(help: "Page title.")
    var title: String?

    @Option(help: ArgumentHelp("The HTML file to write.", valueName: "file.html"))
    var out: String

    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        let selecting = selectionOptions.sweep != nil || !selectionOptions.conditions.isEmpty || selectionOptions.status != nil
        if runs.isEmpty && !selecting { throw ValidationError("name runs, or --sweep S (or --where)") }
        if !runs.isEmpty && selecting { throw ValidationError("name runs or select them with --sweep/--where, not both") }
    }

    func run() throws {
        let reader = try openCatalog(database)
        let selecting = selectionOptions.sweep != nil || !selectionOptions.conditions.isEmpty || selectionOptions.status != nil
        let request = ReportRequest(runs: runs, selection: selecting ? selectionOptions.selection() : nil, title: title)
        let page = try request.page(reader)
        try writeStaged(page.html(), to: out)
        FileHandle.standardError.write(Data("wrote \(out) (\(page.sections.count) sections, \(page.sections.reduce(0) { $0 + $1.figures.count }) plots)\n".utf8))
    }
}
