// End to end: `npm start`'s script starts a real Node-RED process with the pack and the template;
// orders are then run through a flow deployed over the admin HTTP API, as an analyst would.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { startRuntime, waitFor, type StartedRuntime } from '../helpers/started-runtime';

describe('npm start: Node-RED with the pack and the SFCC import template', function () {
  this.timeout(120000);
  let runtime: StartedRuntime;
  let base: string;
  let dir: string;

  before(async () => {
    runtime = await startRuntime('oms-e2e-');
    base = runtime.base;
    dir = runtime.dir;
  });
  after(() => runtime?.stop());

  it('serves the editor with the node, its catalog, and the template as an example', async () => {
    assert.ok((await fetch(base)).ok);
    const nodes = (await (
      await fetch(`${base}/nodes`, { headers: { accept: 'application/json' } })
    ).json()) as Array<{ id: string; types: string[]; enabled: boolean }>;
    const ours = nodes.find((n) => n.id === 'node-red-contrib-oms/oms-sfcc-import');
    assert.ok(ours?.enabled, runtime.log());
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
    assert.doesNotMatch(runtime.log(), /\[error\]/);
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
