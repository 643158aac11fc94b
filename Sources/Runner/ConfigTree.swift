import Data
import Foundation
import Store
import Yams

/// A parsed config document: nested maps, lists and scalars, as YAML or JSON gives them.
public indirect enum ConfigValue: Equatable, Sendable {
    case map([(String, ConfigValue)])
    case list([ConfigValue])
    case string(String)
    case int(Int)
    /// An integer above Int.max (seeds are 64-bit unsigned); smaller integers are always `.int`.
    case uint(UInt64)
    case double(Double)
    case bool(Bool)
    case null

    public static func == (a: ConfigValue, b: ConfigValue) -> Bool {
        switch (a, b) {
        case (.map(let x), .map(let y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case (.list(let x), .list(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.uint(let x), .uint(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y || (x.isNaN && y.isNaN)
        case (.bool(let x), .bool(let y)): return x == y
        case (.null, .null): return true
        default: return false
        }
    }

    subscript(key: String) -> ConfigValue? {
        if case .map(let entries) = self { return entries.first { $0.0 == key }?.1 }
        return nil
    }

    /// JSON text with keys in the order given (the resolved config keeps schema order).
    public var json: String {
        switch self {
        case .map(let entries):
            return "{" + entries.map { "\(jsonString($0.0)): \($0.1.json)" }.joined(separator: ", ") + "}"
        case .list(let items): return "[" + items.map(\.json).joined(separator: ", ") + "]"
        case .string(let s): return jsonString(s)
        case .int(let i): return String(i)
        case .uint(let u): return String(u)
        case .double(let d): return d.isFinite ? (d == d.rounded() && abs(d) < 1e15 ? String(format: "%.1f", d) : "\(d)") : "null"
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        }
    }
}


public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let description: String
    /// Line breaks a message quotes from the input (a key, a value) are shown as `⏎`: a
    /// refusal is one line on the terminal whatever the config held.
    public init(_ message: String) {
        description = message.contains(where: \.isNewline) ? String(message.map { $0.isNewline ? "⏎" : $0 }) : message
    }
}

extension ConfigError {
    /// A data error as a refusal of the config's `data:` section, its context said once: an
    /// option's problem under the option's key path (`data.classes: class 11 is absent (…)`,
    /// with the file when one is involved), a file's under the file (`/x/train.csv:7: …`), the
    /// rest under `data:`. Data's own description would add a second prefix (`data: digits: …`).
    init(_ error: DataError, source: String) {
        let file = error.location == "data" || error.location == source ? nil
            : error.location + (error.line.map { ":\($0)" } ?? "")
        switch (error.option, file) {
        case let (option?, file?): self.init("data.\(option): \(file): \(error.message)")
        case let (option?, nil): self.init("data.\(option): \(error.message)")
        case (nil, .some): self.init(error.description)
        case (nil, nil): self.init("data: \(error.message)")
        }
    }
}

enum ConfigParser {
    /// Deepest nesting a config may have. tlens's own keys are three levels deep; the limit
    /// only has to stop a hostile file before Yams (which builds its node tree by recursion)
    /// and `convert` exhaust the stack.
    static let maximumDepth = 64

    /// Integers too large for Int are read as UInt64 when they fit (seeds), instead of
    /// Yams's fallback to a string.
    static let constructor: Constructor = {
        var scalars = Constructor.defaultScalarMap
        scalars[.int] = { scalar in
            if let i = Int.construct(from: scalar) { return i }
            return UInt64.construct(from: scalar)
        }
        return Constructor(scalars)
    }()

    /// Parses YAML (of which JSON is a subset) into a `ConfigValue`.
    static func parse(_ text: String, source: String) throws -> ConfigValue {
        try checkNesting(text, source: source)
        let object: Any?
        do {
            object = try Yams.load(yaml: text, .default, constructor)
        } catch {
            let detail = "\(error)".split(whereSeparator: \.isNewline).first.map(String.init) ?? "\(error)"
            throw ConfigError("\(source): not valid YAML or JSON: \(detail)")
        }
        guard let object else { throw ConfigError("\(source): the config is empty") }
        return try convert(object, path: "", source: source)
    }

    /// Refuses text nested deeper than `maximumDepth`, counted without parsing: open flow
    /// brackets plus block indentation levels plus `- ` entries opened on one line. Quotes are
    /// followed where YAML starts a quoted scalar (after `:`, `,`, `[`, `{`, `-`, `?` or at the
    /// start of a line), comments after a space. Elsewhere the count can only overestimate the
    /// nesting (a bracket in a plain scalar counts), harmless at a limit this far above any config.
    static func checkNesting(_ text: String, source: String) throws {
        let newline = UInt8(ascii: "\n"), space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")
        let openers: Set<UInt8> = Set(":,[{-?".utf8)
        var flow = 0, indents: [Int] = [], dashes = 0, line = 1, column = 0
        var atLineStart = true, inComment = false, quote: UInt8? = nil, escaped = false
        var previous: UInt8 = newline, previousSolid: UInt8? = nil
        func depth() -> Int { indents.count + dashes + flow }
        func fail() -> ConfigError {
            ConfigError("\(source):\(line): nested more than \(maximumDepth) levels deep; a tlens config is a few levels deep")
        }
        for byte in text.utf8 {
            defer { previous = byte }
            if byte == newline {
                line += 1; column = 0; dashes = 0; inComment = false
                atLineStart = quote == nil
                if quote == nil { previousSolid = nil }
                continue
            }
            if inComment { continue }
            if let q = quote {
                if escaped { escaped = false } else if q == UInt8(ascii: "\"") && byte == UInt8(ascii: "\\") { escaped = true } else if byte == q { quote = nil; previousSolid = byte }
                continue
            }
            if atLineStart {
                if byte == space { column += 1; continue }
                if byte == UInt8(ascii: "-") { dashes += 1; column += 1; previousSolid = byte; continue }
                atLineStart = false
                if byte != UInt8(ascii: "#") && flow == 0 {
                    while let last = indents.last, last > column { indents.removeLast() }
                    if indents.last != column { indents.append(column) }
                }
                if depth() > maximumDepth { throw fail() }
            }
            switch byte {
            case UInt8(ascii: "#") where previous == space || previous == tab || previous == newline:
                inComment = true
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                if previousSolid.map(openers.contains) ?? true { quote = byte }
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                flow += 1
                if depth() > maximumDepth { throw fail() }
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                flow = max(0, flow - 1)
            default: break
            }
            if byte != space && byte != tab { previousSolid = byte }
        }
    }

    static func convert(_ object: Any, path: String, source: String) throws -> ConfigValue {
        switch object {
        case let m as [String: Any]:
            // Yams loses key order in [String: Any]; sort for a stable resolved config.
            return .map(try m.keys.sorted().map { ($0, try convert(m[$0]!, path: join(path, $0), source: source)) })
        case let m as [AnyHashable: Any]:
            var entries: [(String, ConfigValue)] = []
            for key in m.keys.map({ "\($0)" }).sorted() {
                let value = m.first { "\($0.key)" == key }!.value
                entries.append((key, try convert(value, path: join(path, key), source: source)))
            }
            return .map(entries)
        case let l as [Any]:
            return .list(try l.enumerated().map { try convert($0.element, path: "\(path)[\($0.offset)]", source: source) })
        case let b as Bool: return .bool(b)
        case let i as Int: return .int(i)
        case let u as UInt64: return .uint(u)
        case let d as Double: return .double(d)
        case let s as String: return .string(s)
        case is NSNull: return .null
        default: throw ConfigError("\(source): \(path.isEmpty ? "config" : path): unsupported value \(oneLine(object))")
        }
    }

    /// A `--set` value: a YAML scalar or flow collection (`0.1`, `true`, `[256, 256]`, `relu`).
    static func parseOverride(_ text: String, path: String) throws -> ConfigValue {
        try checkNesting(text, source: "--set \(path)")
        guard let object = try? Yams.load(yaml: text, .default, constructor) else { return text.isEmpty ? .string("") : .null }
        return try convert(object, path: path, source: "--set \(path)")
    }
}

/// `value` described on one line, cut short: refusals are one line whatever the input held.
func oneLine(_ value: Any) -> String {
    let text = "\(value)".map { $0.isNewline ? " " : $0 }
    return text.count > 80 ? String(text.prefix(80)) + "…" : String(text)
}

func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
