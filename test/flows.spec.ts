// Versioned flow templates: every version listed in a manifest exists, is a flat array of nodes
// with unique stable ids and intact wires, names its own version, uses only known node types and
// carries no credentials.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from './helpers/paths';

interface Manifest {
  title: string;
  current: string;
  versions: Array<{ version: string; file: string; minPackVersion: string; changelog: string }>;
}
type FlowNode = {
  id: string;
  type: string;
  z?: string;
  wires?: string[][];
  env?: Array<{ name: string; value: string }>;
  credentials?: unknown;
};

const CORE = new Set([
  'tab',
  'comment',
  'inject',
  'change',
  'debug',
  'catch',
  'status',
  'complete',
  'function',
  'switch',
  'http in',
  'http response',
  'http request',
  'file',
  'file in',
  'link in',
  'link out',
  'group',
]);
const ours = new Set(
  Object.keys(
    (
      JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
        'node-red': { nodes: Record<string, string> };
      }
    )['node-red'].nodes,
  ),
);

describe('flow templates', () => {
  for (const name of readdirSync(path.join(repoRoot, 'flows'))) {
    const manifest = JSON.parse(
      readFileSync(path.join(repoRoot, 'flows', name, 'manifest.json'), 'utf8'),
    ) as Manifest;
    it(`${name}: the manifest names a current version with a changelog`, () => {
      assert.ok(manifest.versions.some((v) => v.version === manifest.current));
      for (const v of manifest.versions) {
        assert.match(v.version, /^\d+\.\d+\.\d+$/);
        assert.ok(v.changelog.length > 0);
        assert.ok(existsSync(path.join(repoRoot, 'flows', name, v.file)), v.file);
      }
      assert.ok(
        existsSync(path.join(repoRoot, 'examples', `${manifest.title}.json`)),
        'the build publishes it to examples/',
      );
    });
    for (const v of manifest.versions) {
      it(`${name}@${v.version}: ids, wires, types, version stamp, no credentials`, () => {
        const text = readFileSync(path.join(repoRoot, 'flows', name, v.file), 'utf8');
        const nodes = JSON.parse(text) as FlowNode[];
        const ids = new Set(nodes.map((n) => n.id));
        assert.equal(ids.size, nodes.length, 'duplicate ids');
        for (const n of nodes) {
          assert.ok(CORE.has(n.type) || ours.has(n.type), `unknown node type ${n.type}`);
          assert.equal(n.credentials, undefined, `${n.id} carries credentials`);
          for (const out of n.wires ?? [])
            for (const target of out) assert.ok(ids.has(target), `${n.id} wires to missing ${target}`);
          if (n.z) assert.ok(ids.has(n.z), `${n.id} is on a missing tab`);
        }
        const tab = nodes.find((n) => n.type === 'tab');
        assert.equal(tab?.env?.find((e) => e.name === 'OMS_TEMPLATE')?.value, `${name}@${v.version}`);
        assert.doesNotMatch(text, /"(password|secret|token|apiKey)"\s*:/i);
      });
    }
  }
});
