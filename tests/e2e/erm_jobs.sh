#!/usr/bin/env bash
# Minimize and MinWidth as jobs, end to end over the real server and client:
# `relufit minimize|min-width ... --job`, watch to the end, the optimum and
# the width (XOR with one neuron: least L1 error 1, squared L2 2/3; width 2;
# hand-derived in tests/unit/erm_test.cpp) and `relufit verify` on the
# stored answers; the job list shows each kind; a running Minimize job
# cancelled, and a running MinWidth job; SIGTERM with a Minimize job
# running and one queued, both run again after the restart (the running one
# also after a kill -9).
# Usage: erm_jobs.sh BIN_DIR TESTS_DIR
set -uo pipefail
BIN=$1
TESTS=$2
source "$(dirname "$0")/lib.sh"
STORE="$WORK/jobs.sqlite3"
HARD="$TESTS/data/hard_random_n40_d2_m4.json"   # its least error takes far more than a minute
xor="$TESTS/golden/shared/xor_m1.json"
C() { "$BIN/relufit" --server "127.0.0.1:$PORT" "$@"; }
field() { sed -n "s/.*\"$1\": \"\\([^\"]*\\)\".*/\\1/p" "$2" | head -1; }
row_of() { C jobs --all --page-size 1000 | awk -v id="$1" '$1 == id'; }
state_of() { row_of "$1" | awk '{print $2}'; }
wait_state() {  # id, state, seconds
  for _ in $(seq 1 $(( $3 * 10 ))); do [ "$(state_of "$1")" = "$2" ] && return 0; sleep 0.1; done
  return 1
}

min_ids=()
start_server --store "$STORE" --workers 1

# 1. A Minimize job per loss: the optimum, verified as a Minimize answer.
for case in "l1 1 L1" "l2 2/3 L2"; do
  set -- $case
  id=$(C minimize "$xor" --loss "$1" --job 2> "$WORK/err") || { fail "minimize --job $1: $(cat "$WORK/err")"; continue; }
  [[ "$id" == job-* ]] || { fail "minimize --job printed '$id', not a job id"; continue; }
  C watch "$id" --json > "$WORK/min_$1.json" 2> "$WORK/err" || { fail "watch $id: $(cat "$WORK/err")"; continue; }
  got=$(field optimal_error "$WORK/min_$1.json")
  [ "$got" = "$2" ] && pass "Minimize job $id ($1): optimal error $got" || fail "Minimize job $1: '$got', expected $2"
  printf '{"request": %s, "loss": "LOSS_%s"}\n' "$(cat "$xor")" "$3" > "$WORK/minreq_$1.json"
  "$BIN/relufit" verify "$WORK/minreq_$1.json" "$WORK/min_$1.json" > "$WORK/v" 2>&1 \
    && pass "verify accepts the Minimize job's answer: $(cat "$WORK/v")" || fail "verify Minimize job $1: $(cat "$WORK/v")"
  min_ids+=("$id")
done
# The stored answer is checked, so a forged one must not verify.
sed 's/"optimal_error": "1"/"optimal_error": "1\/2"/' "$WORK/min_l1.json" > "$WORK/forged.json"
"$BIN/relufit" verify "$WORK/minreq_l1.json" "$WORK/forged.json" 2> /dev/null && fail "forged optimum accepted" \
  || pass "forged optimum of the job's answer rejected"
C result "${min_ids[0]}" > "$WORK/human" && grep -q "^optimal error: 1 " "$WORK/human" && grep -q "^checked: " "$WORK/human" \
  && pass "result prints the Minimize answer" || fail "result of a Minimize job: $(cat "$WORK/human")"

# 2. A MinWidth job: width 2, the fit and the proof at width 1 verify.
id=$(C min-width "$xor" --max-width 4 --job 2> "$WORK/err") || fail "min-width --job: $(cat "$WORK/err")"
C watch "$id" > "$WORK/watch.txt" 2> "$WORK/err" && grep -q "^smallest width: 2$" "$WORK/watch.txt" \
  && pass "watch prints the MinWidth answer" || fail "watch MinWidth job: $(cat "$WORK/watch.txt" "$WORK/err")"
C result "$id" --json > "$WORK/mw.json" || fail "result --json of $id"
grep -q '"width": 2' "$WORK/mw.json" && pass "MinWidth job $id: XOR needs width 2" || fail "MinWidth job: $(head -c 400 "$WORK/mw.json")"
printf '{"request": %s, "max_width": 4}\n' "$(cat "$xor")" > "$WORK/mwreq.json"
"$BIN/relufit" verify "$WORK/mwreq.json" "$WORK/mw.json" > "$WORK/v" 2>&1 \
  && pass "verify accepts the MinWidth job's answer: $(cat "$WORK/v")" || fail "verify MinWidth job: $(cat "$WORK/v")"
mw_id=$id

# 3. The job list names each kind and outcome.
row=$(row_of "${min_ids[0]}")
[[ "$row" == *" minimize "*OPTIMAL* ]] && pass "jobs: $row" || fail "jobs row of a Minimize job: '$row'"
row=$(row_of "$mw_id")
[[ "$row" == *" min-width "*FEASIBLE* ]] && pass "jobs: $row" || fail "jobs row of a MinWidth job: '$row'"
C minimize "$xor" --job --json > /dev/null 2>&1 && fail "--job with --json accepted" || pass "--job excludes --json"

# 4. Cancel a running Minimize job.
long=$(C minimize "$HARD" --loss linf --time-limit 600 --job) || fail "submit long Minimize job"
wait_state "$long" running 10 || fail "long Minimize job did not start ($(state_of "$long"))"
sleep 1
start=$(date +%s%N)
out=$(C cancel "$long")
cancel_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[[ "$out" == *cancelled* ]] && pass "cancel of a running Minimize job: '$out' in ${cancel_ms} ms" || fail "cancel Minimize job: $out"
C result "$long" 2> "$WORK/err" && fail "cancelled Minimize job has a result" \
  || { grep -q cancelled "$WORK/err" && pass "result of the cancelled job: $(cat "$WORK/err")" || fail "result: $(cat "$WORK/err")"; }

# ... and a running MinWidth job.
wide=$(C min-width "$HARD" --max-width 4 --time-limit 600 --job) || fail "submit long MinWidth job"
wait_state "$wide" running 10 || fail "long MinWidth job did not start ($(state_of "$wide"))"
sleep 1
out=$(C cancel "$wide")
[[ "$out" == *cancelled* ]] && pass "cancel of a running MinWidth job: '$out'" || fail "cancel MinWidth job: $out"
[ "$(state_of "$wide")" = cancelled ] && pass "the MinWidth job is listed cancelled" || fail "MinWidth job state $(state_of "$wide")"

# 5. SIGTERM with a Minimize job running and another queued (one worker):
#    after the restart the running one is queued again with the reason, and
#    the queued one runs to its checked optimum.
long=$(C minimize "$HARD" --loss linf --time-limit 600 --job) || fail "submit long Minimize job"
wait_state "$long" running 10 || fail "long Minimize job did not start"
queued=$(C minimize "$xor" --loss l2 --job) || fail "submit queued Minimize job"
[ "$(state_of "$queued")" = queued ] && pass "Minimize job $queued queued behind the long one" || fail "not queued: $(state_of "$queued")"
stop_server
start_server --store "$STORE" --workers 1
s=$(state_of "$long")
[[ "$s" == running || "$s" == queued ]] && pass "after SIGTERM: the running Minimize job is $s again" || fail "after SIGTERM: '$s'"
C result "$long" 2> "$WORK/err"; grep -q 'shut down while it ran' "$WORK/err" \
  && pass "after SIGTERM: $(cat "$WORK/err")" || fail "reason after SIGTERM: $(cat "$WORK/err")"
# kill -9 while it runs again: still there, queued or running, with the reason.
wait_state "$long" running 10 || fail "re-queued Minimize job did not run again"
kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""
start_server --store "$STORE" --workers 1
s=$(state_of "$long")
[[ "$s" == running || "$s" == queued ]] && pass "after kill -9: the Minimize job is $s again" || fail "after kill -9: '$s'"
C result "$long" 2> "$WORK/err"; grep -q 'stopped while it ran' "$WORK/err" \
  && pass "after kill -9: $(cat "$WORK/err")" || fail "reason after kill -9: $(cat "$WORK/err")"
C cancel "$long" > /dev/null || fail "cancel after restart"
C watch "$queued" --json > "$WORK/requeued.json" 2> "$WORK/err" || fail "watch $queued: $(cat "$WORK/err")"
got=$(field optimal_error "$WORK/requeued.json")
[ "$got" = 2/3 ] && pass "the queued Minimize job ran after the restart: optimal error $got" || fail "queued job after restart: '$got'"
"$BIN/relufit" verify "$WORK/minreq_l2.json" "$WORK/requeued.json" > /dev/null 2>&1 \
  && pass "its answer verifies" || fail "the re-run job's answer does not verify"
# Finished jobs of both kinds are served (and re-checked) after the restart.
C result "$mw_id" --json > "$WORK/mw_after.json" && "$BIN/relufit" verify "$WORK/mwreq.json" "$WORK/mw_after.json" > /dev/null 2>&1 \
  && pass "after the restart: the MinWidth job's answer is served and verifies" || fail "MinWidth job after restart"
stop_server

"$BIN/relufit" minimize --help | grep -q -e --job && "$BIN/relufit" min-width --help | grep -q -e --job \
  && pass "minimize and min-width --help list --job" || fail "help texts lack --job"
echo "measured: cancel of a running Minimize job ${cancel_ms:-?} ms"
echo "erm jobs: $failures failure(s)"
[ $failures -eq 0 ]
