import Foundation
import Linalg
import Nets
import Query
import Runner
import Store
@testable import Studies
import XCTest

/// Weight averaging (lens.md (10.2)) against a brute-force evaluation, its records on a real
/// pair of children, and the lmc study's core on its smallest setting.
final class LMCStudyTests: XCTestCase {
    var directory: URL!
    var database: String { directory.appendingPathComponent("lmc.sqlite").path }

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tlens-lmc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// Two tiny ReLU networks (one and two outputs), B a copy of A with its hidden units
    /// permuted — the same function, so both ends fit the targets `y = f_A(x)` exactly while the
    /// average of their weights does not: Err along α by the model and metrics against a forward
    /// pass written out here in double precision, and the barrier against the maximum of (10.2)
    /// over those values.
    func testTheBarrierMatchesABruteForceEvaluation() throws {
        for outputs in [1, 2] {
            let hidden = 5, inputs = 3, m = 9
            let model = MLP(MLPSpec(inputDimension: inputs, hidden: [hidden], outputDimension: outputs))
            var rng = RandomSource(seed: UInt64(10 + outputs), stream: .other)
            let a = (0..<model.parameterCount).map { _ in Float(rng.normal()) }
            // θ layout (docs/schema.md): W1 [hidden][inputs], b1, W2 [outputs][hidden], b2.
            let w2 = hidden * inputs + hidden, b2 = w2 + outputs * hidden
            let permutation = [2, 0, 4, 1, 3]
            var b = a
            for (u, v) in permutation.enumerated() {
                for j in 0..<inputs { b[u * inputs + j] = a[v * inputs + j] }
                b[hidden * inputs + u] = a[hidden * inputs + v]
                for o in 0..<outputs { b[w2 + o * hidden + u] = a[w2 + o * hidden + v] }
            }
            func forward(_ θ: [Double], _ x: [Double]) -> [Double] {
                let h = (0..<hidden).map { u in max(0, (0..<inputs).reduce(θ[hidden * inputs + u]) { $0 + θ[u * inputs + $1] * x[$1] }) }
                return (0..<outputs).map { o in (0..<hidden).reduce(θ[b2 + o]) { $0 + θ[w2 + o * hidden + $1] * h[$1] } }
            }
            let xs = (0..<m).map { _ in (0..<inputs).map { _ in rng.normal() } }
            let x = Matrix(rows: m, cols: inputs), y = Matrix(rows: m, cols: outputs)
            for i in 0..<m {
                for j in 0..<inputs { x[i, j] = Float(xs[i][j]) }
                let f = forward(a.map(Double.init), xs[i].map { Double(Float($0)) })
                for o in 0..<outputs { y[i, o] = Float(f[o]) }
            }
            let path = WeightAveraging.path(model: model, a: a, b: b, x: x, y: y, classification: true)
            XCTAssertEqual(path.alphas, (0...10).map { Double($0) / 10 })

            var mse: [Double] = [], rates: [Double] = []
            for alpha in path.alphas {
                let θ = zip(a, b).map { alpha * Double($0) + (1 - alpha) * Double($1) }
                var squared = 0.0, wrong = 0
                for i in 0..<m {
                    let f = forward(θ, (0..<inputs).map { Double(x[i, $0]) })
                    for o in 0..<outputs { squared += (f[o] - Double(y[i, o])) * (f[o] - Double(y[i, o])) }
                    let predicted = outputs == 1 ? (f[0] >= 0 ? 1 : 0) : (f[1] > f[0] ? 1 : 0)
                    let actual = outputs == 1 ? (y[i, 0] >= 0 ? 1 : 0) : (y[i, 1] > y[i, 0] ? 1 : 0)
                    if predicted != actual { wrong += 1 }
                }
                mse.append(squared / Double(m * outputs))
                rates.append(Double(wrong) / Double(m))
            }
            for (i, alpha) in path.alphas.enumerated() {
                XCTAssertEqual(path.mse[i], mse[i], accuracy: 1e-5 * max(1, mse[i]), "C=\(outputs) α=\(alpha)")
                XCTAssertEqual(path.errorRate?[i] ?? .nan, rates[i], accuracy: 1e-12, "C=\(outputs) α=\(alpha)")
            }
            XCTAssertEqual(mse[0], 0, accuracy: 1e-10, "B computes A's function")
            let rise = path.alphas.indices.map { mse[$0] - (path.alphas[$0] * mse[10] + (1 - path.alphas[$0]) * mse[0]) }
            XCTAssertEqual(WeightAveraging.barrier(path.mse), rise.max()!, accuracy: 1e-5 * max(1, rise.max()!))
            XCTAssertGreaterThan(rise.max()!, 0.01, "C=\(outputs): averaging permuted units changes the function")
        }
        // By hand: the rises along α = 0, ½, 1 over errors 1, 3, 2 are 0, 3 − 1.5, 0.
        XCTAssertEqual(WeightAveraging.barrier([1, 3, 2], alphas: [0, 0.5, 1]), 1.5)
        // A path below its chord has no barrier: the ends give 0.
        XCTAssertEqual(WeightAveraging.barrier([2, 1, 2], alphas: [0, 0.5, 1]), 0)
    }

    /// The smallest setting of the study: the quick setting's network and optimizer, a 60-step
    /// parent and children at steps 0, 3 and 30, one pair each, in sweeps named as the quick
    /// presets' so the study reads them.
    static let setting = """
        steps: 60
        data: {source: digits, classes: [3, 5], target: pm1, n_test: 150}
        model: {hidden: [128, 128]}
        optimizer: {kind: sgd, lr: 0.1, batch_size: 8}
        lens: {every: 1, kernel: false, smoother: "off", sharpness: false, reference: 16, eval_train: 16}
        """

    func trainSweep(_ text: String) throws {
        let spec = try SweepSpec.load(text: text, source: "test")
        let recorder = try Recorder(path: database)
        defer { try? recorder.close() }
        for point in spec.points {
            let prepared = try PreparedRun(try TrainConfig.load(text: point.tree.json, source: point.name))
            let outcome = try Trainer(prepared).run(recorder: recorder, codeVersion: "test", progress: nil, sweep: spec.name)
            XCTAssertEqual(outcome.status, .completed, point.name)
        }
    }

    func trainStudy() throws {
        let study = LMCStudy()
        let names = try study.sweepNames(.quick)
        let base = Self.setting.split(separator: "\n").map { "  \($0)" }.joined(separator: "\n")
        try trainSweep("name: \(names[0])\nbase:\n\(base)\nset: {checkpoint.at: [3, 30]}\nseeds: [0]\n")
        try trainSweep("""
            name: \(names[1])
            base:
            \(base)
            set: {spawn.parent: "\(names[0]) seed=0"}
            grid: {spawn.step: [0, 3, 30], spawn.order_seed: [1, 2]}
            seeds: [0]
            """)
    }

    /// Recording a pair: the ends of the path are the children's own final test MSE, the keys
    /// land on child A at T, and a second recording replaces them without adding rows.
    func testAveragingAPairRecordsOnChildAOnceAndMatchesTheChildrensOwnErrors() throws {
        try trainStudy()
        let readOnly = try Database(path: database, mode: .readOnly)
        let (pairs, unpaired) = try WeightAveraging.pairs(in: readOnly, sweep: try LMCStudy().sweepNames(.quick)[1])
        XCTAssertEqual(pairs.map(\.step), [0, 3, 30])
        XCTAssertEqual(unpaired, [])
        XCTAssertTrue(pairs.allSatisfy { $0.orderSeedA == 1 && $0.orderSeedB == 2 && $0.parent == 1 })
        try readOnly.close()

        let pair = pairs[0]
        let first = try WeightAveraging.record(pair, databasePath: database)
        let db = try Database(path: database, mode: .readOnly)
        func final(_ run: Int64, _ key: String) throws -> Double? { try db.scalars(run: run, key: key).last?.value }
        XCTAssertEqual(try final(pair.childA, "lmc_mse/1.0")!, try final(pair.childA, "test_mse")!, accuracy: 1e-6)
        XCTAssertEqual(try final(pair.childA, "lmc_mse/0.0")!, try final(pair.childB, "test_mse")!, accuracy: 1e-6)
        XCTAssertEqual(try final(pair.childA, "lmc_err/1.0")!, 1 - (try final(pair.childA, "test_acc")!), accuracy: 1e-12)
        XCTAssertEqual(try final(pair.childA, "lmc_barrier"), first.barrier)
        XCTAssertEqual(try db.scalars(run: pair.childA, key: "lmc_barrier").map(\.step), [60])
        XCTAssertEqual(try db.scalars(run: pair.childB, key: "lmc_barrier").count, 0)
        let rows = { try db.scalarInt("SELECT count(*) FROM metrics WHERE run_id = ?", [.integer(pair.childA)]) }
        let before = try rows()
        let events = { try db.scalarInt("SELECT count(*) FROM events WHERE kind = 'lmc'") }
        XCTAssertEqual(try events(), 1)
        let second = try WeightAveraging.record(pair, databasePath: database)
        XCTAssertEqual(second.barrier, first.barrier)
        XCTAssertEqual(try rows(), before)
        XCTAssertEqual(try events(), 1)
        XCTAssertEqual(try rows(), before)
        try db.close()
    }

    /// The study's core on its smallest setting: after the pairs are averaged, the barrier at the
    /// last spawn step is below the barrier at step 0, and the first finding holds.
    func testTheBarrierAtTheLastSpawnStepIsBelowTheBarrierAtStepZero() throws {
        try trainStudy()
        let study = LMCStudy()
        var lines: [String] = []
        try study.afterSweeps(databasePath: database, size: .quick) { lines.append($0) }
        XCTAssertEqual(lines.count, 3, "\(lines)")
        let reader = MetricReader(try RunCatalog(Archive(path: database)))
        let steps = try study.spawnSteps(reader, size: .quick)
        XCTAssertEqual(steps.map(\.step), [0, 3, 30])
        XCTAssertLessThan(steps.last!.barrier, steps.first!.barrier, "\(steps.map(\.barrier))")
        // Every child records the paper's gradient change once, one epoch (⌈215/8⌉ = 27 steps) after its spawn step.
        XCTAssertTrue(steps.allSatisfy { $0.layerMSC.count == 3 && $0.layerMSC.allSatisfy { $0 > 0 && $0.isFinite } }, "\(steps.map(\.layerMSC))")
        let db = reader.catalog.archive.database
        for pair in try WeightAveraging.pairs(in: db, sweep: try study.sweepNames(.quick)[1]).pairs {
            XCTAssertEqual(try db.scalars(run: pair.childB, key: "grad_msc/3").map(\.step), [pair.step + 27])
        }
        let findings = try study.findings(reader, size: .quick)
        XCTAssertEqual(findings.count, 6)
        XCTAssertEqual(findings[0].held, true, findings[0].figures)
        XCTAssertEqual(findings.map(\.origin.isPaper), [true, true, true, false, false, false])
        for finding in findings { XCTAssertNotNil(finding.held, "\(finding.claim): \(finding.figures)") }
        XCTAssertFalse(try study.sections(reader, size: .quick).isEmpty)
    }
}
