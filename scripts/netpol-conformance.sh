#!/usr/bin/env bash
# NetworkPolicy conformance: runs case files (e2e/netpol/FORMAT.md) on a local multi-node
# cluster in network namespaces. Usage: ./scripts/netpol-conformance.sh [--json] CASE.json...
# Setup and build output go to stderr, so --json leaves exactly one document on stdout.
set -euo pipefail
here="$(pwd)"
cd "$(dirname "$0")/.."
root="$(pwd)"
bash scripts/setup.sh >&2
source scripts/lib/env.sh
npm run build --silent >&2
cd "$here"
exec node "$root/e2e/dist/src/netpol/main.js" "$@"
