/// FNV-1a 64-bit over the exact bytes of a split (`runs.data_fingerprint`): two runs with equal
/// fingerprints trained and were evaluated on bit-identical arrays in the same order.
struct FNV1a64 {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add<T>(_ items: [T]) {
        items.withUnsafeBytes { raw in
            for byte in raw { value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        }
    }

    mutating func add(_ int: Int) { add([Int64(int).littleEndian]) }

    var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

extension Dataset {
    func hash(into h: inout FNV1a64) {
        h.add(count); h.add(dimension); h.add(targetDimension); h.add(classCount ?? -1)
        // Raw bytes: every platform Swift on Linux and macOS targets is little-endian with 64-bit Int.
        h.add(features)
        h.add(targets)
        h.add(labels ?? [])
        h.add(rowIDs)
    }

    /// FNV-1a 64 of this data set's arrays as 16 lowercase hex digits.
    public var fingerprint: String {
        var h = FNV1a64(); hash(into: &h); return h.hex
    }
}

extension DataSplit {
    /// FNV-1a 64 (16 lowercase hex digits) of the exact train and test arrays (features,
    /// targets, labels, row ids and shapes); stored as `runs.data_fingerprint`.
    public var fingerprint: String {
        var h = FNV1a64()
        train.hash(into: &h)
        test.hash(into: &h)
        return h.hex
    }
}
