#!/usr/bin/env bash
# Ranks against time and nodes for relufit-mpi (issue 14): each instance
# solved with -np 1, then each other rank count, one run at a time; prints a
# table of rank 0's wall time (after MPI start-up), the CPU time of the
# whole job (mpirun and its ranks, user + system), the largest search CPU
# time of one rank (the critical path when every rank has a core of its own:
# on a machine shared with other work the wall time mostly measures the
# others), the sums over instances, both speed-ups against -np 1, and the
# total nodes over all ranks against -np 1's. Every answer is checked by relufit-mpi itself (the checker runs
# before it prints).
#
#   bench/distributed_scaling.sh [--build-dir DIR] [--ranks "1 2 8"] INSTANCE.json...
#
# Search-bound instances: python3 bench/run_bench.py --generate-only
# --grid 80x2x4x1 --seed S --no-shared --out /tmp/xS (the narrowed_* file).
set -euo pipefail
BUILD=$(cd "$(dirname "$0")/.." && pwd)/build
RANKS="1 2 8"
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) BUILD=$2; shift 2 ;;
    --ranks) RANKS=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "usage: $0 [--build-dir DIR] [--ranks \"1 2 8\"] INSTANCE.json..." >&2; exit 2; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
declare -A wall nodes cpu crit
printf '%-40s %5s %8s %7s %10s %10s %s\n' instance ranks wall_s cpu_s max_rank_s nodes verdict
for f in "$@"; do
  for np in $RANKS; do
    out=$(/usr/bin/time -f 'cpu %U %S' -o "$tmp" \
          mpirun --oversubscribe --allow-run-as-root -np "$np" "$BUILD/bin/relufit-mpi" "$f" \
          --heuristic-seconds 0)
    c=$(awk '/^cpu/ {print $2 + $3}' "$tmp")
    m=$(sed -n 's/.*search CPU s per rank:\([0-9. ]*\),.*/\1/p' <<< "$out" | tr ' ' '\n' | sort -g | tail -1)
    v=$(sed -n 's/^verdict: //p' <<< "$out")
    w=$(sed -n 's/^statistics: .* wall \([0-9.]*\) s.*/\1/p' <<< "$out")
    n=$(sed -n 's/^statistics: \([0-9]*\) nodes.*/\1/p' <<< "$out")
    printf '%-40s %5s %8s %7s %10s %10s %s\n' "$(basename "$f" .json)" "$np" "$w" "$c" "$m" "$n" "$v"
    crit[$np]=$(echo "${crit[$np]:-0} + $m" | bc -l)
    wall[$np]=$(echo "${wall[$np]:-0} + $w" | bc -l)
    cpu[$np]=$(echo "${cpu[$np]:-0} + $c" | bc -l)
    nodes[$np]=$(( ${nodes[$np]:-0} + n ))
  done
done
base=$(echo "$RANKS" | awk '{print $1}')
echo
printf '%5s %10s %8s %10s %14s %12s %12s %10s\n' ranks sum_wall_s speedup sum_cpu_s sum_max_rank_s rank_speedup sum_nodes nodes_ratio
for np in $RANKS; do
  printf '%5s %10.3f %8.2f %10.2f %14.3f %12.2f %12s %10.3f\n' "$np" "${wall[$np]}" \
    "$(echo "${wall[$base]} / ${wall[$np]}" | bc -l)" "${cpu[$np]}" "${crit[$np]}" \
    "$(echo "${crit[$base]} / ${crit[$np]}" | bc -l)" "${nodes[$np]}" \
    "$(echo "${nodes[$np]} / ${nodes[$base]}" | bc -l)"
done
