/// The configs shipped in examples/, embedded at build time so presets work from any directory.
public enum Presets {
    public static var names: [String] { EmbeddedSQL.examples.map(\.name) }

    public static func text(named name: String) -> String? {
        EmbeddedSQL.examples.first { $0.name == name }?.text
    }
}

/// The named SQL of queries/, embedded at build time.
public enum NamedQueries {
    public static var names: [String] { EmbeddedSQL.queries.map(\.name) }
    public static func sql(named name: String) -> String? { EmbeddedSQL.queries.first { $0.name == name }?.sql }
}
