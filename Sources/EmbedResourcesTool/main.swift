import Foundation

// Usage: EmbedResourcesTool sql  OUTPUT.swift FILE...   (migrations/*.sql, queries/*.sql, examples/*.yaml)
//        EmbedResourcesTool data OUTPUT.swift FILE...   (data/*.gz)
//
// `sql` writes `enum EmbeddedSQL { static let migrations: [(name, sql)]; queries; examples }`,
// each file's text as a raw string literal; the folder a file sits in decides its list.
// `data` writes `enum EmbeddedData { static let NAME = "base64…" }`, one property per file,
// named by camel-casing the file name without `.csv.gz` / `.gz` (diabetes_target.csv.gz →
// diabetesTarget), holding the file's exact bytes in base64, 76 characters a line.
let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 2, ["sql", "data"].contains(arguments[0]) else {
    FileHandle.standardError.write("usage: EmbedResourcesTool sql|data OUTPUT FILE...\n".data(using: .utf8)!)
    exit(2)
}
let kind = arguments[0], output = arguments[1], files = arguments.dropFirst(2).map { URL(fileURLWithPath: $0) }

func literal(_ text: String) -> String {
    // A raw string with enough '#' that no sequence in the text can close it.
    var hashes = "#"
    while text.contains("\"" + hashes) { hashes += "#" }
    return "\(hashes)\"\"\"\n\(text)\n\"\"\"\(hashes)"
}

func sqlSource() throws -> String {
    var migrations: [(String, String)] = []
    var queries: [(String, String)] = []
    var examples: [(String, String)] = []
    for url in files {
        let text = try String(contentsOf: url, encoding: .utf8)
        let name = url.deletingPathExtension().lastPathComponent
        switch url.deletingLastPathComponent().lastPathComponent {
        case "migrations": migrations.append((name, text))
        case "examples": examples.append((name, text))
        default: queries.append((name, text))
        }
    }
    func list(_ items: [(String, String)], label: String = "sql") -> String {
        items.sorted { $0.0 < $1.0 }
            .map { "        (name: \"\($0.0)\", \(label): \(literal($0.1)))," }
            .joined(separator: "\n")
    }
    return """
    // Generated at build time by EmbedResourcesTool from migrations/, queries/ and examples/. Do not edit.
    enum EmbeddedSQL {
        static let migrations: [(name: String, sql: String)] = [
    \(list(migrations))
        ]
        static let queries: [(name: String, sql: String)] = [
    \(list(queries))
        ]
        /// examples/*.yaml: the shipped configs, usable as presets.
        static let examples: [(name: String, text: String)] = [
    \(list(examples, label: "text"))
        ]
    }

    """
}

/// `diabetes_data_raw.csv.gz` → `diabetesDataRaw`.
func propertyName(_ file: String) -> String {
    var stem = file
    for suffix in [".csv.gz", ".gz"] where stem.hasSuffix(suffix) { stem.removeLast(suffix.count); break }
    let words = stem.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
    return (words.first ?? "_") + words.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
}

func dataSource() throws -> String {
    var lines = [
        "// Generated at build time by EmbedResourcesTool from data/*.gz. Do not edit.",
        "// Base64 of the exact bytes of each file (see data/README.md for origin and licence).",
        "enum EmbeddedData {",
    ]
    for url in files.sorted(by: { $0.lastPathComponent < $1.lastPathComponent }) {
        let base64 = try Data(contentsOf: url).base64EncodedString(options: [.lineLength76Characters, .endLineWithLineFeed])
        lines.append("    /// data/\(url.lastPathComponent)")
        lines.append("    static let \(propertyName(url.lastPathComponent)) = \"\"\"")
        lines += base64.split(separator: "\n").map { "    " + $0 }
        lines.append("    \"\"\"")
    }
    lines.append("}")
    return lines.joined(separator: "\n") + "\n"
}

let source = kind == "sql" ? try sqlSource() : try dataSource()
try source.write(toFile: output, atomically: true, encoding: .utf8)
