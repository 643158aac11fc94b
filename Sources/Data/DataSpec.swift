import Foundation

/// One option value of a data spec, as it appears in a YAML or JSON config.
public enum DataValue: Sendable, Hashable, Codable, CustomStringConvertible,
                       ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
                       ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral {
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([DataValue])

    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: DataValue...) { self = .list(elements) }

    /// Converts a value parsed by JSONSerialization or a YAML library (Bool, Int, Double,
    /// String, arrays of those); nil for anything else.
    public init?(any value: Any) {
        // JSONSerialization yields NSNumber objects, which would also cast to Bool and Int;
        // their type code tells booleans (c), floats (f, d) and integers apart.
        if type(of: value) is NSNumber.Type, let n = value as? NSNumber {
            switch String(cString: n.objCType) {
            case "c", "B": self = .bool(n.boolValue)
            case "f", "d": self = .double(n.doubleValue)
            default: self = .int(n.intValue)
            }
            return
        }
        switch value {
        case let b as Bool: self = .bool(b)
        case let i as Int: self = .int(i)
        case let d as Double: self = .double(d)
        case let f as Float: self = .double(Double(f))
        case let s as String: self = .string(s)
        case let a as [Any]:
            var items: [DataValue] = []
            for element in a { guard let v = DataValue(any: element) else { return nil }; items.append(v) }
            self = .list(items)
        default: return nil
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else { self = .list(try c.decode([DataValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .list(let l): try c.encode(l)
        }
    }

    /// Numbers compare by value, so `.int(2) == .double(2)` (JSON does not keep `2.0` apart from `2`).
    public static func == (a: DataValue, b: DataValue) -> Bool {
        switch (a, b) {
        case let (.bool(x), .bool(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.list(x), .list(y)): return x == y
        default:
            guard let x = a.number, let y = b.number else { return false }
            return x == y
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .bool(let b): hasher.combine(0); hasher.combine(b)
        case .string(let s): hasher.combine(1); hasher.combine(s)
        case .list(let l): hasher.combine(2); hasher.combine(l)
        case .int, .double: hasher.combine(3); hasher.combine(number!)
        }
    }

    /// The value as a Double when it is a number.
    public var number: Double? {
        switch self { case .int(let i): return Double(i); case .double(let d): return d; default: return nil }
    }

    public var description: String {
        switch self {
        case .bool(let b): return String(b)
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return s
        case .list(let l): return "[" + l.map(\.description).joined(separator: ", ") + "]"
        }
    }
}

/// Which data to use: a source name and its options, exactly the `data:` block of a config,
///
///     DataSpec(source: "digits", options: ["classes": [3, 5], "n_train": 200, "label_noise": 0.2])
///
/// Option names per source are listed by `DataFactory.sources` (and in data/README.md);
/// `DataFactory.resolve` validates a spec and fills every default.
public struct DataSpec: Sendable, Hashable, Codable, CustomStringConvertible {
    public var source: String
    public var options: [String: DataValue]

    public init(source: String, options: [String: DataValue] = [:]) {
        self.source = source
        self.options = options
    }

    public subscript(option: String) -> DataValue? {
        get { options[option] }
        set { options[option] = newValue }
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { return nil }
    }

    /// Encodes as one flat object, `{"source": "digits", "classes": [3, 5], ...}`.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        source = try c.decode(String.self, forKey: Key(stringValue: "source"))
        options = [:]
        for key in c.allKeys where key.stringValue != "source" {
            options[key.stringValue] = try c.decode(DataValue.self, forKey: key)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(source, forKey: Key(stringValue: "source"))
        for (k, v) in options.sorted(by: { $0.key < $1.key }) { try c.encode(v, forKey: Key(stringValue: k)) }
    }

    public var description: String {
        "{source: \(source)" + options.sorted { $0.key < $1.key }.map { ", \($0.key): \($0.value)" }.joined() + "}"
    }
}

/// How classification labels become the float targets a squared loss trains on.
public enum TargetEncoding: String, Sendable, CaseIterable {
    /// `classCount` columns, 1 for the label and 0 elsewhere (MSE classification; also what
    /// cross-entropy runs keep, since they read `labels`).
    case onehot
    /// One column, −1 for label 0 and +1 for label 1 (binary tasks only).
    case pm1
    /// One column holding the class index as a float.
    case index
}

extension TargetEncoding {
    /// Where a one-output classifier's output is cut into two classes (docs/metrics.md,
    /// `*_acc`): 0 between the ±1 targets of `pm1`, ½ between the {0, 1} targets of `index` on
    /// two classes. Decided by the encoding, never by the target values seen, so a batch that
    /// happens to hold only one class is read the same way. `onehot` targets are read by argmax.
    public var decisionThreshold: Float {
        switch self {
        case .pm1, .onehot: return 0
        case .index: return 0.5
        }
    }
}
