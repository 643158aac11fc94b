import Foundation
import Store

/// SQL text and the values of its named parameters, run on one connection: what `tlens sql`
/// and `tlens query` execute. Statements run in order, each compiled after the previous one
/// ran; the rows of the last are the result. The tables a statement reads, which the input
/// fingerprint of a saved analysis covers (docs/queries.md, "Fingerprints"), are those
/// SQLite's authorizer reports a column read of while compiling it (through views too), and
/// those its bytecode opens for reading (`EXPLAIN`: `OpenRead` of a table's or an index's root
/// page), which also catches reads of no column, such as `SELECT count(*) FROM metrics`.
///
///     let script = SQLScript("SELECT id, name FROM runs WHERE id = :run", parameters: [QueryBinding(name: "run", value: .integer(7))])
///     let outcome = try script.run(on: archive.database, context: "sql")
public struct SQLScript {
    public let text: String
    public let parameters: [QueryBinding]

    public init(_ text: String, parameters: [QueryBinding] = []) {
        self.text = text
        self.parameters = parameters
    }

    public struct Outcome {
        /// The last statement's rows (no columns when it returns none, e.g. an UPDATE).
        public var table: ResultTable
        /// Tables of the main database any statement read (not views, not table-valued functions).
        public var tablesRead: Set<String>
        /// Run ids in the result's columns that are read straight from a run-id column
        /// (`runs.id`, `runs.parent_run_id`, any `run_id`); nil when the result has no such column.
        public var runsMentioned: Set<Int64>?
        public var statements: Int
        /// Rows inserted, updated or deleted.
        public var changes: Int
    }

    /// Runs every statement. `context` starts every error line ("sql", "query final_metrics");
    /// `readOnlyHint` is appended when the connection refused a write. The caller chooses the
    /// transaction; statements that begin or end one are refused.
    public func run(on db: Database, context: String, readOnlyHint: String? = nil) throws -> Outcome {
        final class Reads { var tables = Set<String>(); var transactionStatement = false; var recording = true }
        let reads = Reads()
        var outcome = Outcome(table: ResultTable(columns: []), tablesRead: [], runsMentioned: nil, statements: 0, changes: 0)
        var used = Set<String>()
        let before = db.totalChanges
        do {
            try db.withAuthorizer({ action in
                switch action.code {
                case AuthorizerAction.SQLITE_READ:
                    if reads.recording, action.database == "main", let table = action.first { reads.tables.insert(table) }
                case AuthorizerAction.SQLITE_TRANSACTION, AuthorizerAction.SQLITE_SAVEPOINT:
                    reads.transactionStatement = true
                    return .deny
                default: break
                }
                return .allow
            }) {
                try db.forEachStatement(in: text) { statement in
                    outcome.statements += 1
                    for written in statement.parameterNames {
                        guard let written, let prefix = written.first, ":@$".contains(prefix) else {
                            throw QueryError("\(context): positional parameter \(written ?? "?"): name it (:NAME) and pass --param NAME=VALUE")
                        }
                        let name = String(written.dropFirst())
                        guard let binding = parameters.first(where: { $0.name == name }) else {
                            throw QueryError("\(context): the SQL uses \(written) but no value was given (--param \(name)=VALUE)")
                        }
                        statement.bind(binding.value, named: written)
                        used.insert(name)
                    }
                    // tlens's own reads of the schema and of EXPLAIN are not the statement's.
                    reads.recording = false
                    try Self.tablesOpened(by: statement, on: db).forEach { reads.tables.insert($0) }
                    reads.recording = true
                    let columns = Int32(statement.columnCount)
                    var table = ResultTable(columns: (0..<columns).map { statement.columnName(at: $0) })
                    while try statement.step() {
                        table.rows.append((0..<columns).map { statement.value(at: $0) })
                    }
                    outcome.table = table
                    outcome.runsMentioned = Self.runsMentioned(statement, table)
                }
            }
        } catch let error as DatabaseError {
            if reads.transactionStatement {
                throw QueryError("\(context): BEGIN, COMMIT, ROLLBACK and SAVEPOINT are not allowed; tlens runs the statements in one transaction of its own")
            }
            var message = "\(context): \(error.message)"
            if error.resultCode == .SQLITE_READONLY, let readOnlyHint { message += "; \(readOnlyHint)" }
            throw QueryError(message)
        }
        if outcome.statements == 0 { throw QueryError("\(context): no SQL statement to run") }
        for binding in parameters where !used.contains(binding.name) {
            let names = SQLText.scan(text).named
            throw QueryError("\(context): --param \(binding.name): the SQL has no parameter :\(binding.name)"
                             + (names.isEmpty ? " (it has none)" : " (it has \(names.map { ":" + $0 }.joined(separator: ", ")))"))
        }
        // Views and table-valued functions are reported by name too; their tables are there.
        var tables = Set<String>()
        let schema = try db.prepare("SELECT name FROM main.sqlite_schema WHERE type = 'table'")
        while try schema.step() { if let name = schema.string(at: 0) { tables.insert(name) } }
        outcome.tablesRead = reads.tables.intersection(tables)
        outcome.changes = db.totalChanges - before
        return outcome
    }

    /// The main-database tables whose b-trees (the table's, or one of its indexes') the
    /// statement's bytecode opens for reading.
    static func tablesOpened(by statement: Statement, on db: Database) throws -> Set<String> {
        guard !statement.isExplain else { return [] }
        var byRoot: [Int64: String] = [:]
        let schema = try db.prepare("SELECT rootpage, tbl_name FROM main.sqlite_schema WHERE rootpage > 0")
        while try schema.step() { byRoot[schema.int64(at: 0)] = schema.string(at: 1) }
        var tables = Set<String>()
        let explain = try db.prepare("EXPLAIN " + statement.sql)
        while try explain.step() {
            // Columns: addr, opcode, p1, p2, p3, p4, p5, comment. p3 is the database (0 = main).
            guard let opcode = explain.string(at: 1), opcode == "OpenRead" || opcode == "ReopenIdx",
                  explain.int64(at: 4) == 0, let table = byRoot[explain.int64(at: 3)] else { continue }
            tables.insert(table)
        }
        return tables
    }

    /// Columns that come straight from a run-id column, and the run ids in them.
    static func runsMentioned(_ statement: Statement, _ table: ResultTable) -> Set<Int64>? {
        let columns = (0..<Int32(table.columns.count)).filter { index in
            guard let origin = statement.columnOrigin(at: index) else { return false }
            return origin.column == "run_id" || (origin.table == "runs" && (origin.column == "id" || origin.column == "parent_run_id"))
        }
        guard !columns.isEmpty else { return nil }
        var runs = Set<Int64>()
        for row in table.rows {
            for column in columns { if case .integer(let id) = row[Int(column)] { runs.insert(id) } }
        }
        return runs
    }
}
