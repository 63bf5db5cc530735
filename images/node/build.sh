#!/bin/sh
# Builds the node image from the repository root. Needs Docker with BuildKit (docker buildx).
# Usage: images/node/build.sh [IMAGE]   (default tricolor/node:<version from package.json>)
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
version=$(node -e 'console.log(require(process.argv[1]).version)' "$repo/package.json" 2>/dev/null || echo dev)
image=${1:-tricolor/node:$version}
DOCKER_BUILDKIT=1 docker build -f "$repo/images/node/Dockerfile" -t "$image" "$repo"
echo "built $image"
