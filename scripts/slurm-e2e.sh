#!/usr/bin/env bash
# End to end on a real (single-node) Slurm: a small sweep as a 3-task array with the documented
# array script, one task requeued while it trains, the merge as a dependent job, and the merged
# database compared with the same sweep run unsharded. Brings the cluster up and down itself.
#
#   scripts/slurm-e2e.sh [TLENS]      (default .build/debug/tlens)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
tlens=$(realpath "${1:-.build/debug/tlens}")
work=$(mktemp -d /tmp/tlens-slurm-e2e.XXXXXX)
state=$work/slurm
started=$(date +%s.%N)
stamp() { printf '%s %6.1f s  %s\n' "slurm-e2e:" "$(awk "BEGIN { print $(date +%s.%N) - $started }")" "$*"; }
cleanup() { bash "$repo/scripts/slurm-local.sh" down "$state"; rm -rf "$work"; }
trap cleanup EXIT

bash scripts/slurm-local.sh up "$state" >/dev/null
export SLURM_CONF=$state/slurm.conf
stamp "cluster up"

cat > "$work/sweep.yaml" <<SPEC
name: e2e
base: {preset: digits-3v5}
set: {steps: 400, lens.every: 20, lens.reference: 32, data.n_train: 120, checkpoint.every: 50, threads: 1}
grid:
  optimizer.lr: [0.005, 0.01, 0.02]
seeds: [0, 1]
SPEC
results=$work/results
mkdir -p "$results"
cd "$work"
job=$(sbatch --parsable --array=1-3 "$repo/scripts/sweep-array.sbatch" "$work/sweep.yaml" "$results" "$tlens")
stamp "submitted array job $job"

# Requeue task 2 once its run has a checkpoint beyond step 0 (it is then mid-run).
scratch2=/tmp/tlens-$job-2/shard.sqlite
for _ in $(seq 600); do
  if [ -f "$scratch2" ] && [ "$(sqlite3 "$scratch2" 'SELECT count(*) FROM checkpoints WHERE step > 0' 2>/dev/null || echo 0)" -gt 0 ]; then break; fi
  sleep 0.1
done
[ -f "$scratch2" ] || { echo "slurm-e2e: task 2 never started" >&2; exit 1; }
scontrol requeue "${job}_2"
stamp "requeued task 2"
for _ in $(seq 600); do
  # A requeued task waits about two minutes unless its start time is reset.
  scontrol update jobid="${job}_2" StartTime=now >/dev/null 2>&1 || true
  [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
  sleep 0.2
done
[ -z "$(squeue -h -j "$job")" ] || { echo "slurm-e2e: the array did not finish" >&2; squeue; exit 1; }
stamp "array done"
for i in 1 2 3; do [ -f "$results/shard-$i.sqlite" ] || { echo "slurm-e2e: no shard $i" >&2; cat tlens-sweep-*.out >&2; exit 1; }; done
resumed=$(sqlite3 "$results/shard-2.sqlite" "SELECT count(*) FROM events WHERE kind = 'resumed'")
[ "$resumed" -ge 1 ] || { echo "slurm-e2e: the requeued task did not resume its run" >&2; exit 1; }
stamp "task 2 resumed $resumed run(s) from their checkpoints"

merge=$(sbatch --parsable --wait --dependency=afterok:"$job" --output=merge.out \
        --wrap "$tlens merge $results/shard-1.sqlite $results/shard-2.sqlite $results/shard-3.sqlite --into $results/sweep.sqlite")
stamp "merge job $merge done: $(cat merge.out)"

"$tlens" sweep "$work/sweep.yaml" --db "$work/whole.sqlite" --quiet
stamp "unsharded sweep done"
python3 - "$results/sweep.sqlite" "$work/whole.sqlite" <<'PY'
import sqlite3, struct, sys
def records(path):
    c = sqlite3.connect(path)
    out = {}
    for name, key, step, value in c.execute("SELECT r.name, k.name, m.step, m.value FROM metrics m JOIN metric_keys k ON k.id = m.key_id JOIN runs r ON r.id = m.run_id"):
        out[(name, key, step)] = struct.pack('<d', value) if value is not None else b'nan'
    for name, kind, split, step, data in c.execute("SELECT r.name, v.kind, v.split, v.step, v.data FROM vectors v JOIN runs r ON r.id = v.run_id"):
        out[(name, kind, split, step)] = bytes(data)
    statuses = sorted(s for (s,) in c.execute("SELECT status FROM runs"))
    return out, statuses
merged, ms = records(sys.argv[1]); whole, ws = records(sys.argv[2])
if ms != ["completed"] * 6 or ws != ms:
    sys.exit(f"slurm-e2e: run statuses differ: merged {ms}, unsharded {ws}")
diff = [k for k in set(merged) | set(whole) if merged.get(k) != whole.get(k)]
if diff:
    sys.exit(f"slurm-e2e: {len(diff)} records differ between the merged shards and the unsharded sweep, e.g. {sorted(diff)[:3]}")
print(f"slurm-e2e: merged shards equal the unsharded sweep: {len(merged)} records of 6 runs, bit for bit")
PY
stamp "passed"
