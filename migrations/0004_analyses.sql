-- tlens schema v4: saved analyses (docs/queries.md, "Saved analyses"). `tlens query|compare|sql
-- --save` stores what it ran, with what, what it gave and a fingerprint of what it read, so
-- `tlens rerun` can run it again and say what changed. The only rows a read command writes.
CREATE TABLE analyses (
    id                  INTEGER PRIMARY KEY,
    label               TEXT UNIQUE,                  -- optional name for tlens rerun (never all digits)
    kind                TEXT NOT NULL CHECK (kind IN ('query', 'compare', 'sql')),
    name                TEXT NOT NULL,                -- the named query, the compare arguments, or the SQL's first line
    query               TEXT NOT NULL,                -- the SQL as run, or the ComparisonRequest JSON (compare)
    params_json         TEXT NOT NULL,                -- [{"name": "run", "value": {"i": 7}}, …] as bound
    result_json         TEXT NOT NULL,                -- {"columns": […], "rows": [[{"i": 1}, {"r": 0.5}, {"t": "x"}, null], …]}
    result_rows         INTEGER NOT NULL,
    tlens_version       TEXT NOT NULL,
    created_at          REAL NOT NULL,
    input_fingerprint   TEXT NOT NULL,                -- SHA-256 of inputs_json's parts
    inputs_json         TEXT NOT NULL,                -- per table read: {"table", "runs", "rows", "digest"}
    result_fingerprint  TEXT NOT NULL                 -- SHA-256 of the result, cell by cell
);
