#!/usr/bin/env bash
# The README's main command: a local multi-node Tricolor cluster in network namespaces
# with a real etcd, pods pinging across nodes. Arguments go to the demo (see --help).
#   ./scripts/demo.sh --keep               leave it running, print the CLIs' environment
#   eval "$(./scripts/demo.sh env)"        point tricolorctl / tricolor-birdc at it
#   ./scripts/demo.sh status | down
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/env.sh
# status, env and down only read the kept cluster's files: no setup or build (and nothing
# but the environment on stdout, for eval).
case "${1:-}" in
  env | status | down)
    if [ -f e2e/dist/src/demo.js ]; then exec node e2e/dist/src/demo.js "$@"; fi ;;
esac
bash scripts/setup.sh >&2
source scripts/lib/env.sh
npm run build --silent >&2
exec node e2e/dist/src/demo.js "$@"
