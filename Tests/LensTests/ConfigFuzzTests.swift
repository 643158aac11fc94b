import Foundation
import Runner
import Linalg
import XCTest

/// The config reader on mutated copies of the shipped example configs: truncations, byte flips,
/// type swaps, huge and negative numbers, NaN, deep nesting, invalid UTF-8 and NUL bytes. It must
/// never trap, and every refusal is a `ConfigError` of one line that says where.
final class ConfigFuzzTests: XCTestCase {
    static let iterations = 10_000

    /// Values of every type and of absurd size, swapped in where a value stood.
    let replacements = [
        "abc", "''", "\"\"", "[1, 2]", "[]", "{a: 1}", "{}", "true", "off", "null", "~", "-1", "0", "1e400", "-1e400",
        "1e308", ".nan", "NaN", ".inf", "-.inf", "99999999999999999999", "-99999999999999999999", "18446744073709551615",
        "18446744073709551616", "9223372036854775807", "-9223372036854775808", "0x7fffffffffffffff", "1.5", "[1e300, -1e300]",
        "[.nan]", "[[1]]", "&a 1", "*a", "!!binary AAAA", "!!float 1", "\"\u{0}\"", "'\n'", "|\n  text", "2024-01-01",
    ]

    /// Keys of the schema, for `--set` overrides.
    let keys = ["seed", "steps", "name", "loss", "data.source", "data.classes", "data.n_train", "data.n_test", "data.path",
                "data.test_fraction", "data.p", "model.hidden", "model.activation", "model.init_scale", "optimizer.kind",
                "optimizer.lr", "optimizer.batch_size", "optimizer.momentum", "optimizer.schedule", "optimizer.clip_norm",
                "lens.every", "lens.reference", "lens.smoother", "lens.probes", "lens.memory_budget_mb", "lens.kernel_path",
                "data", "model", "lens.x.y.z", "a..b", ""]

    func nested(_ depth: Int, _ random: inout RandomSource) -> String {
        switch random.below(5) {
        case 0: return String(repeating: "[", count: depth) + String(repeating: "]", count: random.below(2) * depth)
        case 1: return String(repeating: "{a: ", count: depth) + "1" + String(repeating: "}", count: random.below(2) * depth)
        case 2: return "\n" + (0..<min(depth, 400)).map { String(repeating: " ", count: $0 + 2) + "k\($0):" }.joined(separator: "\n") + " 1"
        case 3: return String(repeating: "- ", count: depth) + "1"
        default: return String(repeating: "[{a: ", count: depth / 2)
        }
    }

    func mutate(_ bytes: inout [UInt8], _ random: inout RandomSource) {
        func position() -> Int { random.below(bytes.count + 1) }
        switch random.below(10) {
        case 0:  // truncation
            bytes = Array(bytes.prefix(position()))
        case 1:  // byte flips
            for _ in 0..<(1 + random.below(4)) where !bytes.isEmpty { bytes[random.below(bytes.count)] ^= UInt8(1 << random.below(8)) }
        case 2:  // NUL, invalid UTF-8 and control bytes
            let junk: [[UInt8]] = [[0], [0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80], [0x1B], [0xE2, 0x82]]
            bytes.insert(contentsOf: random.pick(junk), at: position())
        case 3:  // a deleted range
            let a = position(), b = min(bytes.count, a + random.below(40))
            bytes.removeSubrange(a..<b)
        case 4, 5, 6:  // a value swapped for another type or an absurd number
            var text = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\n")
            let candidates = text.indices.filter { text[$0].contains(": ") }
            guard !candidates.isEmpty else { return }
            let i = random.pick(candidates)
            let colon = text[i].range(of: ": ")!
            text[i] = String(text[i][..<colon.upperBound]) + random.pick(replacements)
            bytes = Array(text.joined(separator: "\n").utf8)
        case 7:  // deep nesting at a value or at the end
            let depth = random.pick([63, 65, 200, 5_000, 100_000])
            bytes.insert(contentsOf: Array(nested(depth, &random).utf8), at: random.below(2) == 0 ? bytes.count : position())
        case 8:  // a line duplicated (duplicate keys) or moved
            var lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\n")
            guard !lines.isEmpty else { return }
            let line = lines.remove(at: random.below(lines.count))
            lines.insert(line, at: random.below(lines.count + 1))
            if random.below(2) == 0 { lines.insert(line, at: random.below(lines.count + 1)) }
            bytes = Array(lines.joined(separator: "\n").utf8)
        default:  // an indentation change
            var lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\n")
            guard !lines.isEmpty else { return }
            let i = random.below(lines.count)
            lines[i] = String(repeating: random.pick([" ", "\t"]), count: random.below(9)) + lines[i]
            bytes = Array(lines.joined(separator: "\n").utf8)
        }
    }

    func testMutatedExampleConfigsNeverTrapAndRefuseInOneLineSayingWhere() throws {
        let bases = Presets.names.compactMap { Presets.text(named: $0) }
        XCTAssertEqual(bases.count, 5, "the shipped examples")
        var random = RandomSource(seed: 20_240_611, stream: .other)
        var accepted = 0, refused = 0, deep = 0
        var locations: [String: Int] = [:]
        let longKeyPath = Array(repeating: "k", count: 100_000).joined(separator: ".") + "=1"
        let start = Date()
        for iteration in 0..<Self.iterations {
            var bytes = Array(random.pick(bases).utf8)
            for _ in 0..<(1 + random.below(3)) { mutate(&bytes, &random) }
            var overrides: [String] = []
            for _ in 0..<random.below(3) {
                let value = random.below(8) == 0 ? nested(random.pick([10, 65, 100_000]), &random) : random.pick(replacements)
                overrides.append(random.below(20) == 0 ? value : "\(random.pick(keys))=\(value)")
            }
            if random.below(100) == 0 { overrides.append(longKeyPath) }
            // Invalid UTF-8 reaches the reader as U+FFFD (`tlens train` refuses it before, as unreadable).
            let text = String(decoding: bytes, as: UTF8.self)
            do {
                _ = try TrainConfig.load(text: text, source: "fuzz.yaml", overrides: overrides)
                accepted += 1
            } catch let error as ConfigError {
                refused += 1
                let message = error.description
                XCTAssertFalse(message.contains(where: \.isNewline), "iteration \(iteration): \(message)")
                let location = message.components(separatedBy: ": ").first ?? ""
                XCTAssertTrue(message.contains(": ") && !location.isEmpty, "iteration \(iteration): says nowhere: \(message)")
                if message.contains("levels deep") { deep += 1 }
                let kind = location.hasPrefix("fuzz.yaml") ? "source" : location.hasPrefix("--set") ? "--set"
                    : String(location.split(separator: ".").first ?? "")
                locations[kind, default: 0] += 1
            } catch {
                XCTFail("iteration \(iteration): not a ConfigError: \(error)")
            }
        }
        let seconds = Date().timeIntervalSince(start)
        print("config fuzz: \(Self.iterations) inputs, \(accepted) accepted, \(refused) refused (\(deep) too deep), "
              + String(format: "%.1f s; ", seconds) + "refusals by place: \(locations.sorted { $0.value > $1.value }.prefix(12))")
        XCTAssertEqual(accepted + refused, Self.iterations)
        XCTAssertGreaterThan(deep, 0)
    }

    func testNestingOneHundredThousandLevelsIsRefusedBeforeParsing() {
        for text in [String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000),
                     "steps: " + String(repeating: "{a: ", count: 100_000),
                     String(repeating: "- ", count: 100_000) + "1",
                     (0..<100).map { String(repeating: " ", count: $0) + "k:" }.joined(separator: "\n")] {
            XCTAssertThrowsError(try TrainConfig.load(text: text, source: "deep.yaml")) { error in
                XCTAssertTrue("\(error)".hasPrefix("deep.yaml:1: nested more than 64 levels deep")
                              || "\(error)".contains("nested more than 64 levels deep"), "\(error)")
            }
        }
        // Brackets inside quoted text are not nesting.
        let quoted = "name: \"" + String(repeating: "[", count: 1000) + "\"\ndata: {source: digits}\n"
        XCTAssertNoThrow(try TrainConfig.load(text: quoted, source: "q.yaml"))
    }
}
