-- double_descent: final test and train MSE and effective parameters per value of one sweep axis, averaged over seeds
-- param sweep: the sweep's name (sweeps.name)
-- param axis: the config path to group by (run_params.key) (default: model.hidden)
-- Each run contributes the last recorded value of test_mse, train_mse, p_train and p_test; a
-- group's figure is the mean over its runs (every seed, and every value of any other axis) that
-- recorded the key (a NaN final value, stored as NULL, is left out). Groups are ordered by the
-- axis value as a number ("[64]" reads as 64).
-- Columns: axis, value (as stored in run_params), runs, test_mse, train_mse, p_train, p_test.
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
         WHERE m.run_id = sel.run_id AND k.name = 'test_mse' ORDER BY m.step DESC LIMIT 1) AS test_mse,
        (SELECT m.value FROM metrics AS m JOIN metric_keys AS k ON k.id = m.key_id
         WHERE m.run_id = sel.run_id AND k.name = 'train_mse' ORDER BY m.step DESC LIMIT 1) AS train_mse,
        (SELECT m.value FROM metrics AS m JOIN metric_keys AS k ON k.id = m.key_id
         WHERE m.run_id = sel.run_id AND k.name = 'p_train' ORDER BY m.step DESC LIMIT 1) AS p_train,
        (SELECT m.value FROM metrics AS m JOIN metric_keys AS k ON k.id = m.key_id
         WHERE m.run_id = sel.run_id AND k.name = 'p_test' ORDER BY m.step DESC LIMIT 1) AS p_test
    FROM selected AS sel
)
SELECT :axis AS axis, value, count(*) AS runs,
       avg(test_mse) AS test_mse, avg(train_mse) AS train_mse, avg(p_train) AS p_train, avg(p_test) AS p_test
FROM finals
GROUP BY value
ORDER BY min(position), value;
