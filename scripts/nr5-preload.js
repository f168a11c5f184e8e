// Loaded with `node --require` by scripts/test-node-red-5.sh: under Node 22, `require('better-sqlite3')`
// resolves to the copy built for Node 22 (OMS_SQLITE_MODULE) instead of the Node 20 build in
// node_modules. Test tooling only; the pack itself just requires 'better-sqlite3'.
const Module = require('module');

const target = process.env.OMS_SQLITE_MODULE;
if (target) {
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    return resolve.call(this, request === 'better-sqlite3' ? target : request, ...rest);
  };
}
