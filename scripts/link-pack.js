// Makes this checkout visible to Node-RED in a user dir as if installed: a symlink to it in
// <userDir>/node_modules plus the dependency Node-RED scans package.json for. Used by
// scripts/start.js and the lifecycle benchmark.
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');

function linkPack(userDir) {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const modules = path.join(userDir, 'node_modules');
  const link = path.join(modules, pkg.name);
  fs.mkdirSync(modules, { recursive: true });
  let current;
  try {
    current = fs.lstatSync(link);
  } catch {
    current = undefined;
  }
  if (current && !(current.isSymbolicLink() && fs.realpathSync(link) === fs.realpathSync(root))) {
    fs.rmSync(link, { recursive: true, force: true });
    current = undefined;
  }
  if (!current) fs.symlinkSync(root, link, 'junction');
  const userPkgFile = path.join(userDir, 'package.json');
  const userPkg = fs.existsSync(userPkgFile)
    ? JSON.parse(fs.readFileSync(userPkgFile, 'utf8'))
    : {
        name: 'oms-node-red-user-dir',
        description: 'Written by node-red-contrib-oms scripts',
        private: true,
      };
  userPkg.dependencies = { ...userPkg.dependencies, [pkg.name]: 'file:..' };
  fs.writeFileSync(userPkgFile, `${JSON.stringify(userPkg, null, 2)}\n`);
}

module.exports = { linkPack };
