import Foundation

/// A table in a report: a header row and text cells, numeric columns right-aligned with
/// tabular figures so digits line up.
///
///     ReportTable(header: ["run", "lr", "final loss"],
///                 rows: [["a", "0.1", "0.231"], ["b", "0.01", "0.402"]],
///                 numericColumns: [1, 2])
public struct ReportTable: Sendable, Equatable {
    public var header: [String]
    /// Cells as text, already formatted; rows shorter than the widest row are padded.
    public var rows: [[String]]
    /// Column indices (from 0) to right-align.
    public var numericColumns: Set<Int>

    public init(header: [String], rows: [[String]], numericColumns: Set<Int> = []) {
        self.header = header
        self.rows = rows
        self.numericColumns = numericColumns
    }
}

/// One section of a report: a heading, optional text, tables, then figures.
///
///     ReportSection(heading: "Learning rate sweep",
///                   text: "Final validation loss per run.\n\nLower is better.",
///                   tables: [table], figures: [SVGPlot.render(series, options: options)])
public struct ReportSection: Sendable, Equatable {
    public var heading: String
    /// Plain text; a blank line starts a new paragraph, a single newline a new line.
    public var text: String?
    public var tables: [ReportTable]
    /// SVG documents, normally from `SVGPlot.render`. They are inserted as markup, not escaped
    /// (an XML declaration or doctype in front is dropped), so they must come from tlens, not
    /// from user input.
    public var figures: [String]
    /// Anchor for the table of contents; nil derives one from the heading. Either way it is
    /// reduced to lowercase letters, digits and "-" and made unique within the page.
    public var id: String?
    /// Links to other local files (the demo's index links each study's report): (text, href).
    /// An href is kept only when it is a plain relative file name, so a page never points
    /// outside its folder or at a scheme.
    public var links: [(text: String, href: String)]

    public init(heading: String, text: String? = nil, tables: [ReportTable] = [], figures: [String] = [],
                id: String? = nil, links: [(text: String, href: String)] = []) {
        self.heading = heading
        self.text = text
        self.tables = tables
        self.figures = figures
        self.id = id
        self.links = links
    }

    public static func == (a: ReportSection, b: ReportSection) -> Bool {
        a.heading == b.heading && a.text == b.text && a.tables == b.tables && a.figures == b.figures && a.id == b.id
            && a.links.map(\.text) == b.links.map(\.text) && a.links.map(\.href) == b.links.map(\.href)
    }
}

/// A report as one self-contained HTML5 page: inline CSS only, no scripts, no fonts or other
/// files to fetch, so it can be mailed, archived or opened offline and looks the same.
///
///     let page = ReportPage(title: "Sweep 12", subtitle: "24 runs, 3 seeds", sections: sections)
///     try page.html().write(toFile: "report.html", atomically: true, encoding: .utf8)
///
/// Every tag is closed and only XML's predefined entities are used, so the page also parses as
/// XML (which the tests rely on).
public struct ReportPage: Sendable, Equatable {
    public var title: String
    public var subtitle: String?
    public var sections: [ReportSection]

    public init(title: String, subtitle: String? = nil, sections: [ReportSection] = []) {
        self.title = title
        self.subtitle = subtitle
        self.sections = sections
    }

    /// The page. A table of contents is added when there are more than two sections.
    public func html() -> String {
        let anchors = ReportPage.anchors(for: sections)
        var out = ""
        out.reserveCapacity(16_384 + sections.reduce(0) { $0 + $1.figures.reduce(0) { $0 + $1.utf8.count } })
        out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
        out += "<meta name=\"generator\" content=\"tlens\"/>\n<title>\(Markup.escape(title))</title>\n"
        out += "<style>\(ReportPage.css)</style>\n</head>\n<body>\n<div class=\"page\">\n<header>\n"
        out += "<h1>\(Markup.escape(title))</h1>\n"
        if let subtitle, !subtitle.isEmpty { out += "<p class=\"subtitle\">\(Markup.escape(subtitle))</p>\n" }
        out += "</header>\n"
        if sections.count > 2 {
            out += "<nav class=\"toc\">\n<h2>Contents</h2>\n<ol>\n"
            for (section, anchor) in zip(sections, anchors) {
                out += "<li><a href=\"#\(anchor)\">\(Markup.escape(section.heading))</a></li>\n"
            }
            out += "</ol>\n</nav>\n"
        }
        out += "<main>\n"
        for (section, anchor) in zip(sections, anchors) {
            out += "<section id=\"\(anchor)\">\n<h2>\(Markup.escape(section.heading))</h2>\n"
            for paragraph in ReportPage.paragraphs(section.text ?? "") {
                out += "<p>\(Markup.escape(paragraph))</p>\n"
            }
            let links = section.links.filter { ReportPage.isLocalFileName($0.href) }
            if !links.isEmpty {
                out += "<ul class=\"links\">\n"
                for link in links { out += "<li><a href=\"\(Markup.escape(link.href))\">\(Markup.escape(link.text))</a></li>\n" }
                out += "</ul>\n"
            }
            for table in section.tables { out += ReportPage.tableHTML(table) }
            if !section.figures.isEmpty {
                out += "<div class=\"figures\">\n"
                for figure in section.figures {
                    out += "<figure>\n\(ReportPage.inlineSVG(figure))\n</figure>\n"
                }
                out += "</div>\n"
            }
            out += "</section>\n"
        }
        out += "</main>\n<footer>Generated by tlens</footer>\n</div>\n</body>\n</html>\n"
        return out
    }

    /// `tlens-report-approx.html`: letters, digits, `-`, `_`, `.`, no leading dot or slash.
    static func isLocalFileName(_ href: String) -> Bool {
        !href.isEmpty && !href.hasPrefix(".") && href.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }

    static func tableHTML(_ table: ReportTable) -> String {
        let columns = max(table.header.count, table.rows.map(\.count).max() ?? 0)
        func cellClass(_ column: Int) -> String { table.numericColumns.contains(column) ? " class=\"num\"" : "" }
        var out = "<div class=\"table-wrap\">\n<table>\n"
        if !table.header.isEmpty {
            out += "<thead><tr>"
            for column in 0..<columns {
                let text = column < table.header.count ? table.header[column] : ""
                out += "<th\(cellClass(column))>\(Markup.escape(text))</th>"
            }
            out += "</tr></thead>\n"
        }
        out += "<tbody>\n"
        for row in table.rows {
            out += "<tr>"
            for column in 0..<columns {
                let text = column < row.count ? row[column] : ""
                out += "<td\(cellClass(column))>\(Markup.escape(text))</td>"
            }
            out += "</tr>\n"
        }
        return out + "</tbody>\n</table>\n</div>\n"
    }

    /// `svg` without a leading XML declaration, doctype or comments, which are not allowed (or
    /// not wanted) in the middle of an HTML document.
    static func inlineSVG(_ svg: String) -> String {
        var rest = Substring(svg)
        while true {
            rest = rest.drop { $0.isWhitespace }
            let end: String
            if rest.hasPrefix("<?") { end = "?>" } else if rest.hasPrefix("<!--") { end = "-->" } else if rest.hasPrefix("<!") { end = ">" } else { break }
            guard let range = rest.range(of: end) else { break }
            rest = rest[range.upperBound...]
        }
        return String(rest).trimmingSuffixWhitespace()
    }

    /// Paragraphs of `text`: separated by lines that are empty or blank.
    static func paragraphs(_ text: String) -> [String] {
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n")
        var paragraphs: [String] = []
        var current: [Substring] = []
        for line in normalized.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.allSatisfy(\.isWhitespace) {
                if !current.isEmpty { paragraphs.append(current.joined(separator: "\n")) }
                current = []
            } else {
                current.append(line)
            }
        }
        if !current.isEmpty { paragraphs.append(current.joined(separator: "\n")) }
        return paragraphs
    }

    /// One anchor per section: its `id` or heading as a slug ("Learning rate (log)" →
    /// "learning-rate-log"), "section-N" when nothing is left, "-2", "-3"… on repeats.
    static func anchors(for sections: [ReportSection]) -> [String] {
        var used = Set<String>()
        var anchors: [String] = []
        for (index, section) in sections.enumerated() {
            var slug = ""
            for scalar in (section.id ?? section.heading).lowercased().unicodeScalars {
                if slug.count >= 60 { break }
                if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                    slug.unicodeScalars.append(scalar)
                } else if !slug.isEmpty && !slug.hasSuffix("-") {
                    slug += "-"
                }
            }
            while slug.hasSuffix("-") { slug.removeLast() }
            if slug.isEmpty { slug = "section-\(index + 1)" }
            var anchor = slug
            var n = 2
            while used.contains(anchor) {
                anchor = "\(slug)-\(n)"
                n += 1
            }
            used.insert(anchor)
            anchors.append(anchor)
        }
        return anchors
    }
}

extension String {
    fileprivate func trimmingSuffixWhitespace() -> String {
        var s = Substring(self)
        while let last = s.last, last.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
