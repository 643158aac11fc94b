import XCTest
@testable import Studies
import Runner

final class StudyRegistryTests: XCTestCase {
    /// Every study's presets are shipped, parse, and name distinct sweeps for quick and full.
    func testEveryStudyShipsItsSweeps() throws {
        for study in Studies.all {
            let quick = try study.sweepNames(quick: true), full = try study.sweepNames(quick: false)
            XCTAssertFalse(quick.isEmpty, study.name)
            XCTAssertTrue(Set(quick).isDisjoint(with: full), "\(study.name): quick and full sweeps share a name")
        }
        XCTAssertThrowsError(try Studies.named("aprox")) { XCTAssertTrue("\($0)".contains("did you mean approx?"), "\($0)") }
    }
}
