-- tlens schema v2: checkpoints hold a run's whole state, so a crashed or interrupted run can be
-- resumed bit-identically (docs/lens.md §11; docs/schema.md, "checkpoints").
-- learner_state and lens_state are versioned blobs ("TLSB" header, kind tag, layout version);
-- both are NULL for the θ_0 row written at step 0, which keeps only `parameters`.
ALTER TABLE checkpoints ADD COLUMN learner_state BLOB;
ALTER TABLE checkpoints ADD COLUMN lens_state BLOB;
-- The process recording a run (with runs.host): a 'running' run whose process no longer exists
-- on this host can be resumed at once, without waiting for its heartbeat to go stale.
ALTER TABLE runs ADD COLUMN pid INTEGER;
