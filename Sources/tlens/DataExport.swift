import ArgumentParser
import Foundation
import Runner

/// Hidden: the data a config trains on, as CSV, for baselines outside tlens
/// (scripts/xgboost-compare.py).
struct DataExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data-export",
        abstract: "Write the training and test data a config trains on (after its transforms) as CSV.",
        discussion: """
        DIR/train.csv and DIR/test.csv (columns x0 … x{d−1}, then y0 … y{C−1}; floats printed \
        so they read back to the same float32) and DIR/config.json (the resolved config). The \
        test rows are the ones the run evaluates (lens.eval_test). Writes no database.
        """,
        shouldDisplay: false)

    @Option(name: .long, help: "Config file (YAML or JSON).")
    var config: String?

    @Option(name: .long, help: "A shipped config by name.")
    var preset: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override one value (repeatable).", valueName: "key.path=value"))
    var overrides: [String] = []

    @Option(name: .long, help: ArgumentHelp("Directory to write into (created if missing).", valueName: "dir"))
    var out: String

    func validate() throws {
        if (config == nil) == (preset == nil) { throw ValidationError("give exactly one of --config FILE or --preset NAME") }
    }

    func run() throws {
        let prepared = try TrainCommand.prepare(configPath: config, preset: preset, overrides: overrides, name: nil)
        let directory = URL(fileURLWithPath: out, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let data = prepared.exportedData
            for (name, rows) in [("train", data.train), ("test", data.test)] {
                let d = rows.x.first?.count ?? 0, c = rows.y.first?.count ?? 0
                var text = ((0..<d).map { "x\($0)" } + (0..<c).map { "y\($0)" }).joined(separator: ",") + "\n"
                for (x, y) in zip(rows.x, rows.y) {
                    text += (x + y).map { String(format: "%.9g", Double($0)) }.joined(separator: ",") + "\n"
                }
                try text.write(to: directory.appendingPathComponent("\(name).csv"), atomically: true, encoding: .utf8)
            }
            try prepared.config.resolved.json.write(to: directory.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        } catch {
            throw CLIError("\(out): cannot write the data: \(error.localizedDescription)")
        }
        FileHandle.standardError.write("tlens: wrote \(out)/train.csv, test.csv and config.json\n".data(using: .utf8)!)
    }
}
