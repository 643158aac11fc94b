-- final_metrics: the last recorded value of every scalar key of one run
-- param run: the run's id (runs.id)
-- Columns: key, step (the key's last recorded step), value (NULL for NaN). One index lookup
-- per key (CROSS JOIN keeps metric_keys the outer loop). tlens demo prints its summary from it.
SELECT k.name AS key, m.step AS step, m.value AS value
FROM metric_keys AS k CROSS JOIN metrics AS m ON m.run_id = :run AND m.key_id = k.id
 AND m.step = (SELECT max(step) FROM metrics WHERE run_id = :run AND key_id = k.id)
ORDER BY k.name;
