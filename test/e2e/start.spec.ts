// End to end: `npm start`'s script starts a real Node-RED process with the pack and the template;
// orders are then run through a flow deployed over the admin HTTP API, as an analyst would.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../helpers/paths';

const port = 18000 + Math.floor(Math.random() * 1000);
const base = `http://127.0.0.1:${port}`;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 60000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('npm start: Node-RED with the pack and the SFCC import template', function () {
  this.timeout(120000);
  let dir: string;
  let child: ChildProcess;
  let log = '';

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'oms-e2e-'));
    child = spawn(process.execPath, [path.join(repoRoot, 'scripts', 'start.js')], {
      cwd: repoRoot,
      env: { ...process.env, PORT: String(port), OMS_USER_DIR: path.join(dir, 'user') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    await waitFor('the editor', async () => ((await fetch(`${base}/flows`)).ok ? true : undefined));
  });

  after(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the editor with the node, its catalog, and the template as an example', async () => {
    assert.ok((await fetch(base)).ok);
    const nodes = (await (
      await fetch(`${base}/nodes`, { headers: { accept: 'application/json' } })
    ).json()) as Array<{ id: string; types: string[]; enabled: boolean }>;
    const ours = nodes.find((n) => n.id === 'node-red-contrib-oms/oms-sfcc-import');
    assert.ok(ours?.enabled, log);
    assert.deepEqual(ours.types, ['oms-sfcc-import']);
    const catalog = (await (
      await fetch(`${base}/locales/node-red-contrib-oms/oms-sfcc-import?lng=en-US`)
    ).json()) as Record<string, { outputs: object }>;
    assert.ok(catalog['oms-sfcc-import'].outputs);
    const examples = (await (
      await fetch(`${base}/library/examples/flows/node-red-contrib-oms`)
    ).json()) as Array<{
      fn?: string;
    }>;
    assert.ok(
      examples.some((e) => e.fn === '01 - SFCC import'),
      JSON.stringify(examples),
    );
  });

  it('has the versioned template deployed', async () => {
    const flows = (await (await fetch(`${base}/flows`)).json()) as Array<{
      id: string;
      type: string;
      env?: Array<{ name: string; value: string }>;
    }>;
    const tab = flows.find((n) => n.id === 'oms-tpl-import-tab');
    assert.equal(tab?.env?.find((e) => e.name === 'OMS_TEMPLATE')?.value, 'sfcc-import@1.0.0');
    assert.ok(flows.some((n) => n.type === 'oms-sfcc-import'));
    assert.doesNotMatch(log, /\[error\]/);
  });

  it('runs the 200 sample orders through a deployed flow', async () => {
    const sample = path.join(dir, 'user', 'sample', 'sfcc-orders.xml');
    assert.ok(existsSync(sample));
    const valid = path.join(dir, 'valid.jsonl');
    const summary = path.join(dir, 'summary.jsonl');
    const file = (id: string, target: string) => ({
      id,
      type: 'file',
      filename: target,
      filenameType: 'str',
      appendNewline: true,
      createDir: true,
      overwriteFile: 'false',
      encoding: 'utf8',
      wires: [],
    });
    const flow = {
      label: 'e2e',
      nodes: [
        {
          id: 'e2e-inject',
          type: 'inject',
          props: [{ p: 'filename', v: sample, vt: 'str' }],
          once: false,
          wires: [['e2e-import']],
        },
        {
          id: 'e2e-import',
          type: 'oms-sfcc-import',
          format: 'auto',
          wires: [['e2e-valid'], [], ['e2e-summary']],
        },
        file('e2e-valid', valid),
        file('e2e-summary', summary),
      ],
    };
    const deployed = await fetch(`${base}/flow`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(flow),
    });
    assert.equal(deployed.status, 200, await deployed.text());
    await waitFor('the inject node', async () =>
      (await fetch(`${base}/inject/e2e-inject`, { method: 'POST' })).ok ? true : undefined,
    );
    const line = await waitFor('the summary', async () =>
      existsSync(summary) ? readFileSync(summary, 'utf8').trim() || undefined : undefined,
    );
    const s = JSON.parse(line) as { orders: number; accepted: number; rejected: number };
    assert.deepEqual([s.orders, s.accepted, s.rejected], [200, 200, 0]);
    const orders = readFileSync(valid, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { orderRef: string });
    assert.equal(orders.length, 200);
    assert.equal(orders[0].orderRef, '00000001');
  });
});
