import ArgumentParser

struct BenchLens: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lens", abstract: "(being built)")
    func run() throws { throw CLIError("bench lens is not built yet") }
}
