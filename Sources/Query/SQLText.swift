/// What a lexical pass over SQL text finds without compiling it: the parameters it names and
/// how many statements it holds. Strings, quoted identifiers and comments are skipped, so a
/// `:x` inside `'…'` or `-- …` is not a parameter. Used to check a named query's header
/// against its SQL when the file is loaded (SQLite confirms it again when the query runs).
///
///     let scan = SQLText.scan("SELECT * FROM runs WHERE id = :run -- not :this")
///     scan.named        // ["run"]
struct SQLText {
    /// Named parameters (`:name`, `@name`, `$name`) without their prefix, in order of first use.
    var named: [String] = []
    /// Positional parameters (`?`, `?3`) as written.
    var positional: [String] = []
    /// Statements holding at least one token.
    var statements = 0

    static func scan(_ sql: String) -> SQLText {
        var result = SQLText()
        let s = Array(sql.unicodeScalars)
        var i = 0
        var statementHasToken = false
        func isNameScalar(_ c: Unicode.Scalar) -> Bool {
            c == "_" || c == "$" || c.properties.isAlphabetic || ("0"..."9").contains(c) || c.value > 0x7F
        }
        func token() { if !statementHasToken { statementHasToken = true; result.statements += 1 } }
        while i < s.count {
            let c = s[i]
            switch c {
            case "'", "\"", "`":
                token()
                i += 1
                while i < s.count {
                    if s[i] == c {
                        if i + 1 < s.count, s[i + 1] == c { i += 2; continue }  // doubled quote
                        break
                    }
                    i += 1
                }
                i += 1
            case "[":
                token()
                while i < s.count, s[i] != "]" { i += 1 }
                i += 1
            case "-" where i + 1 < s.count && s[i + 1] == "-":
                while i < s.count, s[i] != "\n" { i += 1 }
            case "/" where i + 1 < s.count && s[i + 1] == "*":
                i += 2
                while i < s.count, !(s[i] == "*" && i + 1 < s.count && s[i + 1] == "/") { i += 1 }
                i += 2
            case ";":
                statementHasToken = false
                i += 1
            case ":", "@", "$":
                token()
                var j = i + 1
                while j < s.count, isNameScalar(s[j]) { j += 1 }
                if j > i + 1 {
                    let name = String(String.UnicodeScalarView(s[(i + 1)..<j]))
                    if !result.named.contains(name) { result.named.append(name) }
                }
                i = max(j, i + 1)
            case "?":
                token()
                var j = i + 1
                while j < s.count, ("0"..."9").contains(s[j]) { j += 1 }
                result.positional.append(String(String.UnicodeScalarView(s[i..<j])))
                i = j
            default:
                if !c.properties.isWhitespace { token() }
                // A word: skipped whole, so `x:y` inside an identifier is not read as a parameter.
                if isNameScalar(c) {
                    while i < s.count, isNameScalar(s[i]) { i += 1 }
                } else {
                    i += 1
                }
            }
        }
        return result
    }
}
