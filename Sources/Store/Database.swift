import CSQLite
import CVecSQL
import Foundation

/// One SQLite connection, opened with explicit flags and configured the same way everywhere:
/// busy timeout, foreign keys on, `SQLITE_DBCONFIG_DEFENSIVE`, `trusted_schema=OFF`,
/// `synchronous=NORMAL`, and the tlens vector SQL functions registered.
///
/// Opening validates the file before anything can be written to it: a directory, a non-SQLite
/// file, a truncated database or an unwritable path throws a one-line `DatabaseError` and leaves
/// the file byte-identical. The journal mode is switched to WAL only by `Migrator`, after it has
/// checked the schema version.
///
///     let db = try Database(path: "tlens.sqlite", mode: .readOnly)
///     let count = try db.scalarInt("SELECT count(*) FROM runs") ?? 0
///
/// A `Database` and its statements must be used by one thread at a time.
public final class Database {
    /// How to open the file.
    public enum OpenMode: Sendable {
        /// Read only; the file must exist.
        case readOnly
        /// Read and write; the file must exist.
        case readWrite
        /// Read and write; the file is created if missing.
        case create
    }

    /// The path as given.
    public let path: String
    public let mode: OpenMode
    let handle: OpaquePointer
    private var savepointDepth = 0

    /// Opens `path`. See `OpenMode`; `busyTimeout` is how long a statement waits for another
    /// connection's lock before failing with SQLITE_BUSY.
    ///
    ///     let db = try Database(path: "/tmp/x.sqlite", mode: .create)
    public init(path: String, mode: OpenMode = .readWrite, busyTimeout: TimeInterval = 10) throws {
        self.path = path
        self.mode = mode
        _ = Database.configureSQLiteOnce
        let exists = try DatabaseFile.validate(path: path, mode: mode)

        // Never let SQLite create a file we were asked to open as existing (CREATE only when
        // missing), and never fall back silently from read-write to read-only.
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        switch mode {
        case .readOnly: flags |= SQLITE_OPEN_READONLY
        case .readWrite: flags |= SQLITE_OPEN_READWRITE
        case .create: flags |= SQLITE_OPEN_READWRITE | (exists ? 0 : SQLITE_OPEN_CREATE)
        }
        // A read-only folder (a read-only mount, an archive): SQLite cannot create the -shm it
        // needs to read a WAL database there; with no write-ahead log to read, the file alone is
        // the database and is opened as immutable.
        var name = path
        if mode == .readOnly && exists && DatabaseFile.needsImmutableRead(path: path) {
            let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
            name = "file:" + (absolute.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? absolute) + "?immutable=1"
            flags |= SQLITE_OPEN_URI
        }
        var db: OpaquePointer?
        let code = sqlite3_open_v2(name, &db, flags, nil)
        guard code == SQLITE_OK, let db else {
            let error = DatabaseError.from(db, code: code, path: path)
            sqlite3_close_v2(db)
            throw DatabaseFile.explain(error, path: path, mode: mode)
                ?? DatabaseError(code: error.extendedResultCode, message: "cannot open database: \(error.message)", path: path)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        if exists { try DatabaseFile.checkHeader(of: db, path: path) }
        if mode != .readOnly && sqlite3_db_readonly(db, "main") == 1 {
            throw DatabaseError(code: .SQLITE_READONLY, message: "file is not writable", path: path)
        }
        sqlite3_busy_timeout(db, Int32(max(0, busyTimeout) * 1000))
        // Connection-level settings only: nothing here writes to the file.
        _ = tlens_db_config_flag(db, SQLITE_DBCONFIG_DEFENSIVE, 1)
        _ = tlens_db_config_flag(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0)
        _ = tlens_db_config_flag(db, SQLITE_DBCONFIG_ENABLE_FKEY, 1)
        // A quick read of the header and schema: SQLITE_NOTADB / SQLITE_CORRUPT surface here.
        do {
            _ = try scalarInt("PRAGMA schema_version")
            _ = try scalarInt("SELECT count(*) FROM sqlite_schema")
        } catch let error as DatabaseError {
            throw DatabaseFile.explain(error, path: path, mode: mode)
                ?? DatabaseError(code: error.extendedResultCode, message: "not a usable SQLite database: \(error.message)", path: path)
        }
        try execute("PRAGMA trusted_schema = OFF")
        try execute("PRAGMA foreign_keys = ON")
        try execute("PRAGMA synchronous = NORMAL")
        let rows = tlens_register_scalar_rows(db)
        if rows != SQLITE_OK {
            throw DatabaseError.from(db, code: rows, sql: "tlens_register_scalar_rows", path: path)
        }
        let vec = tlens_vec_register(db)
        if vec != SQLITE_OK {
            throw DatabaseError.from(db, code: vec, sql: "tlens_vec_register", path: path)
        }
        let digest = tlens_register_row_digest(db)
        if digest != SQLITE_OK {
            throw DatabaseError.from(db, code: digest, sql: "tlens_register_row_digest", path: path)
        }
    }

    private var isClosed = false

    /// Process-wide SQLite settings, applied before the first connection (lazy static = once).
    private static let configureSQLiteOnce: Void = { _ = tlens_disable_memstatus() }()

    deinit { if !isClosed { sqlite3_close_v2(handle) } }

    /// Closes the connection. In WAL mode the last connection to close checkpoints the WAL into
    /// the database file and removes it, so the file alone is then complete. Statements still
    /// alive keep the connection open until they are released (sqlite3_close_v2).
    ///
    ///     try db.close()
    public func close() throws {
        guard !isClosed else { return }
        isClosed = true
        let code = sqlite3_close_v2(handle)
        if code != SQLITE_OK { throw DatabaseError.from(handle, code: code, path: path) }
    }

    // MARK: Running SQL

    /// Compiles one statement for repeated use.
    ///
    ///     let select = try db.prepare("SELECT name FROM runs WHERE id = ?")
    public func prepare(_ sql: String) throws -> Statement {
        var statement: OpaquePointer?
        // SQLITE_PREPARE_PERSISTENT: these statements live long and are reused many times.
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else { throw DatabaseError.from(handle, code: code, sql: sql) }
        return Statement(database: self, handle: statement, sql: sql)
    }

    /// Runs one or more `;`-separated statements (binding `arguments`, if any, to each of them;
    /// pass arguments only with a single statement). An error names the exact statement that failed.
    ///
    ///     try db.execute("CREATE TABLE t(x); INSERT INTO t VALUES (1)")
    ///     try db.execute("INSERT INTO t VALUES (?)", [.integer(2)])
    public func execute(_ sql: String, _ arguments: [DatabaseValue] = []) throws {
        try forEachStatement(in: sql) { statement in
            if !arguments.isEmpty { statement.bind(arguments) }
            try statement.execute()
        }
    }

    /// Compiles the `;`-separated statements of `sql` one at a time and hands each to `body`,
    /// compiling the next only after `body` returned (so a statement may use a table an earlier
    /// one created). Whitespace and comments between statements are skipped. A compile error
    /// names the statement up to its `;`.
    ///
    ///     try db.forEachStatement(in: "SELECT 1; SELECT 2") { s in while try s.step() { print(s.int64(at: 0)) } }
    public func forEachStatement(in sql: String, _ body: (Statement) throws -> Void) throws {
        var utf8 = Array(sql.utf8CString)
        try utf8.withUnsafeMutableBufferPointer { buffer in
            var cursor: UnsafePointer<CChar>? = UnsafePointer(buffer.baseAddress!)
            while let start = cursor, start.pointee != 0 {
                var statement: OpaquePointer?
                var tail: UnsafePointer<CChar>?
                let code = sqlite3_prepare_v2(handle, start, -1, &statement, &tail)
                var length = tail.map { $0 - start } ?? Int(strlen(start))
                if code != SQLITE_OK {
                    // After a syntax error the tail stops mid-statement; report up to the next ';'.
                    while start[length] != 0 && (length == 0 || start[length - 1] != 59 /* ; */) { length += 1 }
                }
                let text = String(decoding: UnsafeRawBufferPointer(start: start, count: length), as: UTF8.self)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                guard code == SQLITE_OK else { throw DatabaseError.from(handle, code: code, sql: text) }
                cursor = tail
                guard let statement else { continue }  // whitespace or a comment
                try body(Statement(database: self, handle: statement, sql: text))
            }
        }
    }

    /// The first column of the first row as an integer, or nil when there is no row or it is NULL.
    ///
    ///     let version = try db.scalarInt("PRAGMA user_version")
    public func scalarInt(_ sql: String, _ arguments: [DatabaseValue] = []) throws -> Int64? {
        let statement = try prepare(sql)
        statement.bind(arguments)
        guard try statement.step(), !statement.isNull(at: 0) else { return nil }
        return statement.int64(at: 0)
    }

    /// The first column of the first row as text, or nil when there is no row or it is NULL.
    public func scalarText(_ sql: String, _ arguments: [DatabaseValue] = []) throws -> String? {
        let statement = try prepare(sql)
        statement.bind(arguments)
        guard try statement.step() else { return nil }
        return statement.string(at: 0)
    }

    /// The rowid of the last successful INSERT on this connection.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { Int(sqlite3_changes(handle)) }
    /// Rows changed by INSERT, UPDATE and DELETE statements since the connection opened.
    public var totalChanges: Int { Int(sqlite3_total_changes(handle)) }
    /// Whether a transaction is open on this connection.
    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    // MARK: Transactions and savepoints

    /// How a transaction takes its lock (https://sqlite.org/lang_transaction.html).
    public enum TransactionKind: String, Sendable {
        case deferred = "DEFERRED", immediate = "IMMEDIATE", exclusive = "EXCLUSIVE"
    }

    /// Runs `body` in a transaction: committed if it returns, rolled back if it throws.
    /// `.immediate` (the default) takes the write lock up front, so a busy database is waited
    /// for (busy timeout) at BEGIN rather than failing halfway through.
    ///
    ///     try db.transaction { try db.execute("INSERT INTO sweeps(name, created_at) VALUES ('a', 0)") }
    @discardableResult
    public func transaction<T>(_ kind: TransactionKind = .immediate, _ body: () throws -> T) throws -> T {
        try execute("BEGIN \(kind.rawValue)")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            if isInTransaction { try? execute("ROLLBACK") }
            throw error
        }
    }

    /// Runs `body` inside a savepoint, which nests (inside a transaction or another savepoint):
    /// released if `body` returns, rolled back to its start if it throws.
    ///
    ///     try db.savepoint {
    ///         try db.execute("INSERT INTO t VALUES (1)")
    ///         try? db.savepoint { try db.execute("INSERT INTO t VALUES (2)"); throw Cancel() } // only 2 undone
    ///     }
    @discardableResult
    public func savepoint<T>(_ body: () throws -> T) throws -> T {
        savepointDepth += 1
        let name = "tlens_sp\(savepointDepth)"
        defer { savepointDepth -= 1 }
        try execute("SAVEPOINT \(name)")
        do {
            let result = try body()
            try execute("RELEASE \(name)")
            return result
        } catch {
            try? execute("ROLLBACK TO \(name)")
            try? execute("RELEASE \(name)")
            throw error
        }
    }
}
