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
}
