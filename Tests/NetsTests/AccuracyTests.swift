import XCTest
import Linalg
@testable import Nets

/// `Metrics.accuracy` against counts done by hand.
final class AccuracyTests: XCTestCase {
    func testZeroOneTargetsAreCutAtOneHalf() {
        // f: 0.2 0.7 0.4 0.9 0.3 against y: 0 1 1 1 0 → right, right, wrong, right, right.
        let f = Matrix(rows: 5, cols: 1, values: [0.2, 0.7, 0.4, 0.9, 0.3])
        let y = Matrix(rows: 5, cols: 1, values: [0, 1, 1, 1, 0])
        XCTAssertEqual(Metrics.accuracy(outputs: f, targets: y, decisionThreshold: 0.5), 0.8)
        // Cut at 0 (the ±1 rule), every {0, 1} target and every output here counts as positive.
        XCTAssertEqual(Metrics.accuracy(outputs: f, targets: y, decisionThreshold: 0), 1.0)
        // f = ½ is the upper class.
        XCTAssertEqual(Metrics.accuracy(outputs: Matrix(rows: 1, cols: 1, values: [0.5]),
                                        targets: Matrix(rows: 1, cols: 1, values: [1]), decisionThreshold: 0.5), 1.0)
    }

    func testPlusMinusOneTargetsAreCutAtZero() {
        // f: 0.2 −0.3 0.6 −0.9 against y: 1 1 −1 −1 → right, wrong, wrong, right.
        let f = Matrix(rows: 4, cols: 1, values: [0.2, -0.3, 0.6, -0.9])
        let y = Matrix(rows: 4, cols: 1, values: [1, 1, -1, -1])
        XCTAssertEqual(Metrics.accuracy(outputs: f, targets: y), 0.5)
        XCTAssertEqual(Metrics.accuracy(outputs: f, targets: y, decisionThreshold: 0), 0.5)
    }

    func testSeveralOutputsUseTheArgmaxWhateverTheThreshold() {
        let f = Matrix(rows: 2, cols: 3, values: [0.1, 0.8, 0.1, 0.9, 0.0, 0.2])
        let y = Matrix(rows: 2, cols: 1, values: [1, 2])
        XCTAssertEqual(Metrics.accuracy(outputs: f, targets: y, decisionThreshold: 0.5), 0.5)
    }
}
