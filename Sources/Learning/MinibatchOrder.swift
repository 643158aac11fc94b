import Linalg

/// The one minibatch order of tlens: `RandomSource(seed:, stream: .dataOrder)` draws a fresh
/// permutation each epoch, cut into consecutive batches; a tail shorter than the batch is dropped.
/// Its whole state (generator, permutation, cursor) goes into checkpoints, so a resumed run sees
/// the same batches as one that was never stopped.
public struct MinibatchOrder: Sendable {
    public let count: Int
    public let batchSize: Int
    private var rng: RandomSource
    private var permutation: [Int] = []
    private var position = 0

    public init(count: Int, batchSize: Int, seed: UInt64) {
        precondition(batchSize >= 1 && batchSize <= count, "batch size \(batchSize) must be in 1...\(count)")
        self.count = count
        self.batchSize = batchSize
        rng = RandomSource(seed: seed, stream: .dataOrder)
    }

    /// The next batch's example indices, written into `indices` (resized to `batchSize`).
    public mutating func next(into indices: inout [Int]) {
        if permutation.isEmpty || position + batchSize > count {
            permutation = rng.permutation(count)
            position = 0
        }
        if indices.count != batchSize { indices = [Int](repeating: 0, count: batchSize) }
        for k in 0..<batchSize { indices[k] = permutation[position + k] }
        position += batchSize
    }

    public func export(into w: inout StateWriter) {
        let s = rng.snapshot
        w.unsigned(s.state); w.unsigned(s.increment)
        w.bool(s.spareNormal != nil); w.double(s.spareNormal ?? 0)
        w.integers(permutation)
        w.integer(position)
    }

    public mutating func importState(from r: inout StateReader) throws {
        let state = try r.unsigned(), increment = try r.unsigned()
        let hasSpare = try r.bool(), spare = try r.double()
        let permutation = try r.integers(what: "the epoch permutation")
        let position = try r.integer()
        guard permutation.isEmpty || permutation.count == count,
              permutation.allSatisfy({ (0..<count).contains($0) }), (0...count).contains(position) else {
            throw StateError("\(r.kind) state: the minibatch order does not fit a training set of \(count)")
        }
        rng = RandomSource(snapshot: (state, increment, hasSpare ? spare : nil))
        self.permutation = permutation
        self.position = position
    }
}
