/// Escaping for text that goes into SVG and HTML, shared by `SVGPlot` and `ReportPage` so both
/// follow one rule: every string that came from a user (a run name, a metric, a label) passes
/// through here before it is written between tags or inside an attribute.
///
///     Markup.escape("loss < 0.1 & \"ok\"")   // "loss &lt; 0.1 &amp; &quot;ok&quot;"
enum Markup {
    /// `text` with `& < > " '` replaced by entities and characters XML 1.0 cannot carry at all
    /// (NUL and the other C0 controls except tab, newline, carriage return; U+FFFE, U+FFFF)
    /// replaced by U+FFFD. Safe both as element content and as a double- or single-quoted
    /// attribute value.
    ///
    ///     Markup.escape("a\u{0}b")   // "a\u{FFFD}b": a NUL would make the document unparseable
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        appendEscaped(text, to: &out)
        return out
    }

    /// Appends `escape(text)` to `out` without building the intermediate string.
    static func appendEscaped(_ text: String, to out: inout String) {
        // Fast path: most labels need no escaping at all.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 || $0 == 0xEF }) {
            out += text
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            case "\u{0}"..."\u{1F}", "\u{FFFE}", "\u{FFFF}": out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
    }

    /// `text` cut to at most `limit` characters, with "…" marking the cut. Labels are drawn at a
    /// fixed size, so an unbounded one (a 100 kB run name) would push everything else off the
    /// figure; the full text stays in attributes such as `data-series`.
    ///
    ///     Markup.truncated("a-very-long-run-name", to: 8)   // "a-very-…"
    static func truncated(_ text: String, to limit: Int) -> String {
        let limit = max(limit, 1)
        // `count` walks the whole string; stop after limit + 1 characters instead.
        var index = text.startIndex
        var n = 0
        while index < text.endIndex && n <= limit {
            index = text.index(after: index)
            n += 1
        }
        if n <= limit { return text }
        return String(text.prefix(limit - 1)) + "…"
    }
}
