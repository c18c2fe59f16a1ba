#!/usr/bin/env bash
# Access control end to end: an access token (refused without it or with a
# wrong one, accepted with it) and a TLS round trip with a certificate made
# here by a throwaway CA. Usage: access.sh BIN_DIR TESTS_DIR
set -uo pipefail
BIN=$1
TESTS=$2
source "$(dirname "$0")/lib.sh"
REQ="$TESTS/golden/hat_m2.json"

# 1. Token.
echo "s3cret-token-$RANDOM" > "$WORK/token"
echo "wrong-token" > "$WORK/wrong"
start_server --token-file "$WORK/token"
C() { "$BIN/relufit" --server "127.0.0.1:$PORT" "$@"; }
C solve "$REQ" --json > /dev/null 2> "$WORK/err" && fail "call without token accepted" \
  || { grep UNAUTHENTICATED "$WORK/err" > /dev/null && pass "no token: $(cat "$WORK/err")" || fail "no token: $(cat "$WORK/err")"; }
C --token-file "$WORK/wrong" solve "$REQ" --json > /dev/null 2> "$WORK/err" && fail "wrong token accepted" \
  || { grep UNAUTHENTICATED "$WORK/err" > /dev/null && pass "wrong token: $(cat "$WORK/err")" || fail "wrong token: $(cat "$WORK/err")"; }
C --token-file "$WORK/token" solve "$REQ" --json | grep VERDICT_FEASIBLE > /dev/null && pass "with token: solved" || fail "with token"
RELUFIT_TOKEN=$(cat "$WORK/token") C jobs > /dev/null && pass "token from RELUFIT_TOKEN" || fail "RELUFIT_TOKEN"
C submit "$REQ" > /dev/null 2>&1 && fail "SubmitJob without token accepted" || pass "SubmitJob without token refused"
stop_server

# 2. TLS with a test CA and a server certificate for 127.0.0.1.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=relufit test CA" \
  -keyout "$WORK/ca.key" -out "$WORK/ca.pem" 2> /dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$WORK/server.key" \
  -out "$WORK/server.csr" 2> /dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$WORK/san.ext"
openssl x509 -req -in "$WORK/server.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial \
  -days 2 -extfile "$WORK/san.ext" -out "$WORK/server.pem" 2> /dev/null
start_server --tls-cert "$WORK/server.pem" --tls-key "$WORK/server.key" --token-file "$WORK/token"
C --tls-ca "$WORK/ca.pem" --token-file "$WORK/token" solve "$REQ" --json > "$WORK/tls.json" \
  && grep VERDICT_FEASIBLE "$WORK/tls.json" > /dev/null && "$BIN/relufit" verify "$REQ" "$WORK/tls.json" > /dev/null \
  && pass "TLS round trip: solved and verified" || fail "TLS round trip"
C --token-file "$WORK/token" solve "$REQ" --json > /dev/null 2> "$WORK/err" && fail "plaintext client reached the TLS server" \
  || pass "plaintext client refused by the TLS server: $(cat "$WORK/err")"
C --tls --token-file "$WORK/token" solve "$REQ" --json > /dev/null 2>&1 && fail "untrusted certificate accepted" \
  || pass "certificate from an unknown CA refused"
stop_server

echo "access: $failures failure(s)"
[ $failures -eq 0 ]
