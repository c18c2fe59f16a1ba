#!/usr/bin/env bash
# relufit's SMT-LIB export is read by z3 and cvc5, and wherever they decide a
# small golden instance they agree with relufit's verdict (sat = feasible,
# unsat = infeasible). Usage: export_peers.sh BIN_DIR TESTS_DIR
set -uo pipefail
BIN=$1
TESTS=$2
source "$(dirname "$0")/lib.sh"
PEER_LIMIT=${PEER_LIMIT:-10}

start_server
compared=0
while IFS=$'\t' read -r name verdict _; do
  case "$name" in ''|'#'*) continue ;; esac
  req="$TESTS/golden/$name.json"
  n=$(grep -o '"x"' "$req" | wc -l)
  [ "$n" -le 12 ] || continue
  smt="$WORK/$(echo "$name" | tr / _).smt2"
  "$BIN/relufit" --server "127.0.0.1:$PORT" export "$req" --format smt2 -o "$smt" || { fail "$name: export failed"; continue; }
  got=$("$BIN/relufit" --server "127.0.0.1:$PORT" solve "$req" --json | sed -n 's/.*"verdict": "VERDICT_\([A-Z]*\)".*/\1/p')
  for peer in z3 cvc5; do
    if [ $peer = z3 ]; then
      answer=$(timeout $((PEER_LIMIT + 5)) z3 -T:$PEER_LIMIT "$smt" 2>&1 | head -1)
    else
      answer=$(timeout $((PEER_LIMIT + 5)) cvc5 --tlimit=$((PEER_LIMIT * 1000)) "$smt" 2>&1 | head -1)
    fi
    case "$answer" in
      sat) want=FEASIBLE ;;
      unsat) want=INFEASIBLE ;;
      *) echo "skip: $name: $peer undecided ($answer)"; continue ;;
    esac
    compared=$((compared + 1))
    [ "$got" = "$want" ] && pass "$name: relufit $got, $peer $answer" || fail "$name: relufit $got but $peer says $answer"
  done
done < "$TESTS/golden/EXPECTED.tsv"
[ $compared -ge 20 ] && pass "$compared comparisons" || fail "only $compared comparisons with the peers"
stop_server
echo "export_peers: $failures failure(s)"
[ $failures -eq 0 ]
