-- grokking_timeline: when a run first fits its training set, when it first generalizes, and its effective parameters then and at the end
-- param run: the run's id (runs.id)
-- param train_threshold: the train accuracy that counts as fitted (default: 0.99)
-- param test_threshold: the test accuracy that counts as generalizing (default: 0.95)
-- Rows, in this order: the first recorded step with train_acc >= train_threshold, the first with
-- test_acc >= test_threshold, and the run's last step (runs.last_step). A threshold never
-- reached gives its row with step NULL. No rows for a run that does not exist.
-- Columns: event, step, then train_acc, test_acc, p_train and p_test as recorded at that step,
-- or last recorded before it (p is recorded at every lens step, the accuracies too).
WITH key AS (
    SELECT (SELECT id FROM metric_keys WHERE name = 'train_acc') AS train_acc,
           (SELECT id FROM metric_keys WHERE name = 'test_acc') AS test_acc,
           (SELECT id FROM metric_keys WHERE name = 'p_train') AS p_train,
           (SELECT id FROM metric_keys WHERE name = 'p_test') AS p_test
),
event(position, event, step) AS (
    SELECT 1, 'train_acc >= ' || :train_threshold,
           (SELECT min(m.step) FROM metrics AS m, key
            WHERE m.run_id = :run AND m.key_id = key.train_acc AND m.value >= :train_threshold)
    UNION ALL
    SELECT 2, 'test_acc >= ' || :test_threshold,
           (SELECT min(m.step) FROM metrics AS m, key
            WHERE m.run_id = :run AND m.key_id = key.test_acc AND m.value >= :test_threshold)
    UNION ALL
    SELECT 3, 'end', (SELECT last_step FROM runs WHERE id = :run)
)
SELECT e.event AS event, e.step AS step,
       (SELECT m.value FROM metrics AS m WHERE m.run_id = :run AND m.key_id = key.train_acc AND m.step <= e.step
        ORDER BY m.step DESC LIMIT 1) AS train_acc,
       (SELECT m.value FROM metrics AS m WHERE m.run_id = :run AND m.key_id = key.test_acc AND m.step <= e.step
        ORDER BY m.step DESC LIMIT 1) AS test_acc,
       (SELECT m.value FROM metrics AS m WHERE m.run_id = :run AND m.key_id = key.p_train AND m.step <= e.step
        ORDER BY m.step DESC LIMIT 1) AS p_train,
       (SELECT m.value FROM metrics AS m WHERE m.run_id = :run AND m.key_id = key.p_test AND m.step <= e.step
        ORDER BY m.step DESC LIMIT 1) AS p_test
FROM event AS e, key
WHERE EXISTS (SELECT 1 FROM runs WHERE id = :run)
ORDER BY e.position;
