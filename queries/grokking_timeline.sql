-- grokking_timeline: when a run first fits its training set, when it first generalizes, and its effective parameters then and at the end
-- param run: the run's id (runs.id)
-- param train_threshold: the train accuracy that counts as fitted (default: 0.99)
-- param test_threshold: the test accuracy that counts as generalizing (default: 0.95)
-- Rows, in this order: the first recorded step with train_acc >= train_threshold, the first with
-- test_acc >= test_threshold, and the run's last step (runs.last_step). A threshold never
-- reached gives its row with step NULL. No rows for a run that does not exist.
-- Columns: event, step, then train_acc, test_acc, p_train and p_test as recorded at that step,
-- or last recorded before it (p is recorded at every lens step, the accuracies too).
WITH event(position, event, step) AS (
    SELECT 1, 'train_acc >= ' || :train_threshold,
           (SELECT min(step) FROM metrics
            WHERE run_id = :run AND key_id = (SELECT id FROM metric_keys WHERE name = 'train_acc')
              AND value >= :train_threshold)
    UNION ALL
    SELECT 2, 'test_acc >= ' || :test_threshold,
           (SELECT min(step) FROM metrics
            WHERE run_id = :run AND key_id = (SELECT id FROM metric_keys WHERE name = 'test_acc')
              AND value >= :test_threshold)
    UNION ALL
    SELECT 3, 'end', (SELECT last_step FROM runs WHERE id = :run)
),
-- The value of a key at step e.step, or the last one recorded before it: one index lookup.
at_event AS (
    SELECT e.position, e.event, e.step, k.name AS key,
           (SELECT m.value FROM metrics AS m WHERE m.run_id = :run AND m.key_id = k.id AND m.step <= e.step
            ORDER BY m.step DESC LIMIT 1) AS value
    FROM event AS e CROSS JOIN metric_keys AS k
    WHERE k.name IN ('train_acc', 'test_acc', 'p_train', 'p_test')
)
SELECT e.event AS event, e.step AS step,
       (SELECT value FROM at_event AS a WHERE a.position = e.position AND a.key = 'train_acc') AS train_acc,
       (SELECT value FROM at_event AS a WHERE a.position = e.position AND a.key = 'test_acc') AS test_acc,
       (SELECT value FROM at_event AS a WHERE a.position = e.position AND a.key = 'p_train') AS p_train,
       (SELECT value FROM at_event AS a WHERE a.position = e.position AND a.key = 'p_test') AS p_test
FROM event AS e
WHERE EXISTS (SELECT 1 FROM runs WHERE id = :run)
ORDER BY e.position;
