#!/bin/sh
# Assembles the node image's file system (the part Tricolor adds to node:24-bookworm-slim)
# as a directory, from a repository whose packages are built (npm run build):
#   OUT/opt/tricolor/            package.json + lock, packages/*/dist/src (+ cni's dist/bundle),
#                                production node_modules
#   OUT/opt/tricolor/BUILD_ID    content hash of the packaged code (names the copy on the host)
#   OUT/usr/local/bin/<bin>      one launcher per "bin" of the runtime packages' package.json
#   OUT/usr/local/bin/tricolor-install-cni
# The Dockerfile runs exactly this script in its build stage and copies OUT into the image.
# Usage: images/node/layout.sh OUT_DIR
# Production dependencies (LAYOUT_DEPS):
#   ci   (the Dockerfile) `npm ci --omit=dev` inside OUT/opt/tricolor; NPM_CI_FLAGS adds flags.
#        Needs package-lock.json in sync with every workspace's package.json.
#   copy (default; offline) copies the production dependency tree the repository has
#        installed (`npm ls --omit=dev --all --parseable`) - the same packages, no download.
set -eu
if [ $# -ne 1 ]; then echo "usage: $0 OUT_DIR" >&2; exit 2; fi
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=$1
app="$out/opt/tricolor"
# Packages whose code ships in the image: the daemons, the CNI plugin, the CLI and their libraries.
runtime="linux datastore contract ipam policy bgp-parser-ts felix bird node cni ctl kube-controllers"

rm -rf "$out"
mkdir -p "$app" "$out/usr/local/bin"
cp "$repo/package.json" "$repo/package-lock.json" "$app/"
# npm ci checks the lock against every workspace, so every workspace's package.json goes in;
# only the runtime packages bring their compiled code.
for ws in $(node -e 'console.log(require(process.argv[1]).workspaces.join(" "))' "$repo/package.json"); do
  if [ -f "$repo/$ws/package.json" ]; then
    mkdir -p "$app/$ws"
    cp "$repo/$ws/package.json" "$app/$ws/package.json"
  fi
done
missing=""
for p in $runtime; do
  if [ -d "$repo/packages/$p/dist/src" ]; then
    mkdir -p "$app/packages/$p/dist"
    cp -R "$repo/packages/$p/dist/src" "$app/packages/$p/dist/src"
    [ -d "$repo/packages/$p/bin" ] && cp -R "$repo/packages/$p/bin" "$app/packages/$p/bin"
    # The CNI plugin's one-file bundle (what its launcher runs on the host).
    [ -d "$repo/packages/$p/dist/bundle" ] && cp -R "$repo/packages/$p/dist/bundle" "$app/packages/$p/dist/bundle"
    find "$app/packages/$p/dist/src" \( -name '*.d.ts' -o -name '*.d.ts.map' -o -name '*.js.map' \) -delete
  else
    missing="$missing $p"
  fi
done
[ -f "$repo/packages/cni/dist/bundle/tricolor-cni.js" ] || missing="$missing cni/dist/bundle"
if [ -n "$missing" ]; then
  echo "layout: not built:$missing (run npm run build first)" >&2
  [ "${LAYOUT_ALLOW_MISSING:-}" = 1 ] || exit 1
fi

case "${LAYOUT_DEPS:-copy}" in
  ci)
    # shellcheck disable=SC2086
    (cd "$app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error ${NPM_CI_FLAGS:-})
    ;;
  copy)
    mkdir -p "$app/node_modules"
    # Top-level entries only (node_modules/x, node_modules/@scope/x): cp -R brings their own
    # nested node_modules and keeps workspace symlinks (../packages/x) as links.
    (cd "$repo" && npm ls --omit=dev --all --parseable 2>/dev/null || true) |
      sed -n "s#^$repo/node_modules/##p" | grep -E '^(@[^/]+/)?[^/@][^/]*$' | LC_ALL=C sort -u |
      while read -r rel; do
        mkdir -p "$app/node_modules/$(dirname "$rel")"
        cp -R "$repo/node_modules/$rel" "$app/node_modules/$rel"
      done
    ;;
  *) echo "layout: LAYOUT_DEPS must be ci or copy" >&2; exit 2 ;;
esac

# Launchers: relative to their own location, so the tree works at / (the image) and anywhere
# else (tests). Not symlinks to the .js files: those need a shebang and an exec bit. Node.js
# flags on a bin's shebang (`#!/usr/bin/env -S node FLAGS`) are the launcher's too: running
# `node FILE` would skip them.
for p in $runtime; do
  pj="$app/packages/$p/package.json"
  [ -f "$pj" ] || continue
  node -e '
    const { readFileSync } = require("node:fs");
    const { join, dirname } = require("node:path");
    const pj = require(process.argv[1]);
    const bin = typeof pj.bin === "string" ? { [pj.name.split("/").pop()]: pj.bin } : pj.bin ?? {};
    for (const [name, file] of Object.entries(bin)) {
      const first = readFileSync(join(dirname(process.argv[1]), file), "utf8").split("\n")[0];
      const flags = /^#!\/usr\/bin\/env -S node((?: --[a-z0-9-]+(?:=[A-Za-z0-9._-]+)?)+)$/.exec(first)?.[1] ?? "";
      console.log(name, file.replace(/^\.\//, ""), flags);
    }
  ' "$pj" | while read -r name file flags; do
    cat > "$out/usr/local/bin/$name" <<LAUNCHER
#!/bin/sh
exec node ${flags:+$flags }"\${0%/*}/../../../opt/tricolor/packages/$p/$file" "\$@"
LAUNCHER
    chmod 755 "$out/usr/local/bin/$name"
  done
done
cp "$here/install-cni.sh" "$out/usr/local/bin/tricolor-install-cni"
chmod 755 "$out/usr/local/bin/tricolor-install-cni"

id=$(cd "$app" && find packages -type f -name '*.js' | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)
version=$(node -e 'console.log(require(process.argv[1]).version)' "$repo/package.json")
echo "$version-$id" > "$app/BUILD_ID"
echo "layout: $out ($version-$id)" >&2
