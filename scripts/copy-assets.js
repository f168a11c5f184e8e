// Puts each node's editor .html, message catalogs, help and icons (and each plugin's .html and catalogs)
// beside its compiled .js (Node-RED looks for them there), and publishes flows/ templates to examples/.
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');

function copy(from, to) {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(from, to);
}

for (const type of fs.readdirSync(path.join(root, 'nodes'))) {
  const src = path.join(root, 'nodes', type);
  const out = path.join(dist, 'nodes', type);
  if (!fs.existsSync(path.join(src, `${type}.html`))) continue; // nodes/shared: code, not a node
  copy(path.join(src, `${type}.html`), path.join(out, `${type}.html`));
  for (const lang of fs.readdirSync(path.join(root, 'locales'))) {
    for (const ext of ['json', 'html']) {
      const file = path.join(root, 'locales', lang, `${type}.${ext}`);
      if (fs.existsSync(file)) copy(file, path.join(out, 'locales', lang, `${type}.${ext}`));
    }
  }
  for (const icon of fs.readdirSync(path.join(root, 'icons'))) {
    copy(path.join(root, 'icons', icon), path.join(out, 'icons', icon));
  }
}

// Plugins the same way: plugins/<name>/<name>.html and locales/<lang>/<name>.json beside
// dist/plugins/<name>/<name>.js (the catalog's namespace is then <package>/<name>).
for (const name of fs.readdirSync(path.join(root, 'plugins'))) {
  const src = path.join(root, 'plugins', name);
  const out = path.join(dist, 'plugins', name);
  if (!fs.existsSync(path.join(src, `${name}.html`))) continue;
  copy(path.join(src, `${name}.html`), path.join(out, `${name}.html`));
  for (const lang of fs.readdirSync(path.join(root, 'locales'))) {
    const file = path.join(root, 'locales', lang, `${name}.json`);
    if (fs.existsSync(file)) copy(file, path.join(out, 'locales', lang, `${name}.json`));
  }
}

// Import > Examples reads <package>/examples; flows/<template>/manifest.json names the
// current version file and the menu label.
const examples = path.join(root, 'examples');
fs.rmSync(examples, { recursive: true, force: true });
for (const name of fs.readdirSync(path.join(root, 'flows'))) {
  const dir = path.join(root, 'flows', name);
  const manifestFile = path.join(dir, 'manifest.json');
  if (!fs.existsSync(manifestFile)) continue;
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
  const current = manifest.versions.find((v) => v.version === manifest.current);
  if (!current)
    throw new Error(`flows/${name}/manifest.json: no version entry for current ${manifest.current}`);
  copy(path.join(dir, current.file), path.join(examples, `${manifest.title}.json`));
}
