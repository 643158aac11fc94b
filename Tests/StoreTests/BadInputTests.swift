import XCTest
@testable import Store

/// Wrong files are refused with one clear line naming the file, and are never modified.
final class BadInputTests: XCTestCase {
    var directory: TemporaryDirectory!
    override func setUpWithError() throws { directory = try TemporaryDirectory() }

    private let allModes: [Database.OpenMode] = [.readOnly, .readWrite, .create]

    /// Every way of opening `path` fails with a message containing `expected`; the file stays
    /// byte-identical and no journal, WAL or shm file appears.
    private func assertRefused(_ path: String, modes: [Database.OpenMode]? = nil, expected: String,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let before = try? fileBytes(path)
        for mode in modes ?? allModes {
            for open in [{ _ = try Database(path: path, mode: mode) }, { _ = try Database.openTLens(path: path, mode: mode) }] {
                guard let error = assertDatabaseError(try open(), file: file, line: line) else { continue }
                let text = error.description
                XCTAssertTrue(text.contains(expected), "\(mode): \(text)", file: file, line: line)
                XCTAssertTrue(text.hasPrefix(path + ": "), text, file: file, line: line)
                XCTAssertFalse(text.contains("\n"), text, file: file, line: line)
            }
        }
        XCTAssertNotNil(assertDatabaseError(try Recorder(path: path), file: file, line: line))
        XCTAssertEqual(try? fileBytes(path), before, "file modified", file: file, line: line)
        for suffix in ["-wal", "-shm", "-journal"] {
            XCTAssertFalse(fileExists(path + suffix), suffix, file: file, line: line)
        }
    }

    private func makeDatabase(_ name: String) throws -> String {
        let path = directory.path(name)
        let recorder = try Recorder(path: path)
        let run = try recorder.startRun(RunInfo(configJSON: "{}", seed: 1, codeVersion: "t", host: "h", dataFingerprint: "d"))
        let key = try run.metricKey("loss")
        for step in 0..<5000 { try run.log(key, step: step, value: Double(step)) }
        try run.finish(status: .completed, error: nil)
        try recorder.close()
        return path
    }

    func testNonSQLiteFileIsRefused() throws {
        let path = directory.path("notes.txt")
        try Data(String(repeating: "this is a text file, not a database\n", count: 200).utf8).write(to: URL(fileURLWithPath: path))
        try assertRefused(path, expected: "not a SQLite database")
    }

    func testTruncatedDatabaseIsRefused() throws {
        let original = try fileBytes(try makeDatabase("whole.sqlite"))
        let pageSize = Int(original[16]) << 8 | Int(original[17])  // big-endian at offset 16
        XCTAssertGreaterThan(original.count, 4 * pageSize)
        // Cut mid-page, at a page boundary (the header still promises every page), and mid-header.
        let halfPages = original.count / pageSize / 2 * pageSize
        for (name, length) in [("mid-page", pageSize + 3000), ("half-pages", halfPages), ("header", 60)] {
            let path = directory.path("\(name).sqlite")
            try original.prefix(length).write(to: URL(fileURLWithPath: path))
            try assertRefused(path, expected: "truncated database")
        }
    }

    func testDirectoryIsRefused() throws {
        let path = directory.path("folder.sqlite")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        try assertRefused(path, expected: "is a directory")
    }

    func testReadOnlyFileIsRefusedForWritingButReadable() throws {
        let path = try makeDatabase("locked.sqlite")
        XCTAssertEqual(chmod(path, 0o444), 0)
        try assertRefused(path, modes: [.readWrite, .create], expected: "file is read-only")
        // Reading it is fine and still leaves it untouched.
        let before = try fileBytes(path)
        do {
            let db = try Database.openTLens(path: path, mode: .readOnly)
            XCTAssertEqual(try db.scalars(run: 1, key: "loss").count, 5000)
        }
        XCTAssertEqual(try fileBytes(path), before)
    }

    /// A writable database in a read-only directory: SQLite opens it and fails at the first read
    /// ("unable to open database file"), because WAL needs -wal and -shm files beside it. The
    /// refusal says so, before anything is touched; and SQLite's own answer, where it still comes
    /// (a read-only open of a log it cannot index), is mapped to the same reason.
    func testDatabaseInAReadOnlyDirectoryIsRefusedSayingWhy() throws {
        let folder = directory.path("archive")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let path = try makeDatabase("archive/runs.sqlite")
        XCTAssertEqual(chmod(folder, 0o555), 0)
        defer { chmod(folder, 0o755) }
        try assertRefused(path, modes: [.readWrite, .create],
                          expected: "cannot write: directory \(folder) is read-only (SQLite needs to create the -wal and -shm files beside the database)")
        let sqlite = DatabaseError(code: .SQLITE_CANTOPEN, message: "unable to open database file", path: path)
        XCTAssertEqual(DatabaseFile.explain(sqlite, path: path, mode: .readWrite)?.message,
                       "cannot write: directory \(folder) is read-only (SQLite needs to create the -wal and -shm files beside the database)")
        XCTAssertNil(DatabaseFile.explain(sqlite, path: path, mode: .readOnly), "no write-ahead log: the directory is not why a read failed")
        // A write-ahead log with content: reading it needs a -shm that cannot be created there.
        XCTAssertEqual(chmod(folder, 0o755), 0)
        try Data(repeating: 1, count: 32).write(to: URL(fileURLWithPath: path + "-wal"))
        XCTAssertEqual(chmod(folder, 0o555), 0)
        XCTAssertEqual(DatabaseFile.explain(sqlite, path: path, mode: .readOnly)?.description,
                       "\(path): cannot read: directory \(folder) is read-only, and the database's write-ahead log runs.sqlite-wal can only be read with a runs.sqlite-shm file beside it, which SQLite cannot create there (copy the database and its -wal to a writable directory) [SQLITE_CANTOPEN]")
        XCTAssertNil(DatabaseFile.explain(DatabaseError(code: .SQLITE_CORRUPT, message: "malformed", path: path), path: path, mode: .readOnly),
                     "only errors a directory can cause are put on it")
        XCTAssertEqual(chmod(folder, 0o755), 0)
        XCTAssertNil(DatabaseFile.explain(sqlite, path: path, mode: .readOnly), "a writable directory is not the cause")
    }

    func testMissingFileOrFolder() throws {
        let absent = directory.path("absent.sqlite")
        for mode in [Database.OpenMode.readOnly, .readWrite] {
            let error = assertDatabaseError(try Database(path: absent, mode: mode))
            XCTAssertEqual(error?.description, "\(absent): no such file [SQLITE_CANTOPEN]")
        }
        XCTAssertFalse(fileExists(absent), "only .create may create a file")
        let inMissingFolder = directory.path("no-such-folder/x.sqlite")
        XCTAssertEqual(assertDatabaseError(try Database(path: inMissingFolder, mode: .create))?.message.contains("does not exist"), true)
        XCTAssertFalse(fileExists(inMissingFolder))
    }

    /// Another application's SQLite file: tlens must neither add its tables nor switch it to WAL.
    func testAnotherApplicationsDatabaseIsRefusedAndLeftByteIdentical() throws {
        let ledger = directory.path("ledger.sqlite")
        do {
            let db = try Database(path: ledger, mode: .create)
            try db.execute("""
                CREATE TABLE account(id INTEGER PRIMARY KEY, owner TEXT);
                CREATE TABLE ledger(account_id INTEGER, amount REAL);
                CREATE TABLE payee(name TEXT); CREATE TABLE rate(x); CREATE INDEX ledger_by_account ON ledger(account_id);
                INSERT INTO account(owner) VALUES ('ada'), ('grace');
                """)
            try db.close()
        }
        // Rails keeps a schema_migrations table too; it is not tlens's.
        let rails = directory.path("rails.sqlite")
        do {
            let db = try Database(path: rails, mode: .create)
            try db.execute("CREATE TABLE schema_migrations(version TEXT PRIMARY KEY); INSERT INTO schema_migrations VALUES ('20240101000000')")
            try db.close()
        }
        for (path, tables) in [(ledger, "account, ledger, payee, …"), (rails, "schema_migrations")] {
            let before = try fileBytes(path)
            let digest = Array(before.prefix(100))
            for mode in allModes {
                let error = assertDatabaseError(try Database.openTLens(path: path, mode: mode))
                XCTAssertEqual(error?.description,
                               "\(path): not a tlens database (it has tables \(tables); tlens keeps its runs in a file of its own) [SQLITE_ERROR]")
            }
            let recorderError = assertDatabaseError(try Recorder(path: path))
            XCTAssertEqual(recorderError?.message.hasPrefix("not a tlens database (it has tables"), true)
            XCTAssertEqual(try fileBytes(path), before, "\(path) was modified")
            // Byte 18 of the header is the write version: 1 = rollback journal, 2 = WAL.
            XCTAssertEqual(digest[18], 1)
            for suffix in ["-wal", "-shm", "-journal"] { XCTAssertFalse(fileExists(path + suffix), suffix) }
            XCTAssertEqual(try Database(path: path, mode: .readOnly).scalarInt("SELECT count(*) FROM sqlite_schema WHERE name = 'runs'"), 0)
        }
        // An empty file is still a new database, and a tlens database still opens.
        let empty = directory.path("empty.sqlite")
        XCTAssertTrue(FileManager.default.createFile(atPath: empty, contents: Data()))
        XCTAssertNoThrow(try Database.openTLens(path: empty).close())
        XCTAssertNoThrow(try Database.openTLens(path: try makeDatabase("tlens.sqlite")).close())
    }
}
