import Foundation
import Spelling
import Store

/// A tlens database opened for reading by the query commands: any schema version tlens ever
/// wrote, never migrated, never written. A read command must leave the file byte-identical,
/// so it cannot upgrade an older file; what needs a newer table says so (`require(table:)`).
///
///     let archive = try Archive(path: "tlens.sqlite")
///     let runs = try archive.database.runs()
public final class Archive {
    public let database: Database
    public let path: String
    /// `PRAGMA user_version`: 1 … `Migrator.latestVersion`.
    public let schemaVersion: Int
    private let tables: Set<String>

    /// Opens `path` read-only. Refuses, in one line and without creating anything: a missing
    /// file, a directory, a non-SQLite file, a SQLite file tlens did not make, a newer schema.
    public init(path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw QueryError(Archive.noSuchDatabase(path))
        }
        guard !isDirectory.boolValue else { throw QueryError("\(path): is a directory, not a database") }
        let db = try Database(path: path, mode: .readOnly)
        var names = Set<String>()
        let select = try db.prepare("SELECT name FROM sqlite_schema WHERE type IN ('table', 'view')")
        while try select.step() { if let name = select.string(at: 0) { names.insert(name) } }
        guard names.isSuperset(of: ["runs", "metrics", "metric_keys", "schema_migrations"]) else {
            let shown = names.filter { !$0.hasPrefix("sqlite_") }.sorted().prefix(3).joined(separator: ", ")
            throw QueryError("\(path): not a tlens database (\(shown.isEmpty ? "no tables" : "it has tables \(shown)"))")
        }
        let version = try Migrator.version(of: db)
        guard version <= Migrator.latestVersion else {
            throw QueryError("\(path): schema version \(version) is newer than this tlens understands (\(Migrator.latestVersion)); use a newer tlens")
        }
        database = db
        self.path = path
        schemaVersion = version
        tables = names
    }

    /// `PATH: no such database`, naming the nearest file beside it when the path looks like a
    /// typo of one.
    public static func noSuchDatabase(_ path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)) ?? []
        let near = nearestName(to: url.lastPathComponent, in: names.filter { !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") }.sorted())
        let folder = (path as NSString).deletingLastPathComponent
        return "\(path): no such database" + (near.map { "; did you mean \(folder.isEmpty ? $0 : folder + "/" + $0)?" } ?? "")
    }

    /// Whether the file has `table` (older schema versions lack the later ones).
    public func has(_ table: String) -> Bool { tables.contains(table) }

    /// Throws the "needs a migration" line when the file predates `table`.
    public func require(_ table: String, for command: String) throws {
        guard !has(table) else { return }
        throw QueryError("\(path): \(command) needs table \(table), which schema version \(schemaVersion) lacks (this tlens writes version \(Migrator.latestVersion)); any write (tlens train, or --save) upgrades the file")
    }
}

/// A query command's refusal: one line for stderr.
public struct QueryError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ message: String) { description = message }
}
