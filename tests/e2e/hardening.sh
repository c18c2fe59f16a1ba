#!/usr/bin/env bash
# Issue 13 end to end: hostile Verify requests (degree-64 weights refused at
# once, a slow check stopped by the call's deadline and by SIGTERM), a store
# on a full filesystem (clear errors, no job left RUNNING, a clean refusal
# to start), a damaged store (edited and bit-flipped rows reported as
# damaged, never served; an edited result with a rewritten checksum caught
# by the checker), small items (NOT_FOUND for a 100 kB id stays short,
# undecodable bytes, a late SubmitJob), admission by bytes in flight, and
# owners (principals from the token file, an operator).
# Prints the measured figures. The full-disk part needs root (a tmpfs
# mount); without it that part is skipped and says so.
# Usage: hardening.sh BIN_DIR TESTS_DIR
set -uo pipefail
BIN=$1
TESTS=$2
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
HOSTILE="$(dirname "$0")/hostile.py"
C() { "$BIN/relufit" --server "127.0.0.1:$PORT" "$@"; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
state_of() { C jobs --all --page-size 1000 2>/dev/null | awk -v id="$1" '$1 == id {print $2}'; }
wait_state() {  # id, state, seconds
  for _ in $(seq 1 $(( $3 * 10 ))); do [ "$(state_of "$1")" = "$2" ] && return 0; sleep 0.1; done
  return 1
}
XOR="$TESTS/golden/shared/xor_m1.json"
PLANTED="$TESTS/golden/shared/planted_n10_d2_m2_k1.json"
HARD="$TESTS/data/hard_random_n40_d2_m4.json"

$PY "$HOSTILE" degree64 "$WORK" && $PY "$HOSTILE" slow "$WORK" || { fail "hostile.py"; exit 1; }

# 1. Verify: bounded and cancellable.
start_server
start=$(date +%s%N)
out=$(C verify --remote --time-limit 2 "$WORK/degree64_request.json" "$WORK/degree64_response.json" 2>&1)
rc=$? ms=$(ms_since "$start")
[ $rc -eq 1 ] && [[ "$out" == *"degree 64"* ]] && [ "$ms" -lt 1000 ] \
  && pass "Verify refuses roots of t^64 - 2, t^64 - 3 in ${ms} ms: ${out#*INVALID: }" \
  || fail "degree-64 Verify: rc $rc in ${ms} ms: $out"
start=$(date +%s%N)
out=$(C verify --remote --time-limit 2 "$WORK/slow_request.json" "$WORK/slow_response.json" 2>&1)
rc=$? slow_remote_ms=$(ms_since "$start")
[ $rc -eq 2 ] && [[ "$out" == *DEADLINE_EXCEEDED* ]] && [ "$slow_remote_ms" -lt 3500 ] \
  && pass "a ~20 s Verify with a 2 s deadline ends in ${slow_remote_ms} ms: $out" \
  || fail "slow Verify: rc $rc in ${slow_remote_ms} ms: $out"
# The server is free again at once (the check stopped, not just the call).
start=$(date +%s%N)
C solve "$XOR" > /dev/null && pass "a solve right after answers in $(ms_since "$start") ms" || fail "solve after slow Verify"
start=$(date +%s%N)
out=$("$BIN/relufit" verify --time-limit 2 "$WORK/slow_request.json" "$WORK/slow_response.json" 2>&1)
rc=$? ms=$(ms_since "$start")
[ $rc -eq 2 ] && [ "$ms" -lt 3500 ] && pass "local relufit verify --time-limit 2 stops in ${ms} ms: $out" \
  || fail "local slow verify: rc $rc in ${ms} ms: $out"
# SIGTERM while a Verify without deadline runs: the check stops with the server.
C verify --remote --time-limit 600 "$WORK/slow_request.json" "$WORK/slow_response.json" > "$WORK/verify.out" 2>&1 &
vpid=$!
sleep 1
stop_server
wait $vpid 2>/dev/null
pass "the Verify client got: $(cat "$WORK/verify.out")"

# 2. A store on a full filesystem.
FULL="$WORK/full"
mkdir -p "$FULL"
if mount -t tmpfs -o size=1m tmpfs "$FULL" 2>/dev/null; then
  STORE="$FULL/jobs.sqlite3"
  start_server --store "$STORE" --workers 1
  id_ok=$(C submit "$XOR") && C watch "$id_ok" > /dev/null && pass "jobs run on the small store" || fail "submit on the small store"
  slow_id=$(C submit "$HARD" --time-limit 3) || fail "submit hard"
  wait_state "$slow_id" running 10 || fail "hard job did not start"
  dd if=/dev/zero of="$FULL/filler" bs=4k 2> /dev/null
  avail=$(df --output=avail -k "$FULL" | tail -1)
  out=$(C submit "$PLANTED" 2>&1)
  rc=$?
  [ $rc -eq 2 ] && [[ "$out" == *RESOURCE_EXHAUSTED* ]] && [[ "$out" == *full* ]] \
    && pass "submit on a full disk (${avail// /} KiB free): $out" || fail "submit on a full disk: rc $rc: $out"
  # The running job ends while the disk is full: a final state with the cause.
  sleep 4
  st=$(state_of "$slow_id")
  reason=$(C result "$slow_id" 2>&1)
  [ "$st" = interrupted ] && [[ "$reason" == *"could not be stored"* ]] \
    && pass "a job finishing on a full disk ends interrupted: $reason" || fail "job on a full disk: state '$st': $reason"
  C result "$id_ok" > /dev/null && pass "finished jobs still readable on a full disk" || fail "read on a full disk"
  stop_server
  # Restart on the full store: refused with the cause, exit status 1, no abort.
  # (timeout: a server that starts after all would otherwise hang the test)
  timeout 20 "$BIN/relufit-server" --listen 127.0.0.1:0 --store "$STORE" > "$WORK/full.log" 2>&1
  rc=$?
  [ $rc -eq 1 ] && grep -q "full" "$WORK/full.log" && ! grep -qi "terminate" "$WORK/full.log" \
    && pass "restart on the full store exits 1: $(grep -i critical "$WORK/full.log" | head -1 | cut -c1-200)" \
    || { fail "restart on the full store: exit $rc"; cat "$WORK/full.log"; }
  rm -f "$FULL/filler"
  start_server --store "$STORE" --workers 1
  st=$(state_of "$slow_id")
  [ -n "$st" ] && pass "after freeing space the job is there again ($st)" \
    || { fail "job lost after freeing space"; C jobs --all; cat "$WORK/server.log"; }
  C result "$id_ok" > "$WORK/ok.json" 2>&1 && pass "earlier result intact" || { fail "earlier result"; cat "$WORK/ok.json"; }
  stop_server
  umount "$FULL"
else
  echo "skipped: full-disk checks (mounting a tmpfs needs root)"
fi

# 3. A damaged store.
STORE="$WORK/damaged.sqlite3"
start_server --store "$STORE" --workers 1
declare -a ids
for name in shared/xor_m1 shared/planted_n10_d2_m2_k1 hat_m1 shared/xor_m2; do
  id=$(C submit "$TESTS/golden/$name.json") && C watch "$id" > /dev/null || fail "job $name"
  ids+=("$id")
done
stop_server
$PY "$HOSTILE" edit "$STORE" "${ids[0]}" raw
$PY "$HOSTILE" edit "$STORE" "${ids[1]}" resum
start_server --store "$STORE" --workers 1
out=$(C result "${ids[0]}" 2>&1)
[[ "$out" == *DATA_LOSS* ]] && [[ "$out" == *checksum* ]] && pass "edited row not served: $out" || fail "edited row: $out"
out=$(C result "${ids[1]}" 2>&1)
[[ "$out" == *DATA_LOSS* ]] && [[ "$out" == *checker* ]] \
  && pass "edited result with a rewritten checksum caught by the checker: ${out:0:200}" || fail "resummed row: $out"
C jobs > "$WORK/list.txt" 2> "$WORK/list.err"
rc=$?
listed=$(grep -c '^job-' "$WORK/list.txt")
[ $rc -eq 0 ] && [ "$listed" -eq 3 ] && grep -q "damaged job left out" "$WORK/list.err" \
  && pass "ListJobs lists $listed jobs and reports the damaged one: $(head -1 "$WORK/list.err" | cut -c1-160)" \
  || fail "ListJobs with a damaged row: rc $rc, $listed listed"
C result "${ids[2]}" > /dev/null && pass "undamaged rows still served" || fail "undamaged row"
stop_server
# Random bit flips in copies: never a crash, never a wrong result served.
served=0; refused=0; damaged=0; crashes=0; wrong=0
for seed in $(seq 1 12); do
  cp "$STORE" "$WORK/flip.sqlite3"
  $PY "$HOSTILE" flip "$WORK/flip.sqlite3" "$seed" 8
  "$BIN/relufit-server" --listen 127.0.0.1:0 --store "$WORK/flip.sqlite3" > "$WORK/flip.log" 2>&1 &
  SERVER_PID=$!
  PORT=""
  for _ in $(seq 1 50); do
    PORT=$(sed -n 's/.*listening on .*(port \([0-9]*\)).*/\1/p' "$WORK/flip.log" 2>/dev/null)
    [ -n "$PORT" ] && break
    kill -0 $SERVER_PID 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$PORT" ]; then
    wait $SERVER_PID; rc=$?; SERVER_PID=""
    if [ $rc -ge 128 ]; then crashes=$((crashes + 1)); else refused=$((refused + 1)); fi
    continue
  fi
  i=0
  for id in "${ids[@]}"; do
    name=(shared/xor_m1 shared/planted_n10_d2_m2_k1 hat_m1 shared/xor_m2)
    if C result "$id" --json > "$WORK/flip.json" 2> "$WORK/flip.err"; then
      served=$((served + 1))
      "$BIN/relufit" verify "$TESTS/golden/${name[$i]}.json" "$WORK/flip.json" > /dev/null 2>&1 || wrong=$((wrong + 1))
    else
      damaged=$((damaged + 1))
    fi
    i=$((i + 1))
  done
  C jobs > /dev/null 2>&1 || true
  kill -TERM $SERVER_PID; wait $SERVER_PID; rc=$?; SERVER_PID=""
  [ $rc -ge 128 ] && crashes=$((crashes + 1))
done
echo "measured: 12 copies with 8 flipped bits each: $served results served (all re-verified),"\
     "$damaged refused (DATA_LOSS, NOT_FOUND or UNAVAILABLE), $refused copies the server declined to open, $crashes crashes"
[ $wrong -eq 0 ] && pass "no wrong result served from a bit-flipped store" || fail "$wrong wrong results served"
[ $crashes -eq 0 ] && pass "no crash on a bit-flipped store" || fail "$crashes crashes"

# 4. Small items.
start_server
long_id=$(head -c 100000 /dev/zero | tr '\0' 'x')  # a command-line argument holds at most 128 KiB
out=$(C result "$long_id" 2>&1)
[[ "$out" == *NOT_FOUND* ]] && [ ${#out} -lt 300 ] && pass "NOT_FOUND for a 100 kB id: ${#out} characters: $out" \
  || fail "NOT_FOUND for a 100 kB id: ${#out} characters"
out=$($PY "$HOSTILE" raw "127.0.0.1:$PORT" 2>&1)
[ "$(grep -c "INVALID_ARGUMENT request: the bytes received do not decode as a relufit.v1" <<< "$out")" -eq 3 ] \
  && pass "undecodable bytes: INVALID_ARGUMENT naming the type: $(head -1 <<< "$out")" || fail "undecodable bytes: $out"
before=$(C jobs --all --page-size 1000 | grep -c '^job-')
out=$($PY "$HOSTILE" late "127.0.0.1:$PORT" 2>&1)
sleep 1
after=$(C jobs --all --page-size 1000 | grep -c '^job-')
[[ "$out" == *DEADLINE_EXCEEDED* ]] && [ "$before" -eq "$after" ] \
  && pass "SubmitJob past its deadline creates no job ($out)" || fail "late SubmitJob: $out; jobs $before -> $after"
stop_server

# 5. Admission by bytes in flight: a 190 kB Verify counts 4 x 190 kB of a
# 1 MiB budget, so a second one at the same time is refused; once the first
# call is gone (its client killed: the check stops) the budget is free.
start_server --max-inflight-mb 1
C solve "$XOR" > /dev/null && pass "a small solve fits the 1 MiB budget" || fail "small solve under the budget"
"$BIN/relufit" --server "127.0.0.1:$PORT" verify --remote --time-limit 60 "$WORK/slow_request.json" \
  "$WORK/slow_response.json" > /dev/null 2>&1 &
first=$!
sleep 1
out=$(C verify --remote --time-limit 5 "$WORK/slow_request.json" "$WORK/slow_response.json" 2>&1)
[[ "$out" == *RESOURCE_EXHAUSTED*"server busy"* ]] && pass "second large call refused: $out" || fail "admission: $out"
kill -KILL $first; wait $first 2>/dev/null
sleep 1
out=$(C verify --remote --time-limit 1 "$WORK/slow_request.json" "$WORK/slow_response.json" 2>&1)
[[ "$out" == *DEADLINE_EXCEEDED* ]] && pass "budget free again once the first call is gone ($out)" \
  || fail "after the first call: $out"
stop_server

# 6. Owners: a token file naming principals; jobs belong to their principal,
# an operator sees all.
printf '# principal token [operator]\nalice alice-secret-%s\nbob bob-secret-%s\nops ops-secret-%s operator\n' \
  $RANDOM $RANDOM $RANDOM > "$WORK/tokens"
for who in alice bob ops; do awk -v p=$who '$1 == p {print $2}' "$WORK/tokens" > "$WORK/$who.token"; done
start_server --token-file "$WORK/tokens"
as() { local who=$1; shift; "$BIN/relufit" --server "127.0.0.1:$PORT" --token-file "$WORK/$who.token" "$@"; }
alice_job=$(as alice submit "$XOR") && as alice watch "$alice_job" > /dev/null || fail "alice's job"
bob_job=$(as bob submit "$PLANTED") && as bob watch "$bob_job" > /dev/null || fail "bob's job"
as alice result "$alice_job" > /dev/null && pass "alice reads her job" || fail "alice cannot read her job"
out=$(as bob result "$alice_job" 2>&1)
[[ "$out" == *NOT_FOUND* ]] && pass "bob cannot read alice's job: $out" || fail "bob read alice's job: $out"
out=$(as bob cancel "$alice_job" 2>&1)
[[ "$out" == *NOT_FOUND* ]] && pass "bob cannot cancel alice's job" || fail "bob cancelled alice's job: $out"
out=$(as bob watch "$alice_job" 2>&1)
[[ "$out" == *NOT_FOUND* ]] && pass "bob cannot watch alice's job" || fail "bob watched alice's job: $out"
listed=$(as bob jobs --all | grep -c '^job-')
as bob jobs --all | grep -q "$alice_job" && fail "bob lists alice's job" || pass "bob lists only his own ($listed job)"
out=$($PY "$HOSTILE" noauth "127.0.0.1:$PORT" "$TESTS/../proto/relufit/v1/relufit.proto" 2>&1)
total=$(wc -l <<< "$out")
denied=$(grep -c " UNAUTHENTICATED$" <<< "$out")
[ "$total" -ge 8 ] && [ "$denied" -eq "$total" ] && pass "every rpc in the proto ($total) refuses a call without token" \
  || fail "calls without token: $out"
listed=$(as ops jobs --all | grep -c '^job-')
[ "$listed" -eq 2 ] && as ops result "$alice_job" > /dev/null && pass "the operator lists and reads every job ($listed)" \
  || fail "operator: $listed listed"
stop_server

echo "measured: slow Verify with a 2 s deadline answered in ${slow_remote_ms} ms"
echo "hardening: $failures failure(s)"
[ $failures -eq 0 ]
