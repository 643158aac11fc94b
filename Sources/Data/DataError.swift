/// A data set that could not be loaded or built. The description is one line naming where the
/// problem is (a file and line, a file and byte offset, or a source and option) and what it is:
///
///     train.csv:7: non-numeric cell "abc" in column 3 ("bmi")
///     images.idx: truncated: header promises 10 images of 28×28 (7840 bytes), found 7000
///     digits: classes: class 11 is absent (classes present: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
///
/// When the problem is one option's (`n_train`, `classes`, …), `option` names it and `message`
/// reads after it, so a config can report it under its own key path, once:
/// `data.classes: class 11 is absent (…)` rather than `data: digits: …`.
public struct DataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file path, or the source name (`digits`, `modular`, …) when no file is involved.
    public var location: String
    /// 1-based line number in a text file, when the problem is on one line.
    public var line: Int?
    /// The option (a key of the `data:` section) the problem is about, if it is one option's.
    public var option: String?
    public var message: String

    public init(_ location: String, line: Int? = nil, option: String? = nil, _ message: String) {
        self.location = location
        self.line = line
        self.option = option
        self.message = message
    }

    /// One line: a line break quoted from the input (a cell, a column name) is shown as `⏎`.
    public var description: String {
        var text = line.map { "\(location):\($0): " } ?? "\(location): "
        if let option { text += "\(option): " }
        text += message
        return text.contains(where: \.isNewline) ? String(text.map { $0.isNewline ? "⏎" : $0 }) : text
    }
}
