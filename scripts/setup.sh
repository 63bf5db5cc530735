#!/usr/bin/env bash
# Installs what Tricolor's build, tests and demo need on a fresh Debian 12 machine
# (root): Debian packages, then the npm workspace. Idempotent and quick when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  etcd-server etcd-client          # the datastore, spawned by tests on free loopback ports
  iproute2 iptables ipset conntrack iputils-ping curl openssl kmod
  bird2 gobgpd frr                 # real BGP peers for interoperability tests and benchmarks
  # The chart tests render charts/tricolor with a small Go program built from Debian's
  # Go sources (text/template + sprig, as Helm does): no helm binary is needed.
  golang-go golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev golang-github-xeipuuv-gojsonschema-dev
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

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "setup: Node.js 20 or newer is needed (found $(node --version))" >&2
  exit 1
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm install` installs the lockfile's versions. Not `npm ci`: npm 11 writes lockfiles
  # without the other platforms' optional packages (Biome's) and then its own `ci` refuses them.
  echo "setup: npm install" >&2
  npm install --no-audit --no-fund --loglevel=error
fi
