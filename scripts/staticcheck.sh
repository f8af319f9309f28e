#!/usr/bin/env bash
# Runs staticcheck on every package, at the version pinned here (fetched through the Go
# module proxy on first use and cached like any module).
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
