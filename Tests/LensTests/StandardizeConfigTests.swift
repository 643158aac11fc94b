import Data
import Runner
import XCTest

/// The columns `standardize` left unscaled are known only once the data is loaded; the stored
/// config records them under `data.unscaled_columns`, and a stored config still loads back to
/// the same run (tlens resume rebuilds runs from it).
final class StandardizeConfigTests: XCTestCase {
    func prepared(_ text: String) throws -> PreparedRun {
        try PreparedRun(try TrainConfig.load(text: text, source: "test"))
    }

    func testTheResolvedConfigRecordsTheUnscaledColumns() throws {
        let run = try prepared(#"{"data": {"source": "digits", "standardize": true}}"#)
        // The columns data/README.md names for digits, seed 0 (TransformTests derives them).
        XCTAssertEqual(run.split.unscaledColumns, [0, 16, 24, 32, 39, 48, 56])
        XCTAssertTrue(run.config.resolved.json.contains(#""unscaled_columns": [0, 16, 24, 32, 39, 48, 56]"#), run.config.resolved.json)
        let off = try prepared(#"{"data": {"source": "digits"}}"#)
        XCTAssertTrue(off.config.resolved.json.contains(#""unscaled_columns": []"#), off.config.resolved.json)
        let center = try prepared(#"{"data": {"source": "diabetes", "standardize": "center"}}"#)
        XCTAssertEqual(center.split.unscaledColumns, Array(0..<10))
    }

    func testAStoredConfigWithUnscaledColumnsLoadsBackUnchanged() throws {
        for data in [#"{"source": "digits", "standardize": true}"#, #"{"source": "digits", "standardize": "center"}"#,
                     #"{"source": "digits"}"#, #"{"source": "diabetes"}"#] {
            let first = try prepared(#"{"data": \#(data)}"#)
            let again = try prepared(first.config.resolved.json)
            XCTAssertEqual(again.config.resolved.json, first.config.resolved.json, data)
            XCTAssertEqual(again.split.fingerprint, first.split.fingerprint, data)
        }
    }

    /// The key is a record of what loading found: a stale list is replaced, not trusted.
    func testAStaleListIsReplacedByWhatLoadingFinds() throws {
        let run = try prepared(#"{"data": {"source": "digits", "standardize": true, "unscaled_columns": [1, 2]}}"#)
        XCTAssertTrue(run.config.resolved.json.contains(#""unscaled_columns": [0, 16, 24, 32, 39, 48, 56]"#), run.config.resolved.json)
    }
}
