#!/usr/bin/env bash
# End-to-end: starts the real relufit-server on a free port and goes through
# the relufit client: golden verdicts, certificates accepted by
# `relufit verify`, tampering caught, bad input, limits, time limit, help.
# Usage: e2e.sh BIN_DIR TESTS_DIR
set -uo pipefail
BIN=$1
TESTS=$2
source "$(dirname "$0")/lib.sh"

start_server
C() { "$BIN/relufit" --server "127.0.0.1:$PORT" "$@"; }

# 1. Golden instances: verdict as expected, response verified by the client.
while IFS=$'\t' read -r name verdict _; do
  case "$name" in ''|'#'*) continue ;; esac
  req="$TESTS/golden/$name.json"
  out="$WORK/$(echo "$name" | tr / _).response.json"
  if ! C solve "$req" --json --time-limit 120 > "$out" 2> "$WORK/err"; then
    fail "$name: solve failed: $(cat "$WORK/err")"; continue
  fi
  want="VERDICT_$(echo "$verdict" | tr a-z A-Z)"
  got=$(sed -n 's/.*"verdict": "\([A-Z_]*\)".*/\1/p' "$out")
  [ "$got" = "$want" ] || { fail "$name: verdict $got, expected $want"; continue; }
  if "$BIN/relufit" verify "$req" "$out" > "$WORK/verify" 2>&1; then
    pass "$name: $got, verified ($(cat "$WORK/verify"))"
  else
    fail "$name: relufit verify rejected: $(cat "$WORK/verify")"
  fi
done < "$TESTS/golden/EXPECTED.tsv"

# 2. The Verify RPC agrees, and tampered responses are rejected (exit != 0).
xor_resp="$WORK/shared_xor_m1.response.json"
C verify --remote "$TESTS/golden/shared/xor_m1.json" "$xor_resp" > /dev/null && pass "Verify RPC accepts xor_m1 proof" || fail "Verify RPC rejected xor_m1 proof"
sed '0,/"value": "[^"]*"/s//"value": "987\/11"/' "$xor_resp" > "$WORK/tampered.json"
if "$BIN/relufit" verify "$TESTS/golden/shared/xor_m1.json" "$WORK/tampered.json" 2> "$WORK/err"; then
  fail "tampered Farkas entry accepted"
else
  pass "tampered Farkas entry rejected: $(cat "$WORK/err")"
fi
C verify --remote "$TESTS/golden/shared/xor_m1.json" "$WORK/tampered.json" > /dev/null 2>&1 && fail "Verify RPC accepted tampered proof" || pass "Verify RPC rejects tampered proof"
feas_resp="$WORK/shared_planted_n10_d2_m2_k1.response.json"
sed '0,/"rational": "[^"]*"/s//"rational": "12345"/' "$feas_resp" > "$WORK/tampered_w.json"
"$BIN/relufit" verify "$TESTS/golden/shared/planted_n10_d2_m2_k1.json" "$WORK/tampered_w.json" 2> /dev/null && fail "tampered weight accepted" || pass "tampered weight rejected"

# 2b. Algebraic weights: the irrational-only instance's response is rejected
# once its minimal polynomial or its isolating interval is changed.
irr_req="$TESTS/golden/irrational_only_m4_k2_sqrt2.json"
irr_resp="$WORK/irrational_only_m4_k2_sqrt2.response.json"
grep -q '"algebraic"' "$irr_resp" && pass "irrational-only instance answered with algebraic weights" || fail "no algebraic weight in $irr_resp"
sed '0,/"min_poly": \[/{n;s/"-2"/"-3"/}' "$irr_resp" > "$WORK/tampered_poly.json"
cmp -s "$irr_resp" "$WORK/tampered_poly.json" && fail "could not tamper a minimal polynomial"
"$BIN/relufit" verify "$irr_req" "$WORK/tampered_poly.json" 2> "$WORK/err" && fail "changed minimal polynomial accepted" || pass "changed minimal polynomial rejected: $(cat "$WORK/err")"
sed '0,/"lower": "1"/s//"lower": "-2"/' "$irr_resp" > "$WORK/tampered_interval.json"
cmp -s "$irr_resp" "$WORK/tampered_interval.json" && fail "could not tamper an interval"
"$BIN/relufit" verify "$irr_req" "$WORK/tampered_interval.json" 2> "$WORK/err" && fail "interval with two roots accepted" || pass "interval with two roots rejected: $(cat "$WORK/err")"
C solve "$irr_req" > "$WORK/human_irr" || fail "human solve of $irr_req failed"
grep -q 'the root of t^2 - 2 in' "$WORK/human_irr" && grep -q 'irrational algebraic weights fits all 20 samples exactly' "$WORK/human_irr" \
  && pass "human output shows minimal polynomials" || fail "human output: $(cat "$WORK/human_irr")"

# 3. Human output names the verdict and exact weights.
C solve "$TESTS/golden/hat_m2.json" > "$WORK/human" || fail "human solve failed"
grep -q '^verdict: FEASIBLE' "$WORK/human" && grep -q 'checked: network of width 2 fits all 4 samples exactly' "$WORK/human" \
  && pass "human output" || fail "human output: $(cat "$WORK/human")"

# 4. CSV input with architecture flags.
printf '# x, y\nx,y\n0,0\n1,1\n2,0\n' > "$WORK/hat.csv"
C solve "$WORK/hat.csv" --input-dim 1 --hidden-width 1 --json | grep VERDICT_INFEASIBLE >/dev/null && pass "CSV width 1 infeasible" || fail "CSV width 1"
C solve "$WORK/hat.csv" --input-dim 1 --hidden-width 2 --json | grep VERDICT_FEASIBLE >/dev/null && pass "CSV width 2 feasible" || fail "CSV width 2"

# 5. Bad input: INVALID_ARGUMENT naming field and sample, non-zero exit, one line.
expect_error() {  # file, expected substring, description
  if C solve "$1" --json > /dev/null 2> "$WORK/err"; then fail "$3: accepted"; return; fi
  grep -q "$2" "$WORK/err" && [ "$(wc -l < "$WORK/err")" -eq 1 ] && pass "$3: $(cat "$WORK/err")" || fail "$3: $(cat "$WORK/err")"
}
mk() { echo "{\"architecture\":{\"input_dim\":$1,\"hidden_width\":$2,\"output_dim\":1},\"dataset\":{\"samples\":[$3]}}" > "$WORK/bad.json"; }
mk 1 1 '{"x":["1"],"y":["1"]},{"x":["1","2"],"y":["1"]}'; expect_error "$WORK/bad.json" 'INVALID_ARGUMENT: dataset.samples\[1\].x' "wrong coordinate count"
mk 1 1 '{"x":["abc"],"y":["1"]}'; expect_error "$WORK/bad.json" 'dataset.samples\[0\].x\[0\]: not a number' "not a number"
mk 1 1 '{"x":["1"],"y":["1/0"]}'; expect_error "$WORK/bad.json" 'dataset.samples\[0\].y\[0\]: zero denominator' "zero denominator"
mk 1 1 ''; expect_error "$WORK/bad.json" 'INVALID_ARGUMENT: dataset.samples: empty dataset' "empty dataset"
mk 1 0 '{"x":["1"],"y":["1"]}'; expect_error "$WORK/bad.json" 'architecture.hidden_width' "zero width"
mk 0 1 '{"x":[],"y":["1"]}'; expect_error "$WORK/bad.json" 'architecture.input_dim' "zero input dim"
echo '{"architecture": {"input_dim": 1}, "bogus": 1}' > "$WORK/bad.json"; expect_error "$WORK/bad.json" 'not a SolveRequest' "unknown JSON field"

# 6. Time limit: a hard instance (random labels, width 4: neither the primal
# heuristic nor the search decides it in 0.5 s) ends promptly in UNKNOWN "time limit".
start=$(date +%s%N)
C solve "$TESTS/data/hard_random_n40_d2_m4.json" --time-limit 0.5 --json > "$WORK/slow.json"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
grep -q '"reason": "time limit"' "$WORK/slow.json" && grep -q VERDICT_UNKNOWN "$WORK/slow.json" && [ $ms -lt 3000 ] \
  && pass "time limit 0.5 s -> UNKNOWN in ${ms} ms" || fail "time limit: ${ms} ms, $(head -c 300 "$WORK/slow.json")"

# 7. --help everywhere.
"$BIN/relufit" --help | grep solve >/dev/null && "$BIN/relufit" solve --help | grep -e --time-limit >/dev/null \
  && "$BIN/relufit" verify --help | grep RESPONSE >/dev/null && "$BIN/relufit-server" --help | grep -e --listen >/dev/null \
  && pass "help texts" || fail "help texts"

# 8. A taken port is an error, not a silent second server.
if "$BIN/relufit-server" --listen "127.0.0.1:$PORT" > "$WORK/second.log" 2>&1; then
  fail "second server on a taken port started"
else
  pass "taken port refused"
fi
stop_server

# 9. Server limits: RESOURCE_EXHAUSTED past them.
start_server --max-samples 3 --max-digits 5
C solve "$TESTS/golden/shared/xor_m1.json" --json > /dev/null 2> "$WORK/err"; grep -q 'RESOURCE_EXHAUSTED: dataset.samples' "$WORK/err" && pass "sample limit: $(cat "$WORK/err")" || fail "sample limit: $(cat "$WORK/err")"
mk 1 1 '{"x":["123456"],"y":["1"]}'; expect_error "$WORK/bad.json" 'RESOURCE_EXHAUSTED: dataset.samples\[0\].x\[0\]' "digit limit"
stop_server

# 9b. Search threads: a request's options.threads (relufit solve/submit
# --threads), the server's --search-threads as default and cap.
xor1="$TESTS/golden/shared/xor_m1.json"
start_server --search-threads 1
grep -q ', 1 search thread(s) per solve' "$WORK/server.log" && pass "server reports --search-threads 1" || fail "server log: $(head -3 "$WORK/server.log")"
C solve "$xor1" --json --threads 4 > /dev/null 2> "$WORK/err" && grep -q 'threads=1:' "$WORK/server.log" \
  && pass "--threads 4 capped at the server's 1" || fail "--threads 4 on a 1-thread server: $(cat "$WORK/err"; grep threads= "$WORK/server.log")"
id=$(C submit "$xor1" --threads 2 2> "$WORK/err") && C watch "$id" --json > /dev/null 2>> "$WORK/err" \
  && [ "$(grep -c 'threads=1:' "$WORK/server.log")" -eq 2 ] && pass "a job solves with its request's (capped) threads" \
  || fail "job with --threads: $(cat "$WORK/err"; grep threads= "$WORK/server.log")"
stop_server
start_server --search-threads 2
C solve "$xor1" --json --threads 1 > /dev/null 2> "$WORK/err" && grep -q 'threads=1:' "$WORK/server.log" \
  && pass "--threads 1 on a 2-thread server" || fail "--threads 1: $(cat "$WORK/err"; grep threads= "$WORK/server.log")"
C solve "$xor1" --json > /dev/null 2> "$WORK/err" && grep -q 'threads=2:' "$WORK/server.log" \
  && pass "no --threads: the server's --search-threads" || fail "default threads: $(cat "$WORK/err"; grep threads= "$WORK/server.log")"
stop_server
"$BIN/relufit" solve --help | grep -q -e --threads && "$BIN/relufit" submit --help | grep -q -e --threads \
  && "$BIN/relufit-server" --help | grep -q -e --search-threads && pass "threads options in the help texts" || fail "threads help texts"

# 10. Unreachable server: non-zero exit with one line.
if "$BIN/relufit" --server 127.0.0.1:1 solve "$TESTS/golden/hat_m1.json" 2> "$WORK/err"; then
  fail "unreachable server reported success"
else
  grep -q 'cannot reach relufit-server' "$WORK/err" && pass "unreachable server: $(cat "$WORK/err")" || fail "unreachable: $(cat "$WORK/err")"
fi

echo "e2e: $failures failure(s)"
[ $failures -eq 0 ]
