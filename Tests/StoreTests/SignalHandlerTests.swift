import Foundation
import XCTest
@testable import Store

final class SignalHandlerTests: XCTestCase {
    /// The handler runs instead of the default action (which for SIGUSR2 would end the test
    /// process), so a runner can finish its run as interrupted.
    func testSignalIsDeliveredToTheHandlerInsteadOfKillingTheProcess() throws {
        let delivered = expectation(description: "handler called")
        let handlers = Recorder.installSignalHandlers(signals: [SIGUSR2]) { number in
            XCTAssertEqual(number, SIGUSR2)
            delivered.fulfill()
        }
        defer { handlers.cancel() }
        kill(getpid(), SIGUSR2)
        wait(for: [delivered], timeout: 5)
    }

    func testInterruptedRunKeepsWhatWasQueued() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("interrupted.sqlite")
        let recorder = try Recorder(path: path)
        let run = try recorder.startRun(RunInfo(configJSON: "{}", seed: 0, codeVersion: "t", host: "h", dataFingerprint: "d"))
        let key = try run.metricKey("loss")
        let stop = NSCondition()
        var stopRequested = false
        let handlers = Recorder.installSignalHandlers(signals: [SIGUSR2]) { _ in
            stop.lock(); stopRequested = true; stop.broadcast(); stop.unlock()
        }
        defer { handlers.cancel() }
        var step = 0
        while true {
            try run.log(key, step: step, value: Double(step))
            if step == 100 { kill(getpid(), SIGUSR2) }
            stop.lock()
            let done = stopRequested
            stop.unlock()
            if done { break }
            step += 1
            if step > 10_000_000 { XCTFail("signal never arrived"); break }
        }
        try run.finish(status: .interrupted, error: nil)
        try recorder.close()
        let db = try Database.openTLens(path: path, mode: .readOnly)
        XCTAssertEqual(try db.scalars(run: run.runID, key: "loss").count, step + 1)
        XCTAssertEqual(try db.run(id: run.runID)?.lastStep, step)
        XCTAssertEqual(try db.effectiveStatus(run: run.runID), .interrupted)
    }
}
