#!/usr/bin/env bash
# End-to-end test of the chart on kind: build and load the node image, install etcd and the
# chart, then run the checks of the netns suite (e2e/) on a real cluster:
#   pods on different nodes ping each other; nodes carry `proto bird` routes to the other
#   nodes' blocks; felix and bird metrics are served and scraped through their Services.
#   tricolor-kube-controllers runs; the NetworkPolicy conformance cases pass (netpol.mjs).
# Needs: docker, kind, kubectl, helm, node. Usage: e2e/kind/run.sh [--keep]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cluster=tricolor
image=tricolor/node:kind
keep=${1:-}
ns=kube-system

for tool in docker kind kubectl helm node; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is required" >&2; exit 2; }
done
# The chart's default pool and kind's podSubnet must agree.
pool=$(sed -n 's/^  cidr: //p' "$repo/charts/tricolor/values.yaml")
grep -q "podSubnet: $pool" "$here/kind-config.yaml" || { echo "run.sh: podSubnet != ipPool.cidr ($pool)" >&2; exit 2; }

cleanup() { [ "$keep" = --keep ] || kind delete cluster --name "$cluster"; }
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }

step "build $image"
"$repo/images/node/build.sh" "$image"

step "create kind cluster $cluster (no default CNI)"
kind create cluster --config "$here/kind-config.yaml" --wait 0s
kind load docker-image "$image" --name "$cluster"

step "etcd"
kubectl apply -f "$here/etcd.yaml"
kubectl -n "$ns" rollout status statefulset/tricolor-etcd --timeout=180s

step "helm install tricolor"
helm install tricolor "$repo/charts/tricolor" -n "$ns" -f "$here/values.yaml" --wait --timeout 10m
kubectl -n "$ns" rollout status daemonset/tricolor-node --timeout=300s
kubectl wait --for=condition=Ready nodes --all --timeout=300s

step "pods on every node"
cat <<YAML | kubectl apply -f -
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: pinger, namespace: default}
spec:
  selector: {matchLabels: {app: pinger}}
  template:
    metadata: {labels: {app: pinger}}
    spec:
      tolerations: [{operator: Exists}]
      containers:
        - name: c
          image: busybox:1.36
          command: [sleep, "36000"]
          resources: {requests: {cpu: 10m, memory: 16Mi}}
YAML
kubectl rollout status daemonset/pinger --timeout=300s

step "pods on different nodes ping each other"
mapfile -t pods < <(kubectl get pods -l app=pinger -o jsonpath='{range .items[*]}{.metadata.name} {.status.podIP} {.spec.nodeName}{"\n"}{end}')
fail=0
for a in "${pods[@]}"; do
  read -r pa _ na <<<"$a"
  for b in "${pods[@]}"; do
    read -r pb ipb nb <<<"$b"
    [ "$na" = "$nb" ] && continue
    if kubectl exec "$pa" -- ping -c 1 -W 2 "$ipb" >/dev/null; then echo "ok   $na → $nb ($ipb)"
    else echo "FAIL $na → $nb ($ipb)"; fail=1; fi
  done
done

step "every node has proto bird routes to the other nodes' blocks"
for n in $(kind get nodes --name "$cluster"); do
  routes=$(docker exec "$n" ip route show proto bird)
  count=$(grep -c "^$(echo "$pool" | cut -d. -f1-2)\." <<<"$routes" || true)
  echo "$n: $count proto bird routes"; echo "$routes" | sed 's/^/    /'
  [ "$count" -ge 1 ] || { echo "FAIL $n has no proto bird route into $pool"; fail=1; }
done

step "metrics are served where the chart says"
for n in $(kind get nodes --name "$cluster"); do
  ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$n")
  for pm in 9091:felix_active_local_endpoints 9092:bgp_session_state; do
    port=${pm%%:*}; metric=${pm#*:}
    if docker exec "$n" sh -c "curl -sf http://$ip:$port/metrics || wget -qO- http://$ip:$port/metrics" | grep -q "^$metric"; then
      echo "ok   $n:$port has $metric"
    else echo "FAIL $n:$port lacks $metric"; fail=1; fi
  done
done
for svc in tricolor-felix-metrics tricolor-bird-metrics; do
  eps=$(kubectl -n "$ns" get endpoints "$svc" -o jsonpath='{.subsets[*].addresses[*].ip}' | wc -w)
  echo "$svc: $eps endpoints"; [ "$eps" -eq "$(kind get nodes --name "$cluster" | wc -l)" ] || fail=1
done
# A scrape as Prometheus does it (through the Service's endpoints, from inside the cluster).
kubectl run scrape --rm -i --restart=Never --image=busybox:1.36 -- \
  sh -c "wget -qO- http://tricolor-felix-metrics.$ns.svc:9091/metrics | grep -c '^felix_'" || fail=1

step "IPAM is consistent"
kubectl -n "$ns" exec daemonset/tricolor-node -c felix -- tricolorctl ipam check || fail=1

step "tricolor-kube-controllers is running and synced the namespaces"
kubectl -n "$ns" rollout status deployment/tricolor-kube-controllers --timeout=180s || fail=1
kubectl -n "$ns" exec daemonset/tricolor-node -c felix -- tricolorctl get profiles | grep -q 'kns.default' || { echo "FAIL no kns.default profile"; fail=1; }

step "NetworkPolicy conformance cases (e2e/netpol/examples)"
node "$here/netpol.mjs" || fail=1

[ "$fail" -eq 0 ] && echo "e2e/kind: PASS" || { echo "e2e/kind: FAIL"; exit 1; }
