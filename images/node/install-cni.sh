#!/bin/sh
# tricolor-install-cni: run by the node DaemonSet's init container. Puts the CNI plugin on
# the host, where kubelet/containerd run it outside any container:
#   $HOST_ROOT$TRICOLOR_HOST_DIR/<BUILD_ID>/{node,app/}   a Node.js binary and the app tree
#   $HOST_ROOT$CNI_CONF_DIR/tricolor-tls/                the etcd client certificate (if any)
# then runs `tricolor-cni install` (packages/cni), which writes the launcher
# $CNI_BIN_DIR/tricolor and $CNI_CONF_DIR/10-tricolor.conflist pointing at those host paths.
# Environment: HOST_ROOT (/host), CNI_BIN_DIR (/opt/cni/bin), CNI_CONF_DIR (/etc/cni/net.d),
# TRICOLOR_HOST_DIR (/opt/tricolor): host paths; NODENAME, ETCD_ENDPOINTS, ETCD_*_FILE,
# TRICOLOR_DATASTORE_PREFIX, CNI_MTU as tricolor-cni install reads them.
set -eu
host=${HOST_ROOT:-/host}
bin_dir=${CNI_BIN_DIR:-/opt/cni/bin}
conf_dir=${CNI_CONF_DIR:-/etc/cni/net.d}
host_dir=${TRICOLOR_HOST_DIR:-/opt/tricolor}
app=$(cd "${0%/*}/../../../opt/tricolor" && pwd)
id=$(cat "$app/BUILD_ID")
dst="$host$host_dir/$id"

# Same BUILD_ID = same code: a restarted pod does not copy again. Copy, then rename, so a
# half-copied tree is never used.
if [ ! -f "$dst/.complete" ]; then
  rm -rf "$dst.tmp"
  mkdir -p "$dst.tmp"
  cp "$(command -v node)" "$dst.tmp/node"
  cp -R "$app" "$dst.tmp/app"
  touch "$dst.tmp/.complete"
  rm -rf "$dst"
  mv "$dst.tmp" "$dst"
fi

# The conflist names certificate files the plugin reads on the host.
if [ -n "${ETCD_CA_CERT_FILE:-}${ETCD_CERT_FILE:-}${ETCD_KEY_FILE:-}" ]; then
  tls="$conf_dir/tricolor-tls"
  (umask 077 && mkdir -p "$host$tls")
  for var in ETCD_CA_CERT_FILE ETCD_CERT_FILE ETCD_KEY_FILE; do
    eval "src=\${$var:-}"
    [ -n "$src" ] || continue
    name=$(basename "$src")
    (umask 077 && cp "$src" "$host$tls/$name.tmp" && mv "$host$tls/$name.tmp" "$host$tls/$name")
    export "$var=$tls/$name"
  done
fi

# Optional parts of the conflist (the chart sets these): the plugin's kubeconfig from this pod's
# service account, the agents' readiness URLs for STATUS, portmap chained, a log file.
set --
[ "${CNI_READ_KUBERNETES:-false}" = true ] && set -- "$@" --write-kubeconfig --host-conf-dir "$conf_dir"
[ -n "${CNI_HEALTH_URLS:-}" ] && set -- "$@" --health-urls "$CNI_HEALTH_URLS"
[ "${CNI_PORTMAP:-false}" = true ] && set -- "$@" --portmap
[ -n "${CNI_LOG_FILE:-}" ] && set -- "$@" --log-file "$CNI_LOG_FILE"

exec tricolor-cni install \
  --bin-dir "$host$bin_dir" \
  --conf-dir "$host$conf_dir" \
  --node-binary "$host_dir/$id/node" \
  --plugin-main "$host_dir/$id/app/packages/cni/dist/bundle/tricolor-cni.js" \
  "$@"
