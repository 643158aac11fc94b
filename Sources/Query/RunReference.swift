import Foundation
import Spelling
import Store

/// How a user names a run on the command line: its id (`7`), its uuid or a unique prefix of it
/// (`3f2a9c`, at least 4 hex digits), or its name (`sweep-lr lr=0.01 seed=1`).
///
///     let ids = try RunReference.resolve(["7", "3f2a", "baseline"], in: catalog)
public enum RunReference {
    /// The run ids `arguments` name, in argument order. Ambiguity and unknown names are errors
    /// that say what matched or what is there; no argument is ever read as SQL.
    public static func resolve(_ arguments: [String], in catalog: RunCatalog) throws -> [Int64] {
        try arguments.map { try resolve($0, in: catalog) }
    }

    public static func resolve(_ argument: String, in catalog: RunCatalog) throws -> Int64 {
        let runs = catalog.runs
        let path = catalog.archive.path
        if let id = Int64(argument) {
            if runs.contains(where: { $0.id == id }) { return id }
            // A number that is no id may still be a name ("2024") or a uuid prefix ("1234").
        }
        let lowered = argument.lowercased()
        if let exact = runs.first(where: { $0.summary.uuid.lowercased() == lowered }) { return exact.id }
        let byName = runs.filter { $0.summary.name == argument }
        if byName.count == 1 { return byName[0].id }
        if byName.count > 1 {
            throw QueryError("\(path): \(byName.count) runs are named '\(display(argument))' (ids \(byName.prefix(6).map { String($0.id) }.joined(separator: ", "))); use an id")
        }
        if argument.count >= 4, argument.allSatisfy({ $0.isHexDigit || $0 == "-" }) {
            let prefixed = runs.filter { $0.summary.uuid.lowercased().hasPrefix(lowered) }
            if prefixed.count == 1 { return prefixed[0].id }
            if prefixed.count > 1 {
                throw QueryError("\(path): uuid prefix '\(argument)' matches \(prefixed.count) runs (ids \(prefixed.prefix(6).map { String($0.id) }.joined(separator: ", "))); give more digits")
            }
        }
        let known = runs.compactMap(\.summary.name)
        let hint = nearestName(to: argument, in: known).map { "; did you mean '\($0)'?" } ?? ""
        let range = runs.isEmpty ? "it has no runs" : "ids \(runs.first!.id)–\(runs.last!.id)"
        throw QueryError("\(path): no run '\(display(argument))' (\(range); a run is named by id, uuid or name)\(hint)")
    }

    /// A user's string for an error line: one line, and not a megabyte of it.
    static func display(_ s: String) -> String {
        let line = String(s.map { $0.isNewline || $0 == "\0" ? " " : $0 })
        return line.count > 60 ? String(line.prefix(57)) + "…" : line
    }
}
