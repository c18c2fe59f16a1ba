#!/usr/bin/env bash
# Container test (not part of ctest: it takes minutes). Run as root on Debian 12:
#
#   ./scripts/container-test.sh [--no-cache] [--keep]
#
#  1. installs docker.io and debootstrap if missing and starts dockerd in the
#     background (--bridge=none) unless a daemon answers;
#  2. makes the base images debian:bookworm and debian:bookworm-slim locally
#     with debootstrap unless they exist (no image registry is needed);
#  3. builds the image (prints build time and image size) and checks that
#     every binary finds its libraries and that it runs as a non-root user;
#  4. runs it with --network host on a free loopback port and a named volume,
#     waits until Docker reports it healthy (the image's HEALTHCHECK);
#  5. from the host, submits tests/golden/shared/planted_n10_d2_m2_k1.json with
#     build/bin/relufit and watches it to the end (FEASIBLE);
#  6. restarts the container (graceful SIGTERM stop), waits for healthy again,
#     fetches the job's result from the store on the volume with
#     `relufit result ID --json`, checks VERDICT_FEASIBLE with weights and
#     re-checks it with the local independent checker (`relufit verify`);
#  7. stops the container: the server must exit 0 well before Docker's 10 s
#     kill;
#  8. runs the image again on the same volume with TLS and an access token
#     (throw-away certificates made with openssl, mounted read-only; the
#     HEALTHCHECK told the CA through RELUFIT_HEALTH_TLS_CA): healthy, a
#     plaintext call and a call without the token are refused, the job's
#     result comes back over TLS with the token;
#  then removes the container and the volume (--keep leaves both).
#
# Environment: RELUFIT_IMAGE (tag, default relufit:test), RELUFIT_CLIENT
# (client binary, default build/bin/relufit, built with scripts/build.sh if
# missing). dockerd, once started here, is left running (its pid is in
# /tmp/relufit-dockerd.pid, its log in /tmp/relufit-dockerd.log).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

IMAGE=${RELUFIT_IMAGE:-relufit:test}
CLIENT=${RELUFIT_CLIENT:-$ROOT/build/bin/relufit}
INSTANCE=$ROOT/tests/golden/shared/planted_n10_d2_m2_k1.json
NAME=relufit-ct-$$
VOLUME=relufit-ct-$$
SECRETS=""
NO_CACHE=()
KEEP=0
for arg in "$@"; do
  case "$arg" in
    --no-cache) NO_CACHE=(--no-cache) ;;
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "container-test: unknown argument $arg" >&2; exit 2 ;;
  esac
done

step() { echo "== $*"; }
fail() { echo "container-test: FAIL: $*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then fail "run as root (dockerd, debootstrap)"; fi

# --- 1. Docker --------------------------------------------------------------
missing=()
[ -x /usr/sbin/dockerd ] || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v openssl >/dev/null || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
  step "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if ! docker info >/dev/null 2>&1; then
  step "starting dockerd (--bridge=none; log /tmp/relufit-dockerd.log)"
  nohup /usr/sbin/dockerd --bridge=none >/tmp/relufit-dockerd.log 2>&1 &
  echo $! >/tmp/relufit-dockerd.pid
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { tail -20 /tmp/relufit-dockerd.log; fail "dockerd did not start"; }
fi

# --- 2. Base images ---------------------------------------------------------
# The Debian mirror this machine uses: the first deb822 URIs (or one-line deb
# entry) serving bookworm; the security mirror likewise for bookworm-security.
mirror_for() {  # $1: suite
  local suite=$1 f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v suite="$suite" '
      /^[[:space:]]*$/ { if (uri != "" && hit) { print uri; exit } uri = ""; hit = 0; next }
      /^URIs:/ { uri = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) hit = 1 }
      END { if (uri != "" && hit) print uri }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v suite="$suite" '$1 == "deb" { u = ($2 ~ /^\[/) ? $3 : $2; s = ($2 ~ /^\[/) ? $4 : $3;
                                         if (s == suite) print u }' "$f"
  done
}
if ! docker image inspect debian:bookworm >/dev/null 2>&1 ||
   ! docker image inspect debian:bookworm-slim >/dev/null 2>&1; then
  MIRROR=$(mirror_for bookworm | head -1)
  SECURITY=$(mirror_for bookworm-security | head -1)
  [ -n "$MIRROR" ] || fail "no Debian mirror for bookworm in /etc/apt/sources.list{,.d}"
  ROOTFS=$(mktemp -d /tmp/relufit-rootfs.XXXXXX)
  step "debootstrap --variant=minbase bookworm from $MIRROR"
  t0=$(date +%s)
  debootstrap --variant=minbase bookworm "$ROOTFS" "$MIRROR" >/tmp/relufit-debootstrap.log 2>&1 ||
    { tail -20 /tmp/relufit-debootstrap.log; fail "debootstrap failed"; }
  # Same apt sources as the official images: main, updates and security.
  rm -f "$ROOTFS/etc/apt/sources.list"
  {
    printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\n' "$MIRROR"
    printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
    if [ -n "$SECURITY" ]; then
      printf '\nTypes: deb\nURIs: %s\nSuites: bookworm-security\nComponents: main\n' "$SECURITY"
      printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
    fi
  } >"$ROOTFS/etc/apt/sources.list.d/debian.sources"
  rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/cache/apt/*.bin \
         "$ROOTFS"/var/lib/apt/lists/*
  # Like the official images: apt keeps no downloaded packages or caches.
  cat >"$ROOTFS/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  if ! docker image inspect debian:bookworm >/dev/null 2>&1; then
    tar -C "$ROOTFS" -c . | docker import - debian:bookworm >/dev/null
  fi
  if ! docker image inspect debian:bookworm-slim >/dev/null 2>&1; then
    # Slim like the official image: no documentation, manual pages or
    # locales, and dpkg told not to install them later.
    rm -rf "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* \
           "$ROOTFS"/usr/share/locale/* "$ROOTFS"/usr/share/lintian/*
    cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOF
    tar -C "$ROOTFS" -c . | docker import - debian:bookworm-slim >/dev/null
  fi
  rm -rf "$ROOTFS"
  echo "base images made in $(( $(date +%s) - t0 )) s"
fi
docker image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep '^debian:bookworm' || true

# --- 3. Image ---------------------------------------------------------------
step "docker build -t $IMAGE ${NO_CACHE[*]}"
t0=$(date +%s)
docker build --network host "${NO_CACHE[@]}" -t "$IMAGE" . >/tmp/relufit-docker-build.log 2>&1 ||
  { tail -40 /tmp/relufit-docker-build.log; fail "docker build failed (log /tmp/relufit-docker-build.log)"; }
BUILD_SECONDS=$(( $(date +%s) - t0 ))
SIZE_BYTES=$(docker image inspect -f '{{.Size}}' "$IMAGE")
echo "image $IMAGE built in ${BUILD_SECONDS} s; size $(( SIZE_BYTES / 1000000 )) MB ($SIZE_BYTES bytes)"

# Every binary resolves its libraries; the image does not run as root.
docker run --rm --network none "$IMAGE" sh -c \
  'for b in /usr/local/bin/relufit-server /usr/local/bin/relufit /usr/local/bin/relufit-health-probe; do
     if ldd "$b" | grep "not found"; then echo "$b: missing libraries"; exit 1; fi
   done; test "$(id -u)" != 0 || { echo "runs as root"; exit 1; }' ||
  fail "the image lacks libraries or runs as root"

# --- 4. Run -----------------------------------------------------------------
[ -x "$CLIENT" ] || { step "building the client (scripts/build.sh)"; ./scripts/build.sh; }
"$CLIENT" submit --help >/dev/null 2>&1 || fail "$CLIENT has no submit command (job RPCs)"
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ADDR=127.0.0.1:$PORT

cleanup() {
  local rc=$?
  if [ "$KEEP" = 1 ]; then
    echo "kept container $NAME and volume $VOLUME"
  else
    docker rm -f "$NAME" >/dev/null 2>&1 || true
    docker volume rm "$VOLUME" >/dev/null 2>&1 || true
  fi
  [ -z "$SECRETS" ] || rm -rf "$SECRETS"
  exit $rc
}
trap cleanup EXIT

wait_healthy() {
  local status=""
  for _ in $(seq 90); do
    status=$(docker inspect -f '{{.State.Status}} {{.State.Health.Status}}' "$NAME")
    case "$status" in
      "running healthy") return 0 ;;
      "running unhealthy") break ;;
      running*) sleep 1 ;;
      *) break ;;
    esac
  done
  docker logs "$NAME" 2>&1 | tail -20
  docker inspect -f '{{range .State.Health.Log}}{{.Output}}{{end}}' "$NAME" | tail -5
  fail "container not healthy (state: $status)"
}

step "docker run --network host, listening on $ADDR, volume $VOLUME"
docker volume create "$VOLUME" >/dev/null
t0=$(date +%s)
docker run -d --name "$NAME" --network host -v "$VOLUME:/var/lib/relufit" \
  -e RELUFIT_HEALTH_ADDR="$ADDR" "$IMAGE" \
  relufit-server --listen "$ADDR" --store /var/lib/relufit/jobs.sqlite3 >/dev/null
wait_healthy
echo "healthy after $(( $(date +%s) - t0 )) s: $(docker exec "$NAME" relufit-health-probe)"

# --- 5. Solve through the client on the host --------------------------------
step "submit and watch $(basename "$INSTANCE")"
JOB=$("$CLIENT" --server "$ADDR" submit "$INSTANCE")
[ -n "$JOB" ] || fail "submit printed no job id"
echo "job $JOB"
WATCH=$("$CLIENT" --server "$ADDR" watch "$JOB")
echo "$WATCH" | sed 's/^/  /'
grep -q '^verdict: FEASIBLE' <<<"$WATCH" || fail "watch did not end with verdict FEASIBLE"

# --- 6. Restart; the result comes back from the store on the volume ---------
step "docker restart"
t0=$(date +%s)
docker restart "$NAME" >/dev/null
RESTART_SECONDS=$(( $(date +%s) - t0 ))
[ "$RESTART_SECONDS" -lt 8 ] || fail "restart took ${RESTART_SECONDS} s (SIGTERM not handled?)"
t0=$(date +%s)
wait_healthy
echo "restarted in ${RESTART_SECONDS} s, healthy again after $(( $(date +%s) - t0 )) s"
docker logs "$NAME" 2>&1 | grep -E 'signal|stopped|listening' | sed 's/^/  log: /'

step "result $JOB --json after the restart"
RESULT=$(mktemp /tmp/relufit-ct-result.XXXXXX.json)
"$CLIENT" --server "$ADDR" result "$JOB" --json >"$RESULT" || fail "result $JOB failed"
/usr/bin/python3 - "$RESULT" <<'EOF' || fail "stored result is not a FEASIBLE network"
import json, sys
r = json.load(open(sys.argv[1]))
assert r.get("verdict") == "VERDICT_FEASIBLE", r.get("verdict")
neurons = r["network"]["neurons"]
assert len(neurons) == 2 and all(n["input_weights"] for n in neurons)
print("  verdict", r["verdict"], "with", len(neurons), "neurons; w[0] of neuron 0 =",
      neurons[0]["input_weights"][0]["rational"])
EOF
"$CLIENT" verify "$INSTANCE" "$RESULT" | sed 's/^/  local checker: /'
rm -f "$RESULT"

# --- 7. Stop ----------------------------------------------------------------
step "docker stop"
t0=$(date +%s)
docker stop "$NAME" >/dev/null
STOP_SECONDS=$(( $(date +%s) - t0 ))
EXIT_CODE=$(docker inspect -f '{{.State.ExitCode}}' "$NAME")
[ "$EXIT_CODE" = 0 ] || fail "server exited with $EXIT_CODE on SIGTERM"
[ "$STOP_SECONDS" -lt 8 ] || fail "stop took ${STOP_SECONDS} s (SIGTERM not handled?)"
echo "stopped in ${STOP_SECONDS} s, exit code 0"
docker rm "$NAME" >/dev/null

# --- 8. TLS and an access token, as README shows -----------------------------
step "TLS + access token (certificates made now, mounted read-only)"
SECRETS=$(mktemp -d /tmp/relufit-ct-secrets.XXXXXX)
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=relufit-ct-ca \
  -keyout "$SECRETS/ca.key" -out "$SECRETS/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=localhost \
  -keyout "$SECRETS/server.key" -out "$SECRETS/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$SECRETS/san"
openssl x509 -req -in "$SECRETS/server.csr" -CA "$SECRETS/ca.pem" -CAkey "$SECRETS/ca.key" \
  -CAcreateserial -days 1 -extfile "$SECRETS/san" -out "$SECRETS/server.pem" 2>/dev/null
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$SECRETS/tokens"
chmod 755 "$SECRETS"
chmod 644 "$SECRETS"/*   # readable by the image's user (uid 10001); throw-away test secrets
docker run -d --name "$NAME" --network host -v "$VOLUME:/var/lib/relufit" \
  -v "$SECRETS:/run/secrets/relufit:ro" \
  -e RELUFIT_HEALTH_ADDR="$ADDR" -e RELUFIT_HEALTH_TLS_CA=/run/secrets/relufit/ca.pem "$IMAGE" \
  relufit-server --listen "$ADDR" --store /var/lib/relufit/jobs.sqlite3 \
    --tls-cert /run/secrets/relufit/server.pem --tls-key /run/secrets/relufit/server.key \
    --token-file /run/secrets/relufit/tokens >/dev/null
wait_healthy
echo "healthy: $(docker exec "$NAME" relufit-health-probe)"
if "$CLIENT" --server "$ADDR" result "$JOB" >/dev/null 2>&1; then
  fail "a plaintext call to the TLS server succeeded"
fi
if "$CLIENT" --server "$ADDR" --tls-ca "$SECRETS/ca.pem" result "$JOB" >/dev/null 2>&1; then
  fail "a call without the access token succeeded"
fi
"$CLIENT" --server "$ADDR" --tls-ca "$SECRETS/ca.pem" --token-file "$SECRETS/tokens" \
  result "$JOB" | grep -q '^verdict: FEASIBLE' || fail "TLS + token: result $JOB not FEASIBLE"
echo "plaintext refused, no token refused, TLS + token: result $JOB FEASIBLE"
docker stop "$NAME" >/dev/null
rm -rf "$SECRETS"

echo "container-test: PASS (image $IMAGE: build ${BUILD_SECONDS} s, size $(( SIZE_BYTES / 1000000 )) MB)"
