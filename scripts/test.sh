#!/usr/bin/env bash
# Runs every graphhook test. The PostgreSQL tests need the server binaries from Debian's
# postgresql package; this script installs them when they are missing and it runs as
# root, and otherwise the PostgreSQL tests are skipped with a loud message (CI sets
# GRAPHHOOK_REQUIRE_POSTGRES=1, which turns those skips into failures).
#
# The dashboard's browser test drives Debian's chromium headless; this script installs
# it the same way and then sets GRAPHHOOK_REQUIRE_BROWSER=1, so that the test fails
# instead of skipping when the browser cannot run.
#
# Then it runs the interop tests with Microsoft's Go and Node libraries
# (scripts/interop.sh, in a loopback-only network namespace); GRAPHHOOK_INTEROP=0 skips
# them for a quick local run.
#
# Usage: scripts/test.sh [extra go test flags]   e.g. scripts/test.sh -run TestFoo
set -euo pipefail
cd "$(dirname "$0")/.."

have_pg() { compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; }

if ! have_pg; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "scripts/test.sh: installing PostgreSQL from Debian's packages for the store tests" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq postgresql >/dev/null
  else
    echo "scripts/test.sh: WARNING: PostgreSQL server binaries are missing and cannot be installed" >&2
    echo "scripts/test.sh: WARNING: the PostgreSQL tests will be SKIPPED (install Debian's postgresql package)" >&2
  fi
fi

if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "scripts/test.sh: installing chromium from Debian's packages for the dashboard's browser test" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq chromium >/dev/null
  else
    echo "scripts/test.sh: WARNING: chromium is missing and cannot be installed" >&2
    echo "scripts/test.sh: WARNING: the dashboard's browser test will be SKIPPED (install Debian's chromium package)" >&2
  fi
fi
if command -v chromium >/dev/null; then
  export GRAPHHOOK_REQUIRE_BROWSER=1
fi

race=-race
if [ "${GRAPHHOOK_TEST_RACE:-1}" = "0" ]; then race=; fi
go test $race -count=1 -timeout 30m "$@" ./...
scripts/interop.sh
