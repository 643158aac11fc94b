import CSQLite
import Foundation

/// Runs WAL checkpoints on its own thread and connection (a WAL checkpoint is SQLite's, not a
/// run's saved state). It copies WAL pages into the database file and fsyncs both; on the
/// writer's thread (SQLite's automatic WAL checkpoint) those fsyncs stalled recording for as
/// long as the disk took to absorb the data. Here the writer only appends to the WAL (no fsync
/// with synchronous=NORMAL) and asks for a PASSIVE WAL checkpoint whenever the WAL has grown by
/// `thresholdPages`; the WAL checkpoint never blocks the writer.
final class WALCheckpointer {
    private let db: Database
    private let condition = NSCondition()
    private var requested = false
    private var stopping = false
    private let done = DispatchSemaphore(value: 0)
    private var writerHandle: OpaquePointer?
    let thresholdPages: Int32

    init(path: String, thresholdPages: Int) throws {
        // A zero busy timeout: a PASSIVE checkpoint that meets a lock just does less.
        db = try Database(path: path, mode: .readWrite, busyTimeout: 0)
        self.thresholdPages = Int32(clamping: thresholdPages)
    }

    /// Replaces `writer`'s automatic WAL checkpoint with requests to this thread.
    func start(watching writer: Database) {
        writerHandle = writer.handle
        let context = Unmanaged.passUnretained(self).toOpaque()
        // Called by SQLite after each commit with the number of frames now in the WAL.
        sqlite3_wal_hook(writer.handle, { context, _, _, frames in
            let walCheckpointer = Unmanaged<WALCheckpointer>.fromOpaque(context!).takeUnretainedValue()
            if frames >= walCheckpointer.thresholdPages { walCheckpointer.request() }
            return SQLITE_OK
        }, context)
        let thread = Thread { [self] in
            while waitForRequest() {
                // Errors are not fatal: the next request (or the final close) runs a WAL checkpoint again.
                _ = try? db.scalarInt("PRAGMA wal_checkpoint(PASSIVE)")
            }
            done.signal()
        }
        thread.name = "tlens.recorder.wal-checkpoint"
        thread.start()
    }

    private func request() {
        condition.lock()
        requested = true
        condition.signal()
        condition.unlock()
    }

    private func waitForRequest() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !requested && !stopping { condition.wait() }
        requested = false
        return !stopping
    }

    /// Detaches from the writer (call with the writer idle), stops the thread and closes this
    /// connection, so the writer's connection is the last and its close WAL-checkpoints the rest.
    func stop() throws {
        if let writerHandle { sqlite3_wal_hook(writerHandle, nil, nil) }
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
        if writerHandle != nil { done.wait() }
        writerHandle = nil
        try db.close()
    }
}
