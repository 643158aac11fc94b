import Foundation
import PackagePlugin

/// The one mechanism that puts repository files into the binary at build time, so `tlens` works
/// from any directory and carries exactly the files in the repository (no checked-in copy to
/// drift). What a target gets depends on the target:
///
/// - `Data`: every `data/*.gz` as base64 text in `enum EmbeddedData` (`BuiltinData` decodes it).
///   Base64 in a string literal, not a `[UInt8]` array literal: for the ~66 kB here the array
///   took 6.1 s to compile (debug) against 0.13 s for the string.
/// - any other target: `migrations/*.sql`, `queries/*.sql` and `examples/*.yaml` as string
///   literals in `enum EmbeddedSQL`.
@main
struct EmbedResources: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        let tool = try context.tool(named: "EmbedResourcesTool")
        let (kind, output, patterns): (String, String, [(String, String)]) = target.name == "Data"
            ? ("data", "EmbeddedData.swift", [("data", ".gz")])
            : ("sql", "EmbeddedSQL.swift", [("migrations", ".sql"), ("queries", ".sql"), ("examples", ".yaml")])
        let folders = patterns
            .map { (root.appending(path: $0.0), $0.1) }
            .filter { FileManager.default.fileExists(atPath: $0.0.path) }
        var inputs: [URL] = []
        for (folder, suffix) in folders {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            inputs += names.filter { $0.hasSuffix(suffix) }.sorted().map { folder.appending(path: $0) }
        }
        let outputURL = context.pluginWorkDirectoryURL.appending(path: output)
        return [.buildCommand(
            displayName: "Embedding \(inputs.count) \(kind == "data" ? "data" : "SQL and example") files into \(target.name)",
            executable: tool.url,
            arguments: [kind, outputURL.path] + inputs.map(\.path),
            inputFiles: inputs + folders.map(\.0),
            outputFiles: [outputURL])]
    }
}
