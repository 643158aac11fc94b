import Foundation

// Usage: EmbedSQLTool OUTPUT.swift FILE...  (migrations/*.sql, queries/*.sql, examples/*.yaml)
// Writes `enum EmbeddedSQL { static let migrations: [(name, sql)]; static let queries: [...] }`,
// each file's text as a raw string literal; the folder a file sits in decides its list.
let arguments = CommandLine.arguments.dropFirst()
guard let output = arguments.first else {
    FileHandle.standardError.write("usage: EmbedSQLTool OUTPUT FILE...\n".data(using: .utf8)!)
    exit(2)
}

func literal(_ text: String) -> String {
    // A raw string with enough '#' that no sequence in the text can close it.
    var hashes = "#"
    while text.contains("\"" + hashes) { hashes += "#" }
    return "\(hashes)\"\"\"\n\(text)\n\"\"\"\(hashes)"
}

var migrations: [(String, String)] = []
var queries: [(String, String)] = []
var examples: [(String, String)] = []
for path in arguments.dropFirst() {
    let url = URL(fileURLWithPath: path)
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

let source = """
// Generated at build time by EmbedSQLTool from migrations/, queries/ and examples/. Do not edit.
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
try source.write(toFile: output, atomically: true, encoding: .utf8)
