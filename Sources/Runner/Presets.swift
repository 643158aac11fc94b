import Spelling

/// The configs shipped in examples/, embedded at build time so presets work from any directory.
/// Files named `sweep-*.yaml` or `study-*.yaml` (the case studies' sweeps, docs/studies.md) are
/// sweep specs (`tlens sweep --preset`); the others are training configs (`tlens train --preset`).
public enum Presets {
    static func isSweep(_ name: String) -> Bool { name.hasPrefix("sweep-") || name.hasPrefix("study-") }
    public static var names: [String] { EmbeddedSQL.examples.map(\.name).filter { !isSweep($0) } }
    public static var sweepNames: [String] { EmbeddedSQL.examples.map(\.name).filter(isSweep) }

    public static func text(named name: String) -> String? {
        guard names.contains(name) else { return nil }
        return EmbeddedSQL.examples.first { $0.name == name }?.text
    }

    public static func sweepText(named name: String) -> String? {
        guard sweepNames.contains(name) else { return nil }
        return EmbeddedSQL.examples.first { $0.name == name }?.text
    }

    /// Why `name` is not a shipped config (`sweep: false`) or sweep (`sweep: true`), in one
    /// clause: the command that takes it when it is the other kind, else the nearest name
    /// (Spelling's closeness rule) and the list.
    ///
    ///     Presets.refusal("digits-3v", sweep: false)
    ///     // "no shipped config 'digits-3v'; did you mean 'digits-3v5'? (configs: digits-3v5, …)"
    ///     Presets.refusal("sweep-lr", sweep: false)
    ///     // "'sweep-lr' is a sweep: run it with tlens sweep --preset sweep-lr"
    public static func refusal(_ name: String, sweep: Bool) -> String {
        let (what, known, other) = sweep ? ("sweep", sweepNames, names) : ("config", names, sweepNames)
        if other.contains(name) {
            return "'\(name)' is a \(sweep ? "training config" : "sweep"): run it with tlens \(sweep ? "train" : "sweep") --preset \(name)"
        }
        let hint = nearestName(to: name, in: known).map { "; did you mean '\($0)'?" } ?? ""
        return "no shipped \(what) '\(name)'\(hint) (\(what)s: \(known.joined(separator: ", ")))"
    }

    /// The first line of a shipped file's leading comment, for `tlens presets`.
    public static func summary(of name: String) -> String {
        let text = EmbeddedSQL.examples.first { $0.name == name }?.text ?? ""
        let comment = text.split(separator: "\n").first { $0.hasPrefix("#") } ?? ""
        return comment.drop { $0 == "#" || $0 == " " }.description
    }
}
