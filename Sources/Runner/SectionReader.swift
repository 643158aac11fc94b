import Spelling

/// Reads one map of a config with typed, range-checked getters, recording every value it
/// resolves (defaults included) so the stored config is complete, and rejecting keys nobody
/// asked for with the nearest valid name.
final class SectionReader {
    let path: String
    private let entries: [(String, ConfigValue)]
    private var known: [String] = []
    /// The sections this reader opened, so an unknown key can be matched against every key
    /// path below it, not only against the keys of its own level.
    private var children: [(String, SectionReader)] = []
    private(set) var resolved: [(String, ConfigValue)] = []

    init(_ value: ConfigValue?, path: String) throws {
        self.path = path
        switch value {
        case .none, .some(.null): entries = []
        case .some(.map(let e)): entries = e
        case .some(let other):
            throw ConfigError("\(path.isEmpty ? "config" : path): expected a map of keys, got \(describe(other))")
        }
    }

    private func raw(_ key: String) -> ConfigValue? {
        known.append(key)
        guard let v = entries.first(where: { $0.0 == key })?.1, v != .null else { return nil }
        return v
    }

    /// Whether `key` is given with a value; `key: null` (how a resolved config stores an unset
    /// optional such as clip_norm) counts as not given, so stored configs load back as they were.
    func has(_ key: String) -> Bool { entries.contains { $0.0 == key && $0.1 != .null } }

    private func keyPath(_ key: String) -> String { join(path, key) }

    func int(_ key: String, default d: Int, in range: ClosedRange<Int>? = nil) throws -> Int {
        let value: Int
        switch raw(key) {
        case .none: value = d
        case .some(.int(let i)): value = i
        case .some(.double(let x)) where x == x.rounded() && abs(x) < 1e15: value = Int(x)
        case .some(let other): throw ConfigError("\(keyPath(key)): expected an integer, got \(describe(other))")
        }
        if let range, !range.contains(value) {
            throw ConfigError("\(keyPath(key)): \(value) is out of range; it must be \(describeRange(range))")
        }
        resolved.append((key, .int(value)))
        return value
    }

    /// 0…UInt64.max (seeds): values above Int.max arrive as `.uint` and are stored as such, so
    /// the resolved config shows the unsigned decimal.
    func uint64(_ key: String, default d: UInt64) throws -> UInt64 {
        let value: UInt64
        switch raw(key) {
        case .none: value = d
        case .some(.int(let i)) where i >= 0: value = UInt64(i)
        case .some(.uint(let u)): value = u
        case .some(.double(let x)) where x == x.rounded() && x >= 0 && x < 1e15: value = UInt64(x)
        case .some(.int(let i)): throw ConfigError("\(keyPath(key)): \(i) is out of range; it must be ≥ 0")
        case .some(.double(let x)) where x == x.rounded() && x < 0 && x > -1e15:
            throw ConfigError("\(keyPath(key)): \(Int(x)) is out of range; it must be ≥ 0")
        case .some(let other): throw ConfigError("\(keyPath(key)): expected an integer, got \(describe(other))")
        }
        resolved.append((key, value <= UInt64(Int.max) ? .int(Int(value)) : .uint(value)))
        return value
    }

    func optionalInt(_ key: String, in range: ClosedRange<Int>? = nil) throws -> Int? {
        if (entries.first { $0.0 == key }?.1 ?? .null) == .null {
            known.append(key); resolved.append((key, .null)); return nil
        }
        return try int(key, default: 0, in: range)
    }

    /// `open` bounds exclude the endpoint (lr > 0); NaN and infinities are always rejected.
    func double(_ key: String, default d: Double, min: Double? = nil, minOpen: Bool = false,
                max: Double? = nil, maxOpen: Bool = false) throws -> Double {
        let value: Double
        switch raw(key) {
        case .none: value = d
        case .some(.int(let i)): value = Double(i)
        case .some(.double(let x)): value = x
        case .some(.string(let s)) where Double(s) != nil && s.lowercased().contains("nan"):
            throw ConfigError("\(keyPath(key)): NaN is not a valid value")
        case .some(let other): throw ConfigError("\(keyPath(key)): expected a number, got \(describe(other))")
        }
        guard value.isFinite else { throw ConfigError("\(keyPath(key)): \(value) is not a finite number") }
        if let min, value < min || (minOpen && value == min) {
            throw ConfigError("\(keyPath(key)): \(value) is out of range; it must be \(minOpen ? ">" : "≥") \(min)")
        }
        if let max, value > max || (maxOpen && value == max) {
            throw ConfigError("\(keyPath(key)): \(value) is out of range; it must be \(maxOpen ? "<" : "≤") \(max)")
        }
        resolved.append((key, .double(value)))
        return value
    }

    func bool(_ key: String, default d: Bool) throws -> Bool {
        switch raw(key) {
        case .none: resolved.append((key, .bool(d))); return d
        case .some(.bool(let b)): resolved.append((key, .bool(b))); return b
        case .some(let other): throw ConfigError("\(keyPath(key)): expected true or false, got \(describe(other))")
        }
    }

    func string(_ key: String, default d: String?) throws -> String? {
        switch raw(key) {
        case .none:
            resolved.append((key, d.map(ConfigValue.string) ?? .null))
            return d
        case .some(.string(let s)): resolved.append((key, .string(s))); return s
        case .some(let other): throw ConfigError("\(keyPath(key)): expected text, got \(describe(other))")
        }
    }

    /// One of `allowed`; a near miss is answered with the nearest allowed value.
    func choice(_ key: String, default d: String, allowed: [String]) throws -> String {
        // YAML 1.1 reads a bare `off` as false: take it as the word the user wrote.
        if case .bool(let b)? = entries.first(where: { $0.0 == key })?.1, allowed.contains(b ? "on" : "off") {
            known.append(key)
            resolved.append((key, .string(b ? "on" : "off")))
            return b ? "on" : "off"
        }
        let value = try string(key, default: d) ?? d
        guard allowed.contains(value) else {
            let hint = nearestName(to: value, in: allowed).map { "; did you mean '\($0)'?" } ?? ""
            throw ConfigError("\(keyPath(key)): '\(value)' is not one of \(allowed.joined(separator: ", "))\(hint)")
        }
        return value
    }

    func intList(_ key: String, default d: [Int], elementRange: ClosedRange<Int>? = nil) throws -> [Int] {
        let values: [Int]
        switch raw(key) {
        case .none: values = d
        case .some(.list(let items)):
            values = try items.enumerated().map { index, item in
                switch item {
                case .int(let i): return i
                case .double(let x) where x == x.rounded() && abs(x) < 1e15: return Int(x)
                default: throw ConfigError("\(keyPath(key))[\(index)]: expected an integer, got \(describe(item))")
                }
            }
        case .some(.int(let i)): values = [i]
        case .some(let other): throw ConfigError("\(keyPath(key)): expected a list of integers, got \(describe(other))")
        }
        if let elementRange, let bad = values.firstIndex(where: { !elementRange.contains($0) }) {
            throw ConfigError("\(keyPath(key))[\(bad)]: \(values[bad]) is out of range; it must be \(describeRange(elementRange))")
        }
        resolved.append((key, .list(values.map(ConfigValue.int))))
        return values
    }

    /// An integer or a text, recorded as given (a run's id or its name: `spawn.parent`); nil
    /// when absent.
    func intOrText(_ key: String) throws -> ConfigValue? {
        switch raw(key) {
        case .none: resolved.append((key, .null)); return nil
        case .some(.int(let i)): resolved.append((key, .int(i))); return .int(i)
        case .some(.double(let x)) where x == x.rounded() && abs(x) < 1e15: resolved.append((key, .int(Int(x)))); return .int(Int(x))
        case .some(.string(let s)): resolved.append((key, .string(s))); return .string(s)
        case .some(let other): throw ConfigError("\(keyPath(key)): expected a run's name or id, got \(describe(other))")
        }
    }

    func stringList(_ key: String, default d: [String]) throws -> [String] {
        let values: [String]
        switch raw(key) {
        case .none: values = d
        case .some(.string(let s)): values = [s]
        case .some(.list(let items)):
            values = try items.enumerated().map { index, item in
                guard case .string(let s) = item else {
                    throw ConfigError("\(keyPath(key))[\(index)]: expected text, got \(describe(item))")
                }
                return s
            }
        case .some(let other): throw ConfigError("\(keyPath(key)): expected a list of names, got \(describe(other))")
        }
        resolved.append((key, .list(values.map(ConfigValue.string))))
        return values
    }

    func section(_ key: String) throws -> SectionReader {
        let child = try SectionReader(raw(key), path: keyPath(key))
        children.append((key, child))
        return child
    }

    /// Every key path asked for at this level and in the sections opened from it, relative to
    /// this reader (`steps`, `optimizer`, `optimizer.lr`, …), each once, this level's first.
    var knownPaths: [String] {
        var paths: [String] = []
        for key in known where !paths.contains(key) { paths.append(key) }
        for (key, child) in children { paths += child.knownPaths.map { join(key, $0) }.filter { !paths.contains($0) } }
        return paths
    }

    /// Accepts `key` without resolving it: a key that means nothing for the config at hand and was
    /// checked to be absent or neutral (the lens options boosted trees have no use for).
    func skip(_ key: String) { known.append(key) }

    /// The value written for `key`, if any (not null), without resolving it.
    func given(_ key: String) -> ConfigValue? {
        guard let v = entries.first(where: { $0.0 == key })?.1, v != .null else { return nil }
        return v
    }

    func record(_ key: String, _ value: ConfigValue) {
        known.append(key)
        resolved.append((key, value))
    }

    /// Rejects keys that no getter asked for, suggesting the nearest valid key path (Spelling's
    /// closeness rule). What was written is matched as a path: `--set foo.bar=1` arrives as
    /// `foo: {bar: 1}` and is compared as `foo.bar` with every path below this level, so
    /// `optimzer.lr` finds `optimizer.lr` and `foo.bar` finds nothing rather than `loss`; with
    /// nothing close, the error lists this level's keys instead.
    func finish() throws -> ConfigValue {
        for (key, value) in entries where !known.contains(key) {
            let written = key + Self.singlePath(below: value)
            let error = written == key ? "\(keyPath(key)): unknown key" : "\(join(path, written)): unknown key '\(key)'"
            if let near = nearestName(to: written, in: knownPaths) {
                throw ConfigError("\(error); did you mean '\(join(path, near))'?")
            }
            var keys: [String] = []
            for k in known where !keys.contains(k) { keys.append(k) }
            throw ConfigError("\(error); \(path.isEmpty ? "top-level keys" : "keys of \(path)"): \(keys.joined(separator: ", "))")
        }
        return .map(resolved)
    }

    /// `.bar.baz` for `{bar: {baz: 1}}` (a chain of one-key maps, as `--set` builds), else "".
    private static func singlePath(below value: ConfigValue) -> String {
        guard case .map(let entries) = value, entries.count == 1 else { return "" }
        return "." + entries[0].0 + singlePath(below: entries[0].1)
    }
}

func describe(_ v: ConfigValue) -> String {
    switch v {
    case .map: return "a map"
    case .list: return "a list"
    case .string(let s): return "'\(oneLine(s))'"
    case .int(let i): return "\(i)"
    case .uint(let u): return "\(u)"
    case .double(let d): return "\(d)"
    case .bool(let b): return "\(b)"
    case .null: return "null"
    }
}

func describeRange(_ r: ClosedRange<Int>) -> String {
    if r.upperBound == Int.max { return "≥ \(r.lowerBound)" }
    return "between \(r.lowerBound) and \(r.upperBound)"
}
