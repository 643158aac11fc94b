/// A data set that could not be loaded or built. The description is one line naming where the
/// problem is (a file and line, a file and byte offset, or a source and option) and what it is:
///
///     train.csv:7: non-numeric cell "abc" in column 3 ("bmi")
///     images.idx: truncated: header promises 10 images of 28×28 (7840 bytes), found 7000
///     digits: class 11 requested in `classes` is absent (classes present: 0…9)
public struct DataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file path, or the source name (`digits`, `modular`, …) when no file is involved.
    public var location: String
    /// 1-based line number in a text file, when the problem is on one line.
    public var line: Int?
    public var message: String

    public init(_ location: String, line: Int? = nil, _ message: String) {
        self.location = location
        self.line = line
        self.message = message
    }

    /// One line: a line break quoted from the input (a cell, a column name) is shown as `⏎`.
    public var description: String {
        let text = line.map { "\(location):\($0): \(message)" } ?? "\(location): \(message)"
        return text.contains(where: \.isNewline) ? String(text.map { $0.isNewline ? "⏎" : $0 }) : text
    }
}
