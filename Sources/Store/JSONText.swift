import Foundation

/// A JSON string literal with every control character escaped (NUL included).
///
///     jsonString("a \"b\"\n")   // "\"a \\\"b\\\"\\n\""
///
/// One escaper for every JSON tlens writes by hand (stored configs, listings), so the same
/// text is the same literal everywhere.
public func jsonString(_ s: String) -> String {
    var out = "\""
    out.reserveCapacity(s.utf8.count + 2)
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F || scalar == "\u{2028}" || scalar == "\u{2029}":
            out += String(format: "\\u%04x", scalar.value)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

