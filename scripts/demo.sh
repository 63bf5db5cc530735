#!/usr/bin/env bash
# The README's main command: a local multi-node Tricolor cluster in network namespaces
# with a real etcd, pods pinging across nodes. Arguments go to the demo (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >&2
source scripts/lib/env.sh
npm run build --silent
exec node e2e/dist/src/demo.js "$@"
