import CSQLite
import Foundation

/// Checks a path before SQLite touches it, so that a wrong file produces a clear one-line error
/// and is never modified (SQLite itself would happily "open" a text file and fail later, or turn
/// an empty path into a new database).
enum DatabaseFile {
    /// Returns whether the file exists; throws if it cannot be opened in `mode`.
    static func validate(path: String, mode: Database.OpenMode) throws -> Bool {
        func fail(_ code: ResultCode, _ message: String) -> DatabaseError {
            DatabaseError(code: code, message: message, path: path)
        }
        var info = stat()
        guard stat(path, &info) == 0 else {
            guard errno == ENOENT else {
                throw fail(.SQLITE_CANTOPEN, "cannot access: \(String(cString: strerror(errno)))")
            }
            guard mode == .create else { throw fail(.SQLITE_CANTOPEN, "no such file") }
            let folder = folder(of: path)
            var folderInfo = stat()
            guard stat(folder, &folderInfo) == 0, (folderInfo.st_mode & S_IFMT) == S_IFDIR else {
                throw fail(.SQLITE_CANTOPEN, "cannot create: directory \(folder) does not exist")
            }
            if let why = whyNotWritable(folder: folder) { throw fail(.SQLITE_READONLY, "cannot create: \(why) \(needsFiles)") }
            return false
        }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw fail(.SQLITE_CANTOPEN_ISDIR, "is a directory, not a database file") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw fail(.SQLITE_CANTOPEN, "is not a regular file") }
        guard access(path, R_OK) == 0 else { throw fail(.SQLITE_CANTOPEN, "file is not readable") }
        if mode != .readOnly {
            let folder = folder(of: path)
            if isReadOnlyFileSystem(folder) {
                throw fail(.SQLITE_READONLY, "cannot write: directory \(folder) is on a read-only file system (open it read-only, or copy it to a writable directory)")
            }
            // Permission bits are honoured even for root: a file marked read-only stays untouched.
            guard access(path, W_OK) == 0, (info.st_mode & 0o222) != 0 else {
                throw fail(.SQLITE_READONLY, "file is read-only (open it read-only, or make it writable)")
            }
            // SQLite would open the file and fail at the first read, with "unable to open database
            // file": in WAL mode every connection needs the -wal and -shm files, created beside it.
            if let why = whyNotWritable(folder: folder) { throw fail(.SQLITE_READONLY, "cannot write: \(why) \(needsFiles)") }
        }
        return true
    }

    /// The directory that holds `path` ("." for a bare file name).
    static func folder(of path: String) -> String {
        let directory = (path as NSString).deletingLastPathComponent
        return directory.isEmpty ? "." : directory
    }

    static func isReadOnlyFileSystem(_ folder: String) -> Bool {
        var fs = statvfs()
        return statvfs(folder, &fs) == 0 && (fs.f_flag & UInt(ST_RDONLY)) != 0
    }

    static let needsFiles = "(SQLite needs to create the -wal and -shm files beside the database)"

    /// Why SQLite may not create files in `folder` (nil: it may). Permission bits are honoured
    /// even for root, as for the file itself; `access` adds what bits do not show (a read-only
    /// mount, an immutable directory).
    static func whyNotWritable(folder: String) -> String? {
        if isReadOnlyFileSystem(folder) { return "directory \(folder) is on a read-only file system" }
        var info = stat()
        guard stat(folder, &info) == 0, access(folder, W_OK) == 0, (info.st_mode & 0o222) != 0 else {
            return "directory \(folder) is read-only"
        }
        return nil
    }

    /// Whether a read-only connection must open `path` as immutable: the system lets nobody
    /// create files in its folder (a read-only mount, an immutable directory; permission bits
    /// alone do not stop root, so SQLite can still make its -shm there), so SQLite could not
    /// create the -shm it needs to read a WAL database, and the database has no write-ahead log
    /// with content (so the file alone is the whole database). Nobody can be writing to it
    /// meanwhile: a writer would need to create that log first, and cannot.
    static func needsImmutableRead(path: String) -> Bool {
        let folder = folder(of: path)
        guard isReadOnlyFileSystem(folder) || access(folder, W_OK) != 0 else { return false }
        var wal = stat()
        return stat(path + "-wal", &wal) != 0 || wal.st_size == 0
    }

    /// A refusal that says why SQLite could not open or read `path`, when the reason is the
    /// directory: SQLite itself says only "unable to open database file" (SQLITE_CANTOPEN) or
    /// reports a read-only database; nil when the directory is not the cause. (A read-only
    /// connection meets it only with a write-ahead log to read: without one it opens the file
    /// as immutable, `needsImmutableRead`.)
    static func explain(_ error: DatabaseError, path: String, mode: Database.OpenMode) -> DatabaseError? {
        let code = error.resultCode
        guard code == .SQLITE_CANTOPEN || code == .SQLITE_READONLY || code == .SQLITE_IOERR,
              let why = whyNotWritable(folder: folder(of: path)) else { return nil }
        var wal = stat()
        if mode == .readOnly && (stat(path + "-wal", &wal) != 0 || wal.st_size == 0) { return nil }
        let file = (path as NSString).lastPathComponent
        let message = mode == .readOnly
            ? "cannot read: \(why), and the database's write-ahead log \(file)-wal can only be read with a \(file)-shm file beside it, which SQLite cannot create there (copy the database and its -wal to a writable directory)"
            : "cannot write: \(why) \(needsFiles)"
        return DatabaseError(code: error.extendedResultCode, message: message, path: path)
    }

    /// Checks the header of the file `db` just opened, read through SQLite's own descriptor.
    static func checkHeader(of db: OpaquePointer, path: String) throws {
        func fail(_ code: ResultCode, _ message: String) -> DatabaseError {
            DatabaseError(code: code, message: message, path: path)
        }
        var header = [UInt8](repeating: 0, count: 100)
        var size: sqlite3_int64 = 0
        let code = tlens_read_main_file(db, &header, 100, &size)
        guard code == SQLITE_OK else {
            throw fail(ResultCode(rawValue: code), "cannot read the file header: \(String(cString: sqlite3_errstr(code)))")
        }
        if size == 0 { return }  // SQLite treats an empty file as an empty database.
        try checkHeader(Array(header.prefix(Int(min(size, 100)))), fileSize: Int64(size), fail: fail)
    }

    /// The 100-byte header (https://sqlite.org/fileformat.html#the_database_header): magic string,
    /// page size, and the in-header page count, which is trustworthy when the "version-valid-for"
    /// number equals the change counter.
    private static func checkHeader(_ header: [UInt8], fileSize: Int64, fail: (ResultCode, String) -> DatabaseError) throws {
        let magic = Array("SQLite format 3\0".utf8)
        guard header.count >= magic.count, Array(header[0..<magic.count]) == magic else {
            throw fail(.SQLITE_NOTADB, "not a SQLite database (no SQLite header)")
        }
        guard header.count == 100 else {
            throw fail(.SQLITE_CORRUPT, "truncated database: \(fileSize) bytes, shorter than the 100-byte header")
        }
        func be32(_ offset: Int) -> UInt32 {
            header[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
        }
        let rawPageSize = Int64(header[16]) << 8 | Int64(header[17])
        let pageSize = rawPageSize == 1 ? 65536 : rawPageSize
        guard pageSize >= 512, pageSize & (pageSize - 1) == 0 else {
            throw fail(.SQLITE_CORRUPT, "corrupt database header: invalid page size \(rawPageSize)")
        }
        if fileSize % pageSize != 0 {
            throw fail(.SQLITE_CORRUPT, "truncated database: \(fileSize) bytes is not a whole number of \(pageSize)-byte pages")
        }
        let pageCount = Int64(be32(28))
        if be32(24) == be32(92), pageCount > 0, fileSize < pageCount * pageSize {
            throw fail(.SQLITE_CORRUPT, "truncated database: \(fileSize) bytes, header says \(pageCount) pages of \(pageSize) bytes")
        }
    }
}
