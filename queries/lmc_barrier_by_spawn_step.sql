-- lmc_barrier_by_spawn_step: the weight-averaging (linear mode connectivity) barrier of runs spawned from a parent, grouped by the step they were spawned at
-- param spawn_path: the config path that holds a child run's spawn step (run_params.key) (default: spawn.step)
-- Reads: runs.parent_run_id (a child is a run with a parent: config spawn, docs/lens.md §11),
-- run_params (spawn_path), and the metric key lmc_barrier (its last recorded value per child).
-- Weight averaging records lmc_barrier on child A of each pair only (the smaller
-- spawn.order_seed), so with_barrier counts pairs; groups of children not yet averaged have
-- lmc_barrier NULL, and a database without children returns no rows.
-- A child's spawn step is its spawn_path config value when it has one, else its first recorded
-- step (the smallest step of any of its keys).
-- Columns: spawn_step, children, parents, with_barrier (children that recorded lmc_barrier),
-- lmc_barrier (mean of their final values), lmc_barrier_min, lmc_barrier_max.
WITH child AS (
    SELECT c.id AS run_id, c.parent_run_id AS parent,
           CAST(coalesce(
               (SELECT p.value_num FROM run_params AS p WHERE p.run_id = c.id AND p.key = :spawn_path),
               (SELECT min((SELECT min(m.step) FROM metrics AS m WHERE m.run_id = c.id AND m.key_id = k.id))
                FROM metric_keys AS k)) AS INTEGER) AS spawn_step,
           (SELECT m.value FROM metrics AS m JOIN metric_keys AS k ON k.id = m.key_id
            WHERE m.run_id = c.id AND k.name = 'lmc_barrier' ORDER BY m.step DESC LIMIT 1) AS barrier
    FROM runs AS c
    WHERE c.parent_run_id IS NOT NULL
)
SELECT spawn_step, count(*) AS children, count(DISTINCT parent) AS parents, count(barrier) AS with_barrier,
       avg(barrier) AS lmc_barrier, min(barrier) AS lmc_barrier_min, max(barrier) AS lmc_barrier_max
FROM child
GROUP BY spawn_step
ORDER BY spawn_step;
