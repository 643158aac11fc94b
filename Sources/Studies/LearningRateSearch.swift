import Foundation
import Query
import Runner

/// The paper's hyperparameter selection (arXiv 2411.00247, App. C.2): each learner is tuned on a
/// validation split of the training pool (`data.validation`, lens.md §10), never on test rows,
/// and then trained on the whole training pool at its selected setting. A search sweep trains
/// every candidate (`examples/study-gbt-vs-nn-search*.yaml`: the network over learning rates in
/// [1e-5, 1e-2], the trees over a small grid); per data set and learner the candidate of least
/// final validation MSE (`final.test_mse` of a search run, whose test split is the validation
/// split) is selected, ties to the first in the sweep; runs that failed or ended non-finite never are.
/// The main sweep is the shipped template (`examples/study-gbt-vs-nn*.yaml`) with each entry's
/// `model` and `optimizer` sections replaced by the selected candidate's.
struct LearningRateSearch {
    /// One candidate of the search and its validation MSE (nil: not completed, or not finite).
    struct Candidate {
        var point: SweepPoint
        var label: String
        var validationMSE: Double?
    }

    /// The selection for one data set and learner.
    struct Choice {
        var setting: String
        var learner: String
        var candidates: [Candidate]
        var selected: Candidate? { candidates.filter { $0.validationMSE != nil }.min { $0.validationMSE! < $1.validationMSE! } }
    }

    var choices: [Choice]

    /// The choices of the search sweep `spec`, from its runs in `reader`.
    init(_ reader: MetricReader, spec: SweepSpec) {
        let runs = Dictionary(reader.runs(ofSweep: spec.name).compactMap { run in run.summary.name.map { ($0, run) } },
                              uniquingKeysWith: { a, _ in a })
        var order: [String] = []
        var byKey: [String: Choice] = [:]
        for point in spec.points {
            let setting = Self.setting(point.tree), learner = Self.learner(point.tree)
            let key = "\(setting) \(learner)"
            var mse: Double?
            if let run = runs[point.name], run.summary.effectiveStatus == .completed,
               let value = reader.number("final.test_mse", run), value.isFinite {
                mse = value
            }
            if byKey[key] == nil { order.append(key); byKey[key] = Choice(setting: setting, learner: learner, candidates: []) }
            byKey[key]!.candidates.append(Candidate(point: point, label: Self.label(point.tree), validationMSE: mse))
        }
        choices = order.map { byKey[$0]! }
    }

    func choice(setting: String, learner: String) -> Choice? {
        choices.first { $0.setting == setting && $0.learner == learner }
    }

    /// The main sweep: `template`'s entries (one per data set and learner, each × its seeds)
    /// with the selected `model` and `optimizer`, as JSON, named `name`. Throws when an entry's
    /// data set and learner has no selected candidate (the search did not finish).
    func mainSweep(template: SweepSpec, name: String) throws -> String {
        let seeds = orderedUnique(template.points.compactMap { point in point.axes.first { $0.0 == "seed" }?.1 })
        let entries = template.points.filter { point in point.axes.first { $0.0 == "seed" }?.1 == seeds.first }
        var rows: [[(String, ConfigValue)]] = []
        for entry in entries {
            let setting = Self.setting(entry.tree), learner = Self.learner(entry.tree)
            guard let selected = choice(setting: setting, learner: learner)?.selected else {
                throw StudyError("the learning-rate search has no completed \(learner) run on \(setting) with a finite validation MSE")
            }
            guard case .map(let sections) = entry.tree else { throw StudyError("template entry \(entry.name) is not a config map") }
            var row = sections.filter { $0.0 != "name" && $0.0 != "seed" && $0.0 != "model" && $0.0 != "optimizer" }
            row.append(("model", Self.section(selected.point.tree, "model") ?? .null))
            row.append(("optimizer", Self.section(selected.point.tree, "optimizer") ?? .null))
            row.append(("name_suffix", entry.axes.first { $0.0 == "name_suffix" }?.1 ?? .string("\(setting)-\(learner)")))
            rows.append(row)
        }
        // One zip column per section any entry has; an entry without it gets null (left out).
        var keys: [String] = []
        for row in rows { for (key, _) in row where !keys.contains(key) { keys.append(key) } }
        let columns = keys.map { key in (key, rows.map { row in row.first { $0.0 == key }?.1 ?? .null }) }
        let base = ConfigValue.map(columns.filter { column in column.1.allSatisfy { $0 == column.1[0] } && column.1[0] != .null && column.0 != "name_suffix" }
                                       .map { ($0.0, $0.1[0]) })
        let zipped = columns.filter { column in !(column.1.allSatisfy { $0 == column.1[0] }) || column.0 == "name_suffix" }
        return ConfigValue.map([("name", .string(name)), ("base", base), ("zip", .map(zipped.map { ($0.0, .list($0.1)) })),
                                ("seeds", .list(seeds))]).json
    }

    /// A data set's name in the study: the source, or a csv file's base name (`houses.csv`: houses).
    static func setting(_ tree: ConfigValue) -> String {
        let data = section(tree, "data")
        let source = data.flatMap { string(section($0, "source")) } ?? "?"
        guard source == "csv", let path = data.flatMap({ string(section($0, "path")) }) else { return source }
        return settingName(source: source, path: path)
    }

    /// As `setting(_:)`, from a run's stored parameters.
    static func settingName(source: String, path: String?) -> String {
        guard source == "csv", let path else { return source }
        return ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    }

    static func learner(_ tree: ConfigValue) -> String {
        section(tree, "model").flatMap { string(section($0, "kind")) } ?? "mlp"
    }

    /// "lr 0.001" for a network, "learning_rate 0.1, max_depth 3" for trees.
    static func label(_ tree: ConfigValue) -> String {
        let model = section(tree, "model"), optimizer = section(tree, "optimizer")
        if learner(tree) == "gbt" {
            return ["learning_rate", "max_depth", "rounds"].compactMap { key in
                model.flatMap { section($0, key) }.map { "\(key) \(plain($0))" }
            }.joined(separator: ", ")
        }
        return optimizer.flatMap { section($0, "lr") }.map { "lr \(plain($0))" } ?? "lr (default)"
    }

    static func section(_ tree: ConfigValue, _ key: String) -> ConfigValue? {
        guard case .map(let entries) = tree else { return nil }
        return entries.first { $0.0 == key }?.1
    }

    static func string(_ value: ConfigValue?) -> String? {
        if case .string(let s)? = value { return s }
        return nil
    }

    static func plain(_ value: ConfigValue) -> String {
        switch value {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .uint(let u): return String(u)
        case .double(let d): return figure(d)
        case .bool(let b): return String(b)
        default: return value.json
        }
    }

    private func orderedUnique(_ values: [ConfigValue]) -> [ConfigValue] {
        var seen: [ConfigValue] = []
        for v in values where !seen.contains(v) { seen.append(v) }
        return seen
    }
}
