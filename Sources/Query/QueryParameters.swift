import Foundation
import Store

/// One named SQL parameter and the value bound to it (`:run` ← 7).
public struct QueryBinding: Equatable {
    /// The name without its prefix (`run` for `:run`).
    public var name: String
    public var value: DatabaseValue

    public init(name: String, value: DatabaseValue) {
        self.name = name
        self.value = value
    }
}

/// `--param NAME=VALUE` as tlens binds it. The value is always bound, never spliced into SQL:
/// INTEGER when the text is a 64-bit integer (`7`, `-3`), REAL when it is a finite number
/// (`0.01`, `1e-3`), TEXT otherwise (`sweep-lr`, `nan`, `'); DROP TABLE runs; --`).
///
///     let pairs = try QueryParameters.parse(["run=7", "key=test_mse"])   // [("run", "7"), ("key", "test_mse")]
///     QueryParameters.typed("7")                                        // .integer(7)
public enum QueryParameters {
    public static func typed(_ text: String) -> DatabaseValue {
        if let i = Int64(text) { return .integer(i) }
        // Double("0x1p3") and Double(" 1") parse in Swift; a value that is a number only by
        // such a reading stays text.
        let numeric = !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }
        if numeric, let r = Double(text), r.isFinite { return .real(r) }
        return .text(text)
    }

    /// Splits `NAME=VALUE` arguments at their first `=`; a name is letters, digits and `_`,
    /// not starting with a digit, and given at most once.
    public static func parse(_ arguments: [String]) throws -> [(name: String, value: String)] {
        var seen = Set<String>()
        return try arguments.map { argument in
            guard let equals = argument.firstIndex(of: "=") else {
                throw QueryError("--param '\(RunReference.display(argument))': write NAME=VALUE (e.g. --param run=7)")
            }
            let name = String(argument[..<equals]), value = String(argument[argument.index(after: equals)...])
            guard isName(name) else {
                throw QueryError("--param '\(RunReference.display(argument))': '\(RunReference.display(name))' is not a parameter name (letters, digits and _)")
            }
            guard seen.insert(name).inserted else { throw QueryError("--param \(name) is given twice") }
            return (name, value)
        }
    }

    static func isName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }
}
