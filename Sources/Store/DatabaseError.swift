import CSQLite

/// A SQLite result code, named as in SQLite's documentation (https://sqlite.org/rescode.html).
///
///     if error.resultCode == .SQLITE_BUSY { retry() }
///     print(error.extendedResultCode)   // "SQLITE_CONSTRAINT_PRIMARYKEY"
public struct ResultCode: Equatable, Hashable, CustomStringConvertible, Sendable {
    /// The raw (possibly extended) integer code.
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The primary code: the low 8 bits of an extended code.
    public var primary: ResultCode { ResultCode(rawValue: rawValue & 0xFF) }

    public static let SQLITE_OK = ResultCode(rawValue: 0)
    public static let SQLITE_ERROR = ResultCode(rawValue: 1)
    public static let SQLITE_INTERNAL = ResultCode(rawValue: 2)
    public static let SQLITE_PERM = ResultCode(rawValue: 3)
    public static let SQLITE_ABORT = ResultCode(rawValue: 4)
    public static let SQLITE_BUSY = ResultCode(rawValue: 5)
    public static let SQLITE_LOCKED = ResultCode(rawValue: 6)
    public static let SQLITE_NOMEM = ResultCode(rawValue: 7)
    public static let SQLITE_READONLY = ResultCode(rawValue: 8)
    public static let SQLITE_INTERRUPT = ResultCode(rawValue: 9)
    public static let SQLITE_IOERR = ResultCode(rawValue: 10)
    public static let SQLITE_CORRUPT = ResultCode(rawValue: 11)
    public static let SQLITE_NOTFOUND = ResultCode(rawValue: 12)
    public static let SQLITE_FULL = ResultCode(rawValue: 13)
    public static let SQLITE_CANTOPEN = ResultCode(rawValue: 14)
    public static let SQLITE_PROTOCOL = ResultCode(rawValue: 15)
    public static let SQLITE_EMPTY = ResultCode(rawValue: 16)
    public static let SQLITE_SCHEMA = ResultCode(rawValue: 17)
    public static let SQLITE_TOOBIG = ResultCode(rawValue: 18)
    public static let SQLITE_CONSTRAINT = ResultCode(rawValue: 19)
    public static let SQLITE_MISMATCH = ResultCode(rawValue: 20)
    public static let SQLITE_MISUSE = ResultCode(rawValue: 21)
    public static let SQLITE_NOLFS = ResultCode(rawValue: 22)
    public static let SQLITE_AUTH = ResultCode(rawValue: 23)
    public static let SQLITE_FORMAT = ResultCode(rawValue: 24)
    public static let SQLITE_RANGE = ResultCode(rawValue: 25)
    public static let SQLITE_NOTADB = ResultCode(rawValue: 26)
    public static let SQLITE_NOTICE = ResultCode(rawValue: 27)
    public static let SQLITE_WARNING = ResultCode(rawValue: 28)
    public static let SQLITE_ROW = ResultCode(rawValue: 100)
    public static let SQLITE_DONE = ResultCode(rawValue: 101)

    // The extended codes tlens reacts to or is likely to report.
    public static let SQLITE_BUSY_RECOVERY = ResultCode(rawValue: 5 | (1 << 8))
    public static let SQLITE_BUSY_SNAPSHOT = ResultCode(rawValue: 5 | (2 << 8))
    public static let SQLITE_BUSY_TIMEOUT = ResultCode(rawValue: 5 | (3 << 8))
    public static let SQLITE_CONSTRAINT_CHECK = ResultCode(rawValue: 19 | (1 << 8))
    public static let SQLITE_CONSTRAINT_FOREIGNKEY = ResultCode(rawValue: 19 | (3 << 8))
    public static let SQLITE_CONSTRAINT_NOTNULL = ResultCode(rawValue: 19 | (5 << 8))
    public static let SQLITE_CONSTRAINT_PRIMARYKEY = ResultCode(rawValue: 19 | (6 << 8))
    public static let SQLITE_CONSTRAINT_UNIQUE = ResultCode(rawValue: 19 | (8 << 8))
    public static let SQLITE_READONLY_DBMOVED = ResultCode(rawValue: 8 | (4 << 8))
    public static let SQLITE_CANTOPEN_ISDIR = ResultCode(rawValue: 14 | (2 << 8))

    /// The name SQLite's documentation uses, e.g. `SQLITE_CONSTRAINT_PRIMARYKEY`.
    public var name: String {
        if let name = ResultCode.names[rawValue] { return name }
        // Extended codes not listed above: report the primary name and the raw number.
        if let primary = ResultCode.names[rawValue & 0xFF] { return "\(primary) (extended \(rawValue))" }
        return "SQLITE_UNKNOWN(\(rawValue))"
    }
    public var description: String { name }

    private static let names: [Int32: String] = [
        0: "SQLITE_OK", 1: "SQLITE_ERROR", 2: "SQLITE_INTERNAL", 3: "SQLITE_PERM", 4: "SQLITE_ABORT",
        5: "SQLITE_BUSY", 6: "SQLITE_LOCKED", 7: "SQLITE_NOMEM", 8: "SQLITE_READONLY",
        9: "SQLITE_INTERRUPT", 10: "SQLITE_IOERR", 11: "SQLITE_CORRUPT", 12: "SQLITE_NOTFOUND",
        13: "SQLITE_FULL", 14: "SQLITE_CANTOPEN", 15: "SQLITE_PROTOCOL", 16: "SQLITE_EMPTY",
        17: "SQLITE_SCHEMA", 18: "SQLITE_TOOBIG", 19: "SQLITE_CONSTRAINT", 20: "SQLITE_MISMATCH",
        21: "SQLITE_MISUSE", 22: "SQLITE_NOLFS", 23: "SQLITE_AUTH", 24: "SQLITE_FORMAT",
        25: "SQLITE_RANGE", 26: "SQLITE_NOTADB", 27: "SQLITE_NOTICE", 28: "SQLITE_WARNING",
        100: "SQLITE_ROW", 101: "SQLITE_DONE",
        5 | (1 << 8): "SQLITE_BUSY_RECOVERY", 5 | (2 << 8): "SQLITE_BUSY_SNAPSHOT",
        5 | (3 << 8): "SQLITE_BUSY_TIMEOUT",
        19 | (1 << 8): "SQLITE_CONSTRAINT_CHECK", 19 | (2 << 8): "SQLITE_CONSTRAINT_COMMITHOOK",
        19 | (3 << 8): "SQLITE_CONSTRAINT_FOREIGNKEY", 19 | (4 << 8): "SQLITE_CONSTRAINT_FUNCTION",
        19 | (5 << 8): "SQLITE_CONSTRAINT_NOTNULL", 19 | (6 << 8): "SQLITE_CONSTRAINT_PRIMARYKEY",
        19 | (7 << 8): "SQLITE_CONSTRAINT_TRIGGER", 19 | (8 << 8): "SQLITE_CONSTRAINT_UNIQUE",
        19 | (9 << 8): "SQLITE_CONSTRAINT_VTAB", 19 | (10 << 8): "SQLITE_CONSTRAINT_ROWID",
        8 | (1 << 8): "SQLITE_READONLY_RECOVERY", 8 | (2 << 8): "SQLITE_READONLY_CANTLOCK",
        8 | (3 << 8): "SQLITE_READONLY_ROLLBACK", 8 | (4 << 8): "SQLITE_READONLY_DBMOVED",
        8 | (5 << 8): "SQLITE_READONLY_CANTINIT", 8 | (6 << 8): "SQLITE_READONLY_DIRECTORY",
        14 | (1 << 8): "SQLITE_CANTOPEN_NOTEMPDIR", 14 | (2 << 8): "SQLITE_CANTOPEN_ISDIR",
        14 | (3 << 8): "SQLITE_CANTOPEN_FULLPATH", 14 | (4 << 8): "SQLITE_CANTOPEN_CONVPATH",
        11 | (1 << 8): "SQLITE_CORRUPT_VTAB", 11 | (2 << 8): "SQLITE_CORRUPT_SEQUENCE",
        11 | (3 << 8): "SQLITE_CORRUPT_INDEX",
        10 | (1 << 8): "SQLITE_IOERR_READ", 10 | (2 << 8): "SQLITE_IOERR_SHORT_READ",
        10 | (3 << 8): "SQLITE_IOERR_WRITE", 10 | (4 << 8): "SQLITE_IOERR_FSYNC",
        10 | (10 << 8): "SQLITE_IOERR_DELETE", 10 | (13 << 8): "SQLITE_IOERR_FSTAT",
        10 | (15 << 8): "SQLITE_IOERR_LOCK", 10 | (18 << 8): "SQLITE_IOERR_SHMOPEN",
        1 | (1 << 8): "SQLITE_ERROR_MISSING_COLLSEQ", 1 | (2 << 8): "SQLITE_ERROR_RETRY",
        1 | (3 << 8): "SQLITE_ERROR_SNAPSHOT",
        4 | (2 << 8): "SQLITE_ABORT_ROLLBACK", 6 | (1 << 8): "SQLITE_LOCKED_SHAREDCACHE",
    ]
}

/// An error from SQLite or from tlens's checks around it: the extended result code, the
/// message, the SQL that failed (if any) and the file involved (if known).
///
///     do { try db.execute("INSERT INTO runs(id) VALUES (1)") }
///     catch let error as DatabaseError {
///         print(error.resultCode)   // SQLITE_CONSTRAINT_NOTNULL
///         print(error.sql ?? "")    // INSERT INTO runs(id) VALUES (1)
///     }
public struct DatabaseError: Error, CustomStringConvertible, Equatable {
    /// The extended result code (e.g. `SQLITE_CONSTRAINT_PRIMARYKEY`).
    public let extendedResultCode: ResultCode
    /// The primary result code (e.g. `SQLITE_CONSTRAINT`).
    public var resultCode: ResultCode { extendedResultCode.primary }
    /// What went wrong, in one line.
    public let message: String
    /// The SQL statement that failed, when the failure came from a statement.
    public let sql: String?
    /// The database file, when the failure concerns opening or validating it.
    public let path: String?

    public init(code: ResultCode, message: String, sql: String? = nil, path: String? = nil) {
        self.extendedResultCode = code
        self.message = message
        self.sql = sql
        self.path = path
    }

    /// One line: file, what is wrong, code, and the SQL if there was one.
    public var description: String {
        var line = ""
        if let path { line += "\(path): " }
        line += "\(message) [\(extendedResultCode.name)]"
        if let sql { line += " while executing: \(sql.split(whereSeparator: \.isNewline).joined(separator: " "))" }
        return line
    }
}

extension DatabaseError {
    /// Builds an error from a connection's last error; SQLite keeps the message per connection.
    static func from(_ db: OpaquePointer?, code: Int32, sql: String? = nil, path: String? = nil) -> DatabaseError {
        let extended = db.map { sqlite3_extended_errcode($0) } ?? code
        // The connection's last error may be unrelated if `code` came from elsewhere; keep `code` primary.
        let useExtended = (extended & 0xFF) == (code & 0xFF) ? extended : code
        let message = db.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
            ?? String(cString: sqlite3_errstr(code))
        return DatabaseError(code: ResultCode(rawValue: useExtended), message: message, sql: sql, path: path)
    }
}
