import ArgumentParser

struct BenchStore: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "store", abstract: "(being built)")
    func run() throws { throw CLIError("bench store is not built yet") }
}
