import ArgumentParser
import Foundation
import Query

extension RunExport.Format: ExpressibleByArgument {}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write runs' scalars, vectors and config as CSV or JSON lines, for pandas and other tools.",
        discussion: """
        With --out DIR: DIR/scalars.FORMAT (run_id, key, step, value), DIR/vectors.FORMAT \
        (run_id, kind, split, step, point, row_id, output, value: one row per float, row_id \
        the dataset row of the evaluation point) and DIR/config.FORMAT (run_id, path, value, \
        plus the resolved config_json). Without --out: the scalars only, to stdout. \
        docs/schema.md shows the pandas one-liners. Reads only.

        Examples:
          tlens export 3 --out run3
          tlens export 3 7 --format jsonl --out both
          tlens export 3 > scalars.csv
        """)

    @Argument(help: ArgumentHelp("Runs: ids, uuids (prefixes) or names.", valueName: "run"))
    var runs: [String] = []

    @Option(help: "csv (RFC 4180) or jsonl (one JSON object per line).")
    var format: RunExport.Format = .csv

    @Option(help: ArgumentHelp("Directory to write the three files into (created if missing).", valueName: "dir"))
    var out: String?

    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        if runs.isEmpty { throw ValidationError("name at least one run (id, uuid or name)") }
    }

    func run() throws {
        let reader = try openCatalog(database)
        let export = RunExport(reader: reader, runs: try RunReference.resolve(runs, in: reader.catalog), format: format)
        guard let out else {
            try export.writeScalars(to: FileHandle.standardOutput)
            return
        }
        for (file, rows) in try export.write(to: URL(fileURLWithPath: out)) {
            FileHandle.standardError.write(Data("wrote \(out)/\(file) (\(rows) rows)\n".utf8))
        }
    }
}
