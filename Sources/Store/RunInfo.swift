/// What a run records about itself when it starts (the `runs` and `run_params` rows).
///
///     let info = RunInfo(name: "mlp-256", configJSON: #"{"steps": 5000}"#, seed: 0,
///                        codeVersion: "git:abc123", host: "box", dataFingerprint: "sha256:…",
///                        params: [("optimizer.lr", "0.05")])
public struct RunInfo {
    public var name: String?
    /// Sweep name; the sweep row is created on first use.
    public var sweep: String?
    /// The sweep point this run trains (`sweep_points.name`): linked in the transaction that
    /// creates the run, which refuses if the point already has one.
    public var sweepPoint: String?
    /// The run this one was resumed or derived from.
    public var parentRunID: Int64?
    /// The full configuration with every default resolved (must be valid JSON).
    public var configJSON: String
    /// Stored as the INTEGER with the same 64-bit pattern (seeds ≥ 2^63 read back negative in SQL).
    public var seed: UInt64
    public var codeVersion: String
    public var host: String
    public var dataFingerprint: String
    /// Flattened parameters ("optimizer.lr" → "0.05"); numeric values also land in `value_num`.
    public var params: [(String, String)]

    public init(name: String? = nil, sweep: String? = nil, parentRunID: Int64? = nil, configJSON: String,
                seed: UInt64, codeVersion: String, host: String, dataFingerprint: String,
                params: [(String, String)] = []) {
        self.name = name
        self.sweep = sweep
        self.parentRunID = parentRunID
        self.configJSON = configJSON
        self.seed = seed
        self.codeVersion = codeVersion
        self.host = host
        self.dataFingerprint = dataFingerprint
        self.params = params
    }
}

/// The status a run records (`runs.status`).
///
///     try run.finish(status: .completed, error: nil)
public enum RunStatus: String, CaseIterable, Sendable {
    case running, completed, failed, diverged, interrupted
}

/// The status a reader should show: the recorded status, except that a `running` run whose
/// heartbeat is stale is `crashed` (its process died without finishing it). The rule and its
/// threshold are defined once, by the view `runs_view`; `Database.runs()` reads them from it.
public enum EffectiveRunStatus: String, CaseIterable, Sendable {
    case running, completed, failed, diverged, interrupted, crashed
}

/// An interned scalar metric name (`metric_keys.id`). Obtain once, outside the step loop.
///
///     let loss = try run.metricKey("train_loss")
///     for step in 0..<steps { try run.log(loss, step: step, value: batchLoss) }
public struct MetricKey: Hashable, Sendable {
    public let id: Int64
    public let name: String
}
