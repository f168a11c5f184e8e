// The OMS sidebar plugin without a browser: the runtime part registers it, the build puts its
// editor file and catalog where Node-RED looks for them, and every message key the editor part
// uses is in the catalog with the parameters it passes. test/e2e/sidebar.spec.ts uses it for real.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { NodeAPI } from 'node-red';
import register from '../../plugins/oms-sidebar/oms-sidebar';
import { repoRoot } from '../helpers/paths';

const name = 'oms-sidebar';
const editor = readFileSync(path.join(repoRoot, 'plugins', name, `${name}.html`), 'utf8');
const catalog = (
  JSON.parse(readFileSync(path.join(repoRoot, 'locales', 'en-US', `${name}.json`), 'utf8')) as Record<
    string,
    unknown
  >
)[name] as Record<string, unknown>;

function lookup(key: string): unknown {
  return key
    .split('.')
    .reduce<unknown>(
      (o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined),
      catalog,
    );
}

function leaves(o: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    v && typeof v === 'object' ? leaves(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

describe('oms-sidebar plugin', () => {
  it('registers the plugin from its runtime part', () => {
    const calls: Array<[string, { type?: string }]> = [];
    // Only RED.plugins is touched.
    const RED = {
      plugins: { registerPlugin: (id: string, def: { type?: string }) => calls.push([id, def]) },
    } as unknown as NodeAPI;
    register(RED);
    assert.deepEqual(calls, [[name, { type: name }]]);
  });

  it('is declared in package.json and built with its editor file and catalog beside the .js', () => {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
      'node-red': { plugins: Record<string, string> };
    };
    const js = pkg['node-red'].plugins[name];
    assert.equal(js, `dist/plugins/${name}/${name}.js`);
    const dir = path.join(repoRoot, path.dirname(js));
    for (const file of [`${name}.js`, `${name}.html`, path.join('locales', 'en-US', `${name}.json`)]) {
      assert.ok(existsSync(path.join(dir, file)), `${file} missing in ${dir} (npm run build)`);
    }
    // Node-RED registers a catalog beside the plugin under "<package>/<plugin file name>".
    assert.match(editor, /var NS = 'node-red-contrib-oms\/oms-sidebar:oms-sidebar\.';/);
  });

  it('finds every message key it uses in locales/en-US, with the parameters it passes', () => {
    const used = new Set<string>();
    const prefixes = new Set<string>();
    for (const m of editor.matchAll(/(?<![\w.])t\('([\w.]+)'(?:,\s*\{([^}]*)\})?/g)) {
      const key = m[1];
      if (key.endsWith('.')) {
        prefixes.add(key);
        assert.equal(typeof lookup(key.slice(0, -1)), 'object', `missing catalog group ${key}`);
        continue;
      }
      used.add(key);
      const text = lookup(key);
      assert.equal(typeof text, 'string', `missing catalog text for ${key}`);
      for (const param of (m[2] ?? '').matchAll(/(?:^|,)\s*(\w+)\s*:/g)) {
        assert.match(String(text), new RegExp(`__${param[1]}__`), `${key} does not show __${param[1]}__`);
      }
    }
    assert.ok(used.size > 40, `found only ${used.size} keys`);
    // ... and the catalog holds nothing the editor part does not use.
    const unused = leaves(catalog).filter(
      (key) =>
        !used.has(key.replace(/_plural$/, '')) && ![...prefixes].some((prefix) => key.startsWith(prefix)),
    );
    assert.deepEqual(unused, []);
  });

  it('never sets markup from data: .html() only reads (escaped) text back, no innerHTML', () => {
    for (const m of editor.matchAll(/\.html\(([^)]*)\)/g)) assert.equal(m[1], '', `.html(${m[1]})`);
    assert.doesNotMatch(editor, /innerHTML|\$\('<[^']*'\s*\+/);
  });
});
