#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for the end-to-end test of sweeps on Slurm
# (docs/cluster.md). Debian's packages, no systemd: the daemons are started by hand and only the
# ones this script started are stopped, by pid.
#
#   scripts/slurm-local.sh up   [STATE_DIR]   install if missing, start munged, slurmctld, slurmd
#   scripts/slurm-local.sh down [STATE_DIR]   stop what `up` started
#
# After `up`, export SLURM_CONF=STATE_DIR/slurm.conf to use sbatch, squeue, scontrol.
set -euo pipefail
action=${1:?usage: slurm-local.sh up|down [STATE_DIR]}
state=${2:-/tmp/tlens-slurm}

stop_pid_file() {
  local file=$1
  [ -f "$file" ] || return 0
  local pid; pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

if [ "$action" = down ]; then
  stop_pid_file "$state/slurmd.pid"
  stop_pid_file "$state/slurmctld.pid"
  stop_pid_file "$state/munged.pid"
  exit 0
fi
[ "$action" = up ] || { echo "usage: slurm-local.sh up|down [STATE_DIR]" >&2; exit 2; }

missing=""
for p in slurmctld slurmd slurm-client munge; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

mkdir -p "$state/spool" "$state/ctld" "$state/log"
# munge: the key comes with the package; its socket directory belongs to the munge user.
[ -s /etc/munge/munge.key ] || runuser -u munge -- mungekey --create
mkdir -p /run/munge && chown munge:munge /run/munge && chmod 755 /run/munge
if ! { [ -f "$state/munged.pid" ] && kill -0 "$(cat "$state/munged.pid")" 2>/dev/null; }; then
  runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/tlens-munged.pid --force
  for _ in $(seq 50); do [ -f /run/munge/tlens-munged.pid ] && break; sleep 0.1; done
  cp /run/munge/tlens-munged.pid "$state/munged.pid"
fi

host=$(hostname)
node=$(slurmd -C | head -n 1)
cat > "$state/slurm.conf" <<CONF
ClusterName=tlens
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
KillWait=10
$node State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$state/slurm.conf"
/usr/sbin/slurmctld -f "$SLURM_CONF"
/usr/sbin/slurmd -f "$SLURM_CONF"
for _ in $(seq 100); do
  if sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then echo "slurm up: $(sinfo -h -o '%P %D %t')"; exit 0; fi
  sleep 0.1
done
echo "slurm did not come up; logs in $state/log" >&2
exit 1
