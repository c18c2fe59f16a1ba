# Shared helpers of the end-to-end scripts: a scratch folder (WORK, removed
# at exit), a real relufit-server on a free port (port 0, read back from its
# log), and pass/fail bookkeeping. Needs BIN set by the caller.
SERVER_PID=""
PORT=""
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

# Starts a server with extra flags and sets PORT once it is listening.
# Without --store among the flags the server gets a store of its own in WORK.
start_server() {
  local store=()
  [[ " $* " == *" --store "* ]] || store=(--store "$WORK/default-store.sqlite3")
  # An earlier server's log would give its port before the new one truncates it.
  rm -f "$WORK/server.log"
  "$BIN/relufit-server" --listen 127.0.0.1:0 "${store[@]}" "$@" > "$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    # The log file appears when the background shell has opened it.
    PORT=$(sed -n 's/.*listening on .*(port \([0-9]*\)).*/\1/p' "$WORK/server.log" 2>/dev/null)
    [ -n "$PORT" ] && return 0
    sleep 0.1
  done
  echo "server did not start:"; cat "$WORK/server.log"; exit 1
}

# Sends SIGTERM and checks a clean exit.
stop_server() {
  kill -TERM "$SERVER_PID"
  local start rc ms
  start=$(date +%s%N)
  wait "$SERVER_PID"
  rc=$?
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  SERVER_PID=""
  [ $rc -eq 0 ] && pass "server exits 0 on SIGTERM (${ms} ms)" || fail "server exit status $rc on SIGTERM"
}

cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}

WORK=$(mktemp -d)
trap cleanup EXIT
