-- sweep_table: one row per point of a sweep with its axis values, seed, run and the final value of one key
-- param sweep: the sweep's name (sweeps.name)
-- param key: the metric key whose last recorded value is shown (default: test_mse)
-- Columns: point (1-based position in the spec), run, name, status (runs_view.effective_status),
-- axes ("path=value" pairs from sweep_points.axes_json, seed left out), seed, step (the key's
-- last recorded step) and value. A point not yet run has run, status, step and value NULL.
SELECT p.point AS point, p.run_id AS run, p.name AS name, r.effective_status AS status,
       (SELECT group_concat(a.key || '=' || a.value, ' ') FROM json_each(p.axes_json) AS a
        WHERE a.key <> 'seed') AS axes,
       json_extract(p.axes_json, '$.seed') AS seed,
       m.step AS step, m.value AS value
FROM sweeps AS s
JOIN sweep_points AS p ON p.sweep_id = s.id
LEFT JOIN runs_view AS r ON r.id = p.run_id
LEFT JOIN metric_keys AS k ON k.name = :key
LEFT JOIN metrics AS m ON m.run_id = p.run_id AND m.key_id = k.id
 AND m.step = (SELECT max(step) FROM metrics WHERE run_id = p.run_id AND key_id = k.id)
WHERE s.name = :sweep
ORDER BY p.point;
