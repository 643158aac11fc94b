import XCTest
final class NetsTestsPlaceholder: XCTestCase { func testNothing() {} }
