// Loaded with `node --require` by scripts/test-node-red-5.sh: under Node 22, `require('better-sqlite3')`
// must give the copy built for Node 22 (OMS_SQLITE_MODULE), not the Node 20 build in node_modules.
// The Node 22 copy is loaded first and put in the module cache under the path of the Node 20
// one, so every later require of it gets the Node 22 copy. Test tooling only.
const path = require('path');

const target = process.env.OMS_SQLITE_MODULE;
if (target) {
  const repo = path.resolve(__dirname, '..');
  const local = require.resolve('better-sqlite3', { paths: [repo] });
  const built = require.resolve(target);
  require(built);
  require.cache[local] = require.cache[built];
}
