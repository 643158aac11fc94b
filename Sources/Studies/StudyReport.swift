import Foundation
import Query
import Store

/// What one study produced: its findings and its report page.
public struct StudyOutcome {
    public var study: Study
    public var size: StudySize
    public var findings: [Finding]
    public var page: ReportPage
}

extension Study {
    /// Findings and the report: the question and the findings table first, then the study's
    /// own plots, then every run it trained.
    public func outcome(_ reader: MetricReader, size: StudySize) throws -> StudyOutcome {
        let findings = try self.findings(reader, size: size)
        let table = ReportTable(header: ["finding", "verdict", "rule", "figures"],
                                rows: findings.paperFirst.map { [$0.taggedClaim, $0.verdict, $0.rule, $0.figures] })
        var sections = [ReportSection(heading: "Findings", text: question + (size == .full ? "" : "\n\n\(size == .quick ? "Quick" : "Smoke-test") settings (tlens study \(name) --\(size.rawValue)); docs/studies.md gives the full-size ones."),
                                      tables: [table], id: "findings")]
        sections += try self.sections(reader, size: size)
        var runs = ResultTable(columns: [])
        for sweep in try sweepNames(size) + derivedSweepNames(size) where reader.catalog.runs.contains(where: { $0.sweep == sweep }) {
            let listed = try Listings.runs(reader, selection: RunSelection(sweep: sweep))
            if runs.columns.isEmpty { runs = listed } else if runs.columns == listed.columns { runs.rows += listed.rows }
            else { sections.append(ReportSection(heading: "Runs of \(sweep)", tables: [ReportRequest.reportTable(listed)])) }
        }
        if !runs.rows.isEmpty { sections.append(ReportSection(heading: "Runs", tables: [ReportRequest.reportTable(runs)], id: "runs")) }
        let page = ReportPage(title: "tlens study \(name)\(size == .full ? "" : " (\(size.rawValue))")",
                              subtitle: "\(reader.catalog.archive.path) · written \(ISO8601DateFormatter().string(from: Date()))",
                              sections: sections)
        return StudyOutcome(study: self, size: size, findings: findings, page: page)
    }
}

/// Helpers the studies share to read their runs.
extension MetricReader {
    /// The runs of a sweep (empty when it has none).
    public func runs(ofSweep name: String) -> [CatalogRun] { catalog.runs.filter { $0.sweep == name } }

    /// `measure` for `run` as a number, nil when missing.
    public func number(_ name: String, _ run: CatalogRun) -> Double? {
        guard let measure = try? Measure.parse(name, in: catalog) else { return nil }
        return (try? number(measure, for: run)) ?? nil
    }
}

/// Numbers in findings: four significant digits.
func figure(_ x: Double?) -> String {
    guard let x, x.isFinite else { return "—" }
    return String(format: "%.4g", x)
}
