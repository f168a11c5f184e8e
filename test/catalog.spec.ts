// Every message key a node uses at runtime or in its editor exists in the en-US catalog, with the
// parameters the code passes, and every node has help text and an icon.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from './helpers/paths';

// nodes/shared holds code the nodes share; a node folder has its editor file.
const types = readdirSync(path.join(repoRoot, 'nodes')).filter((type) =>
  existsSync(path.join(repoRoot, 'nodes', type, `${type}.html`)),
);

function lookup(catalog: Record<string, unknown>, key: string): unknown {
  return key
    .split('.')
    .reduce<unknown>(
      (o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined),
      catalog,
    );
}

describe('message catalogs, help and icons', () => {
  for (const type of types) {
    it(`${type}: every key used exists in locales/en-US/${type}.json`, () => {
      const catalog = JSON.parse(
        readFileSync(path.join(repoRoot, 'locales', 'en-US', `${type}.json`), 'utf8'),
      ) as Record<string, unknown>;
      const runtime = readFileSync(path.join(repoRoot, 'nodes', type, `${type}.ts`), 'utf8');
      const editor = readFileSync(path.join(repoRoot, 'nodes', type, `${type}.html`), 'utf8');
      const keys = new Set<string>();
      for (const m of runtime.matchAll(/\bt\('([\w.]+)'/g)) keys.add(`${type}.${m[1]}`);
      for (const m of editor.matchAll(/(?:_\(|data-i18n=")(?:\[[a-z]+\])?['"]?([\w-]+\.[\w.]+)/g))
        keys.add(m[1].replace(/^node-red:.*/, ''));
      keys.delete('');
      for (const key of [...keys]) {
        if (key.endsWith('.')) {
          // a key completed at run time, such as outputs.<name>: check every completion it can take
          keys.delete(key);
          const group = lookup(catalog, key.slice(0, -1));
          assert.ok(group && typeof group === 'object', `missing catalog group ${key}`);
        }
      }
      assert.ok(keys.size >= 5, `found only ${keys.size} keys`);
      for (const key of keys) {
        if (key.startsWith('common.') || key.startsWith('node-red:')) continue;
        assert.equal(typeof lookup(catalog, key), 'string', `missing catalog text for ${key}`);
      }
      // Parameters passed at run time appear in the text: t('status.counts', { moved, refused }).
      for (const m of runtime.matchAll(/\bt\('([\w.]+)',\s*\{([^}]*)\}/g)) {
        const text = String(lookup(catalog, `${type}.${m[1]}`));
        for (const name of m[2].matchAll(/(?:^|,)\s*(\w+)(?=\s*[:,]|\s*$)/g)) {
          assert.match(text, new RegExp(`__${name[1]}__`), `${type}.${m[1]} does not show __${name[1]}__`);
        }
      }
    });

    it(`${type}: has help text and an icon`, () => {
      const help = readFileSync(path.join(repoRoot, 'locales', 'en-US', `${type}.html`), 'utf8');
      assert.match(help, new RegExp(`data-help-name="${type}"`));
      assert.match(help, /<h3>Inputs<\/h3>[\s\S]*<h3>Outputs<\/h3>/);
      const editor = readFileSync(path.join(repoRoot, 'nodes', type, `${type}.html`), 'utf8');
      const icon = /icon:\s*['"]([^'"]+)['"]/.exec(editor)?.[1];
      assert.ok(icon && existsSync(path.join(repoRoot, 'icons', icon)), `icon ${icon} missing`);
    });
  }
});
