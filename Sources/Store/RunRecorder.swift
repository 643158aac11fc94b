import Foundation

/// The handle a training loop logs one run through. Every `log…` call copies its data into the
/// recorder's queue and returns; nothing waits on disk unless the queue is full. A failure of the
/// background writer is thrown by the next `log…`, `flush` or `finish` call.
///
///     let acc = try run.metricKey("test_acc")
///     try run.log(acc, step: 10, value: 0.93)
///     try predictions.withUnsafeBufferPointer { try run.logVector(kind: "pred", split: "test", step: 10, values: $0) }
///     try run.flush()
///     print(run.lastCommittedStep ?? -1)   // 10
public final class RunRecorder {
    public let runID: Int64
    public let uuid: String
    let recorder: Recorder
    let slot: Int
    private var finished = false

    init(recorder: Recorder, runID: Int64, uuid: String, slot: Int) {
        self.recorder = recorder
        self.runID = runID
        self.uuid = uuid
        self.slot = slot
    }

    /// Interns `name` once; call outside the step loop and keep the key.
    public func metricKey(_ name: String) throws -> MetricKey { try recorder.metricKey(name) }

    /// Enqueues one scalar. No strings or dictionaries: the key is already interned.
    @inline(__always)
    public func log(_ key: MetricKey, step: Int, value: Double) throws {
        let row = PendingBatch.Scalar(run: runID, key: key.id, step: Int64(step), value: value)
        let queue = recorder.queue
        let slot = self.slot
        try queue.enqueue(bytes: MemoryLayout<PendingBatch.Scalar>.stride) { batch in
            batch.scalars.append(row)
            queue.noteStep(slot: slot, step: row.step)
        }
    }

    /// Enqueues a per-point vector (copied; stored as float32 little-endian).
    public func logVector(kind: String, split: String, step: Int, values: UnsafeBufferPointer<Float>) throws {
        let vector = PendingBatch.Vector(run: runID, kind: kind, split: split, step: Int64(step), data: Array(values))
        let queue = recorder.queue
        let slot = self.slot
        try queue.enqueue(bytes: values.count * 4 + 64) { batch in
            batch.vectors.append(vector)
            queue.noteStep(slot: slot, step: vector.step)
        }
    }

    /// Enqueues the dataset row of each evaluation point of `split`, in vector order.
    public func logEvalPoints(split: String, rowIDs: [Int]) throws {
        let ids = try rowIDs.map { id -> Int32 in
            guard let narrow = Int32(exactly: id) else {
                throw DatabaseError(code: .SQLITE_RANGE, message: "evaluation row id \(id) does not fit in int32")
            }
            return narrow
        }
        let points = PendingBatch.EvalPoints(run: runID, split: split, ids: ids)
        try recorder.queue.enqueue(bytes: ids.count * 4 + 64) { $0.evalPoints.append(points) }
    }

    /// Enqueues an event (e.g. kind "diverged", "lr_drop", "note").
    public func logEvent(step: Int?, kind: String, message: String) throws {
        let event = PendingBatch.Event(run: runID, step: step.map(Int64.init), time: Date().timeIntervalSince1970,
                                       kind: kind, message: message)
        try recorder.queue.enqueue(bytes: kind.utf8.count + message.utf8.count + 64) { $0.events.append(event) }
    }

    /// Enqueues a checkpoint of step `step`: the flat parameter vector θ (docs/schema.md gives its
    /// layout), the optimizer state, and the learner's and the lens's state blobs (lens.md §11),
    /// all copied. It commits in the same transaction as, or after, every row logged before it,
    /// so a resumed run finds its rows up to `step`. `keep` prunes older checkpoints after step 0
    /// in that transaction, except those at the `pinned` steps.
    public func checkpoint(step: Int, parameters: UnsafeBufferPointer<Float>, optimizerState: [Float]?,
                           learnerState: [UInt8]? = nil, lensState: [UInt8]? = nil, keep: Int? = nil,
                           pinned: [Int] = []) throws {
        let checkpoint = PendingBatch.Checkpoint(run: runID, step: Int64(step), parameters: Array(parameters),
                                                 optimizerState: optimizerState, learnerState: learnerState,
                                                 lensState: lensState, keep: keep, pinned: pinned, time: Date().timeIntervalSince1970)
        let bytes = parameters.count * 4 + (optimizerState?.count ?? 0) * 4 + (learnerState?.count ?? 0)
            + (lensState?.count ?? 0) + 64
        try recorder.queue.enqueue(bytes: bytes) { $0.checkpoints.append(checkpoint) }
    }

    /// Waits until everything enqueued so far is committed; afterwards `lastCommittedStep` is
    /// the highest step logged.
    public func flush() throws { try recorder.queue.flush(slot: slot) }

    /// The highest step whose rows are all committed (`runs.last_step` as of the latest commit).
    public var lastCommittedStep: Int? { recorder.queue.committedStep(slot: slot).map { Int($0) } }

    /// Flushes, then records the final status, `finished_at` and the error text (if any).
    /// If the flush fails, the run is still marked (as `failed` with the writer's error) and
    /// the flush error is thrown.
    public func finish(status: RunStatus, error: String?) throws {
        guard !finished else { return }
        finished = true
        var flushError: Error?
        do { try flush() } catch { flushError = error }
        recorder.queue.deactivate(slot: slot)
        let finalStatus = flushError == nil ? status : .failed
        let message = flushError.map { "recorder: \($0)" + (error.map { "; \($0)" } ?? "") } ?? error
        // After a successful flush every logged row is committed, the last step's too.
        let lastStep = flushError == nil ? recorder.queue.loggedStep(slot: slot) : recorder.queue.committedStep(slot: slot)
        try recorder.withConnection { db in
            try db.transaction(.immediate) {
                let now = Date().timeIntervalSince1970
                try db.execute("""
                    UPDATE runs SET status = ?, error = ?, finished_at = ?, heartbeat_at = ?,
                                    last_step = coalesce(?, last_step)
                    WHERE id = ?
                    """, [.text(finalStatus.rawValue), message.map { .text($0) } ?? .null, .real(now), .real(now),
                          lastStep.map { .integer($0) } ?? .null, .integer(runID)])
            }
        }
        if let flushError { throw flushError }
    }
}
