import CSQLite
import CVecSQL
import Foundation

/// Rows waiting for the background writer. Scalars are plain structs in one array so the step
/// loop appends without allocating; vectors and checkpoints carry their own copies of the bytes.
final class PendingBatch {
    /// The C struct the `tlens_scalar_rows` table-valued function reads (Sources/CVecSQL/scalar_rows.c).
    typealias Scalar = tlens_scalar_row
    struct Vector { var run: Int64; var kind: String; var split: String; var step: Int64; var data: [Float] }
    struct EvalPoints { var run: Int64; var split: String; var ids: [Int32] }
    struct Checkpoint {
        var run: Int64; var step: Int64; var parameters: [Float]; var optimizerState: [Float]?
        var learnerState: [UInt8]?; var lensState: [UInt8]?
        /// Checkpoints of the run after step 0 that survive this one (nil: keep all).
        var keep: Int?
        /// Steps whose checkpoints `keep` never prunes (`checkpoint.at`: spawn points).
        var pinned: [Int] = []
        var time: Double
    }
    struct Event { var run: Int64; var step: Int64?; var time: Double; var kind: String; var message: String }

    var scalars: [Scalar] = []
    var vectors: [Vector] = []
    var evalPoints: [EvalPoints] = []
    var checkpoints: [Checkpoint] = []
    var events: [Event] = []
    /// Approximate memory held, for the batch trigger and back-pressure.
    var bytes = 0

    var isEmpty: Bool {
        scalars.isEmpty && vectors.isEmpty && evalPoints.isEmpty && checkpoints.isEmpty && events.isEmpty
    }

    func removeAll() {
        scalars.removeAll(keepingCapacity: true)
        vectors.removeAll(keepingCapacity: true)
        evalPoints.removeAll()
        checkpoints.removeAll()
        events.removeAll()
        bytes = 0
    }
}

/// The producer/writer hand-off: one lock, one condition, two batches (the one being filled and
/// the one being committed). The producer blocks only when the filling batch exceeds `capacity`
/// bytes while the writer is still busy with the previous one.
final class RecordQueue {
    /// Per-run step bookkeeping. `last_step` is the highest step fully enqueued: a step counts
    /// as complete once a later step is logged, or when the run flushes.
    struct RunSlot {
        var runID: Int64
        var active = true
        var currentStep: Int64?
        var completedStep: Int64?
        var committedStep: Int64?
    }

    /// What the writer takes in one go.
    struct Work {
        var batch: PendingBatch
        var heartbeats: [(run: Int64, lastStep: Int64?)]
        var flushTicket: Int
        var slotSteps: [(slot: Int, step: Int64?)]
    }

    let condition = NSCondition()
    private(set) var filling = PendingBatch()
    private var spare: PendingBatch? = PendingBatch()
    var slots: [RunSlot] = []
    var writerError: Error?
    private var flushRequested = 0
    private var flushCompleted = 0
    private var stopping = false
    private var lastCommit = DispatchTime.now().uptimeNanoseconds

    let batchBytes: Int
    let capacity: Int
    let maxDelay: UInt64
    let heartbeatInterval: UInt64

    init(batchBytes: Int, capacity: Int, maxDelay: Double, heartbeatInterval: Double) {
        self.batchBytes = batchBytes
        self.capacity = capacity
        self.maxDelay = UInt64(maxDelay * 1e9)
        self.heartbeatInterval = UInt64(heartbeatInterval * 1e9)
    }

    // MARK: Producer side (call with the condition locked via `enqueue`)

    /// Runs `body` under the lock after waiting for room; throws a pending writer error.
    @inline(__always)
    func enqueue(bytes: Int, _ body: (PendingBatch) -> Void) throws {
        condition.lock()
        defer { condition.unlock() }
        if let writerError { throw writerError }
        while filling.bytes >= capacity {
            condition.broadcast()
            condition.wait()
            if let writerError { throw writerError }
        }
        body(filling)
        let before = filling.bytes
        filling.bytes += bytes
        // Wake the writer when a batch starts (to arm its 250 ms timer) and when it is full.
        if before == 0 || (before < batchBytes && filling.bytes >= batchBytes) { condition.broadcast() }
    }

    /// Step bookkeeping; call inside `enqueue`'s body.
    @inline(__always)
    func noteStep(slot: Int, step: Int64) {
        if let current = slots[slot].currentStep {
            if step > current {
                slots[slot].completedStep = current
                slots[slot].currentStep = step
            }
        } else {
            slots[slot].currentStep = step
        }
    }

    /// Waits until everything enqueued so far (by any producer) is committed.
    func flush(slot: Int?) throws {
        condition.lock()
        defer { condition.unlock() }
        if let writerError { throw writerError }
        // The caller is between steps: its current step is complete.
        if let slot, let current = slots[slot].currentStep { slots[slot].completedStep = current }
        flushRequested += 1
        let ticket = flushRequested
        condition.broadcast()
        while flushCompleted < ticket {
            if let writerError { throw writerError }
            condition.wait()
        }
        if let writerError { throw writerError }
    }

    func addSlot(runID: Int64) -> Int {
        condition.lock()
        defer { condition.unlock() }
        slots.append(RunSlot(runID: runID))
        condition.broadcast()  // an idle writer sleeps without a deadline until a run is active
        return slots.count - 1
    }

    func deactivate(slot: Int) {
        condition.lock()
        slots[slot].active = false
        condition.unlock()
    }

    /// The highest step logged for the slot (committed too once a `flush` returned).
    func loggedStep(slot: Int) -> Int64? {
        condition.lock()
        defer { condition.unlock() }
        return slots[slot].currentStep ?? slots[slot].committedStep
    }

    func committedStep(slot: Int) -> Int64? {
        condition.lock()
        defer { condition.unlock() }
        return slots[slot].committedStep
    }

    func currentError() -> Error? {
        condition.lock()
        defer { condition.unlock() }
        return writerError
    }

    // MARK: Writer side

    /// Blocks until there is something to commit (a full batch, a 250 ms old batch, a flush, a
    /// heartbeat due) and returns it; nil when stopped and drained.
    func nextWork() -> Work? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            let sinceCommit = now &- lastCommit
            let hasActive = slots.contains { $0.active }
            let due = filling.bytes >= batchBytes
                || flushRequested > flushCompleted
                || (!filling.isEmpty && (sinceCommit >= maxDelay || stopping))
                || (hasActive && sinceCommit >= heartbeatInterval)
            if writerError != nil {
                // Nothing more can be committed; release waiters and stop.
                flushCompleted = flushRequested
                condition.broadcast()
                return nil
            }
            if due {
                let batch = filling
                filling = spare ?? PendingBatch()
                spare = nil
                var heartbeats: [(run: Int64, lastStep: Int64?)] = []
                var slotSteps: [(slot: Int, step: Int64?)] = []
                for (index, slot) in slots.enumerated() where slot.active {
                    heartbeats.append((slot.runID, slot.completedStep))
                    slotSteps.append((index, slot.completedStep))
                }
                condition.broadcast()  // producers blocked on capacity may continue
                return Work(batch: batch, heartbeats: heartbeats, flushTicket: flushRequested, slotSteps: slotSteps)
            }
            if stopping && filling.isEmpty && flushRequested == flushCompleted { return nil }
            // Sleep until the oldest pending row is 250 ms old or a heartbeat is due; producers
            // wake us earlier when a batch fills up or the first row of a batch arrives.
            var deadline = UInt64.max
            if !filling.isEmpty { deadline = lastCommit &+ maxDelay }
            if hasActive { deadline = min(deadline, lastCommit &+ heartbeatInterval) }
            if deadline == UInt64.max {
                condition.wait()
            } else {
                let seconds = Double(deadline > now ? deadline - now : 0) / 1e9
                _ = condition.wait(until: Date(timeIntervalSinceNow: max(seconds, 0.001)))
            }
        }
    }

    /// Records the outcome of committing `work`.
    func finished(_ work: Work, error: Error?) {
        condition.lock()
        defer { condition.unlock() }
        lastCommit = DispatchTime.now().uptimeNanoseconds
        if let error {
            writerError = error
            flushCompleted = flushRequested
        } else {
            for (slot, step) in work.slotSteps where step != nil { slots[slot].committedStep = step }
            flushCompleted = max(flushCompleted, work.flushTicket)
        }
        work.batch.removeAll()
        spare = work.batch
        condition.broadcast()
    }

    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }
}
