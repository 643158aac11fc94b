import ArgumentParser

struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "(being built)")
    func run() throws { throw CLIError("bench train is not built yet") }
}
