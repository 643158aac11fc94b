import ArgumentParser
import Foundation
import Store

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Merge tlens databases (e.g. the shards of a sweep) into one.",
        discussion: """
        Runs are deduplicated by uuid (a copy that got further — completed, or a later step — \
        supersedes a stale one), ids remapped, sweeps joined by name, metric keys unified, sweep \
        points linked to their runs. Each source is checked first (tlens check) and must be at \
        this tlens's schema version. Sources are only read. The merge is built in a copy of the \
        destination that replaces it only when every source merged: if anything fails, the \
        destination is unchanged. Do not merge into a database that is being written to.

        Example:
          tlens merge shard-1.sqlite shard-2.sqlite shard-3.sqlite --into sweep.sqlite
        """)

    @Argument(help: "Source databases.")
    var sources: [String]

    @Option(name: .long, help: "The destination database (created if missing).")
    var into: String

    func validate() throws {
        if sources.isEmpty { throw ValidationError("give at least one source database") }
    }

    func run() throws {
        let fm = FileManager.default
        for source in sources where !fm.fileExists(atPath: source) { throw CLIError.noSuchDatabase(source) }
        if fm.fileExists(atPath: into + "-wal"), ((try? fm.attributesOfItem(atPath: into + "-wal")[.size] as? Int) ?? 0) > 0 {
            throw CLIError("\(into): in use or not closed cleanly (it has a write-ahead log); stop its writers, or run tlens check on it first")
        }
        let staging = into + ".merging-\(UUID().uuidString.prefix(8))"
        defer { for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: staging + suffix) } }
        if fm.fileExists(atPath: into) {
            let current = try Database(path: into, mode: .readOnly)
            let version = Int(try current.scalarInt("PRAGMA user_version") ?? 0)
            guard version == Migrator.latestVersion else {
                throw CLIError("\(into): schema version \(version), this tlens merges into version \(Migrator.latestVersion)")
            }
            try current.execute("VACUUM INTO ?", [.text(staging)])
            try current.close()
        }
        var total = MergeReport()
        do {
            let destination = try Database.openTLens(path: staging, mode: .create)
            for source in sources {
                let report = try destination.merge(from: source)
                total.added += report.added; total.superseded += report.superseded; total.skipped += report.skipped
            }
            try destination.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            try destination.close()
        }
        // The staged file replaces the destination in one rename.
        guard rename(staging, into) == 0 else { throw CLIError("\(into): cannot replace it: \(String(cString: strerror(errno)))") }
        print("merged \(sources.count) databases into \(into): \(total.added) runs added, \(total.superseded) superseded by a newer copy, \(total.skipped) already there")
    }
}
