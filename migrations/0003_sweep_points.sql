-- tlens schema v3: the points of a sweep and which worker holds each (docs/schema.md, "sweeps").
-- A point is claimed atomically by one worker process (claimed_by = 'host:pid'); its run row,
-- created by that worker, is linked in the same transaction that creates it, so a point never
-- gets two runs.
CREATE TABLE sweep_points (
    sweep_id     INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
    point        INTEGER NOT NULL,      -- position in the spec's expansion order (1-based)
    name         TEXT NOT NULL,         -- also the run's name
    config_json  TEXT NOT NULL,         -- the point's config before defaults are resolved
    axes_json    TEXT NOT NULL,         -- {"model.hidden": [8], "optimizer.lr": 0.01, "seed": 0}
    run_id       INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    claimed_by   TEXT,
    claimed_at   REAL,
    PRIMARY KEY (sweep_id, name)
) WITHOUT ROWID;
CREATE INDEX sweep_points_by_run ON sweep_points(run_id);
