import Foundation
import Linalg
import Spelling

/// A sweep: a base config, overrides, and axes whose combinations are runs (README, "Sweeps").
///
///     name: dd-width                      # unique per database
///     base: {preset: digits-3v5}          # or {config: path.yaml}, or an inline config
///     set: {steps: 2000}                  # key paths applied to the base
///     grid: {model.hidden: [[8], [32]], optimizer.lr: [0.01, 0.05]}   # cartesian product
///     zip: {data.label_noise: [0.0, 0.2], name_suffix: [clean, noisy]} # paired, equal lengths
///     zip: {model: [{kind: mlp}, {kind: gbt}], optimizer: [{kind: sgd}, null], name_suffix: [mlp, gbt]}
///                                         # whole sections: labelled by name_suffix alone
///     random: {count: 8, seed: 0, axes: {optimizer.lr: {log_uniform: [1e-4, 1e-1]}}}
///     seeds: [0, 1, 2]                    # each point × each seed is one run
///
/// Points are grid × zip × random draws × seeds, in that order (the last varies fastest within
/// each), deterministic for a spec. Every point's config is validated completely — data loaded,
/// memory checked — before anything is written: one bad point refuses the sweep, naming it.
public struct SweepSpec {
    public var name: String
    /// The spec as parsed, in canonical JSON: a changed spec under the same name is refused
    /// unless extended.
    public var canonicalJSON: String
    public var points: [SweepPoint]
}

/// One run of a sweep.
public struct SweepPoint {
    /// `sweep axis=value … seed=s`, unique within the sweep.
    public var name: String
    /// The axis values that made this point (key path → value), seed last.
    public var axes: [(String, ConfigValue)]
    /// The point's whole config (before validation resolves defaults).
    public var tree: ConfigValue
    public var axesJSON: String { ConfigValue.map(axes).json }
}

extension SweepSpec {
    static let keys = ["name", "base", "set", "grid", "zip", "random", "seeds"]
    /// Points a sweep may expand to; beyond it a spec is almost surely a mistake.
    static let maximumPoints = 100_000

    /// Parses `text` (YAML or JSON), expands its points and validates each one's config.
    /// `baseDirectory`: where `base.config` and relative data paths are looked for (the spec
    /// file's folder).
    public static func load(text: String, source: String, baseDirectory: URL? = nil) throws -> SweepSpec {
        let tree = try ConfigParser.parse(text, source: source)
        guard case .map(let entries) = tree else { throw ConfigError("\(source): a sweep spec is a map (name, base, grid, …)") }
        for (key, _) in entries where !keys.contains(key) {
            throw ConfigError("\(key): unknown key\(nearestName(to: key, in: keys).map { "; did you mean '\($0)'?" } ?? "")")
        }
        guard case .string(let name)? = tree["name"], !name.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ConfigError("name: missing; every sweep has a name, unique in its database")
        }
        let folder = baseDirectory ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        var base = try baseConfig(tree["base"], folder: folder)
        if let set = tree["set"] {
            guard case .map(let assignments) = set else { throw ConfigError("set: expected a map of key paths to values") }
            for (path, value) in assignments { base = try assign(base, path: path, value, context: "set.\(path)", folder: folder) }
        }

        // Axes: each a list of (path, value) assignments per position.
        var factors: [[[(String, ConfigValue)]]] = []
        if let grid = tree["grid"] {
            guard case .map(let axes) = grid, !axes.isEmpty else { throw ConfigError("grid: expected a map of key paths to lists of values") }
            for (path, values) in axes {
                guard case .list(let items) = values, !items.isEmpty else { throw ConfigError("grid.\(path): expected a non-empty list of values") }
                factors.append(items.map { [(path, $0)] })
            }
        }
        if let zip = tree["zip"] {
            guard case .map(let axes) = zip, !axes.isEmpty else { throw ConfigError("zip: expected a map of key paths to lists of equal length") }
            var length: Int?
            var columns: [(String, [ConfigValue])] = []
            for (path, values) in axes {
                guard case .list(let items) = values, !items.isEmpty else { throw ConfigError("zip.\(path): expected a non-empty list of values") }
                if let length, items.count != length {
                    throw ConfigError("zip.\(path): \(items.count) values, but zip.\(columns[0].0) has \(length); zipped lists pair up and must be equally long")
                }
                length = items.count
                columns.append((path, items))
            }
            factors.append((0..<(length ?? 0)).map { row in columns.map { ($0.0, $0.1[row]) } })
        }
        if let random = tree["random"] { factors.append(try randomDraws(random)) }
        let seeds: [ConfigValue]
        if let seedList = tree["seeds"] {
            guard case .list(let items) = seedList, !items.isEmpty else { throw ConfigError("seeds: expected a non-empty list of seeds") }
            for item in items { if case .int = item {} else if case .uint = item {} else { throw ConfigError("seeds: \(describe(item)) is not a seed (0…2^64−1)") } }
            seeds = items
        } else {
            seeds = [base["seed"] ?? .int(0)]
        }
        factors.append(seeds.map { [("seed", $0)] })
        let count = factors.reduce(1) { $0 * max($1.count, 1) }
        guard count <= maximumPoints else { throw ConfigError("the sweep expands to \(count) runs, over \(maximumPoints); split it") }

        // The cartesian product, the last factor varying fastest.
        var points: [SweepPoint] = []
        var index = [Int](repeating: 0, count: factors.count)
        for _ in 0..<count {
            var axes: [(String, ConfigValue)] = []
            for (f, i) in zip(factors, index) { axes.append(contentsOf: f[i]) }
            var config = base
            var labels: [String] = [], suffixes: [String] = []
            let suffixed = axes.contains { $0.0 == "name_suffix" }
            for (path, value) in axes {
                if path == "name_suffix" { suffixes.append(plain(value)); continue }
                config = try assign(config, path: path, value, context: "\(path)", folder: folder)
                // A whole section as an axis value (`model: {kind: gbt, …}`, or null to leave
                // it out) would label the run with its JSON; the point's suffix names it instead.
                if suffixed && isSection(value) { continue }
                labels.append("\(path.split(separator: ".").last.map(String.init) ?? path)=\(plain(value))")
            }
            let pointName = ([name] + labels.filter { !$0.hasPrefix("seed=") } + suffixes + labels.filter { $0.hasPrefix("seed=") })
                .joined(separator: " ")
            config = try TrainConfig.setting(config, path: ["name"], to: .string(pointName))
            points.append(SweepPoint(name: pointName, axes: axes, tree: config))
            for k in stride(from: factors.count - 1, through: 0, by: -1) {
                index[k] += 1
                if index[k] < factors[k].count { break }
                index[k] = 0
            }
        }
        if Set(points.map(\.name)).count != points.count {
            throw ConfigError("the sweep's points are not all distinct (an axis lists a value twice?)")
        }
        return SweepSpec(name: name, canonicalJSON: tree.json, points: points)
    }

    /// Validates every point completely (config, data, memory): the first failure refuses the
    /// whole sweep and names the point.
    public func prepared() throws -> [PreparedRun] {
        try points.enumerated().map { (i, point) in
            do {
                return try PreparedRun(try TrainConfig.validate(point.tree))
            } catch {
                throw ConfigError("sweep point \(i + 1) of \(points.count) (\(point.name)): \(error)")
            }
        }
    }

    static func baseConfig(_ value: ConfigValue?, folder: URL) throws -> ConfigValue {
        guard let value else { throw ConfigError("base: missing; e.g. base: {preset: digits-3v5}") }
        guard case .map(let entries) = value else { throw ConfigError("base: expected {preset: NAME}, {config: PATH} or an inline config") }
        let text: String, source: String, directory: URL
        if case .string(let preset)? = value["preset"], entries.count == 1 {
            guard let t = Presets.text(named: preset) else {
                throw ConfigError("base.preset: " + Presets.refusal(preset, sweep: false))
            }
            text = t; source = "preset \(preset)"
            directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        } else if case .string(let path)? = value["config"], entries.count == 1 {
            let url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath, relativeTo: folder).standardizedFileURL
            guard let data = FileManager.default.contents(atPath: url.path), let t = String(data: data, encoding: .utf8) else {
                throw ConfigError("base.config: \(url.path): cannot read the config file")
            }
            text = t; source = url.path; directory = url.deletingLastPathComponent()
        } else {
            return TrainConfig.absolutizingDataPaths(value, at: [], base: folder)
        }
        let tree = try ConfigParser.parse(text, source: source)
        return TrainConfig.absolutizingDataPaths(tree, at: [], base: URL(fileURLWithPath: directory.path, isDirectory: true))
    }

    static func assign(_ tree: ConfigValue, path: String, _ value: ConfigValue, context: String, folder: URL) throws -> ConfigValue {
        let keys = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !keys.contains(where: \.isEmpty), keys.count <= ConfigParser.maximumDepth else {
            throw ConfigError("\(context): '\(path)' is not a key path (e.g. optimizer.lr)")
        }
        return try TrainConfig.setting(tree, path: keys, to: TrainConfig.absolutizingDataPaths(value, at: keys, base: folder))
    }

    /// `random: {count, seed, axes: {path: {log_uniform|uniform: [lo, hi]} | {choice: [...]}}}`.
    static func randomDraws(_ value: ConfigValue) throws -> [[(String, ConfigValue)]] {
        guard case .map(let entries) = value else { throw ConfigError("random: expected {count, seed, axes}") }
        for (key, _) in entries where !["count", "seed", "axes"].contains(key) {
            throw ConfigError("random.\(key): unknown key\(nearestName(to: key, in: ["count", "seed", "axes"]).map { "; did you mean 'random.\($0)'?" } ?? "")")
        }
        guard case .int(let count)? = value["count"], count >= 1 else { throw ConfigError("random.count: expected a whole number ≥ 1") }
        var seed: UInt64 = 0
        switch value["seed"] {
        case .int(let s)? where s >= 0: seed = UInt64(s)
        case .uint(let s)?: seed = s
        case nil: break
        default: throw ConfigError("random.seed: expected a seed (0…2^64−1)")
        }
        guard case .map(let axes)? = value["axes"], !axes.isEmpty else { throw ConfigError("random.axes: expected a map of key paths to distributions") }
        var rng = RandomSource(seed: seed, stream: .other)
        var distributions: [(String, (inout RandomSource) -> ConfigValue)] = []
        for (path, spec) in axes {
            func bounds(_ v: ConfigValue?, _ kind: String) throws -> (Double, Double) {
                guard case .list(let items)? = v, items.count == 2, let lo = number(items[0]), let hi = number(items[1]), lo < hi, lo.isFinite, hi.isFinite else {
                    throw ConfigError("random.axes.\(path).\(kind): expected [low, high] with low < high")
                }
                return (lo, hi)
            }
            guard case .map(let kinds) = spec, kinds.count == 1, let kind = kinds.first?.0 else {
                throw ConfigError("random.axes.\(path): expected one of {log_uniform: [lo, hi]}, {uniform: [lo, hi]}, {choice: [...]}")
            }
            switch kind {
            case "log_uniform":
                let (lo, hi) = try bounds(spec["log_uniform"], kind)
                guard lo > 0 else { throw ConfigError("random.axes.\(path).log_uniform: bounds must be > 0") }
                distributions.append((path, { .double(Foundation.exp(Foundation.log(lo) + $0.uniform() * (Foundation.log(hi) - Foundation.log(lo)))) }))
            case "uniform":
                let (lo, hi) = try bounds(spec["uniform"], kind)
                distributions.append((path, { .double(lo + $0.uniform() * (hi - lo)) }))
            case "choice":
                guard case .list(let items)? = spec["choice"], !items.isEmpty else { throw ConfigError("random.axes.\(path).choice: expected a non-empty list") }
                distributions.append((path, { items[$0.below(items.count)] }))
            default:
                throw ConfigError("random.axes.\(path).\(kind): unknown distribution\(nearestName(to: kind, in: ["log_uniform", "uniform", "choice"]).map { "; did you mean '\($0)'?" } ?? "")")
            }
        }
        return (0..<count).map { _ in distributions.map { ($0.0, $0.1(&rng)) } }
    }

    static func number(_ v: ConfigValue) -> Double? {
        switch v {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    /// A map or null: a value that sets or removes a whole config section.
    static func isSection(_ v: ConfigValue) -> Bool {
        switch v {
        case .map, .null: return true
        default: return false
        }
    }

    /// A value as a name label: text without quotes, numbers as written, lists as JSON.
    static func plain(_ v: ConfigValue) -> String {
        switch v {
        case .string(let s): return s
        case .double(let d): return String(format: "%.6g", d)
        default: return v.json
        }
    }
}
