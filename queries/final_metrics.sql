-- final_metrics: the last recorded value of every scalar key of one run.
-- Parameters: ?1 = runs.id.
-- Columns: key, step, value.
SELECT k.name AS key, m.step AS step, m.value AS value
FROM metrics AS m
JOIN metric_keys AS k ON k.id = m.key_id
WHERE m.run_id = ?1
  AND m.step = (SELECT max(step) FROM metrics WHERE run_id = m.run_id AND key_id = m.key_id)
ORDER BY k.name;
