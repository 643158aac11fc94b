import Foundation
import Spelling
import Store

/// A query kept as a `.sql` file and run by name (`tlens query NAME --param k=v`): the files of
/// `queries/`, embedded in the binary, and a user's own from `--queries DIR` or `$TLENS_QUERIES`
/// (docs/queries.md). The file starts with a header of `--` lines:
///
///     -- sweep_table: one row per point of a sweep with the final value of one key
///     -- param sweep: the sweep's name (sweeps.name)
///     -- param key: the metric key shown (default: test_mse)
///     -- Any further comment lines document the columns.
///     SELECT … WHERE s.name = :sweep …
///
/// A param without `(default: VALUE)` is required; `(default: NULL)` binds SQL NULL. The SQL
/// uses exactly the declared parameters, as `:NAME`, and is one statement; a file that does not
/// is refused when it is loaded.
public struct NamedQuery: Equatable {
    public struct Parameter: Equatable {
        public var name: String
        public var summary: String
        /// The default as written in the header; nil for a required parameter.
        public var defaultText: String?

        /// The bound default: `NULL` is SQL NULL, other text is typed like `--param`.
        public var defaultValue: DatabaseValue? {
            defaultText.map { $0 == "NULL" ? .null : QueryParameters.typed($0) }
        }
    }

    public enum Source: Equatable {
        case shipped
        case file(String)

        public var description: String {
            switch self {
            case .shipped: return "shipped"
            case .file(let path): return path
            }
        }
    }

    public let name: String
    public let summary: String
    public let parameters: [Parameter]
    /// The header's other comment lines, without their `-- `.
    public let documentation: [String]
    /// The whole file: header and SQL (what runs, and what `--show` prints).
    public let sql: String
    public let source: Source

    /// Parses and checks the file `text` of query `name`. Throws a one-line refusal that names
    /// the file and what to change.
    public init(name: String, text: String, source: Source) throws {
        let file = source == .shipped ? "queries/\(name).sql" : source.description
        func refuse(_ message: String) -> QueryError { QueryError("\(file): \(message)") }
        // Any line end (a file saved with CRLF reads the same: "\r\n" is one Character).
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        let header = lines.prefix { $0.hasPrefix("--") }.map { $0.dropFirst(2).trimmingCharacters(in: .whitespaces) }
        guard let first = header.first, let colon = first.firstIndex(of: ":"),
              first[..<colon].trimmingCharacters(in: .whitespaces) == name else {
            throw refuse("the first line must be '-- \(name): what the query shows'")
        }
        summary = first[first.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        guard !summary.isEmpty else { throw refuse("the first line must be '-- \(name): what the query shows' (the description is empty)") }

        var parameters: [Parameter] = [], documentation: [String] = []
        for line in header.dropFirst() {
            guard line.hasPrefix("param ") else { documentation.append(line); continue }
            let declaration = line.dropFirst(6)
            guard let colon = declaration.firstIndex(of: ":") else {
                throw refuse("'-- \(line)': write '-- param NAME: description (default: VALUE)'")
            }
            let parameterName = declaration[..<colon].trimmingCharacters(in: .whitespaces)
            guard QueryParameters.isName(parameterName) else { throw refuse("'-- \(line)': '\(parameterName)' is not a parameter name") }
            guard !parameters.contains(where: { $0.name == parameterName }) else { throw refuse("param \(parameterName) is declared twice") }
            var description = declaration[declaration.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            var defaultText: String?
            if description.hasSuffix(")"), let open = description.range(of: "(default:", options: .backwards) {
                defaultText = description[open.upperBound..<description.index(before: description.endIndex)].trimmingCharacters(in: .whitespaces)
                description = description[..<open.lowerBound].trimmingCharacters(in: .whitespaces)
            }
            parameters.append(Parameter(name: parameterName, summary: description, defaultText: defaultText))
        }

        let scan = SQLText.scan(text)
        if let positional = scan.positional.first {
            throw refuse("positional parameter \(positional): name it (:NAME) and declare it ('-- param NAME: …')")
        }
        guard scan.statements >= 1 else { throw refuse("holds no SQL statement") }
        guard scan.statements == 1 else { throw refuse("holds \(scan.statements) statements; a named query is one statement") }
        for used in scan.named where !parameters.contains(where: { $0.name == used }) {
            throw refuse("the SQL uses :\(used), which the header does not declare (add '-- param \(used): description')")
        }
        for declared in parameters where !scan.named.contains(declared.name) {
            throw refuse("the header declares param \(declared.name), which the SQL does not use")
        }
        self.name = name
        self.parameters = parameters
        self.documentation = documentation
        self.sql = text
        self.source = source
    }

    /// The values to bind for `arguments` (`--param` pairs), defaults filled in, in header order.
    ///
    ///     try query.bindings([("run", "7")])   // [run ← 7, key ← 'test_mse']
    public func bindings(_ arguments: [(name: String, value: String)]) throws -> [QueryBinding] {
        let declared = parameters.map(\.name)
        for argument in arguments where !declared.contains(argument.name) {
            let hint = nearestName(to: argument.name, in: declared).map { "; did you mean \($0)?" } ?? ""
            let list = declared.isEmpty ? "it takes no parameters" : "its parameters: \(signature)"
            throw QueryError("query \(name): no parameter '\(argument.name)' (\(list))\(hint)")
        }
        return try parameters.map { parameter in
            if let given = arguments.first(where: { $0.name == parameter.name }) {
                return QueryBinding(name: parameter.name, value: QueryParameters.typed(given.value))
            }
            guard let value = parameter.defaultValue else {
                throw QueryError("query \(name): parameter \(parameter.name) is required: --param \(parameter.name)=VALUE (\(parameter.summary))")
            }
            return QueryBinding(name: parameter.name, value: value)
        }
    }

    /// `run, key=test_mse`: the parameters, each with its default.
    public var signature: String {
        parameters.map { p in p.defaultText.map { "\(p.name)=\($0)" } ?? p.name }.joined(separator: ", ")
    }
}

/// The named queries a command can run: the shipped ones, overridden by same-named files in
/// the user's directories (`--queries DIR`, then `$TLENS_QUERIES`, a colon-separated list; the
/// first directory that has a name wins).
///
///     let library = try QueryLibrary(directories: QueryLibrary.directories(options: [], environment: nil))
///     let query = try library.query(named: "final_metrics")
public struct QueryLibrary {
    /// Every loadable query, by name, in name order.
    public private(set) var queries: [NamedQuery] = []
    /// Names a user file overrides a shipped query for.
    public private(set) var overridden: Set<String> = []
    /// Files that were refused: name → the one-line reason.
    public private(set) var problems: [String: String] = [:]

    /// The directories to search: `--queries` options in order, then `$TLENS_QUERIES`'s entries.
    public static func directories(options: [String], environment: String?) -> [String] {
        options + (environment ?? "").split(separator: ":").map(String.init).filter { !$0.isEmpty }
    }

    public init(directories: [String]) throws {
        var byName: [String: NamedQuery] = [:]
        for directory in directories {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw QueryError("\(directory): no such directory of queries (from --queries or TLENS_QUERIES)")
            }
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".sql") }.sorted()
            for file in files {
                let name = String(file.dropLast(4))
                guard byName[name] == nil, problems[name] == nil else { continue }
                let path = (directory as NSString).appendingPathComponent(file)
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    problems[name] = "\(path): cannot read it as UTF-8 text"
                    continue
                }
                do { byName[name] = try NamedQuery(name: name, text: text, source: .file(path)) } catch { problems[name] = "\(error)" }
            }
        }
        for (name, text) in EmbeddedSQL.queries {
            if byName[name] != nil || problems[name] != nil { overridden.insert(name); continue }
            do { byName[name] = try NamedQuery(name: name, text: text, source: .shipped) } catch { problems[name] = "\(error)" }
        }
        queries = byName.values.sorted { $0.name < $1.name }
    }

    /// The query called `name`, or a refusal: its file's problem, or the nearest name there is.
    public func query(named name: String) throws -> NamedQuery {
        if let query = queries.first(where: { $0.name == name }) { return query }
        if let problem = problems[name] { throw QueryError(problem) }
        let names = queries.map(\.name)
        let hint = nearestName(to: name, in: names).map { "; did you mean \($0)?" } ?? "; tlens query --list shows them"
        throw QueryError("no named query '\(RunReference.display(name))'\(hint)")
    }

    /// The shipped query `name` (what `tlens demo` runs), ignoring user directories.
    public static func shipped(_ name: String) throws -> NamedQuery {
        guard let text = EmbeddedSQL.queries.first(where: { $0.name == name })?.sql else { throw QueryError("no shipped query \(name)") }
        return try NamedQuery(name: name, text: text, source: .shipped)
    }

    /// `tlens query --list`: name, parameters (with defaults), source, description.
    public func listing() -> ResultTable {
        var table = ResultTable(columns: ["name", "params", "source", "description"])
        for query in queries {
            var source = query.source.description
            if overridden.contains(query.name) { source += " (overrides shipped)" }
            table.rows.append([.text(query.name), .text(query.signature), .text(source), .text(query.summary)])
        }
        return table
    }
}
