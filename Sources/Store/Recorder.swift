import Foundation

/// Records training runs into a tlens database. Opening creates and migrates the file and starts
/// a background writer thread; the step loop only appends to an in-memory batch, and the writer
/// commits batches every 250 ms or when 4 MB have accumulated, updating each active run's
/// heartbeat and `last_step`, and ticking the heartbeat about once a second when idle.
///
///     let recorder = try Recorder(path: "tlens.sqlite")
///     let run = try recorder.startRun(RunInfo(configJSON: config, seed: 0, codeVersion: "v1",
///                                             host: "box", dataFingerprint: "sha256:…"))
///     let loss = try run.metricKey("train_loss")
///     for step in 0..<1000 { try run.log(loss, step: step, value: trainStep()) }
///     try run.finish(status: .completed, error: nil)
///     try recorder.close()
///
/// Several processes may record into one file at once (WAL, BEGIN IMMEDIATE, retry on busy).
public final class Recorder {
    /// Tuning knobs; the defaults suit a training loop.
    public struct Options {
        /// A batch is committed once it holds this many bytes...
        public var batchBytes = 4 << 20
        /// ...or when it is this old (seconds).
        public var maxDelay = 0.25
        /// Idle heartbeat period (seconds).
        public var heartbeatInterval = 1.0
        /// The step loop blocks only when this many bytes wait while a batch is being committed.
        public var capacityBytes = 64 << 20
        /// SQLite busy timeout (seconds) for each statement.
        public var busyTimeout = 10.0
        /// Page cache of the writer's connection (bytes): the metrics B-tree has one insertion
        /// point per series, and re-reading those pages from the OS dominated the profile.
        public var cacheBytes = 64 << 20
        /// WAL pages after which the background WAL checkpointer copies the WAL into the database.
        public var walCheckpointPages = 4096
        /// Page size for a new file (ignored for an existing one). 8 KiB measured best: larger
        /// pages halve the per-page work for vectors, but a blob's last overflow page is on
        /// average half empty, so 16 KiB pages cost ~20% space on 40 KB vectors.
        public var pageSize = 8192
        public init() {}
    }

    /// The database file.
    public let path: String
    let queue: RecordQueue
    /// Guards `db` and the writer's statements: the writer thread and the synchronous calls
    /// (startRun, metricKey, finish) share one connection.
    let connectionLock = NSLock()
    let db: Database
    private let writerLoop: WriterLoop
    private let walCheckpointer: WALCheckpointer
    private let busyRetryLimit: TimeInterval
    private var keyCache: [String: MetricKey] = [:]
    private var closed = false

    /// Opens (creating if needed) and migrates `path`, then starts the background writer.
    public init(path: String, options: Options = Options()) throws {
        self.path = path
        db = try Database.openTLens(path: path, mode: .create, busyTimeout: options.busyTimeout, pageSize: options.pageSize)
        try db.execute("PRAGMA cache_size = -\(max(1, options.cacheBytes / 1024))")
        // Debian builds SQLite with SECURE_DELETE, which zeroes every byte a B-tree balance frees;
        // training logs hold nothing that needs scrubbing, and the zeroing cost insert time.
        try db.execute("PRAGMA secure_delete = OFF")
        let writer = try BatchWriter(db: db)
        busyRetryLimit = writer.busyRetryLimit
        queue = RecordQueue(batchBytes: options.batchBytes, capacity: options.capacityBytes,
                            maxDelay: options.maxDelay, heartbeatInterval: options.heartbeatInterval)
        writerLoop = WriterLoop(queue: queue, writer: writer, connectionLock: connectionLock)
        walCheckpointer = try WALCheckpointer(path: path, thresholdPages: options.walCheckpointPages)
        walCheckpointer.start(watching: db)
        writerLoop.start()
    }

    deinit { try? close() }

    /// Inserts the `runs` row (status `running`) and its `run_params`, and returns the handle the
    /// step loop logs through.
    ///
    ///     let run = try recorder.startRun(info)
    ///     print(run.runID, run.uuid)
    public func startRun(_ info: RunInfo) throws -> RunRecorder {
        guard (try? JSONSerialization.jsonObject(with: Data(info.configJSON.utf8), options: [.fragmentsAllowed])) != nil else {
            throw DatabaseError(code: .SQLITE_CONSTRAINT_CHECK, message: "run config is not valid JSON", path: path)
        }
        let uuid = UUID().uuidString.lowercased()
        let runID: Int64 = try withConnection { db in
            try db.transaction(.immediate) {
                let now = Date().timeIntervalSince1970
                var sweepID: Int64?
                if let sweep = info.sweep {
                    try db.execute("INSERT OR IGNORE INTO sweeps(name, created_at) VALUES (?, ?)", [.text(sweep), .real(now)])
                    sweepID = try db.scalarInt("SELECT id FROM sweeps WHERE name = ?", [.text(sweep)])
                }
                try db.execute("""
                    INSERT INTO runs(uuid, name, sweep_id, parent_run_id, config_json, seed, status,
                                     created_at, started_at, heartbeat_at, code_version, host, data_fingerprint, pid)
                    VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)
                    """, [.text(uuid), info.name.map { .text($0) } ?? .null, sweepID.map { .integer($0) } ?? .null,
                          info.parentRunID.map { .integer($0) } ?? .null, .text(info.configJSON),
                          .integer(Int64(bitPattern: info.seed)), .real(now), .real(now), .real(now),
                          .text(info.codeVersion), .text(info.host), .text(info.dataFingerprint),
                          .integer(Int64(getpid()))])
                let runID = db.lastInsertRowID
                if let point = info.sweepPoint, let sweepID {
                    try db.execute("UPDATE sweep_points SET run_id = ? WHERE sweep_id = ? AND name = ? AND run_id IS NULL",
                                   [.integer(runID), .integer(sweepID), .text(point)])
                    guard db.changes == 1 else {
                        throw DatabaseError(code: .SQLITE_CONSTRAINT, message: "sweep point '\(point)' already has a run (or does not exist)", path: path)
                    }
                }
                let param = try db.prepare("INSERT OR REPLACE INTO run_params(run_id, key, value, value_num) VALUES (?, ?, ?, ?)")
                for (key, value) in info.params {
                    param.bind(runID, at: 1)
                    param.bind(key, at: 2)
                    param.bind(value, at: 3)
                    if let number = Double(value), number.isFinite { param.bind(number, at: 4) } else { param.bindNull(at: 4) }
                    try param.execute()
                }
                return runID
            }
        }
        let slot = queue.addSlot(runID: runID)
        return RunRecorder(recorder: self, runID: runID, uuid: uuid, slot: slot)
    }

    /// Waits until everything enqueued by any run is committed.
    public func flush() throws { try queue.flush(slot: nil) }

    /// Flushes everything and stops the writer. Runs not finished stay `running` and read as
    /// `crashed` once their heartbeat is stale (`runs_view`).
    public func close() throws {
        guard !closed else { return }
        closed = true
        queue.stop()
        writerLoop.join()
        connectionLock.lock()
        defer { connectionLock.unlock() }
        try walCheckpointer.stop()
        try db.close()
        if let error = queue.currentError() { throw error }
    }

    /// Interns a metric name (shared by all runs in the file).
    func metricKey(_ name: String) throws -> MetricKey {
        connectionLock.lock()
        if let key = keyCache[name] { connectionLock.unlock(); return key }
        connectionLock.unlock()
        let id: Int64 = try withConnection { db in
            try db.transaction(.immediate) {
                try db.execute("INSERT OR IGNORE INTO metric_keys(name) VALUES (?)", [.text(name)])
                guard let id = try db.scalarInt("SELECT id FROM metric_keys WHERE name = ?", [.text(name)]) else {
                    throw DatabaseError(code: .SQLITE_ERROR, message: "metric key \(name) vanished", path: path)
                }
                return id
            }
        }
        let key = MetricKey(id: id, name: name)
        connectionLock.lock()
        keyCache[name] = key
        connectionLock.unlock()
        return key
    }

    /// Runs `body` on the shared connection, retrying on SQLITE_BUSY like the writer does.
    func withConnection<T>(_ body: (Database) throws -> T) throws -> T {
        connectionLock.lock()
        defer { connectionLock.unlock() }
        return try BatchWriter.retryingBusy(limit: busyRetryLimit) { try body(db) }
    }
}

/// The background thread: takes work from the queue and commits it until the queue stops.
/// Separate from `Recorder` so the thread does not keep the recorder alive (its deinit closes).
final class WriterLoop {
    private let queue: RecordQueue
    private var writer: BatchWriter?
    private let connectionLock: NSLock
    private let done = DispatchSemaphore(value: 0)
    private var joined = false

    init(queue: RecordQueue, writer: BatchWriter, connectionLock: NSLock) {
        self.queue = queue
        self.writer = writer
        self.connectionLock = connectionLock
    }

    func start() {
        let thread = Thread { [self] in
            while let work = queue.nextWork() {
                connectionLock.lock()
                var failure: Error?
                do { try writer?.write(work.batch, heartbeats: work.heartbeats) } catch { failure = error }
                connectionLock.unlock()
                queue.finished(work, error: failure)
            }
            done.signal()
        }
        thread.name = "tlens.recorder.writer"
        thread.start()
    }

    /// Waits for the thread to drain the queue and exit, then releases the prepared statements
    /// so the connection can really close.
    func join() {
        guard !joined else { return }
        joined = true
        done.wait()
        connectionLock.lock()
        writer = nil
        connectionLock.unlock()
    }
}
