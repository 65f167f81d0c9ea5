#!/usr/bin/env bash
# Runs every test of every module (go test ./... does not enter nested modules; go.work lists them).
set -euo pipefail
cd "$(dirname "$0")"
exec go test -count=1 "$@" ./... ./apiauth/... ./compat/...
