import ArgumentParser
import Foundation
import Spelling

/// The words before a command's own arguments (`tlens bench store`, `tlens help sweep`), checked
/// before argument-parser sees them. Left to it, `tlens help nosuch` printed the top-level help
/// with exit 0, as if the topic existed, and `tlens trian` answered with three lines and no
/// suggestion. Here a word that names no command is one line naming the valid ones (hidden
/// commands such as sweep-worker are accepted but not listed) and the nearest (Spelling).
enum CommandWords {
    /// The refusal for `arguments` (without the program name), or nil when every command word
    /// names a command.
    static func refusal(_ arguments: [String]) -> String? {
        let isHelp = arguments.first == "help"
        var command: ParsableCommand.Type = TLens.self
        var path: [String] = []
        for word in arguments.dropFirst(isHelp ? 1 : 0) {
            if word.hasPrefix("-") { break }                   // options and flags: argument-parser's
            let subcommands = command.configuration.subcommands
            guard !subcommands.isEmpty else {
                // A command's own arguments follow; after `help`, no topic is deeper than a command.
                return isHelp ? "no help topic '\((path + [word]).joined(separator: " "))' (\(path.joined(separator: " ")) has no subcommands)" : nil
            }
            if let next = subcommands.first(where: { $0._commandName == word }) {
                command = next
                path.append(word)
                continue
            }
            let names = subcommands.filter { $0.configuration.shouldDisplay }.map { $0._commandName }
            let near = nearestName(to: word, in: names)
            if isHelp {
                let hint = near.map { "; did you mean '\((path + [$0]).joined(separator: " "))'?" } ?? ""
                let scope = path.isEmpty ? "topics" : "topics under \(path.joined(separator: " "))"
                return "no help topic '\((path + [word]).joined(separator: " "))'\(hint) (\(scope): \(names.joined(separator: ", ")))"
            }
            let group = (["tlens"] + path).joined(separator: " ")
            let hint = near.map { "; did you mean '\(group) \($0)'?" } ?? ""
            return "no command '\(group) \(word)'\(hint) (commands: \(names.joined(separator: ", ")))"
        }
        return nil
    }
}

extension TLens {
    /// argument-parser's entry point, with every refusal on one line (house rule): a usage error
    /// is followed there by the usage and a "See … --help" line, here by the name of that help.
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let refusal = CommandWords.refusal(arguments) {
            FileHandle.standardError.write("Error: \(refusal)\n".data(using: .utf8)!)
            Foundation.exit(ExitCode.validationFailure.rawValue)
        }
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            let code = exitCode(for: error)
            // --help, --version, `help TOPIC`: argument-parser prints them, on stdout, exit 0.
            if code == .success { exit(withError: error) }
            var line = message(for: error).split(whereSeparator: \.isNewline).joined(separator: " ")
            let full = fullMessage(for: error)
            if let see = full.range(of: #"See '[^']+'"#, options: .regularExpression) {
                line += " (see " + full[see].dropFirst(4).replacingOccurrences(of: "'", with: "") + ")"
            }
            if !line.isEmpty { FileHandle.standardError.write("Error: \(line)\n".data(using: .utf8)!) }
            Foundation.exit(code.rawValue)
        }
    }
}
