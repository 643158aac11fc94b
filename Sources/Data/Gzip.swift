import CZlib

/// gzip (and zlib) decompression through the system zlib: Foundation on Linux has none, and
/// MNIST is distributed as `.gz` files.
enum Gzip {
    /// True when `bytes` starts with the gzip magic number 1f 8b.
    static func isGzip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
    }

    /// Decompresses a whole gzip stream (concatenated members included); `location` names the
    /// file in errors.
    static func decompress(_ input: [UInt8], location: String) throws -> [UInt8] {
        var stream = z_stream()
        // 15 + 32: maximum window, detect gzip or zlib header automatically.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DataError(location, "zlib could not be initialized")
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8]()
        output.reserveCapacity(input.count * 4)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var status: Int32 = Z_OK
        try input.withUnsafeBufferPointer { inBuf in
            stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
            stream.avail_in = UInt32(inBuf.count)
            while true {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { outBuf in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = UInt32(outBuf.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return outBuf.count - Int(stream.avail_out)
                }
                output.append(contentsOf: chunk[0..<produced])
                if status == Z_STREAM_END {
                    // Another gzip member may follow (as `cat a.gz b.gz` produces).
                    if stream.avail_in > 0 && inflateReset(&stream) == Z_OK { continue }
                    break
                }
                if status == Z_OK { continue }
                if status == Z_BUF_ERROR && stream.avail_in == 0 {
                    throw DataError(location, "truncated gzip stream (ended after \(output.count) decompressed bytes)")
                }
                let reason = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw DataError(location, "corrupt gzip stream: \(reason)")
            }
        }
        return output
    }
}
