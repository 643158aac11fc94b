import CSQLite

/// One request SQLite puts to an authorizer while it compiles a statement
/// (https://sqlite.org/c3ref/set_authorizer.html): the action code, named as in SQLite's
/// documentation, and its up to four string arguments.
///
///     // SQLITE_READ: first = table, second = column, database = "main", trigger = inner-most view or trigger
///     if action.code == AuthorizerAction.SQLITE_READ { tables.insert(action.first ?? "") }
public struct AuthorizerAction: Sendable, Equatable {
    public let code: Int32
    public let first: String?
    public let second: String?
    /// The database the action concerns ("main", "temp", an attached name), when it has one.
    public let database: String?
    /// The inner-most trigger or view responsible for the access, when there is one.
    public let trigger: String?

    public static let SQLITE_PRAGMA: Int32 = 19
    public static let SQLITE_READ: Int32 = 20
    public static let SQLITE_SELECT: Int32 = 21
    public static let SQLITE_TRANSACTION: Int32 = 22
    public static let SQLITE_ATTACH: Int32 = 24
    public static let SQLITE_DETACH: Int32 = 25
    public static let SQLITE_FUNCTION: Int32 = 31
    public static let SQLITE_SAVEPOINT: Int32 = 32
}

/// An authorizer's answer: SQLITE_OK, SQLITE_IGNORE (a read gives NULL) or SQLITE_DENY (the
/// statement fails to compile with "not authorized").
public enum AuthorizerDecision: Sendable {
    case allow, ignore, deny
}

extension Database {
    /// Runs `body` with `authorize` consulted for every action of every statement compiled
    /// meanwhile, then removes it. SQLite consults an authorizer only while compiling, so this
    /// sees what `prepare`, `execute` and `forEachStatement` compile inside `body` (and a
    /// recompile of such a statement after a schema change inside `body`).
    ///
    ///     var tables = Set<String>()
    ///     let select = try db.withAuthorizer({ action in
    ///         if action.code == AuthorizerAction.SQLITE_READ, let table = action.first { tables.insert(table) }
    ///         return .allow
    ///     }) { try db.prepare("SELECT value FROM metrics_named") }   // tables: metrics, metric_keys
    public func withAuthorizer<T>(_ authorize: @escaping (AuthorizerAction) -> AuthorizerDecision,
                                  _ body: () throws -> T) rethrows -> T {
        let box = AuthorizerBox(authorize)
        let context = Unmanaged.passRetained(box)
        sqlite3_set_authorizer(handle, { context, code, a, b, c, d in
            guard let context else { return SQLITE_OK }
            let box = Unmanaged<AuthorizerBox>.fromOpaque(context).takeUnretainedValue()
            let action = AuthorizerAction(code: code, first: a.map { String(cString: $0) }, second: b.map { String(cString: $0) },
                                          database: c.map { String(cString: $0) }, trigger: d.map { String(cString: $0) })
            switch box.authorize(action) {
            case .allow: return SQLITE_OK
            case .ignore: return SQLITE_IGNORE
            case .deny: return SQLITE_DENY
            }
        }, context.toOpaque())
        defer {
            sqlite3_set_authorizer(handle, nil, nil)
            context.release()
        }
        return try body()
    }
}

/// The authorizer closure, handed to SQLite's C callback as its context pointer.
private final class AuthorizerBox {
    let authorize: (AuthorizerAction) -> AuthorizerDecision
    init(_ authorize: @escaping (AuthorizerAction) -> AuthorizerDecision) { self.authorize = authorize }
}
