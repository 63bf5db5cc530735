# Sourced by every script of the repository: puts the project's Node.js first on PATH.
# scripts/setup.sh installs the version in .node-version into .tools/node when the system's
# Node.js is older than that major (Debian 12 ships 18, this project needs the current LTS).
TRICOLOR_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ -x "$TRICOLOR_ROOT/.tools/node/bin/node" ]; then
  case ":$PATH:" in
    *":$TRICOLOR_ROOT/.tools/node/bin:"*) ;;
    *) PATH="$TRICOLOR_ROOT/.tools/node/bin:$PATH" ;;
  esac
  export PATH
fi
