#!/usr/bin/env bash
# Runs the interop tests: Microsoft's own libraries (azidentity, msgraph-sdk-go and MSAL
# for Go; MSAL Node, @azure/identity and the Graph JavaScript client) against the real
# graphhook binary, in proxy mode and in direct HTTPS mode (docs/interop.md).
#
# Outside the namespace it builds what the tests need, which may use the network (the Go
# module proxy, the npm registry): the graphhook binary, the Node packages from the lock
# file, and the Go test binary (msgraph-sdk-go takes minutes to build the first time,
# then comes from the build cache). It then runs the tests inside a network namespace
# that has only loopback (unshare -n), so that a client that ignores its proxy setting
# fails instead of reaching Microsoft; the Node processes also preload a socket guard
# (interop/node/guard.cjs) that fails them on any connection beyond loopback.
#
# Needs root (for unshare). Without root, or without npm, it skips loudly; under CI=true
# it never skips. GRAPHHOOK_INTEROP=0 skips the whole run (quick local runs).
#
# Usage: scripts/interop.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=$root/interop/.build

say() { echo "scripts/interop.sh: $*" >&2; }
warn() { say "WARNING: $*"; }
ci() { [ "${CI:-}" = "true" ]; }

# inside runs in the namespace: it starts graphhook for each runner, then the runner.
inside() {
  ip link set lo up
  if ip -o link show | grep -v ': lo:' | grep -q .; then
    say "the namespace has interfaces other than loopback:"; ip -o link show >&2
    exit 1
  fi
  unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy NO_PROXY no_proxy ALL_PROXY all_proxy

  failed=()
  trap stop_graphhook EXIT

  # Go, proxy mode: the process has only HTTPS_PROXY and SSL_CERT_FILE.
  start_graphhook go-proxy
  say "Go interop tests, proxy mode (HTTPS_PROXY=$gh_http SSL_CERT_FILE=$gh_ca)"
  (cd interop/go && HTTPS_PROXY=$gh_http SSL_CERT_FILE=$gh_ca \
    "$build/interop-go.test" -test.v -test.count=1 -test.timeout=5m -test.run '^(TestProxy|TestNamespace)') || failed+=("Go, proxy mode")
  stop_graphhook

  # Go, direct mode: no proxy; the CA through SSL_CERT_FILE. A separate process because
  # Go reads the proxy variables once per process.
  start_graphhook go-direct
  say "Go interop tests, direct HTTPS mode ($gh_https, SSL_CERT_FILE=$gh_ca)"
  (cd interop/go && SSL_CERT_FILE=$gh_ca \
    "$build/interop-go.test" -test.v -test.count=1 -test.timeout=5m -test.run '^TestDirect') || failed+=("Go, direct mode")
  stop_graphhook

  if [ "$run_node" = 1 ]; then
    start_graphhook node
    say "Node interop tests (NODE_EXTRA_CA_CERTS=$gh_ca; each client's own proxy option)"
    # Node warns on every start about a CA file that is missing (graphhook did not start).
    local ca=$gh_ca
    [ -s "$ca" ] || ca=
    (cd interop/node && NODE_EXTRA_CA_CERTS=$ca NODE_OPTIONS="--require=$root/interop/node/guard.cjs" \
      node --test --test-concurrency=1 --test-timeout=120000 test/*.test.cjs) || failed+=("Node")
    stop_graphhook
  fi

  if [ "${#failed[@]}" -gt 0 ]; then
    say "FAILED: $(IFS=';'; echo "${failed[*]}" | sed 's/;/; /g')"
    exit 1
  fi
  say "all interop tests passed"
}

gh_pid= gh_dir=
# start_graphhook starts graphhook on loopback with a fresh data folder and the interop
# fixture, and exports its URLs and CA for the tests. When it does not start, the tests
# still run (the guard tests need no server) and every test that needs the server
# fails with GRAPHHOOK_START_ERROR.
start_graphhook() {
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/graphhook-interop-$1.XXXXXX")
  gh_dir=$dir
  gh_http= gh_https= gh_ca=$dir/data/tls/ca.pem
  unset GRAPHHOOK_START_ERROR
  # The output files exist before the server starts: the background job opens them
  # only once it runs, and the loop below must not find them missing meanwhile.
  : >"$dir/stdout"
  : >"$dir/stderr"
  "$build/graphhook" serve --addr 127.0.0.1:0 --https-addr 127.0.0.1:0 --data "$dir/data" \
    --fixture "$root/interop/fixture.yaml" --log-level warn >"$dir/stdout" 2>"$dir/stderr" &
  gh_pid=$!
  local deadline=$((SECONDS + 60))
  while [ "$(wc -l <"$dir/stdout")" -lt 2 ]; do
    if ! kill -0 "$gh_pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
      break
    fi
    sleep 0.1 # polling the start-up lines, with the deadline above
  done
  gh_http=$(sed -n '1s/^graphhook listening on \(http:\/\/[^ ]*\).*/\1/p' "$dir/stdout")
  gh_https=$(sed -n '2s/^graphhook listening on \(https:\/\/[^ ]*\).*/\1/p' "$dir/stdout")
  if [ -z "$gh_http" ] || [ -z "$gh_https" ] || [ ! -s "$gh_ca" ]; then
    local why
    why=$(printf 'graphhook serve printed:\n%s\nand on stderr:\n%s\n(want line 1 "graphhook listening on http://…", line 2 "graphhook listening on https://…" and the CA at %s)' \
      "$(head -5 "$dir/stdout")" "$(tail -20 "$dir/stderr")" "$gh_ca")
    warn "graphhook did not start for $1:"; echo "$why" >&2
    export GRAPHHOOK_START_ERROR=$why
    kill "$gh_pid" 2>/dev/null || true
    wait "$gh_pid" 2>/dev/null || true
    gh_pid=
  fi
  export GRAPHHOOK_HTTP_URL=$gh_http GRAPHHOOK_HTTPS_URL=$gh_https GRAPHHOOK_CA_FILE=$gh_ca
}

stop_graphhook() {
  if [ -n "$gh_pid" ]; then
    kill "$gh_pid" 2>/dev/null || true
    wait "$gh_pid" 2>/dev/null || true
    gh_pid=
  fi
  if [ -n "$gh_dir" ]; then
    rm -rf "$gh_dir"
    gh_dir=
  fi
}

if [ "${1:-}" = "--inside" ]; then
  run_node=$2
  inside
  exit
fi

if [ "${GRAPHHOOK_INTEROP:-1}" = "0" ]; then
  warn "GRAPHHOOK_INTEROP=0: the interop tests with Microsoft's libraries are SKIPPED"
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v unshare >/dev/null || ! command -v ip >/dev/null; then
  if ci; then
    say "the interop tests need root, unshare and ip (a loopback-only network namespace); CI never skips them"
    exit 1
  fi
  warn "the interop tests need root, unshare and ip for their loopback-only network namespace: SKIPPED"
  exit 0
fi

mkdir -p "$build"
say "building graphhook"
go build -o "$build/graphhook" ./cmd/graphhook

run_node=1
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  if ci; then
    say "node and npm are needed for the Node interop tests; CI never skips them"
    exit 1
  fi
  warn "node or npm is missing: the Node interop tests are SKIPPED"
  run_node=0
else
  # npm ci wipes node_modules; skip it while node_modules came from this lock file.
  if ! cmp -s interop/node/package-lock.json interop/node/node_modules/.graphhook-lock 2>/dev/null; then
    say "installing the Node packages (npm ci)"
    (cd interop/node && npm ci --no-audit --no-fund --loglevel=error)
    cp interop/node/package-lock.json interop/node/node_modules/.graphhook-lock
  fi
fi

say "building the Go interop tests (msgraph-sdk-go takes minutes the first time)"
(cd interop/go && go mod tidy -diff && go test -c -o "$build/interop-go.test" . && go vet .)

say "running the interop tests in a loopback-only network namespace"
exec unshare -n bash "$root/scripts/interop.sh" --inside "$run_node"
