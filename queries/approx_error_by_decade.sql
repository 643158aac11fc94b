-- approx_error_by_decade: telescoped and linearized approximation errors averaged within decades of steps
-- param run: only this run (runs.id) (default: NULL)
-- param sweep: only the runs of this sweep (sweeps.name) (default: NULL)
-- Decades are step 0, steps 1–9, 10–99, 100–999, …; each error is the mean of the values the
-- run recorded in the decade (NaN, stored as NULL, left out). Without run and sweep: every run.
-- Columns: run, decade, first_step, last_step, points (recorded steps in the decade),
-- approx_err_tel, approx_err_lin (docs/metrics.md).
WITH selected AS (
    SELECT r.id AS run_id FROM runs AS r LEFT JOIN sweeps AS s ON s.id = r.sweep_id
    WHERE (:run IS NULL OR r.id = :run) AND (:sweep IS NULL OR s.name = :sweep)
),
recorded AS (
    SELECT m.run_id, m.step, k.name AS key, m.value,
           CASE WHEN m.step <= 0 THEN 0 ELSE length(CAST(m.step AS TEXT)) END AS digits
    -- CROSS JOIN fixes the loop order: the selected runs, their two keys, then one index range
    -- of metrics per (run, key); SQLite would otherwise scan the whole metrics table.
    FROM selected AS sel
    CROSS JOIN metric_keys AS k ON k.name IN ('approx_err_tel', 'approx_err_lin')
    CROSS JOIN metrics AS m ON m.run_id = sel.run_id AND m.key_id = k.id
)
SELECT run_id AS run,
       CASE digits WHEN 0 THEN '0'
            ELSE '1' || substr('000000000000000000', 1, digits - 1) || '–' || substr('9999999999999999999', 1, digits)
       END AS decade,
       min(step) AS first_step, max(step) AS last_step, count(DISTINCT step) AS points,
       avg(CASE key WHEN 'approx_err_tel' THEN value END) AS approx_err_tel,
       avg(CASE key WHEN 'approx_err_lin' THEN value END) AS approx_err_lin
FROM recorded
GROUP BY run_id, digits
ORDER BY run_id, digits;
