-- kernel_weight_norm_by_irregularity: final test-point kernel weight norms per value of a sweep axis (by default the share of irregular test points)
-- param sweep: the sweep's name (sweeps.name)
-- param axis: the config path to group by (run_params.key) (default: data.irregular_fraction)
-- The default axis is the tabular generator's data.irregular_fraction (the share of test points
-- pushed far out along a heavy-tailed direction, docs/lens.md §10); any config path works.
-- Each run contributes the last recorded kwn_max_test and kwn_mean_test (docs/metrics.md, (6.2))
-- and their ratio; a group's figures are means over its runs (seeds and any other axis).
-- Columns: axis, value (as stored in run_params), runs, kwn_max_test, kwn_mean_test,
-- max_over_mean (the mean over runs of kwn_max_test / kwn_mean_test).
WITH selected AS (
    SELECT r.id AS run_id, p.value AS value,
           coalesce(p.value_num, CAST(trim(p.value, '[] ') AS REAL)) AS position
    FROM runs AS r
    JOIN sweeps AS s ON s.id = r.sweep_id
    JOIN run_params AS p ON p.run_id = r.id AND p.key = :axis
    WHERE s.name = :sweep
),
finals AS (
    SELECT sel.*,
        (SELECT m.value FROM metrics AS m JOIN metric_keys AS k ON k.id = m.key_id
         WHERE m.run_id = sel.run_id AND k.name = 'kwn_max_test' ORDER BY m.step DESC LIMIT 1) AS kwn_max,
        (SELECT m.value FROM metrics AS m JOIN metric_keys AS k ON k.id = m.key_id
         WHERE m.run_id = sel.run_id AND k.name = 'kwn_mean_test' ORDER BY m.step DESC LIMIT 1) AS kwn_mean
    FROM selected AS sel
)
SELECT :axis AS axis, value, count(*) AS runs,
       avg(kwn_max) AS kwn_max_test, avg(kwn_mean) AS kwn_mean_test,
       avg(CASE WHEN kwn_mean <> 0 THEN kwn_max / kwn_mean END) AS max_over_mean
FROM finals
GROUP BY value
ORDER BY min(position), value;
