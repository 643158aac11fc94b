import CSQLite

/// A value as SQLite stores it: one of its five storage classes.
///
///     try db.execute("INSERT INTO t VALUES (?, ?)", [.integer(1), .text("ü")])
public enum DatabaseValue: Hashable {
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
    case null
}

/// A prepared statement: compiled once, then bound, stepped, read and reset as often as needed.
/// A statement belongs to the thread that uses its `Database`.
///
///     let insert = try db.prepare("INSERT INTO metrics(run_id, key_id, step, value) VALUES (?, ?, ?, ?)")
///     for step in 0..<100 {
///         insert.bind(run, at: 1); insert.bind(key, at: 2); insert.bind(step, at: 3); insert.bind(0.5, at: 4)
///         try insert.execute()          // steps to completion and resets for the next use
///     }
public final class Statement {
    /// The database this statement was prepared on (kept alive as long as the statement).
    public let database: Database
    /// The SQL text, reported in errors.
    public let sql: String
    let handle: OpaquePointer

    init(database: Database, handle: OpaquePointer, sql: String) {
        self.database = database
        self.handle = handle
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    // MARK: Binding (1-based indices, as in SQLite)

    /// Binds an integer to parameter `index` (1-based).
    @inline(__always) public func bind(_ value: Int64, at index: Int32) {
        sqlite3_bind_int64(handle, index, value)
    }
    /// Binds an integer to parameter `index` (1-based).
    @inline(__always) public func bind(_ value: Int, at index: Int32) {
        sqlite3_bind_int64(handle, index, Int64(value))
    }
    /// Binds a double to parameter `index` (1-based).
    @inline(__always) public func bind(_ value: Double, at index: Int32) {
        sqlite3_bind_double(handle, index, value)
    }
    /// Binds text to parameter `index`; SQLite copies it. `nil` binds NULL.
    public func bind(_ value: String?, at index: Int32) {
        guard var value else { return bindNull(at: index) }
        // Explicit byte length: text may contain U+0000, which a C-string length would cut at.
        _ = value.withUTF8 { utf8 in
            utf8.withMemoryRebound(to: CChar.self) { chars in
                if let base = chars.baseAddress {
                    sqlite3_bind_text(handle, index, base, Int32(chars.count), tlens_sqlite_transient())
                } else {
                    sqlite3_bind_text(handle, index, "", 0, tlens_sqlite_transient())
                }
            }
        }
    }
    /// Binds a blob to parameter `index`; SQLite copies it. An empty array binds a zero-length
    /// blob (not NULL); `nil` binds NULL.
    public func bind(_ value: [UInt8]?, at index: Int32) {
        guard let value else { return bindNull(at: index) }
        value.withUnsafeBytes { bindBlob($0, at: index, copy: true) }
    }
    /// Binds raw bytes as a blob. With `copy: false` (SQLITE_STATIC) the bytes must stay valid and
    /// unchanged until the statement is reset or rebound: the writer's hot path uses this to
    /// avoid a second copy of every vector.
    @inline(__always)
    public func bindBlob(_ bytes: UnsafeRawBufferPointer, at index: Int32, copy: Bool) {
        // A nil base address would bind NULL; an empty blob needs sqlite3_bind_zeroblob.
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            sqlite3_bind_zeroblob(handle, index, 0)
            return
        }
        sqlite3_bind_blob(handle, index, base, Int32(bytes.count), copy ? tlens_sqlite_transient() : nil)
    }
    /// Binds NULL to parameter `index`.
    public func bindNull(at index: Int32) { sqlite3_bind_null(handle, index) }

    /// Binds any storage class to parameter `index`.
    public func bind(_ value: DatabaseValue, at index: Int32) {
        switch value {
        case .integer(let v): bind(v, at: index)
        case .real(let v): bind(v, at: index)
        case .text(let v): bind(v, at: index)
        case .blob(let v): bind(v, at: index)
        case .null: bindNull(at: index)
        }
    }
    /// Binds `values` to parameters 1, 2, ...
    public func bind(_ values: [DatabaseValue]) {
        for (offset, value) in values.enumerated() { bind(value, at: Int32(offset + 1)) }
    }

    /// The statement's parameters in index order, as written (`:run`, `@x`, `$y`, `?3`); nil
    /// for an anonymous `?`.
    public var parameterNames: [String?] {
        (0..<sqlite3_bind_parameter_count(handle)).map { index in
            sqlite3_bind_parameter_name(handle, index + 1).map { String(cString: $0) }
        }
    }

    /// Binds `value` to the named parameter `name`, written with its prefix (`:run`). Returns
    /// false when the statement has no such parameter. The value is bound, never spliced into
    /// the SQL.
    ///
    ///     let s = try db.prepare("SELECT name FROM runs WHERE id = :run")
    ///     s.bind(.integer(7), named: ":run")
    @discardableResult
    public func bind(_ value: DatabaseValue, named name: String) -> Bool {
        let index = sqlite3_bind_parameter_index(handle, name)
        guard index > 0 else { return false }
        bind(value, at: index)
        return true
    }

    /// `bind(values)`, returning the statement: `try db.prepare(sql).bound([...]).firstRow()`.
    public func bound(_ values: [DatabaseValue]) -> Statement {
        bind(values)
        return self
    }

    /// Steps once: the statement positioned on its first row, or nil when there is none.
    public func firstRow() throws -> Statement? { try step() ? self : nil }

    // MARK: Stepping

    /// Advances to the next row. Returns `true` when a row is available, `false` when done.
    ///
    ///     while try select.step() { print(select.int64(at: 0)) }
    @discardableResult @inline(__always)
    public func step() throws -> Bool {
        let code = sqlite3_step(handle)
        if code == SQLITE_ROW { return true }
        if code == SQLITE_DONE { return false }
        let error = DatabaseError.from(database.handle, code: code, sql: sql)
        sqlite3_reset(handle)
        throw error
    }

    /// Steps until done (ignoring rows) and resets, keeping the bindings for reuse.
    @inline(__always)
    public func execute() throws {
        defer { sqlite3_reset(handle) }
        while try step() {}
    }

    /// Resets the statement to run again; bindings are kept.
    @inline(__always) public func reset() { sqlite3_reset(handle) }
    /// Sets every parameter back to NULL.
    public func clearBindings() { sqlite3_clear_bindings(handle) }

    // MARK: Reading columns (0-based indices, as in SQLite)

    /// The number of columns in a result row.
    public var columnCount: Int32 { sqlite3_column_count(handle) }
    /// The name of column `index`.
    public func columnName(at index: Int32) -> String { String(cString: sqlite3_column_name(handle, index)) }
    /// Whether column `index` of the current row is NULL.
    public func isNull(at index: Int32) -> Bool { sqlite3_column_type(handle, index) == SQLITE_NULL }
    /// The table and column that result column `index` is read straight from, when it is one
    /// (not an expression): `("metrics", "run_id")` for `SELECT m.run_id FROM metrics m`.
    public func columnOrigin(at index: Int32) -> (table: String, column: String)? {
        guard let table = sqlite3_column_table_name(handle, index), let column = sqlite3_column_origin_name(handle, index) else { return nil }
        return (String(cString: table), String(cString: column))
    }
    /// Whether the statement leaves the database unchanged (https://sqlite.org/c3ref/stmt_readonly.html).
    public var isReadOnly: Bool { sqlite3_stmt_readonly(handle) != 0 }
    /// Whether the statement is an `EXPLAIN` or `EXPLAIN QUERY PLAN` (it then reads no table).
    public var isExplain: Bool { sqlite3_stmt_isexplain(handle) != 0 }
    /// Column `index` as an integer (SQLite converts other classes).
    @inline(__always) public func int64(at index: Int32) -> Int64 { sqlite3_column_int64(handle, index) }
    /// Column `index` as a double (SQLite converts other classes).
    @inline(__always) public func double(at index: Int32) -> Double { sqlite3_column_double(handle, index) }
    /// Column `index` as text, or nil when NULL.
    public func string(at index: Int32) -> String? {
        guard let text = sqlite3_column_text(handle, index) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, index))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }
    /// Column `index` as bytes, or nil when NULL. A zero-length blob reads as `[]`.
    public func blob(at index: Int32) -> [UInt8]? {
        if isNull(at: index) { return nil }
        return withBlob(at: index) { Array($0.bindMemory(to: UInt8.self)) }
    }
    /// Lends the bytes of column `index` without copying; valid only inside `body`.
    public func withBlob<T>(at index: Int32, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        let base = sqlite3_column_blob(handle, index)
        let count = Int(sqlite3_column_bytes(handle, index))
        return try body(UnsafeRawBufferPointer(start: count > 0 ? base : nil, count: count))
    }
    /// Column `index` with its storage class.
    public func value(at index: Int32) -> DatabaseValue {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_INTEGER: return .integer(int64(at: index))
        case SQLITE_FLOAT: return .real(double(at: index))
        case SQLITE_TEXT: return .text(string(at: index) ?? "")
        case SQLITE_BLOB: return .blob(blob(at: index) ?? [])
        default: return .null
        }
    }
}
