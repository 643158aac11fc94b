import XCTest
final class VecSQLTestsPlaceholder: XCTestCase { func testNothing() {} }
