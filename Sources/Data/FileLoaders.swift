import Foundation
import Spelling

/// Whole-file reads with errors that name the file.
enum DataFile {
    static func bytes(_ path: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError(path, "no such file")
        }
        if isDirectory.boolValue { throw DataError(path, "is a directory, not a data file") }
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError(path, "cannot be read") }
        return [UInt8](data)
    }

    /// The file's bytes, decompressed when they start with the gzip magic number.
    static func maybeGzipped(_ path: String) throws -> [UInt8] {
        let raw = try bytes(path)
        return Gzip.isGzip(raw) ? try Gzip.decompress(raw, location: path) : raw
    }
}

/// A numeric table read from a CSV file with a header row.
struct CSVTable {
    var header: [String]
    /// Row-major values, `rowCount × header.count`.
    var values: [Double]
    var rowCount: Int
    /// 1-based file line of each row, for errors found after parsing.
    var lines: [Int]

    /// Parses `text` (from `location`): a header row, then rows of finite numbers with as many
    /// cells as the header. Blank lines are skipped; a cell may be wrapped in double quotes.
    static func parse(_ text: String, location: String, delimiter: Character = ",") throws -> CSVTable {
        var header: [String]? = nil
        var values: [Double] = []
        var lines: [Int] = []
        var lineNumber = 0
        // "\r\n" is one Character in Swift, so split on every newline form.
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            lineNumber += 1
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            let cells = try splitCells(line, delimiter: delimiter, location: location, line: lineNumber)
            guard let names = header else {
                header = cells
                if let dup = Dictionary(grouping: cells, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
                    throw DataError(location, line: lineNumber, "column name \"\(dup)\" appears twice in the header")
                }
                continue
            }
            guard cells.count == names.count else {
                throw DataError(location, line: lineNumber,
                                "ragged row: \(cells.count) cells, but the header has \(names.count) columns")
            }
            for (j, cell) in cells.enumerated() {
                if cell.isEmpty {
                    throw DataError(location, line: lineNumber, "empty cell in column \(j + 1) (\"\(names[j])\")")
                }
                guard let x = Double(cell) else {
                    throw DataError(location, line: lineNumber, "non-numeric cell \"\(cell)\" in column \(j + 1) (\"\(names[j])\")")
                }
                guard x.isFinite else {
                    throw DataError(location, line: lineNumber, "\(x.isNaN ? "NaN" : "infinite") value \"\(cell)\" in column \(j + 1) (\"\(names[j])\")")
                }
                values.append(x)
            }
            lines.append(lineNumber)
        }
        guard let names = header else { throw DataError(location, "empty file: no header row") }
        guard !lines.isEmpty else { throw DataError(location, "no data rows after the header") }
        return CSVTable(header: names, values: values, rowCount: lines.count, lines: lines)
    }

    private static func splitCells(_ line: Substring, delimiter: Character, location: String, line number: Int) throws -> [String] {
        var cells: [String] = []
        var current = ""
        var inQuotes = false
        var wasQuoted = false
        var iterator = line.makeIterator()
        var pending: Character? = nil
        while let c = pending ?? iterator.next() {
            pending = nil
            if inQuotes {
                if c == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { current.append("\"") } else { inQuotes = false; pending = next }
                    } else { inQuotes = false }
                } else { current.append(c) }
            } else if c == delimiter {
                cells.append(wasQuoted ? current : current.trimmingCharacters(in: .whitespaces))
                current = ""; wasQuoted = false
            } else if c == "\"" && current.allSatisfy({ $0 == " " }) {
                inQuotes = true; wasQuoted = true; current = ""
            } else { current.append(c) }
        }
        if inQuotes { throw DataError(location, line: number, "unterminated quoted cell") }
        cells.append(wasQuoted ? current : current.trimmingCharacters(in: .whitespaces))
        return cells
    }

    static func load(_ path: String, delimiter: Character) throws -> CSVTable {
        try parse(bytes: try DataFile.maybeGzipped(path), location: path, delimiter: delimiter)
    }

    /// The file's (decompressed) bytes, which must be UTF-8 text.
    static func parse(bytes: [UInt8], location: String, delimiter: Character = ",") throws -> CSVTable {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw DataError(location, "not UTF-8 text") }
        return try parse(text, location: location, delimiter: delimiter)
    }

    func columnIndex(_ name: String, location: String) throws -> Int {
        if let j = header.firstIndex(of: name) { return j }
        var message = "no column named \"\(name)\" in the header"
        if let near = nearestName(to: name, in: header) { message += "; did you mean \"\(near)\"?" }
        throw DataError(location, line: 1, message)
    }

    /// Features = every column but `targetColumns`, targets = those columns; rowIDs = data row order.
    func dataset(name: String, targetColumns: [String], classification: Bool, location: String) throws -> Dataset {
        let targetIdx = try targetColumns.map { try columnIndex($0, location: location) }
        let featureIdx = header.indices.filter { !targetIdx.contains($0) }
        let width = header.count
        var features = [Float](); features.reserveCapacity(rowCount * featureIdx.count)
        var targets = [Float](); targets.reserveCapacity(rowCount * targetIdx.count)
        for i in 0..<rowCount {
            for j in featureIdx { features.append(Float(values[i * width + j])) }
            for j in targetIdx { targets.append(Float(values[i * width + j])) }
        }
        if classification {
            guard targetIdx.count == 1 else {
                throw DataError(location, "classification needs exactly one target column, got \(targetIdx.count)")
            }
            var labels = [Int]()
            for i in 0..<rowCount {
                let x = values[i * width + targetIdx[0]]
                guard x >= 0, x == x.rounded(), x < 1_000_000 else {
                    throw DataError(location, line: lines[i], "class label \(x) in column \"\(targetColumns[0])\" is not a non-negative integer")
                }
                labels.append(Int(x))
            }
            return Dataset(name: name, features: features, count: rowCount, dimension: featureIdx.count,
                           targets: [], targetDimension: 0, labels: labels, classCount: (labels.max() ?? 0) + 1)
        }
        return Dataset(name: name, features: features, count: rowCount, dimension: featureIdx.count,
                       targets: targets, targetDimension: targetIdx.count)
    }
}

/// IDX files (LeCun's MNIST format): magic 00 00 TYPE NDIMS, NDIMS big-endian UInt32 sizes,
/// then the unsigned bytes.
enum IDX {
    struct Array { var dims: [Int]; var bytes: ArraySlice<UInt8> }

    static func read(_ path: String, expectedDims: Int, what: String) throws -> Array {
        try parse(try DataFile.maybeGzipped(path), location: path, expectedDims: expectedDims, what: what)
    }

    /// The header checked against the bytes actually present before anything is sized from it:
    /// four UInt32 sizes can promise 2^128 bytes, which would overflow Int or ask for terabytes.
    static func parse(_ b: [UInt8], location path: String, expectedDims: Int, what: String) throws -> Array {
        guard b.count >= 4 else { throw DataError(path, "truncated: \(b.count) bytes, too short for an IDX header") }
        let magic = b[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let expectedMagic = 0x0800 | UInt32(expectedDims)
        guard b[0] == 0, b[1] == 0 else {
            throw DataError(path, "wrong magic number 0x\(hex(magic)): not an IDX \(what) file (expected 0x\(hex(expectedMagic)))")
        }
        guard b[2] == 0x08 else {
            throw DataError(path, "unsupported IDX element type 0x\(String(b[2], radix: 16)) in magic number 0x\(hex(magic)) (only unsigned bytes, 0x08)")
        }
        guard Int(b[3]) == expectedDims else {
            throw DataError(path, "wrong magic number 0x\(hex(magic)): \(b[3]) dimensions, an IDX \(what) file has \(expectedDims) (0x\(hex(expectedMagic)))")
        }
        let headerSize = 4 + 4 * expectedDims
        guard b.count >= headerSize else {
            throw DataError(path, "truncated: header needs \(headerSize) bytes, file has \(b.count)")
        }
        var dims: [Int] = []
        for k in 0..<expectedDims {
            dims.append(Int(b[(4 + 4 * k)..<(8 + 4 * k)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }))
        }
        let found = b.count - headerSize
        let shape = dims.map(String.init).joined(separator: "×")
        var expected = 1, overflow = false
        for size in dims where !overflow { (expected, overflow) = expected.multipliedReportingOverflow(by: size) }
        if overflow {
            throw DataError(path, "truncated: header promises \(shape) bytes after the \(headerSize)-byte header, found \(found)")
        }
        if found < expected {
            throw DataError(path, "truncated: header promises \(shape) (\(expected) bytes after the \(headerSize)-byte header), found \(found)")
        }
        if found > expected {
            throw DataError(path, "\(found - expected) unexpected bytes after the \(shape) data the header promises")
        }
        return Array(dims: dims, bytes: b[headerSize...])
    }

    static func hex(_ x: UInt32) -> String {
        let s = String(x, radix: 16); return String(repeating: "0", count: 8 - s.count) + s
    }

    /// Images (`count × rows × cols`, scaled to [0, 1]) with their labels (0…9), and the
    /// images' layout (rows × cols, one channel) from the header.
    static func load(images: String, labels: String, name: String) throws -> (Dataset, ImageLayout) {
        let img = try read(images, expectedDims: 3, what: "images")
        let d = try dataset(images: img, imagesLocation: images,
                            labels: try read(labels, expectedDims: 1, what: "labels"), labelsLocation: labels, name: name)
        return (d, ImageLayout(height: img.dims[1], width: img.dims[2]))
    }

    static func dataset(images img: Array, imagesLocation images: String, labels lab: Array, labelsLocation labels: String,
                        name: String) throws -> Dataset {
        let n = img.dims[0], d = img.dims[1] * img.dims[2]
        guard lab.dims[0] == n else {
            throw DataError(labels, "holds \(lab.dims[0]) labels but \(images) holds \(n) images")
        }
        guard n > 0 else { throw DataError(images, "holds no images") }
        guard d > 0 else { throw DataError(images, "images of \(img.dims[1])×\(img.dims[2]) pixels hold no pixels") }
        var labelArray = [Int](); labelArray.reserveCapacity(n)
        for (i, l) in lab.bytes.enumerated() {
            guard l < 10 else { throw DataError(labels, "label \(l) of item \(i) (byte offset \(8 + i)) is not a digit 0…9") }
            labelArray.append(Int(l))
        }
        // A plain loop over the buffer: 47 million pixels of Fashion-MNIST through `map` took
        // seconds in debug builds.
        var features = [Float](repeating: 0, count: img.bytes.count)
        features.withUnsafeMutableBufferPointer { out in
            img.bytes.withUnsafeBufferPointer { bytes in
                for k in 0..<bytes.count { out[k] = Float(bytes[k]) / 255 }
            }
        }
        return Dataset(name: name, features: features, count: n, dimension: d,
                       targets: [], targetDimension: 0, labels: labelArray, classCount: 10)
    }
}

/// CIFAR-10 binary batches: records of 1 label byte and 3,072 pixel bytes (1,024 each of R, G, B).
enum CIFAR10 {
    static let recordSize = 3073

    static func load(files: [String], name: String) throws -> Dataset {
        guard !files.isEmpty else { throw DataError(name, "no CIFAR-10 batch files given") }
        var features = [Float](), labels = [Int]()
        for path in files {
            let b = try DataFile.maybeGzipped(path)
            guard !b.isEmpty else { throw DataError(path, "empty file: no CIFAR-10 records") }
            guard b.count % recordSize == 0 else {
                throw DataError(path, "length \(b.count) is not a multiple of the 3073-byte CIFAR-10 record (truncated after \(b.count / recordSize) records?)")
            }
            features.reserveCapacity(features.count + b.count / recordSize * 3072)
            for r in 0..<(b.count / recordSize) {
                let base = r * recordSize
                guard b[base] < 10 else {
                    throw DataError(path, "record \(r) (byte offset \(base)) has label \(b[base]); CIFAR-10 labels are 0…9")
                }
                labels.append(Int(b[base]))
                for k in 1...3072 { features.append(Float(b[base + k]) / 255) }
            }
        }
        return Dataset(name: name, features: features, count: labels.count, dimension: 3072,
                       targets: [], targetDimension: 0, labels: labels, classCount: 10)
    }
}

/// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017) as Debian's `dataset-fashion-mnist` installs it:
/// the four gzip IDX files of Zalando's release, 60,000 training and 10,000 test images.
enum FashionMNIST {
    static let debianDirectory = "/usr/share/datasets/fashion-mnist"
    static let files = (trainImages: "train-images-idx3-ubyte.gz", trainLabels: "train-labels-idx1-ubyte.gz",
                        testImages: "t10k-images-idx3-ubyte.gz", testLabels: "t10k-labels-idx1-ubyte.gz")

    /// The training and test sets the files give. A missing file is one line saying how to get it.
    static func load(directory: String, name: String) throws -> (train: Dataset, test: Dataset) {
        let folder = URL(fileURLWithPath: directory)
        let paths = [files.trainImages, files.trainLabels, files.testImages, files.testLabels].map { folder.appendingPathComponent($0).path }
        for path in paths where !FileManager.default.fileExists(atPath: path) {
            let hint = directory == debianDirectory
                ? "the Debian package is not installed: apt-get install dataset-fashion-mnist"
                : "give `directory` the folder holding the four files of dataset-fashion-mnist"
            throw DataError(name, option: "directory", "\(path) is missing; \(hint)")
        }
        let train = try IDX.load(images: paths[0], labels: paths[1], name: name).0
        let test = try IDX.load(images: paths[2], labels: paths[3], name: name).0
        guard train.dimension == 784, test.dimension == 784 else {
            throw DataError(paths[train.dimension == 784 ? 2 : 0], "holds images of \(train.dimension == 784 ? test.dimension : train.dimension) pixels; Fashion-MNIST's are 28×28")
        }
        return (train, test)
    }
}
