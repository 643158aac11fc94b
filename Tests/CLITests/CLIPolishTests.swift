import Foundation
import Spelling
import Store
import XCTest

/// What a new user meets first: help topics, misspelled commands, keys and names, refusals that
/// say what is wrong once, the demo's table, help texts at 80 columns, a read-only directory.
final class CLIPolishTests: TemporaryDirectoryTestCase {
    /// A refusal: non-zero exit, nothing on stdout, exactly one line on stderr; that line.
    @discardableResult
    func refusal(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let o = try tlens(arguments)
        XCTAssertNotEqual(o.status, 0, "\(arguments): expected a refusal", file: file, line: line)
        XCTAssertEqual(o.stdout, "", "\(arguments)", file: file, line: line)
        let lines = o.stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        XCTAssertEqual(lines.count, 1, "\(arguments): \(o.stderr)", file: file, line: line)
        XCTAssertTrue(o.stderr.hasSuffix("\n"), file: file, line: line)
        XCTAssertFalse(o.stderr.contains("Fatal error"), file: file, line: line)
        return String(lines.first ?? "")
    }

    func write(_ text: String, _ name: String) throws -> String {
        let p = path(name)
        try text.write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }

    let tiny = "data: {source: digits, classes: [3, 5], target: pm1, n_train: 40, n_test: 20}\nmodel: {hidden: [4]}\n"
        + "optimizer: {batch_size: 10}\nsteps: 2\nlens: {every: 1, smoother: 'off', kernel: false}\n"

    // MARK: 1. help topics and command names

    func testHelpTopicPrintsThatCommandsHelp() throws {
        for (topic, overview) in [(["sweep"], "OVERVIEW: Run a sweep"), (["train"], "OVERVIEW: Train a network"),
                                  (["bench", "store"], "OVERVIEW: Measure how fast the recorder")] {
            let o = try tlens(["help"] + topic)
            XCTAssertEqual(o.status, 0, o.stderr)
            XCTAssertTrue(o.stdout.hasPrefix(overview), "\(topic): \(o.stdout.prefix(200))")
            XCTAssertEqual(o.stderr, "")
        }
    }

    func testUnknownHelpTopicIsOneLineNamingTheTopics() throws {
        let line = try refusal(["help", "nosuch"])
        XCTAssertEqual(line, "Error: no help topic 'nosuch' (topics: train, resume, sweep, merge, reproduce, presets, check, runs, show, metrics, compare, query, sql, analyses, rerun, export, plot, report, study, demo, bench)")
        XCTAssertFalse(line.contains("sweep-worker"), "hidden commands are not listed")
        XCTAssertTrue(try refusal(["help", "swep"]).contains("no help topic 'swep'; did you mean 'sweep'?"))
        XCTAssertEqual(try refusal(["help", "bench", "stor"]),
                       "Error: no help topic 'bench stor'; did you mean 'bench store'? (topics under bench: store, train, lens, checkpoint, query, gbt)")
        XCTAssertTrue(try refusal(["help", "train", "extra"]).contains("no help topic 'train extra'"))
        XCTAssertEqual(try tlens(["help", "nosuch"]).status, 64)
    }

    func testUnknownCommandsAndUsageErrorsAreOneLine() throws {
        XCTAssertTrue(try refusal(["trian"]).hasPrefix("Error: no command 'tlens trian'; did you mean 'tlens train'? (commands: train, resume,"))
        XCTAssertTrue(try refusal(["bench", "nosuch"]).hasSuffix("(commands: store, train, lens, checkpoint, query, gbt)"))
        XCTAssertEqual(try refusal(["train"]), "Error: give exactly one of --config FILE or --preset NAME (see tlens train --help)")
        XCTAssertEqual(try refusal(["resume", "abc"]), "Error: The value 'abc' is invalid for '<run>' (see tlens resume --help)")
        XCTAssertTrue(try refusal(["bench", "store", "--format", "xml"]).contains("'xml' is invalid for '--format <format>'"))
    }

    // MARK: 2. unknown key paths

    func testUnknownKeyPathsSuggestTheNearestPathOrNone() throws {
        let preset = ["train", "--preset", "digits-3v5", "--dry-run"]
        XCTAssertEqual(try refusal(preset + ["--set", "optimizer.lrr=0.1"]), "Error: optimizer.lrr: unknown key; did you mean 'optimizer.lr'?")
        XCTAssertEqual(try refusal(preset + ["--set", "lens.evry=5"]), "Error: lens.evry: unknown key; did you mean 'lens.every'?")
        let foo = try refusal(preset + ["--set", "foo.bar=1"])
        XCTAssertTrue(foo.hasPrefix("Error: foo.bar: unknown key 'foo'; top-level keys: name, seed, steps, threads, data, model, loss, optimizer, spawn, lens, checkpoint"), foo)
        XCTAssertFalse(foo.contains("did you mean"), foo)
        // The same in a config file, nested.
        let nested = try write(tiny.replacingOccurrences(of: "lens: {every: 1,", with: "lens: {evry: 1,"), "nested.yaml")
        XCTAssertEqual(try refusal(["train", "--config", nested, "--dry-run"]), "Error: lens.evry: unknown key; did you mean 'lens.every'?")
        let section = try write(tiny + "optimzer:\n  lr: 0.1\n", "section.yaml")
        XCTAssertEqual(try refusal(["train", "--config", section, "--dry-run"]),
                       "Error: optimzer.lr: unknown key 'optimzer'; did you mean 'optimizer.lr'?")
    }

    // MARK: 3. each refusal carries its context once

    func testConfigRefusalsNameTheirKeyPathOnce() throws {
        let preset = ["train", "--preset", "digits-3v5", "--dry-run", "--set"]
        let cases: [([String], String)] = [
            (preset + ["data.source=nosuch"], "Error: data.source: unknown source `nosuch` (sources: digits, diabetes,"),
            (preset + ["data.source=digit"], "Error: data.source: unknown source `digit`; did you mean `digits`?"),
            (preset + ["data.n_trian=5"], "Error: data.n_trian: unknown option for source digits; did you mean `n_train`?"),
            (preset + ["data.n_train=-5"], "Error: data.n_train: must be in 1…2147483647, got -5"),
            (preset + ["data.classes=[3, 11]"], "Error: data.classes: class 11 is absent (classes present: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)"),
            (preset + ["data.target=pm2"], "Error: data.target: must be one of onehot, pm1, index, got pm2; did you mean `pm1`?"),
            (preset + ["optimizer.kind=adm"], "Error: optimizer.kind: 'adm' is not one of sgd, adam, adamw; did you mean 'adam'?"),
            (preset + ["model.activation=rel"], "Error: model.activation: 'rel' is not one of relu, tanh, sigmoid, gelu, quadratic, linear, eps_quadratic; did you mean 'relu'?"),
            (preset + ["lens.smoother=prob"], "Error: lens.smoother: 'prob' is not one of auto, exact, probes, off; did you mean 'probes'?"),
            (preset + ["lens.zzz=1"], "Error: lens.zzz: unknown key; keys of lens: every,"),
        ]
        let csv = try write("a,b,y\n1,2,3\n1,x,3\n", "cells.csv")
        let csvConfig = try write("data: {source: csv, path: cells.csv, target_column: y}\n", "csv.yaml")
        let mnist = try write("data: {source: mnist, images: x.idx}\n", "mnist.yaml")
        for (arguments, expected) in cases + [
            (["train", "--config", csvConfig, "--dry-run"], "Error: \(csv):3: non-numeric cell \"x\" in column 2 (\"b\")"),
            (["train", "--config", mnist, "--dry-run"], "Error: data.labels: missing; `images` needs it (training labels, IDX 0x00000801)"),
        ] {
            let line = try refusal(arguments)
            XCTAssertTrue(line.hasPrefix(expected), "\(arguments): \(line)")
            // No context said twice: `data: data: …`, `data: digits: …`, `x: x: …`.
            let words = line.split(separator: " ").map(String.init)
            for (a, b) in zip(words, words.dropFirst()) where a.hasSuffix(":") {
                XCTAssertNotEqual(a, b, line)
            }
            XCTAssertFalse(line.contains("data: digits:") || line.contains("data: data"), line)
        }
        // A sweep point's refusal: the point, then the key path, once each.
        let spec = try write("name: s\nbase: {preset: digits-3v5}\ngrid: {data.n_trian: [5]}\n", "sweep.yaml")
        XCTAssertEqual(try refusal(["sweep", spec, "--db", path("never.sqlite")]),
                       "Error: sweep point 1 of 1 (s n_trian=5 seed=0): data.n_trian: unknown option for source digits; did you mean `n_train`?")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("never.sqlite")))
    }

    // MARK: 7. did you mean, wherever a name is looked up

    func testPresetAndSweepNamesGetTheNearestName() throws {
        XCTAssertTrue(try refusal(["train", "--preset", "digits-3v"]).hasPrefix(
            "Error: --preset digits-3v: no shipped config 'digits-3v'; did you mean 'digits-3v5'? (configs: digits-3v5,"))
        XCTAssertEqual(try refusal(["train", "--preset", "sweep-lr"]),
                       "Error: --preset sweep-lr: 'sweep-lr' is a sweep: run it with tlens sweep --preset sweep-lr")
        XCTAssertTrue(try refusal(["sweep", "--preset", "sweep-l"]).hasPrefix(
                       "Error: --preset sweep-l: no shipped sweep 'sweep-l'; did you mean 'sweep-lr'? (sweeps: "))
        let db = path("sweeps.sqlite")
        let recorder = try Recorder(path: db)
        _ = try recorder.registerSweep(name: "lr-grid", specJSON: "{}", points: [], extend: false)
        try recorder.close()
        XCTAssertEqual(try refusal(["sweep", "--status", "lr-gird", "--db", db]), "Error: no sweep 'lr-gird' in \(db); did you mean 'lr-grid'?")
        XCTAssertEqual(try refusal(["sweep", "--status", "zzz", "--db", db]), "Error: no sweep 'zzz' in \(db)")
        // A mistyped --db names the file beside it that was probably meant.
        XCTAssertEqual(try refusal(["check", "--db", path("sweeps.sqlit")]), "Error: \(path("sweeps.sqlit")): no such database; did you mean \(db)?")
        XCTAssertEqual(try refusal(["check", "--db", "elsewhere.sqlite"]), "Error: elsewhere.sqlite: no such database")
    }

    /// The closeness rule against an independent computation: edit distance by its recursive
    /// definition (memoized), on all short strings over a small alphabet.
    func testNearestNameUsesLevenshteinDistanceWithinATypoThreshold() {
        func reference(_ a: [Character], _ b: [Character]) -> Int {
            var memo: [Int: Int] = [:]
            func d(_ i: Int, _ j: Int) -> Int {
                if i == 0 { return j }
                if j == 0 { return i }
                if let v = memo[i * 100 + j] { return v }
                let v = min(d(i - 1, j) + 1, d(i, j - 1) + 1, d(i - 1, j - 1) + (a[i - 1] == b[j - 1] ? 0 : 1))
                memo[i * 100 + j] = v
                return v
            }
            return d(a.count, b.count)
        }
        var words = [""]
        for _ in 0..<3 { words += words.flatMap { w in ["a", "b", "θ"].map { w + $0 } } }
        words = Array(Set(words)).sorted()
        for a in words { for b in words { XCTAssertEqual(editDistance(a, b), reference(Array(a), Array(b)), "\(a) → \(b)") } }
        XCTAssertEqual(nearestName(to: "optimizer.lrr", in: ["lens.every", "optimizer.lr"]), "optimizer.lr")
        XCTAssertEqual(nearestName(to: "evry", in: ["every", "eval_test"]), "every")
        XCTAssertNil(nearestName(to: "foo", in: ["loss", "seed", "lens"]), "3 edits from a 3-letter word is not a typo")
        XCTAssertEqual(nearestName(to: "optimzer.lr", in: ["optimizer.lr"]), "optimizer.lr")
        XCTAssertNil(nearestName(to: "^", in: ["+", "-"]), "a rewrite of every character is not a typo")
        XCTAssertEqual(nearestName(to: "abcdefghijkl", in: ["abcdefghwxyz"]), "abcdefghwxyz", "12 letters: 4 edits are close")
        XCTAssertNil(nearestName(to: "abcdefghijkl", in: ["abcdefgvwxyz"]), "12 letters: 5 edits are not")
        XCTAssertEqual(nearestName(to: "ab", in: ["ax", "ay"]), "ax", "ties go to the first listed")
    }

    // MARK: 4. the demo's table

    // MARK: 5. help texts at 80 columns

    func testEveryHelpTextWrapsCleanlyAtEightyColumns() throws {
        let commands: [[String]] = [[], ["train"], ["resume"], ["sweep"], ["merge"], ["reproduce"], ["presets"], ["check"],
                                    ["runs"], ["show"], ["metrics"], ["compare"], ["query"], ["sql"], ["analyses"], ["rerun"], ["export"],
                                    ["plot"], ["report"], ["study"],
                                    ["demo"], ["bench"], ["bench", "store"], ["bench", "train"], ["bench", "lens"], ["bench", "checkpoint"],
                                    ["bench", "query"], ["bench", "gbt"]]
        for command in commands {
            let o = try tlens(command + ["--help"])
            XCTAssertEqual(o.status, 0, "\(command)")
            let lines = o.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            var section = "OVERVIEW"
            for (i, line) in lines.enumerated() {
                if let colon = line.firstIndex(of: ":"), line.first != " ", line[..<colon].allSatisfy({ $0.isUppercase || $0 == " " }),
                   line[..<colon].count > 2 { section = String(line[..<colon]) }
                if section == "USAGE" { continue }                     // argument-parser never wraps usage
                XCTAssertLessThanOrEqual(line.count, 80, "\(command): \(line)")
                XCTAssertFalse(line.trimmingCharacters(in: .whitespaces).contains("  ") && section == "OVERVIEW",
                               "\(command): double space in \(line)")
                // A prose line ended early (a line break in the source string) and the sentence
                // went on below it: argument-parser's wraps fill the line (to 79 columns).
                let next = i + 1 < lines.count ? lines[i + 1] : ""
                if section == "OVERVIEW", !line.isEmpty, !line.hasPrefix(" "), !line.hasSuffix(":"), !next.isEmpty, !next.hasPrefix(" ") {
                    let nextWord = next.split(separator: " ").first.map(String.init) ?? ""
                    XCTAssertGreaterThanOrEqual(line.count + 1 + nextWord.count, 80, "\(command): a line broken early:\n\(line)\n\(next)")
                }
                // An indented list item wrapped back to column 0.
                if section == "OVERVIEW", line.hasPrefix("  "), !next.isEmpty, !next.hasPrefix(" ") {
                    XCTFail("\(command): a list item wrapped to column 0:\n\(line)\n\(next)")
                }
            }
            // One default per option.
            let options = o.stdout.components(separatedBy: "OPTIONS:").last ?? ""
            for option in options.components(separatedBy: "\n  -").dropFirst() {
                XCTAssertLessThanOrEqual(option.components(separatedBy: "(default").count - 1, 1, "\(command): \(option)")
            }
        }
    }

    // MARK: 6. a database in a read-only directory

    /// Runs tlens with `folder` read-only as the system enforces it (not only by permission
    /// bits, which root ignores): as root in a private mount namespace where `folder` is a
    /// read-only bind mount, otherwise with the folder's write bits cleared. nil when neither
    /// can be arranged here.
    func withReadOnlyFolder(_ folder: String, _ arguments: [String]) throws -> Outcome? {
        if getuid() != 0 {
            XCTAssertEqual(chmod(folder, 0o555), 0)
            defer { chmod(folder, 0o755) }
            return try tlens(arguments)
        }
        let unshare = ["/usr/bin/unshare", "/bin/unshare"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let unshare else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: unshare)
        // The mount exists only in the child's namespace and disappears with it.
        process.arguments = ["-m", "sh", "-c", "mount --bind \"$1\" \"$1\" && mount -o remount,bind,ro \"$1\" || exit 97; shift; exec \"$@\"",
                             "sh", folder, try tlensBinary().path] + arguments
        process.currentDirectoryURL = directory
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus == 97 { return nil }
        return Outcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                       stderr: String(decoding: stderr, as: UTF8.self))
    }

    func testADatabaseInAReadOnlyDirectoryIsRefusedForWritingSayingWhy() throws {
        let folder = path("archive")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let db = folder + "/runs.sqlite", config = try write(tiny, "tiny.yaml")
        XCTAssertEqual(try tlens(["train", "--config", config, "--db", db, "--quiet"]).status, 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        // tlens honours permission bits even for root (as for a read-only file): 0o555 is enough.
        XCTAssertEqual(chmod(folder, 0o555), 0)
        defer { chmod(folder, 0o755) }
        XCTAssertEqual(try refusal(["train", "--config", config, "--db", db, "--quiet"]),
                       "Error: \(db): cannot write: directory \(folder) is read-only (SQLite needs to create the -wal and -shm files beside the database) [SQLITE_READONLY]")
        XCTAssertEqual(try refusal(["train", "--config", config, "--db", folder + "/new.sqlite", "--quiet"]),
                       "Error: \(folder)/new.sqlite: cannot create: directory \(folder) is read-only (SQLite needs to create the -wal and -shm files beside the database) [SQLITE_READONLY]")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: db)), before)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["runs.sqlite"])
    }

    func testADatabaseInAReadOnlyDirectoryCanStillBeRead() throws {
        let folder = path("archive")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let db = folder + "/runs.sqlite", config = try write(tiny, "tiny.yaml")
        XCTAssertEqual(try tlens(["train", "--config", config, "--db", db, "--quiet"]).status, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["runs.sqlite"], "closed cleanly: no -wal")
        guard let check = try withReadOnlyFolder(folder, ["check", "--db", db]) else {
            throw XCTSkip("cannot make a directory read-only for root here (no unshare, or mounts not permitted)")
        }
        XCTAssertEqual(check.status, 0, check.stderr)
        XCTAssertTrue(check.stdout.hasPrefix("\(db): ok (1 runs, "), check.stdout)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["runs.sqlite"], "reading left no file behind")
        let written = try XCTUnwrap(try withReadOnlyFolder(folder, ["train", "--config", config, "--db", db, "--quiet"]))
        XCTAssertNotEqual(written.status, 0)
        XCTAssertTrue(written.stderr.contains("cannot write: directory \(folder) is"), written.stderr)

        // A write-ahead log with content and no -shm (copied while a writer had it open): SQLite
        // needs a -shm to read it and cannot create one there.
        let copy = path("copy")
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: false)
        let open = try Database.openTLens(path: db)
        try open.execute("PRAGMA wal_autocheckpoint = 0")
        try open.execute("UPDATE runs SET name = 'renamed'")
        for suffix in ["", "-wal"] { try FileManager.default.copyItem(atPath: db + suffix, toPath: copy + "/runs.sqlite" + suffix) }
        try open.close()
        let unreadable = try XCTUnwrap(try withReadOnlyFolder(copy, ["check", "--db", copy + "/runs.sqlite"]))
        XCTAssertNotEqual(unreadable.status, 0)
        XCTAssertEqual(unreadable.stderr.split(separator: "\n").count, 1, unreadable.stderr)
        XCTAssertTrue(unreadable.stderr.contains("cannot read: directory \(copy) is"), unreadable.stderr)
        XCTAssertTrue(unreadable.stderr.contains("runs.sqlite-shm"), unreadable.stderr)
    }
}
