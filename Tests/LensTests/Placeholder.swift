import XCTest
final class LensTestsPlaceholder: XCTestCase { func testNothing() {} }
