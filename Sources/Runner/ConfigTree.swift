import Foundation
import Yams

/// A parsed config document: nested maps, lists and scalars, as YAML or JSON gives them.
public indirect enum ConfigValue: Equatable, Sendable {
    case map([(String, ConfigValue)])
    case list([ConfigValue])
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case null

    public static func == (a: ConfigValue, b: ConfigValue) -> Bool {
        switch (a, b) {
        case (.map(let x), .map(let y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case (.list(let x), .list(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
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
        case .double(let d): return d.isFinite ? (d == d.rounded() && abs(d) < 1e15 ? String(format: "%.1f", d) : "\(d)") : "null"
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        }
    }
}

func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
        }
    }
    return out + "\""
}

public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ message: String) { description = message }
}

enum ConfigParser {
    /// Parses YAML (of which JSON is a subset) into a `ConfigValue`.
    static func parse(_ text: String, source: String) throws -> ConfigValue {
        let object: Any?
        do {
            object = try Yams.load(yaml: text)
        } catch {
            let detail = "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
            throw ConfigError("\(source): not valid YAML or JSON: \(detail)")
        }
        guard let object else { throw ConfigError("\(source): the config is empty") }
        return try convert(object, path: "", source: source)
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
        case let d as Double: return .double(d)
        case let s as String: return .string(s)
        case is NSNull: return .null
        default: throw ConfigError("\(source): \(path.isEmpty ? "config" : path): unsupported value \(object)")
        }
    }

    /// A `--set` value: a YAML scalar or flow collection (`0.1`, `true`, `[256, 256]`, `relu`).
    static func parseOverride(_ text: String, path: String) throws -> ConfigValue {
        guard let object = try? Yams.load(yaml: text) else { return text.isEmpty ? .string("") : .null }
        return try convert(object, path: path, source: "--set \(path)")
    }
}

func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

/// Levenshtein distance, for "did you mean" suggestions on unknown keys and values.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count), current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}

func nearest(_ name: String, in candidates: [String]) -> String? {
    candidates.min { editDistance(name, $0) < editDistance(name, $1) }
}
