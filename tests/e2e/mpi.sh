#!/usr/bin/env bash
# relufit-mpi end to end with Open MPI: golden instances (feasible,
# infeasible, several outputs) on 3 oversubscribed ranks, every merged answer
# checked with `relufit verify`; work really spread over the ranks; a killed
# rank fails the job visibly, and the rerun resumes from its checkpoint to a
# checked proof;
# bad input and a checkpoint of another request are errors.
# Usage: mpi.sh BIN_DIR TESTS_DIR
set -uo pipefail
BIN=$1
TESTS=$2
source "$(dirname "$0")/lib.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPIRUN=(mpirun --oversubscribe --allow-run-as-root)
MPI="$BIN/relufit-mpi"

verdict_of() { sed -n 's/.*"verdict": "VERDICT_\([A-Z]*\)".*/\1/p' "$1" | head -1; }

check_instance() {
  local name=$1 want=$2 np=$3
  local req="$TESTS/golden/$name.json" out="$WORK/$(echo "$name" | tr / _)-np$np"
  if ! timeout 120 "${MPIRUN[@]}" -np "$np" "$MPI" "$req" --json --heuristic-seconds 0 --rank-stats \
      > "$out.json" 2> "$out.err"; then
    fail "$name: relufit-mpi -np $np failed: $(tail -3 "$out.err")"; return
  fi
  local got; got=$(verdict_of "$out.json")
  [ "$got" = "$want" ] || { fail "$name: -np $np verdict $got, expected $want"; return; }
  if "$BIN/relufit" verify "$req" "$out.json" > "$out.verify" 2>&1; then
    pass "$name: -np $np $got, relufit verify accepts it ($(grep -o 'nodes per rank:[0-9 ]*' "$out.err"))"
  else
    fail "$name: relufit verify rejects the merged answer: $(cat "$out.verify")"
  fi
}

check_instance narrowed_n40_d2_m2_k1_s1 INFEASIBLE 3
check_instance planted_n40_d2_m3_k1_s4 FEASIBLE 3
check_instance narrowed_n12_d2_m1_k2_s1 INFEASIBLE 3
check_instance planted_n12_d2_m2_k2_s2 FEASIBLE 3
check_instance pinned_direction_m2_k2 INFEASIBLE 3
check_instance shared/conflict_m3 INFEASIBLE 3
check_instance narrowed_n40_d2_m2_k1_s1 INFEASIBLE 1

# Every rank searched: the nodes of ranks 1 and 2 are not zero.
per_rank=$(grep -o 'nodes per rank:[0-9 ]*' "$WORK/narrowed_n40_d2_m2_k1_s1-np3.err" | cut -d: -f2)
set -- $per_rank
[ "${2:-0}" -gt 0 ] && [ "${3:-0}" -gt 0 ] && pass "work spread over 3 ranks (nodes $per_rank)" ||
  fail "ranks 1 and 2 searched nothing (nodes $per_rank)"

# A rank dies (SIGKILL of one worker mid-run): the job fails and says
# which rank; a rerun with the same checkpoint resumes.
hard="$TESTS/data/narrowed_n80_d2_m4_k1_s1_w3.json"
ck="$WORK/run.checkpoint"
"${MPIRUN[@]}" -np 3 "$MPI" "$hard" --heuristic-seconds 0 --checkpoint "$ck" > "$WORK/killed.out" 2>&1 &
mpirun_pid=$!
# Kill as soon as a few subtrees are recorded (the whole run takes about a second).
for _ in $(seq 1 200); do
  [ "$(cat "$ck" 2>/dev/null | wc -l)" -ge 3 ] && break
  sleep 0.02
done
victim=$(pgrep -P "$mpirun_pid" -f relufit-mpi | tail -1)
[ -n "$victim" ] && kill -KILL "$victim"
wait "$mpirun_pid"; rc=$?
[ $rc -ne 0 ] && grep -q 'exited on signal 9' "$WORK/killed.out" && ! grep -q '^verdict' "$WORK/killed.out" &&
  pass "a killed rank fails the job (exit $rc, $(grep -o 'process rank [0-9]*' "$WORK/killed.out" | head -1) reported), no verdict" ||
  fail "killed rank: exit $rc, $(cat "$WORK/killed.out")"
# And a SIGKILL of the whole job on top (a crash of the launcher).
( timeout -s KILL 0.6 "${MPIRUN[@]}" -np 2 "$MPI" "$hard" --heuristic-seconds 0 --checkpoint "$ck" > /dev/null 2>&1 ) 2> /dev/null
lines=$(wc -l < "$ck")
[ "$lines" -ge 2 ] && pass "the killed runs left $lines checkpoint records" || fail "checkpoint has $lines records"
# A torn last line (the kill may come mid-write) must be ignored as well.
printf '{"fragments":[{"id":"1' >> "$ck"
timeout 120 "${MPIRUN[@]}" -np 2 "$MPI" "$hard" --json --heuristic-seconds 0 --checkpoint "$ck" \
  > "$WORK/resumed.json" 2> "$WORK/resumed.err"
if [ "$(verdict_of "$WORK/resumed.json")" = INFEASIBLE ] && grep -q 'resumed from' "$WORK/resumed.err" &&
   "$BIN/relufit" verify "$hard" "$WORK/resumed.json" > /dev/null 2>&1; then
  pass "rerun resumed ($(grep -o 'resumed from.*' "$WORK/resumed.err" | sed 's|.*: ||')) and its proof verifies"
else
  fail "resume: $(verdict_of "$WORK/resumed.json"), $(cat "$WORK/resumed.err")"
fi

# A time limit: UNKNOWN with the reason.
timeout 60 "${MPIRUN[@]}" -np 2 "$MPI" "$hard" --heuristic-seconds 0 --time-limit 0.5 > "$WORK/limit.txt" 2>&1
grep -q 'verdict: UNKNOWN' "$WORK/limit.txt" && grep -q 'time limit' "$WORK/limit.txt" &&
  pass "time limit: UNKNOWN with the reason" || fail "time limit: $(cat "$WORK/limit.txt")"

# Bad input and a checkpoint of another request: exit status 2, a message.
timeout 60 "${MPIRUN[@]}" -np 2 "$MPI" "$WORK/none.json" > /dev/null 2> "$WORK/bad.err"; rc=$?
[ $rc -ne 0 ] && grep -q 'cannot read' "$WORK/bad.err" && pass "missing request: exit $rc with a message" ||
  fail "missing request: exit $rc, $(cat "$WORK/bad.err")"
timeout 60 "${MPIRUN[@]}" -np 2 "$MPI" "$TESTS/golden/narrowed_n40_d2_m2_k1_s1.json" --checkpoint "$ck" \
  > /dev/null 2> "$WORK/bad.err"; rc=$?
[ $rc -ne 0 ] && grep -q 'another request' "$WORK/bad.err" && pass "checkpoint of another request: exit $rc" ||
  fail "checkpoint of another request: exit $rc, $(cat "$WORK/bad.err")"

[ $failures -eq 0 ] && echo "mpi: all passed" || echo "mpi: $failures failed"
exit $((failures > 0))
