import Foundation
import Store
import XCTest

/// Spawned children from the command line (docs/lens.md §11): `tlens train --config child.yaml`,
/// a sweep over `spawn.step` × `spawn.order_seed` whose base names the parent, and refusals that
/// leave the database byte-identical.
final class SpawnCommandTests: TemporaryDirectoryTestCase {
    func testChildrenFromTrainAndFromASweepAndRefusalsThatLeaveTheFileAlone() throws {
        let parent = """
            name: parent
            data: {source: digits, classes: [3, 5], target: pm1, n_train: 60, n_test: 30}
            model: {hidden: [8]}
            optimizer: {kind: sgd, lr: 0.05, batch_size: 10}
            steps: 12
            lens: {every: 2, reference: 16, kernel: false, smoother: "off"}
            checkpoint: {every: 100, at: [4, 8]}
            """
        try parent.write(toFile: path("parent.yaml"), atomically: true, encoding: .utf8)
        try (parent.replacingOccurrences(of: "name: parent", with: "name: child")
             + "\nspawn: {parent: parent, step: 4, order_seed: 1}\n").write(toFile: path("child.yaml"), atomically: true, encoding: .utf8)
        try """
            name: children
            base: {config: parent.yaml}
            set: {spawn.parent: parent, checkpoint: {every: 100}}
            grid: {spawn.step: [4, 8], spawn.order_seed: [1, 2]}
            """.write(toFile: path("children.yaml"), atomically: true, encoding: .utf8)
        let db = path("runs.sqlite")

        XCTAssertEqual(try finish(["train", "--config", "parent.yaml", "--db", db, "--quiet"]).0, 0)
        let (status, stderr) = try finish(["train", "--config", "child.yaml", "--db", db, "--quiet"])
        XCTAssertEqual(status, 0, stderr)
        XCTAssertEqual(try finish(["sweep", "children.yaml", "--db", db, "--quiet"]).0, 0)
        let database = try Database(path: db, mode: .readOnly)
        XCTAssertEqual(try database.runs().map(\.parentRunID), [nil, 1, 1, 1, 1, 1])
        XCTAssertEqual(try database.scalarText("""
            SELECT group_concat(value, ' ') FROM (SELECT p.value FROM run_params p JOIN runs r ON r.id = p.run_id
            WHERE p.key = 'spawn.step' AND r.sweep_id IS NOT NULL ORDER BY p.value_num)
            """), "4 4 8 8")
        // A child records from its spawn step: its first state is θ_4.
        XCTAssertEqual(try database.scalars(run: 2, key: "test_mse").first?.step, 4)
        try database.close()

        func bytes() throws -> [Data?] {
            try ["", "-wal", "-shm"].map { FileManager.default.fileExists(atPath: db + $0) ? try Data(contentsOf: URL(fileURLWithPath: db + $0)) : nil }
        }
        let before = try bytes()
        for (arguments, expected) in [
            (["train", "--config", "child.yaml", "--set", "spawn.step=6"], "spawn.step: parent run 1 has no checkpoint at step 6"),
            (["train", "--config", "child.yaml", "--set", "spawn.parent=nobody"], "spawn.parent: no run named 'nobody'"),
            (["train", "--config", "child.yaml", "--set", "optimizer.lr=0.5", "--dry-run"], "optimizer.lr: 0.5 differs from parent run 1's 0.05"),
        ] {
            let (code, message) = try finish(arguments + ["--db", db, "--quiet"])
            XCTAssertEqual(code, 1, "\(arguments): \(message)")
            XCTAssertEqual(message.split(separator: "\n").count, 1, "\(arguments): \(message)")
            XCTAssertTrue(message.contains(expected), "\(arguments): \(message)")
            XCTAssertEqual(try bytes(), before, "\(arguments) changed the database")
        }
        // A sweep with one bad point is refused whole, naming the point.
        try """
            name: bad-children
            base: {config: parent.yaml}
            set: {spawn.parent: parent}
            grid: {spawn.step: [4, 6]}
            """.write(toFile: path("bad.yaml"), atomically: true, encoding: .utf8)
        let (code, message) = try finish(["sweep", "bad.yaml", "--db", db, "--quiet"])
        XCTAssertEqual(code, 1, message)
        XCTAssertEqual(message.split(separator: "\n").count, 1, message)
        XCTAssertTrue(message.contains("sweep point 2 of 2 (bad-children step=6 seed=0): spawn.step: parent run 1 has no checkpoint at step 6"), message)
        XCTAssertEqual(try bytes(), before)
    }
}
