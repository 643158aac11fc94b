/// How an image source lays out a row of features: `channels` planes of `height × width`
/// pixels, each plane row-major (MNIST: 1 plane of 28×28; CIFAR-10: R, G, B planes of 32×32).
public struct ImageLayout: Sendable, Equatable {
    public var height: Int
    public var width: Int
    public var channels: Int

    public init(height: Int, width: Int, channels: Int = 1) {
        self.height = height; self.width = width; self.channels = channels
    }

    public var pixelCount: Int { height * width * channels }
}

/// ITU-R BT.601 luma weights for R, G, B, the ones PIL's `convert("L")` uses.
public let bt601LumaWeights: [Double] = [0.299, 0.587, 0.114]

extension Dataset {
    /// Each image shrunk to `size × size` by area averaging: output pixel (i, j) is the mean of
    /// the input over the square [i·s, (i+1)·s) × [j·s, (j+1)·s), s = side / size, with input
    /// pixels cut by the square's edge weighted by the share of their area inside it. When `size`
    /// divides the side this is the plain mean of s × s blocks (CIFAR-10 32 → 8: 4 × 4 blocks); for
    /// MNIST 28 → 8 (s = 3.5) every output pixel averages 3.5 × 3.5 pixels' worth of area. OpenCV's
    /// `INTER_AREA` agrees to 1.4e-7 on MNIST 28 → 8; PIL's `BOX` only when `size` divides the side
    /// (data/README.md, "Images"). Channels are shrunk one plane at a time.
    public func downsampled(_ layout: ImageLayout, to size: Int, option: String = "downsample") throws -> (Dataset, ImageLayout) {
        guard layout.pixelCount == dimension else {
            throw DataError(name, option: option, "images of \(layout.height)×\(layout.width)×\(layout.channels) do not match the \(dimension) features")
        }
        guard size >= 1, size <= layout.height, size <= layout.width else {
            throw DataError(name, option: option, "must be in 1…\(min(layout.height, layout.width)) for images of \(layout.height)×\(layout.width) (tlens only shrinks), got \(size)")
        }
        if size == layout.height && size == layout.width { return (self, layout) }
        let rows = Dataset.areaWeights(from: layout.height, to: size)
        let cols = Dataset.areaWeights(from: layout.width, to: size)
        let plane = layout.height * layout.width, outPlane = size * size
        var out = [Float](repeating: 0, count: count * layout.channels * outPlane)
        var rowSums = [Double](repeating: 0, count: layout.width)
        for n in 0..<count {
            for c in 0..<layout.channels {
                let base = n * dimension + c * plane
                let outBase = (n * layout.channels + c) * outPlane
                for i in 0..<size {
                    // First average the input rows this output row covers, then the columns.
                    for x in 0..<layout.width { rowSums[x] = 0 }
                    for (y, wy) in rows[i] {
                        for x in 0..<layout.width { rowSums[x] += wy * Double(features[base + y * layout.width + x]) }
                    }
                    for j in 0..<size {
                        var v = 0.0
                        for (x, wx) in cols[j] { v += wx * rowSums[x] }
                        out[outBase + i * size + j] = Float(v)
                    }
                }
            }
        }
        var result = self
        result.features = out
        result.dimension = layout.channels * outPlane
        return (result, ImageLayout(height: size, width: size, channels: layout.channels))
    }

    /// For each of `size` output cells along a side of `side` pixels, the input pixels it
    /// overlaps and the share of the cell each covers (the shares of one cell sum to 1).
    static func areaWeights(from side: Int, to size: Int) -> [[(Int, Double)]] {
        let s = Double(side) / Double(size)
        return (0..<size).map { i in
            let lo = Double(i) * s, hi = Double(i + 1) * s
            var cell: [(Int, Double)] = []
            var p = Int(lo.rounded(.down))
            while Double(p) < hi && p < side {
                let overlap = min(hi, Double(p + 1)) - max(lo, Double(p))
                if overlap > 1e-12 { cell.append((p, overlap / s)) }
                p += 1
            }
            return cell
        }
    }

    /// Colour images turned into one grey plane, `Σ_c weights[c] · plane_c` (ITU-R 601 luma by
    /// default; `[1/3, 1/3, 1/3]` is the plain channel mean).
    public func greyscaled(_ layout: ImageLayout, weights: [Double] = bt601LumaWeights,
                           option: String = "greyscale") throws -> (Dataset, ImageLayout) {
        guard layout.channels == weights.count, layout.pixelCount == dimension else {
            throw DataError(name, option: option, "needs \(weights.count)-channel images, these have \(layout.channels)")
        }
        let plane = layout.height * layout.width
        var out = [Float](repeating: 0, count: count * plane)
        for n in 0..<count {
            for p in 0..<plane {
                var v = 0.0
                for c in 0..<layout.channels { v += weights[c] * Double(features[n * dimension + c * plane + p]) }
                out[n * plane + p] = Float(v)
            }
        }
        var result = self
        result.features = out
        result.dimension = plane
        return (result, ImageLayout(height: layout.height, width: layout.width, channels: 1))
    }
}
