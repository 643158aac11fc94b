import XCTest
@testable import Studies
import Runner

final class StudyRegistryTests: XCTestCase {
    /// Every study's presets are shipped at every size, parse, and name distinct sweeps.
    func testEveryStudyShipsItsSweeps() throws {
        for study in Studies.all {
            let names = try StudySize.allCases.map { try study.sweepNames($0) }
            XCTAssertFalse(names[0].isEmpty, study.name)
            XCTAssertEqual(Set(names.flatMap { $0 }).count, names.reduce(0) { $0 + $1.count }, "\(study.name): sizes share a sweep name")
        }
        XCTAssertThrowsError(try Studies.named("aprox")) { XCTAssertTrue("\($0)".contains("did you mean approx?"), "\($0)") }
    }
}
