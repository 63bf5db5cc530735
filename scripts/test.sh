#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, lints, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/lib/env.sh
npm run build
npm run lint
npm test
