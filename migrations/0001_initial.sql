-- tlens schema v1. docs/schema.md documents every table and column.
-- Times are REAL seconds since the Unix epoch (UTC); read them with datetime(x, 'unixepoch').
-- JSON columns are checked by tlens before insertion (json_valid() is not allowed in CHECK
-- constraints with trusted_schema=OFF on SQLite 3.40).
-- Blobs of numbers are little-endian: float32 for vectors and parameters, int32 for row ids.

CREATE TABLE sweeps (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    spec_json   TEXT,
    created_at  REAL NOT NULL
);

CREATE TABLE runs (
    id                INTEGER PRIMARY KEY,
    uuid              TEXT NOT NULL UNIQUE,
    name              TEXT,
    sweep_id          INTEGER REFERENCES sweeps(id) ON DELETE SET NULL,
    parent_run_id     INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    config_json       TEXT NOT NULL,
    seed              INTEGER NOT NULL,
    status            TEXT NOT NULL DEFAULT 'running'
                      CHECK (status IN ('running', 'completed', 'failed', 'diverged', 'interrupted')),
    created_at        REAL NOT NULL,
    started_at        REAL,
    finished_at       REAL,
    heartbeat_at      REAL,
    last_step         INTEGER,
    code_version      TEXT NOT NULL,
    host              TEXT NOT NULL,
    data_fingerprint  TEXT NOT NULL,
    error             TEXT
);
CREATE INDEX runs_by_sweep ON runs(sweep_id);
CREATE INDEX runs_by_parent ON runs(parent_run_id);

-- Flattened config parameters ("optimizer.lr" -> "0.05") for filtering runs in SQL.
CREATE TABLE run_params (
    run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    value      TEXT,
    value_num  REAL,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE INDEX run_params_by_key_num ON run_params(key, value_num);
CREATE INDEX run_params_by_key_text ON run_params(key, value);

CREATE TABLE metric_keys (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL UNIQUE
);

-- One series (run, key) is a contiguous range of the primary key: an index range scan.
-- No FOREIGN KEY clauses here on purpose: the recorder inserts millions of rows a second and a
-- foreign-key check would add two lookups per row; run_id and key_id always come from rows the
-- recorder created in the same database. Deleting a run deletes its metrics by trigger.
CREATE TABLE metrics (
    run_id  INTEGER NOT NULL,
    key_id  INTEGER NOT NULL,
    step    INTEGER NOT NULL,
    value   REAL,
    PRIMARY KEY (run_id, key_id, step)
) WITHOUT ROWID;

-- Per-evaluation-point vectors: data is float32 little-endian, one value per evaluation point,
-- in the order of eval_points.ids for the same (run, split).
CREATE TABLE vectors (
    run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    kind    TEXT NOT NULL,
    split   TEXT NOT NULL,
    step    INTEGER NOT NULL,
    data    BLOB NOT NULL,
    PRIMARY KEY (run_id, kind, split, step)
) WITHOUT ROWID;

-- ids: int32 little-endian dataset row numbers; position i of a vector is dataset row ids[i].
CREATE TABLE eval_points (
    run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    split   TEXT NOT NULL,
    ids     BLOB NOT NULL,
    PRIMARY KEY (run_id, split)
) WITHOUT ROWID;

CREATE TABLE checkpoints (
    id               INTEGER PRIMARY KEY,
    run_id           INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step             INTEGER NOT NULL,
    parameters       BLOB NOT NULL,
    optimizer_state  BLOB,
    created_at       REAL NOT NULL,
    UNIQUE (run_id, step)
);

CREATE TABLE events (
    id       INTEGER PRIMARY KEY,
    run_id   INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step     INTEGER,
    time     REAL NOT NULL,
    kind     TEXT NOT NULL,
    message  TEXT NOT NULL
);
CREATE INDEX events_by_run ON events(run_id, id);

CREATE TRIGGER runs_delete_metrics AFTER DELETE ON runs BEGIN
    DELETE FROM metrics WHERE run_id = OLD.id;
END;

-- Scalars with the key's name, for hand-written SQL.
CREATE VIEW metrics_named AS
    SELECT m.run_id, k.name AS key, m.step, m.value
    FROM metrics m JOIN metric_keys k ON k.id = m.key_id;

-- runs plus effective_status: a 'running' run whose heartbeat is older than 10 s (or missing)
-- is reported as 'crashed' (the writer ticks the heartbeat about once a second).
CREATE VIEW runs_view AS
    SELECT r.*,
           CASE WHEN r.status = 'running'
                 AND (r.heartbeat_at IS NULL
                      OR r.heartbeat_at < (julianday('now') - 2440587.5) * 86400.0 - 10.0)
                THEN 'crashed' ELSE r.status END AS effective_status
    FROM runs r;
