#!/usr/bin/env bash
# Jobs end to end: submit/watch/result/cancel/jobs through the client, a full
# queue, kill -9 and restart with nothing lost, SIGTERM, and 20 concurrent
# clients. Prints the measured cancel and shutdown latencies.
# Usage: jobs.sh BIN_DIR TESTS_DIR
set -uo pipefail
BIN=$1
TESTS=$2
source "$(dirname "$0")/lib.sh"
STORE="$WORK/jobs.sqlite3"
HARD="$TESTS/data/hard_random_n40_d2_m4.json"   # runs far past a minute
C() { "$BIN/relufit" --server "127.0.0.1:$PORT" "$@"; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
state_of() { C jobs --all --page-size 1000 | awk -v id="$1" '$1 == id {print $2}'; }
wait_state() {  # id, state, seconds
  for _ in $(seq 1 $(( $3 * 10 ))); do [ "$(state_of "$1")" = "$2" ] && return 0; sleep 0.1; done
  return 1
}
verdict_of_json() { sed -n 's/.*"verdict": "VERDICT_\([A-Z]*\)".*/\1/p' "$1" | head -1; }

# 1. Quick jobs finish with checked results.
start_server --store "$STORE" --workers 1 --max-queue 2
declare -A done_ids
for name in shared/xor_m1 shared/xor_m2 hat_m1; do
  id=$(C submit "$TESTS/golden/$name.json") || { fail "submit $name"; continue; }
  C watch "$id" --json > "$WORK/$id.json" || { fail "watch $name"; continue; }
  "$BIN/relufit" verify "$TESTS/golden/$name.json" "$WORK/$id.json" > /dev/null \
    && pass "job $id ($name): $(verdict_of_json "$WORK/$id.json"), verified" || fail "job $name not verified"
  done_ids[$id]=$name
done
C watch "$id" > "$WORK/watch.txt" && grep '^verdict: ' "$WORK/watch.txt" > /dev/null && pass "watch prints the result" || fail "watch output"

# 2. Cancel a running job: measured latency, state cancelled, no result.
hard1=$(C submit "$HARD" --time-limit 600)
wait_state "$hard1" running 10 || fail "hard job did not start"
sleep 1
start=$(date +%s%N)
out=$(C cancel "$hard1")
cancel_ms=$(ms_since "$start")
[[ "$out" == *cancelled* ]] && pass "cancel of a running job returned 'cancelled' in ${cancel_ms} ms" || fail "cancel: $out"
C result "$hard1" 2> "$WORK/err" && fail "cancelled job has a result" || pass "result of a cancelled job: $(cat "$WORK/err")"

# 3. A full queue refuses with RESOURCE_EXHAUSTED (1 worker busy, 2 queued).
run1=$(C submit "$HARD" --time-limit 600); wait_state "$run1" running 10
q1=$(C submit "$HARD" --time-limit 600); q2=$(C submit "$HARD" --time-limit 600)
if C submit "$HARD" 2> "$WORK/err"; then fail "submit to a full queue accepted"; else
  grep 'RESOURCE_EXHAUSTED' "$WORK/err" > /dev/null && pass "full queue: $(cat "$WORK/err")" || fail "full queue: $(cat "$WORK/err")"
fi
C cancel "$q2" > /dev/null && [ "$(state_of "$q2")" = cancelled ] && pass "cancel of a queued job" || fail "cancel queued"

# 4. kill -9 while a job runs and one is queued; restart; nothing lost.
kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""
start_server --store "$STORE" --workers 1 --max-queue 2
for id in "${!done_ids[@]}"; do
  name=${done_ids[$id]}
  C result "$id" --json > "$WORK/after.json" && "$BIN/relufit" verify "$TESTS/golden/$name.json" "$WORK/after.json" > /dev/null \
    && pass "after kill -9: finished job $id ($name) present and verified" || fail "after kill -9: job $id lost or unverified"
done
[ "$(state_of "$hard1")" = cancelled ] && pass "after kill -9: cancelled job still cancelled" || fail "cancelled job state $(state_of "$hard1")"
[ "$(state_of "$q2")" = cancelled ] && pass "after kill -9: cancelled queued job still cancelled" || fail "queued-cancelled state"
s1=$(state_of "$run1"); s2=$(state_of "$q1")
[[ "$s1" == running || "$s1" == queued ]] && pass "after kill -9: interrupted running job runs again ($s1)" || fail "running job after kill -9: '$s1'"
[[ "$s2" == running || "$s2" == queued ]] && pass "after kill -9: queued job kept ($s2)" || fail "queued job after kill -9: '$s2'"
C jobs --all | grep "$run1" > /dev/null || fail "job list lost $run1"
C result "$run1" 2> "$WORK/err"; grep 'the server stopped while it ran' "$WORK/err" > /dev/null \
  && pass "after kill -9: the reason is recorded: $(cat "$WORK/err")" || fail "reason after kill -9: $(cat "$WORK/err")"

# 5. SIGTERM with work running: exits within a few seconds; the running job
#    goes back to the queue and runs after the restart.
wait_state "$run1" running 10 || wait_state "$q1" running 10
stop_server
start_server --store "$STORE" --workers 1 --max-queue 2
s1=$(state_of "$run1")
[[ "$s1" == running || "$s1" == queued ]] && pass "after SIGTERM: job $run1 $s1 again" || fail "after SIGTERM: '$s1'"
C result "$run1" 2> "$WORK/err"; grep -E 'shut down while it ran|stopped while it ran' "$WORK/err" > /dev/null \
  && pass "after SIGTERM: $(cat "$WORK/err")" || fail "reason after SIGTERM: $(cat "$WORK/err")"
C cancel "$q1" > /dev/null
stop_server

# 5b. A job that keeps being killed is marked interrupted, not run forever.
start_server --store "$STORE" --workers 1 --max-queue 2 --max-attempts 2
wait_state "$run1" running 10
kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""
start_server --store "$STORE" --workers 1 --max-queue 2 --max-attempts 2
[ "$(state_of "$run1")" = interrupted ] && pass "after repeated kills: job interrupted ($(C result "$run1" 2>&1))" \
  || fail "after repeated kills: state $(state_of "$run1")"
stop_server

# 6. 20 concurrent clients, a mix of golden instances, right verdicts.
start_server --store "$WORK/jobs2.sqlite3" --workers 2 --max-queue 100
mapfile -t rows < <(grep -v '^#' "$TESTS/golden/EXPECTED.tsv" | grep -v planted_n40 | grep -v narrowed_n40)
pids=()
for c in $(seq 0 19); do
  row=${rows[$((c % ${#rows[@]}))]}
  name=$(echo "$row" | cut -f1)
  ( id=$(C submit "$TESTS/golden/$name.json") && C watch "$id" --json > "$WORK/c$c.json" ) &
  pids+=($!)
done
ok=0
for c in $(seq 0 19); do
  wait "${pids[$c]}"
  row=${rows[$((c % ${#rows[@]}))]}
  name=$(echo "$row" | cut -f1); want=$(echo "$row" | cut -f2 | tr a-z A-Z)
  got=$(verdict_of_json "$WORK/c$c.json")
  if [ "$got" = "$want" ] && "$BIN/relufit" verify "$TESTS/golden/$name.json" "$WORK/c$c.json" > /dev/null; then
    ok=$((ok + 1))
  else
    fail "client $c ($name): got '$got', expected $want"
  fi
done
[ $ok -eq 20 ] && pass "20 concurrent clients: 20 right and verified verdicts"
stop_server

echo "measured: cancel of a running job ${cancel_ms} ms"
echo "jobs: $failures failure(s)"
[ $failures -eq 0 ]
