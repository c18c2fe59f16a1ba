#!/usr/bin/env bash
# End-to-end for issue 15 over the real server and client: `relufit
# minimize` (XOR, one neuron: least L-inf error 1/2, L1 error 1, squared L2
# 2/3, each hand-derived in tests/unit/erm_test.cpp), `relufit min-width`
# (XOR: 2), Solve with an error budget (max_error around the optimum),
# `relufit verify` on each answer (locally and with --remote), and forged
# answers rejected.
# Usage: erm.sh BIN_DIR TESTS_DIR
set -uo pipefail
BIN=$1
TESTS=$2
source "$(dirname "$0")/lib.sh"

start_server
C() { "$BIN/relufit" --server "127.0.0.1:$PORT" "$@"; }
xor="$TESTS/golden/shared/xor_m1.json"
field() { sed -n "s/.*\"$1\": \"\\([^\"]*\\)\".*/\\1/p" "$2" | head -1; }

# 1. Minimize, per loss: the value, then the certificate with relufit verify.
for case in "linf 1/2" "l1 1" "l2 2/3"; do
  set -- $case
  loss=$1 want=$2
  out="$WORK/min_$loss.json"
  C minimize "$xor" --loss "$loss" --json > "$out" 2> "$WORK/err" || { fail "minimize $loss: $(cat "$WORK/err")"; continue; }
  got=$(field optimal_error "$out")
  [ "$got" = "$want" ] && pass "minimize $loss: optimal error $got" || fail "minimize $loss: $got, expected $want"
  upper=$(echo "$loss" | tr a-z A-Z)
  printf '{"request": %s, "loss": "LOSS_%s"}\n' "$(cat "$xor")" "$upper" > "$WORK/minreq_$loss.json"
  "$BIN/relufit" verify "$WORK/minreq_$loss.json" "$out" > "$WORK/v" 2>&1 && pass "verify minimize $loss: $(cat "$WORK/v")" || fail "verify minimize $loss: $(cat "$WORK/v")"
  C verify --remote "$WORK/minreq_$loss.json" "$out" > /dev/null 2>&1 && pass "Verify RPC accepts minimize $loss" || fail "Verify RPC rejected minimize $loss"
done
sed 's/"optimal_error": "1\/2"/"optimal_error": "1\/4"/' "$WORK/min_linf.json" > "$WORK/forged.json"
"$BIN/relufit" verify "$WORK/minreq_linf.json" "$WORK/forged.json" 2> "$WORK/err" && fail "forged optimum accepted" || pass "forged optimum rejected: $(cat "$WORK/err")"
"$BIN/relufit" verify "$WORK/minreq_l1.json" "$WORK/min_linf.json" 2> "$WORK/err" && fail "answer for another loss accepted" || pass "answer for another loss rejected"
# The file given to `relufit minimize` (a SolveRequest) verifies too, with the response's loss.
"$BIN/relufit" verify "$xor" "$WORK/min_l2.json" > "$WORK/v" 2>&1 && grep -q "(l2)" "$WORK/v" \
  && pass "verify with the SolveRequest file: $(cat "$WORK/v")" || fail "verify with the SolveRequest file: $(cat "$WORK/v")"
"$BIN/relufit" verify "$xor" "$WORK/forged.json" 2> /dev/null && fail "forged optimum accepted with the SolveRequest file" \
  || pass "forged optimum rejected with the SolveRequest file"
C minimize "$xor" --loss l3 > /dev/null 2> "$WORK/err"; [ $? -eq 2 ] && pass "bad --loss: $(cat "$WORK/err")" || fail "bad --loss accepted"
C minimize "$xor" --loss l1 > "$WORK/human" && grep -q "optimal error: 1 " "$WORK/human" && grep -q "checked: " "$WORK/human" \
  && pass "minimize human output" || fail "minimize human output: $(cat "$WORK/human")"

# 2. MinWidth: XOR needs 2; the fit and the proof at width 1 verify.
C min-width "$xor" --max-width 4 --json > "$WORK/mw.json" 2> "$WORK/err" || fail "min-width: $(cat "$WORK/err")"
grep -q '"width": 2' "$WORK/mw.json" && pass "min-width: XOR needs width 2" || fail "min-width: $(head -c 400 "$WORK/mw.json")"
printf '{"request": %s, "max_width": 4}\n' "$(cat "$xor")" > "$WORK/mwreq.json"
"$BIN/relufit" verify "$WORK/mwreq.json" "$WORK/mw.json" > "$WORK/v" 2>&1 && pass "verify min-width: $(cat "$WORK/v")" || fail "verify min-width: $(cat "$WORK/v")"
sed 's/"width": 2/"width": 3/' "$WORK/mw.json" > "$WORK/forged_mw.json"
"$BIN/relufit" verify "$WORK/mwreq.json" "$WORK/forged_mw.json" 2> /dev/null && fail "forged width accepted" || pass "forged width rejected"
"$BIN/relufit" verify "$xor" "$WORK/mw.json" > /dev/null 2>&1 && pass "verify min-width with the SolveRequest file" \
  || fail "verify min-width with the SolveRequest file"
"$BIN/relufit" verify "$xor" "$WORK/forged_mw.json" 2> /dev/null && fail "forged width accepted with the SolveRequest file" \
  || pass "forged width rejected with the SolveRequest file"
C min-width "$xor" --max-error 1/2 > "$WORK/human" && grep -q "smallest width: 1" "$WORK/human" \
  && pass "min-width with --max-error 1/2 (L-inf): width 1" || fail "min-width --max-error: $(cat "$WORK/human")"

# 3. Solve with an error budget: just below the optimum INFEASIBLE with an
# error tree, at it FEASIBLE; both verify.
for case in "0.49 VERDICT_INFEASIBLE" "1/2 VERDICT_FEASIBLE"; do
  set -- $case
  sed "s|\"dataset\"|\"options\": {\"loss\": \"LOSS_LINF\", \"max_error\": \"$1\"}, \"dataset\"|" "$xor" > "$WORK/budget.json"
  C solve "$WORK/budget.json" --json > "$WORK/budget_out.json" 2> "$WORK/err" || { fail "budget $1: $(cat "$WORK/err")"; continue; }
  got=$(field verdict "$WORK/budget_out.json")
  [ "$got" = "$2" ] && pass "max_error $1: $got" || fail "max_error $1: $got, expected $2"
  "$BIN/relufit" verify "$WORK/budget.json" "$WORK/budget_out.json" > "$WORK/v" 2>&1 && pass "verify budget $1: $(cat "$WORK/v")" || fail "verify budget $1: $(cat "$WORK/v")"
done
grep -q '"erm_tree"' "$WORK/budget_out.json" && fail "FEASIBLE answer carries a tree" || true
sed "s|\"dataset\"|\"options\": {\"max_error\": \"-1\"}, \"dataset\"|" "$xor" > "$WORK/bad_budget.json"
C solve "$WORK/bad_budget.json" --json > /dev/null 2> "$WORK/err"; grep -q "options.max_error" "$WORK/err" && pass "negative max_error refused: $(cat "$WORK/err")" || fail "negative max_error: $(cat "$WORK/err")"

stop_server
"$BIN/relufit" minimize --help | grep -q -e --loss && "$BIN/relufit" min-width --help | grep -q -e --max-width \
  && pass "minimize and min-width help texts" || fail "help texts"
echo "erm e2e: $failures failure(s)"
[ $failures -eq 0 ]
