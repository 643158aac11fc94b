import Foundation
import Store

/// `tlens export`: a run's scalars, vectors and config as plain files for pandas and other
/// tools (docs/schema.md, "Exporting"). Long format throughout, streamed row by row, so a run
/// of any size exports in constant memory.
///
///     try RunExport(reader: reader, runs: [3], format: .csv).write(to: URL(fileURLWithPath: "out"))
///     // out/scalars.csv  run_id,key,step,value
///     // out/vectors.csv  run_id,kind,split,step,point,row_id,output,value
///     // out/config.csv   run_id,path,value
public struct RunExport {
    public enum Format: String, CaseIterable, Sendable {
        /// RFC 4180 with a header row.
        case csv
        /// One JSON object per line.
        case jsonl
    }

    public let reader: MetricReader
    public let runs: [Int64]
    public let format: Format

    public init(reader: MetricReader, runs: [Int64], format: Format) {
        self.reader = reader
        self.runs = runs
        self.format = format
    }

    static let scalarColumns = ["run_id", "key", "step", "value"]
    static let vectorColumns = ["run_id", "kind", "split", "step", "point", "row_id", "output", "value"]
    static let configColumns = ["run_id", "path", "value"]

    /// Writes scalars, vectors and config files into `directory` (created if missing; files
    /// are written beside as temporaries and renamed, so an interrupted export leaves no
    /// half-written file under a final name). Returns the files written and their row counts.
    public func write(to directory: URL) throws -> [(file: String, rows: Int)] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var written: [(String, Int)] = []
        for (name, columns, body) in [("scalars", Self.scalarColumns, scalars as (Sink) throws -> Void),
                                      ("vectors", Self.vectorColumns, vectors),
                                      ("config", Self.configColumns, config)] {
            let file = "\(name).\(format.rawValue)"
            let final = directory.appendingPathComponent(file)
            let temporary = directory.appendingPathComponent(".\(file).partial")
            guard FileManager.default.createFile(atPath: temporary.path, contents: nil),
                  let handle = try? FileHandle(forWritingTo: temporary) else {
                throw QueryError("\(directory.path): cannot write \(file) there")
            }
            let sink = Sink(handle: handle, format: format, columns: columns)
            do {
                try body(sink)
                try sink.finish()
                try? handle.close()
                _ = try? FileManager.default.removeItem(at: final)
                try FileManager.default.moveItem(at: temporary, to: final)
            } catch {
                try? handle.close()
                try? FileManager.default.removeItem(at: temporary)
                throw error
            }
            written.append((file, sink.rows))
        }
        return written
    }

    /// Only the scalars, to `handle` (stdout when no --out is given).
    public func writeScalars(to handle: FileHandle) throws {
        let sink = Sink(handle: handle, format: format, columns: Self.scalarColumns)
        try scalars(sink)
        try sink.finish()
    }

    private var db: Database { reader.catalog.archive.database }

    func scalars(_ sink: Sink) throws {
        let select = try db.prepare("""
            SELECT k.name, m.step, m.value FROM metrics m JOIN metric_keys k ON k.id = m.key_id
            WHERE m.run_id = ? ORDER BY k.name, m.step
            """)
        for run in runs {
            select.reset()
            select.bind(run, at: 1)
            while try select.step() {
                try sink.row([.integer(run), select.value(at: 0), select.value(at: 1),
                              select.isNull(at: 2) ? .null : .real(select.double(at: 2))])
            }
        }
    }

    /// Position `i` of a vector is evaluation point `i / C`, output `i % C`, dataset row
    /// `eval_points.ids[i / C]` (docs/metrics.md: vectors are point-major, `points × C`).
    func vectors(_ sink: Sink) throws {
        let ids = try db.prepare("SELECT split, ids FROM eval_points WHERE run_id = ?")
        let select = try db.prepare("SELECT kind, split, step, data FROM vectors WHERE run_id = ? ORDER BY kind, split, step")
        for run in runs {
            var rowIDs: [String: [Int32]] = [:]
            ids.reset()
            ids.bind(run, at: 1)
            while try ids.step() {
                let split = ids.string(at: 0) ?? ""
                rowIDs[split] = ids.withBlob(at: 1) { raw in
                    (0..<raw.count / 4).map { Int32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }
                }
            }
            select.reset()
            select.bind(run, at: 1)
            while try select.step() {
                let kind = select.string(at: 0) ?? "", split = select.string(at: 1) ?? "", step = select.int64(at: 2)
                let values: [Float] = select.withBlob(at: 3) { raw in
                    (0..<raw.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
                }
                let points = rowIDs[split]?.count ?? values.count
                let outputs = points > 0 && values.count % points == 0 ? values.count / points : 1
                for (i, v) in values.enumerated() {
                    let point = i / outputs
                    let row: DatabaseValue = rowIDs[split].flatMap { point < $0.count ? .integer(Int64($0[point])) : nil } ?? .null
                    try sink.row([.integer(run), .text(kind), .text(split), .integer(step), .integer(Int64(point)), row,
                                  .integer(Int64(i % outputs)), v.isFinite ? .real(Double(v)) : .null])
                }
            }
        }
    }

    func config(_ sink: Sink) throws {
        for id in runs {
            guard let run = reader.catalog.runs.first(where: { $0.id == id }) else { continue }
            for path in run.params.keys.sorted() { try sink.row([.integer(id), .text(path), .text(run.params[path] ?? "")]) }
            try sink.row([.integer(id), .text("config_json"), .text(run.summary.configJSON)])
        }
    }

    /// Buffered rows to a file handle in CSV or JSON lines.
    final class Sink {
        let handle: FileHandle
        let format: Format
        let columns: [String]
        private(set) var rows = 0
        private var buffer = ""

        init(handle: FileHandle, format: Format, columns: [String]) {
            self.handle = handle
            self.format = format
            self.columns = columns
            if format == .csv { buffer = csvRow(columns.map { .text($0) }) }
        }

        func row(_ values: [DatabaseValue]) throws {
            buffer += format == .csv ? csvRow(values) : jsonObject(columns, values) + "\n"
            rows += 1
            if buffer.utf8.count > 1 << 20 { try flush() }
        }

        func finish() throws { try flush() }

        private func flush() throws {
            try handle.write(contentsOf: Data(buffer.utf8))
            buffer.removeAll(keepingCapacity: true)
        }
    }
}
