#!/usr/bin/env bash
# Issue 13 fault figures end to end, printed at the end:
#  1. concurrent clients: CLIENTS Solve calls at once over the golden
#     instances, each verdict compared with EXPECTED.tsv and its certificate
#     checked by the client's own checker;
#  2. kill -9 under job load: JOBS jobs submitted, the server killed with
#     SIGKILL KILLS times while they run and restarted on the same store;
#     every job must end with the right, verified verdict (none lost;
#     --max-attempts is KILLS + 1, so no job is given up);
#  3. the -wal file deleted after a kill -9: every acknowledged submit and
#     every finished result must still be there (the store checkpoints them
#     into the database file).
# The full filesystem and the damaged store are in hardening.sh.
# Usage: faults.sh BIN_DIR TESTS_DIR   (CLIENTS, JOBS, KILLS from the
# environment; defaults 40, 30, 3)
set -uo pipefail
BIN=$1
TESTS=$2
source "$(dirname "$0")/lib.sh"
CLIENTS=${CLIENTS:-40}
JOBS=${JOBS:-30}
KILLS=${KILLS:-3}
C() { "$BIN/relufit" --server "127.0.0.1:$PORT" "$@"; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
verdict_of_json() { sed -n 's/.*"verdict": "VERDICT_\([A-Z]*\)".*/\1/p' "$1" | head -1; }

# The golden instances with their expected verdicts (name TAB VERDICT).
mapfile -t rows < <(awk -F'\t' '!/^#/ && NF >= 2 {print $1 "\t" toupper($2)}' "$TESTS/golden/EXPECTED.tsv")
[ ${#rows[@]} -ge 20 ] || { echo "EXPECTED.tsv: too few rows"; exit 1; }
name_of() { echo "${rows[$(( $1 % ${#rows[@]} ))]}" | cut -f1; }
want_of() { echo "${rows[$(( $1 % ${#rows[@]} ))]}" | cut -f2; }
# right FILE NAME WANT: the verdict is WANT and the certificate holds.
right() {
  [ "$(verdict_of_json "$1")" = "$3" ] && "$BIN/relufit" verify "$TESTS/golden/$2.json" "$1" > /dev/null 2>&1
}

# 1. Concurrent clients.
start_server --workers 2
start=$(date +%s%N)
pids=()
for c in $(seq 0 $((CLIENTS - 1))); do
  C solve "$TESTS/golden/$(name_of $c).json" --json > "$WORK/s$c.json" 2> "$WORK/s$c.err" &
  pids[$c]=$!
done
c_right=0; c_wrong=0; c_lost=0
for c in $(seq 0 $((CLIENTS - 1))); do
  if ! wait "${pids[$c]}"; then
    c_lost=$((c_lost + 1)); fail "client $c ($(name_of $c)): $(head -c 300 "$WORK/s$c.err")"
  elif right "$WORK/s$c.json" "$(name_of $c)" "$(want_of $c)"; then
    c_right=$((c_right + 1))
  else
    c_wrong=$((c_wrong + 1)); fail "client $c ($(name_of $c)): got '$(verdict_of_json "$WORK/s$c.json")', expected $(want_of $c)"
  fi
done
c_ms=$(ms_since "$start")
kill -0 "$SERVER_PID" 2>/dev/null && c_alive=1 || { c_alive=0; fail "the server died under $CLIENTS clients"; }
[ $c_right -eq "$CLIENTS" ] && pass "$CLIENTS concurrent clients: all right and verified in ${c_ms} ms"
stop_server

# 2. kill -9 under job load.
STORE="$WORK/load.sqlite3"
start_server --store "$STORE" --workers 2 --max-attempts $((KILLS + 1))
declare -a ids
submit_failed=0
for j in $(seq 0 $((JOBS - 1))); do
  ids[$j]=$(C submit "$TESTS/golden/$(name_of $((j * 7))).json") || { submit_failed=$((submit_failed + 1)); ids[$j]=""; }
done
start=$(date +%s%N)
deaths=0
for k in $(seq 1 "$KILLS"); do
  sleep 0.7
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null
  else
    deaths=$((deaths + 1)); fail "the server had died before kill $k"; cat "$WORK/server.log"
  fi
  SERVER_PID=""
  start_server --store "$STORE" --workers 2 --max-attempts $((KILLS + 1))
done
# Every job to a final state, then its result compared and checked.
j_right=0; j_wrong=0; j_lost=0; j_interrupted=0
for j in $(seq 0 $((JOBS - 1))); do
  id=${ids[$j]}
  [ -n "$id" ] || continue
  if ! timeout 120 "$BIN/relufit" --server "127.0.0.1:$PORT" watch "$id" --json > "$WORK/j$j.json" 2> "$WORK/j$j.err"; then
    if grep -q "NOT_FOUND" "$WORK/j$j.err"; then
      j_lost=$((j_lost + 1)); fail "job $id lost after kill -9"
    else
      j_interrupted=$((j_interrupted + 1)); fail "job $id ($(name_of $((j * 7)))): $(head -c 300 "$WORK/j$j.err")"
    fi
  elif right "$WORK/j$j.json" "$(name_of $((j * 7)))" "$(want_of $((j * 7)))"; then
    j_right=$((j_right + 1))
  else
    j_wrong=$((j_wrong + 1)); fail "job $id ($(name_of $((j * 7)))): got '$(verdict_of_json "$WORK/j$j.json")'"
  fi
done
j_ms=$(ms_since "$start")
[ $submit_failed -eq 0 ] || fail "$submit_failed submits failed"
[ $j_right -eq "$JOBS" ] && pass "$JOBS jobs through $KILLS kill -9 restarts: all right and verified (${j_ms} ms after the first kill)"
stop_server

# 3. The -wal file deleted after a kill -9. A long job holds the only
# worker, so the others stay queued: acknowledged, and nowhere but the store.
STORE="$WORK/wal.sqlite3"
start_server --store "$STORE" --workers 1
quick=$(C submit "$TESTS/golden/hat_m2.json") && C watch "$quick" > /dev/null || fail "quick job"
long=$(C submit "$TESTS/data/hard_random_n40_d2_m4.json" --time-limit 600) || fail "long job"
acked=()
for j in $(seq 0 9); do
  id=$(C submit "$TESTS/golden/$(name_of $j).json") && acked+=("$id") || fail "submit $j"
done
kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""
wal_bytes=$(stat -c %s "$STORE-wal" 2>/dev/null || echo 0)
rm -f "$STORE-wal" "$STORE-shm"
start_server --store "$STORE" --workers 1
w_lost=0
for id in "$quick" "$long" "${acked[@]}"; do
  C jobs --all --page-size 1000 | awk '{print $1}' | grep -qx "$id" || { w_lost=$((w_lost + 1)); fail "job $id lost with the -wal file"; }
done
C result "$quick" --json > "$WORK/quick.json" 2>&1 && right "$WORK/quick.json" hat_m2 FEASIBLE \
  && pass "the finished result survived the lost -wal file" || fail "finished result after losing the -wal file"
[ $w_lost -eq 0 ] && pass "-wal file (${wal_bytes} bytes) deleted after kill -9: all $(( ${#acked[@]} + 2 )) acknowledged jobs there"
C cancel "$long" > /dev/null 2>&1
stop_server

echo "measured: concurrent clients: $CLIENTS Solve calls at once: $c_right right and verified," \
     "$c_wrong wrong, $c_lost lost, in ${c_ms} ms; server alive: $c_alive"
echo "measured: kill -9 under load: $JOBS jobs, $KILLS kill -9 + restart: $j_right right and verified," \
     "$j_wrong wrong, $j_lost lost, $j_interrupted not finished; unplanned server deaths: $deaths;" \
     "all final ${j_ms} ms after the first kill"
echo "measured: -wal file deleted after kill -9: $w_lost of $(( ${#acked[@]} + 2 )) acknowledged jobs lost"
echo "faults: $failures failure(s)"
[ $failures -eq 0 ]
