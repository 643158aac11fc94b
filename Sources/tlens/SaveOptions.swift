import ArgumentParser
import Foundation
import Query

/// `--param NAME=VALUE`, shared by `query` and `sql`.
struct ParameterOptions: ParsableArguments {
    @Option(name: .customLong("param"), help: ArgumentHelp(
        "Bind VALUE to the SQL parameter :NAME (repeatable). Bound as INTEGER if it reads as one, REAL if a number, else TEXT; never spliced into the SQL.",
        valueName: "name=value"))
    var values: [String] = []

    /// The pairs, typed as `QueryParameters.typed` binds them.
    func bindings() throws -> [QueryBinding] {
        try QueryParameters.parse(values).map { QueryBinding(name: $0.name, value: QueryParameters.typed($0.value)) }
    }
}

/// `--save [--label L]`, shared by `query`, `compare` and `sql`.
struct SaveOptions: ParsableArguments {
    @Flag(help: "Store the analysis (its text, parameters, result and a fingerprint of what it read) in the database so `tlens rerun` can repeat it. The only way a read command writes: an older file is migrated first.")
    var save = false

    @Option(help: ArgumentHelp("Name the saved analysis (with --save), for tlens rerun LABEL.", valueName: "label"))
    var label: String?

    func validate() throws {
        if label != nil && !save { throw CLIError("--label names a saved analysis: add --save") }
    }
}

/// Runs `request` on the database read-only, prints its result, and with `--save` stores it
/// (migrating the file) and says so on stderr.
func runAnalysis(_ request: AnalysisRequest, database: DatabaseOptions, output: FormatOptions, save: SaveOptions) throws {
    let archive = try Archive(path: database.path)
    if let label = save.label { try SavedAnalyses.checkLabel(label, in: archive) }
    let outcome = try request.execute(on: archive, fingerprint: save.save)
    if !outcome.table.columns.isEmpty { output.emit(outcome.table) }
    guard save.save else { return }
    let id = try SavedAnalyses.save(request, outcome: outcome, label: save.label, version: TLens.version, path: database.path)
    FileHandle.standardError.write(Data("tlens: saved analysis \(id)\(save.label.map { " as '\($0)'" } ?? "") (\(outcome.table.rows.count) rows); tlens rerun \(save.label ?? String(id)) repeats it\n".utf8))
}
