#!/usr/bin/env bash
# Brings up a one-node Slurm cluster on this machine (Debian's slurm-wlm and
# munge, as root), runs one relufit solve through it as a job array of
# shards, merges and verifies the result, and stops the daemons it started.
#
#   deploy/slurm/local-cluster.sh [REQUEST.json] [SHARDS]
#
# Defaults: tests/data/narrowed_n80_d2_m4_k1_s1_w3.json and 8 shards. Uses
# build/bin (BUILD_DIR to change). Everything Slurm writes (configuration,
# state, logs) goes to a scratch directory; only munge's key
# (/etc/munge/munge.key, made if missing) and socket are the system's.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
REQUEST=${1:-$ROOT/tests/data/narrowed_n80_d2_m4_k1_s1_w3.json}
SHARDS=${2:-8}
BIN=${BUILD_DIR:-$ROOT/build}/bin
[ "$(id -u)" -eq 0 ] || { echo "run as root (slurmd and munged need it)" >&2; exit 2; }
for pkg in slurm-wlm munge; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge
done

WORK=$(mktemp -d /tmp/relufit-slurm.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "stopped the daemons started here; logs and plan kept in $WORK"
}
trap cleanup EXIT

# munge: the key, then the daemon unless one already answers.
[ -f /etc/munge/munge.key ] || mungekey -c
if ! munge -n > /dev/null 2>&1; then
  mkdir -p /run/munge && chown munge:munge /run/munge 2>/dev/null || true
  munged --foreground --force > "$WORK/munged.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 50); do munge -n > /dev/null 2>&1 && break; sleep 0.1; done
fi
munge -n | unmunge > /dev/null || { echo "munge does not work" >&2; exit 1; }

CPUS=$(nproc)
mkdir -p "$WORK/state" "$WORK/spool"
export SLURM_CONF=$WORK/slurm.conf
cat > "$SLURM_CONF" <<CONF
ClusterName=relufit
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/slurmctld.log
SlurmdLogFile=$WORK/slurmd.log
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
NodeName=localhost CPUs=$CPUS RealMemory=1000 State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -D -f "$SLURM_CONF" > "$WORK/slurmctld.out" 2>&1 &
PIDS+=($!)
slurmd -D -N localhost -f "$SLURM_CONF" > "$WORK/slurmd.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
  sinfo -h -o '%T' 2>/dev/null | grep -q idle && break
  sleep 0.2
done
echo "== sinfo"
sinfo

echo "== plan"
"$BIN/relufit-shard" plan "$REQUEST" --shards "$SHARDS" --dir "$WORK/plan" --heuristic-seconds 0
n=$(ls "$WORK"/plan/shard-*.json 2>/dev/null | wc -l)
if [ "$n" -gt 0 ]; then
  echo "== sbatch --array=0-$((n - 1)) (waiting for the array)"
  start=$(date +%s.%N)
  sbatch --wait --array=0-$((n - 1)) --chdir "$WORK" -o "$WORK/shard-%a.out" \
    --export=ALL,PLAN_DIR="$WORK/plan",RELUFIT_SHARD="$BIN/relufit-shard" \
    "$ROOT/deploy/slurm/relufit-shards.sbatch"
  echo "array done in $(echo "$(date +%s.%N) - $start" | bc) s; task outputs:"
  cat "$WORK"/shard-*.out | sort -t' ' -k2n
fi
echo "== merge"
"$BIN/relufit-shard" merge "$WORK/plan"
"$BIN/relufit-shard" merge "$WORK/plan" --json > "$WORK/response.json"
echo "== relufit verify"
"$BIN/relufit" verify "$REQUEST" "$WORK/response.json"
