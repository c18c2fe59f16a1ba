#!/usr/bin/env bash
# relufit-shard end to end: golden instances planned into shards, the shards
# run in a loop and in parallel (xargs -P2), merged, and the merged answer
# checked with `relufit verify` against the expected verdict; a shard without
# a result, one that ran out of time (then split again), one killed by
# SIGTERM, a tampered result and bad input are each reported, never dropped.
# Usage: shard.sh BIN_DIR TESTS_DIR
set -uo pipefail
BIN=$1
TESTS=$2
source "$(dirname "$0")/lib.sh"
SHARD="$BIN/relufit-shard"

verdict_of() { sed -n 's/.*"verdict": "VERDICT_\([A-Z]*\)".*/\1/p' "$1" | head -1; }
shard_count() { ls "$1"/shard-*.json 2>/dev/null | wc -l; }
run_all_loop() { local n; n=$(shard_count "$1"); for i in $(seq 0 $((n - 1))); do "$SHARD" run "$1" --index "$i" > /dev/null || return 1; done; }
run_all_parallel() { local n; n=$(shard_count "$1"); seq 0 $((n - 1)) | xargs -P2 -I{} "$SHARD" run "$1" --index {} > /dev/null; }

# Plans NAME with 8 shards, runs them with RUNNER, merges, verifies.
check_instance() {
  local name=$1 want=$2 runner=$3
  local req="$TESTS/golden/$name.json" dir="$WORK/$(echo "$name" | tr / _)-$runner"
  "$SHARD" plan "$req" --shards 8 --dir "$dir" --heuristic-seconds 0 > "$dir.plan.log" 2>&1 ||
    { fail "$name: plan failed: $(cat "$dir.plan.log")"; return; }
  local n; n=$(shard_count "$dir")
  [ "$n" -eq 8 ] || { fail "$name: $n shards, expected 8"; return; }
  $runner "$dir" || { fail "$name: a shard failed ($runner)"; return; }
  "$SHARD" merge "$dir" --json > "$dir.response.json" || { fail "$name: merge failed"; return; }
  local got; got=$(verdict_of "$dir.response.json")
  [ "$got" = "$want" ] || { fail "$name: merged verdict $got, expected $want"; return; }
  if "$BIN/relufit" verify "$req" "$dir.response.json" > "$dir.verify.log" 2>&1; then
    pass "$name: $n shards ($runner), merged $got, relufit verify accepts it"
  else
    fail "$name: relufit verify rejects the merged answer: $(cat "$dir.verify.log")"
  fi
}

# Feasible, infeasible, several outputs; planning alone decides the last two
# (their 8 shard files are empty, so that an array of 8 still finds each).
check_instance narrowed_n40_d2_m2_k1_s1 INFEASIBLE run_all_loop
check_instance narrowed_n40_d2_m2_k1_s1 INFEASIBLE run_all_parallel
check_instance planted_n40_d2_m3_k1_s4 FEASIBLE run_all_loop
check_instance planted_n40_d2_m3_k1_s4 FEASIBLE run_all_parallel
check_instance narrowed_n12_d2_m1_k2_s1 INFEASIBLE run_all_parallel
check_instance planted_n12_d2_m2_k2_s2 FEASIBLE run_all_parallel
check_instance pinned_direction_m2_k2 INFEASIBLE run_all_parallel
check_instance shared/xor_m1 INFEASIBLE run_all_loop
check_instance shared/conflict_m3 INFEASIBLE run_all_loop

# A shard without a result: UNKNOWN naming it; run it, then the proof is complete.
req="$TESTS/golden/narrowed_n40_d2_m2_k1_s1.json"
dir="$WORK/missing"
"$SHARD" plan "$req" --shards 8 --dir "$dir" > /dev/null
n=$(shard_count "$dir")
for i in $(seq 0 $((n - 1))); do [ "$i" = 3 ] || "$SHARD" run "$dir" --index "$i" > /dev/null; done
"$SHARD" merge "$dir" --json > "$WORK/missing.json"
if [ "$(verdict_of "$WORK/missing.json")" = UNKNOWN ] && grep -q '1 shards have no result (3)' "$WORK/missing.json"; then
  pass "a missing shard makes the merge UNKNOWN and is named"
else
  fail "missing shard not reported: $(head -c 400 "$WORK/missing.json")"
fi
"$BIN/relufit" verify "$req" "$WORK/missing.json" > /dev/null || fail "the UNKNOWN answer does not verify"
before=$(md5sum "$dir/result-0.json")
out=$("$SHARD" run "$dir" --index 0)
[ "$before" = "$(md5sum "$dir/result-0.json")" ] && [[ "$out" == *"result exists"* ]] &&
  pass "run is idempotent: an existing result is kept" || fail "run rewrote an existing result: $out"
"$SHARD" run "$dir" --index 3 > /dev/null
"$SHARD" merge "$dir" --json > "$WORK/missing2.json"
[ "$(verdict_of "$WORK/missing2.json")" = INFEASIBLE ] && "$BIN/relufit" verify "$req" "$WORK/missing2.json" > /dev/null &&
  pass "after the missing shard runs, the merge is INFEASIBLE and verifies" || fail "merge after the missing shard"

# Out of time: a node limit per shard, then --resplit until everything is decided.
dir="$WORK/resplit"
"$SHARD" plan "$req" --shards 4 --dir "$dir" > /dev/null
run_limited() { local n; n=$(shard_count "$1"); seq 0 $((n - 1)) | xargs -P2 -I{} "$SHARD" run "$1" --index {} --node-limit "$2" > /dev/null; }
run_limited "$dir" 40
"$SHARD" merge "$dir" > "$WORK/resplit.txt"
grep -q 'ran out of time' "$WORK/resplit.txt" && pass "timed-out shards are listed by merge" ||
  fail "timed-out shards not listed: $(cat "$WORK/resplit.txt")"
rounds=0
while grep -q 'ran out of time' "$WORK/resplit.txt" && [ $rounds -lt 20 ]; do
  "$SHARD" plan --resplit "$dir" > /dev/null || { fail "resplit failed"; break; }
  run_limited "$dir" 200
  "$SHARD" merge "$dir" > "$WORK/resplit.txt"
  rounds=$((rounds + 1))
done
"$SHARD" merge "$dir" --json > "$WORK/resplit.json"
[ "$(verdict_of "$WORK/resplit.json")" = INFEASIBLE ] && "$BIN/relufit" verify "$req" "$WORK/resplit.json" > /dev/null &&
  pass "after $rounds resplit rounds the merged proof is INFEASIBLE and verifies ($(shard_count "$dir") shards)" ||
  fail "resplit did not end in a checked proof: $(cat "$WORK/resplit.txt")"

# SIGTERM (a scheduler's time limit): the shard writes a timeout result with its open nodes.
dir="$WORK/sigterm"
"$SHARD" plan "$TESTS/data/hard_random_n40_d2_m4.json" --shards 1 --dir "$dir" --heuristic-seconds 0 > /dev/null
timeout -s TERM 1 "$SHARD" run "$dir" --index 0 > "$WORK/sigterm.txt"
grep -q 'stopped by a signal' "$WORK/sigterm.txt" && grep -q '"STATUS_TIMEOUT"' "$dir/result-0.json" &&
  pass "SIGTERM: $(cat "$WORK/sigterm.txt")" || fail "SIGTERM: $(cat "$WORK/sigterm.txt")"

# A tampered result: the checker rejects the merge (exit 1), no verdict is printed.
dir="$WORK/tamper"
"$SHARD" plan "$req" --shards 8 --dir "$dir" > /dev/null
run_all_loop "$dir"
big=$(ls -S "$dir"/result-*.json | head -1)
/usr/bin/python3 - "$big" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
items = [i for sub in r["subtrees"] for i in sub.get("proof", []) if i.get("node", {}).get("farkas")]
items[0]["node"]["farkas"][0]["value"] = "7"
json.dump(r, open(sys.argv[1], "w"))
EOF
"$SHARD" merge "$dir" --json > "$WORK/tamper.json" 2> "$WORK/tamper.err"
rc=$?
[ $rc -eq 1 ] && [ ! -s "$WORK/tamper.json" ] && grep -q 'checker rejected' "$WORK/tamper.err" &&
  pass "a tampered result is rejected by the checker: $(head -c 160 "$WORK/tamper.err")" ||
  fail "tampered result: exit $rc, $(cat "$WORK/tamper.err")"

# Bad input: exit status 2 with a message.
"$SHARD" run "$dir" --index 999 2> "$WORK/bad.err"; rc=$?
[ $rc -eq 2 ] && grep -q 'shard-999.json' "$WORK/bad.err" && pass "unknown shard index: exit 2" || fail "unknown shard: exit $rc"
"$SHARD" plan "$req" --shards 8 --dir "$dir" 2> "$WORK/bad.err"; rc=$?
[ $rc -eq 2 ] && grep -q 'already holds a plan' "$WORK/bad.err" && pass "planning over a plan: exit 2" || fail "plan over a plan: exit $rc"
mkdir -p "$WORK/stale" && touch "$WORK/stale/result-0.json"
"$SHARD" plan "$req" --shards 8 --dir "$WORK/stale" 2> "$WORK/bad.err"; rc=$?
[ $rc -eq 2 ] && grep -q 'not empty' "$WORK/bad.err" && pass "planning into a directory with old files: exit 2" || fail "plan into a non-empty directory: exit $rc"
echo '{"architecture": {"input_dim": 1}}' > "$WORK/bad.json"
"$SHARD" plan "$WORK/bad.json" --dir "$WORK/bad" 2> "$WORK/bad.err"; rc=$?
[ $rc -eq 2 ] && pass "invalid request: exit 2 ($(cat "$WORK/bad.err"))" || fail "invalid request: exit $rc"

[ $failures -eq 0 ] && echo "shard: all passed" || echo "shard: $failures failed"
exit $((failures > 0))
