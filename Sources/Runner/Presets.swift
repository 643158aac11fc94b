/// The configs shipped in examples/, embedded at build time so presets work from any directory.
public enum Presets {
    public static var names: [String] { EmbeddedSQL.examples.map(\.name) }

    public static func text(named name: String) -> String? {
        EmbeddedSQL.examples.first { $0.name == name }?.text
    }
}
