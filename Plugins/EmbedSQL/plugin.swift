import Foundation
import PackagePlugin

/// Embeds `migrations/*.sql`, `queries/*.sql` and `examples/*.yaml` into the target as Swift string literals at
/// build time, so the binary carries exactly the files in the repository (no copy to drift).
@main
struct EmbedSQL: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        let folders = [("migrations", ".sql"), ("queries", ".sql"), ("examples", ".yaml")]
            .map { (root.appending(path: $0.0), $0.1) }
            .filter { FileManager.default.fileExists(atPath: $0.0.path) }
        var inputs: [URL] = []
        for (folder, suffix) in folders {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            inputs += names.filter { $0.hasSuffix(suffix) }.sorted().map { folder.appending(path: $0) }
        }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedSQL.swift")
        let tool = try context.tool(named: "EmbedSQLTool")
        return [.buildCommand(
            displayName: "Embedding \(inputs.count) SQL and example files",
            executable: tool.url,
            arguments: [output.path] + inputs.map(\.path),
            inputFiles: inputs + folders.map(\.0),
            outputFiles: [output])]
    }
}
