import Foundation

/// Applies `migrations/NNNN_name.sql` (embedded at build time) in order, each in its own
/// transaction, and records progress in `PRAGMA user_version` (= number of applied migrations)
/// and in the `schema_migrations` table (one row per migration, with the time it was applied).
///
/// The checks come first, before anything is written: a database from a newer tlens, and a
/// SQLite file of another application (schema objects but no tlens migration record), are
/// refused and left byte-identical (no WAL switch, no journal, no header change). Re-opening an
/// up-to-date database is a no-op.
///
///     let db = try Database(path: "tlens.sqlite", mode: .create)
///     try Migrator.migrate(db)
public enum Migrator {
    /// The schema version this binary writes: the number of embedded migrations.
    public static var latestVersion: Int { EmbeddedSQL.migrations.count }

    /// Names of the embedded migrations, in the order they are applied.
    public static var migrationNames: [String] { EmbeddedSQL.migrations.map(\.name) }

    /// The version stamped in `db` (`PRAGMA user_version`).
    public static func version(of db: Database) throws -> Int {
        Int(try db.scalarInt("PRAGMA user_version") ?? 0)
    }

    /// Refuses a database whose schema is newer than this binary, one another application
    /// made, or (for a read-only connection) one that is not fully migrated. Reads only.
    public static func checkVersion(of db: Database) throws {
        let current = try version(of: db)
        if current > latestVersion {
            throw DatabaseError(
                code: .SQLITE_ERROR,
                message: "schema version \(current) is newer than this tlens understands (\(latestVersion)); use a newer tlens",
                path: db.path)
        }
        if let names = try foreignObjects(in: db) {
            // Adding tlens's tables to someone else's file, and switching it to WAL, would change
            // a file the user only pointed at by mistake.
            let shown = names.prefix(3).joined(separator: ", ") + (names.count > 3 ? ", …" : "")
            throw DatabaseError(
                code: .SQLITE_ERROR,
                message: "not a tlens database (it has tables \(shown); tlens keeps its runs in a file of its own)",
                path: db.path)
        }
        if db.mode == .readOnly && current < latestVersion {
            let what = current == 0 ? "not a tlens database (no schema)" :
                "schema version \(current) is older than \(latestVersion); open it read-write once to migrate"
            throw DatabaseError(code: .SQLITE_ERROR, message: what, path: db.path)
        }
    }

    /// The names of the tables (or, without tables, other schema objects) of a database that
    /// has a schema but no tlens migration record; nil for an empty database or a tlens one.
    /// A `schema_migrations` table alone is not enough (Rails keeps one too): its first row must
    /// be tlens's first migration.
    static func foreignObjects(in db: Database) throws -> [String]? {
        guard (try db.scalarInt("SELECT count(*) FROM sqlite_schema") ?? 0) > 0 else { return nil }
        let columns = try db.scalarInt("""
            SELECT count(*) FROM pragma_table_info('schema_migrations') WHERE name IN ('version', 'name', 'applied_at')
            """)
        if columns == 3, try db.scalarText("SELECT name FROM schema_migrations WHERE version = 1") == migrationNames.first {
            return nil
        }
        var names: [String] = []
        for sql in ["SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
                    "SELECT name FROM sqlite_schema ORDER BY name"] where names.isEmpty {
            let select = try db.prepare(sql)
            // A name may hold a newline; the refusal stays one line.
            while try select.step() { names.append((select.string(at: 0) ?? "?").split(whereSeparator: \.isNewline).joined(separator: " ")) }
        }
        return names
    }

    /// Checks the version, switches the file to WAL, and applies the pending migrations.
    /// Safe to run from several processes at once: each migration re-checks the version
    /// inside its write transaction.
    public static func migrate(_ db: Database, pageSize: Int = 8192) throws {
        try checkVersion(of: db)
        guard db.mode != .readOnly else { return }
        // page_size only takes effect on a database that has no tables yet, and before WAL.
        if try version(of: db) == 0, try db.scalarInt("SELECT count(*) FROM sqlite_schema") == 0 {
            try db.execute("PRAGMA page_size = \(pageSize)")
        }
        if try db.scalarText("PRAGMA journal_mode")?.lowercased() != "wal" {
            let mode = try db.scalarText("PRAGMA journal_mode = WAL")
            guard mode?.lowercased() == "wal" else {
                throw DatabaseError(code: .SQLITE_ERROR, message: "cannot switch to WAL journal mode (got \(mode ?? "nothing"))", path: db.path)
            }
        }
        for (index, migration) in EmbeddedSQL.migrations.enumerated() {
            let target = index + 1
            try db.transaction(.immediate) {
                // Re-read under the write lock: another process may have migrated meanwhile.
                let current = try version(of: db)
                if current > latestVersion { try checkVersion(of: db) }
                guard current < target else { return }
                guard current == index else {
                    throw DatabaseError(code: .SQLITE_ERROR, message: "schema version \(current) skipped migration \(migration.name)", path: db.path)
                }
                try db.execute("""
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)
                    """)
                try db.execute(migration.sql)
                try db.execute("INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
                               [.integer(Int64(target)), .text(migration.name), .real(Date().timeIntervalSince1970)])
                try db.execute("PRAGMA user_version = \(target)")
            }
        }
    }
}

extension Database {
    /// Opens a tlens database: validates the file, refuses a newer schema, and (unless
    /// read-only) switches to WAL and applies pending migrations.
    ///
    ///     let db = try Database.openTLens(path: "tlens.sqlite")            // creates if missing
    ///     let ro = try Database.openTLens(path: "tlens.sqlite", mode: .readOnly)
    public static func openTLens(path: String, mode: OpenMode = .create, busyTimeout: TimeInterval = 10,
                                 pageSize: Int = 8192) throws -> Database {
        let db = try Database(path: path, mode: mode, busyTimeout: busyTimeout)
        try Migrator.migrate(db, pageSize: pageSize)
        return db
    }
}
