/// The configs shipped in examples/, embedded at build time so presets work from any directory.
/// Files named `sweep-*.yaml` are sweep specs (`tlens sweep --preset`); the others are training
/// configs (`tlens train --preset`).
public enum Presets {
    public static var names: [String] { EmbeddedSQL.examples.map(\.name).filter { !$0.hasPrefix("sweep-") } }
    public static var sweepNames: [String] { EmbeddedSQL.examples.map(\.name).filter { $0.hasPrefix("sweep-") } }

    public static func text(named name: String) -> String? {
        guard names.contains(name) else { return nil }
        return EmbeddedSQL.examples.first { $0.name == name }?.text
    }

    public static func sweepText(named name: String) -> String? {
        guard sweepNames.contains(name) else { return nil }
        return EmbeddedSQL.examples.first { $0.name == name }?.text
    }

    /// The first line of a shipped file's leading comment, for `tlens presets`.
    public static func summary(of name: String) -> String {
        let text = EmbeddedSQL.examples.first { $0.name == name }?.text ?? ""
        let comment = text.split(separator: "\n").first { $0.hasPrefix("#") } ?? ""
        return comment.drop { $0 == "#" || $0 == " " }.description
    }
}
