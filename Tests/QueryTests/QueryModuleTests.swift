import XCTest
@testable import Query
