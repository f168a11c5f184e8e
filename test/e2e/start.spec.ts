// End to end: `npm start`'s script starts a real Node-RED process with the pack and the template;
// orders are then run through a flow deployed over the admin HTTP API, as an analyst would.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { signWebhook } from '../../lib/fraud/provider';
import { FRAUD_SANDBOX_DEFAULT_CREDENTIALS } from '../../sandbox/fraud/server';
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
    for (const title of ['01 - SFCC import', '02 - Retry and dead letters']) {
      assert.ok(
        examples.some((e) => e.fn === title),
        JSON.stringify(examples),
      );
    }
  });

  it('has the versioned templates deployed, and the sample orders went through the lifecycle', async () => {
    const flows = (await (await fetch(`${base}/flows`)).json()) as Array<{
      id: string;
      type: string;
      env?: Array<{ name: string; value: string }>;
    }>;
    const tab = flows.find((n) => n.id === 'oms-tpl-import-tab');
    assert.equal(tab?.env?.find((e) => e.name === 'OMS_TEMPLATE')?.value, 'sfcc-import@1.1.0');
    const retryTab = flows.find((n) => n.id === 'oms-tpl-retry-tab');
    assert.equal(retryTab?.env?.find((e) => e.name === 'OMS_TEMPLATE')?.value, 'retry-dead-letter@1.0.0');
    assert.equal(flows.filter((n) => n.type === 'oms-store').length, 1, 'one shared store');
    // The import runs a second after the deploy; its orders end Validated, with their audit trail.
    const order = await waitFor('sample order 00000001 to be Validated', async () => {
      const res = await fetch(`${base}/oms/orders/00000001`);
      const body = res.ok
        ? ((await res.json()) as { state: string; trail: Array<{ template: string }> })
        : undefined;
      return body?.state === 'Validated' ? body : undefined;
    });
    assert.deepEqual(
      order.trail.map((e) => e.template),
      ['sfcc-import@1.1.0', 'sfcc-import@1.1.0'],
    );
    assert.ok(existsSync(path.join(dir, 'user', 'oms', 'oms.db')), 'the store file is in the user dir');
    assert.doesNotMatch(runtime.log(), /\[error\]/);
  });

  it('retries the orders of the retry template and parks the one the peer refuses for good', async () => {
    await fetch(`${base}/inject/oms-tpl-retry-inject`, { method: 'POST' });
    const letter = await waitFor('DEMO-0013 in the dead-letter queue', async () => {
      const res = await fetch(`${base}/oms/dead-letters?order=DEMO-0013`);
      const body = res.ok
        ? ((await res.json()) as { items: Array<{ error: { code: string; status: number } }> })
        : undefined;
      return body?.items[0];
    });
    assert.equal(letter.error.code, 'HTTP_422');
    assert.equal(letter.error.status, 422);
  });

  it('picks up the exports the sandbox SFTP server receives, imports them and archives the files', async () => {
    // The sandbox drops its first export (orders 100001-100025) at start; the template polls /inbox.
    // The lifecycle template takes it through route and Fluent allocate to Allocated (or Backordered).
    const order = await waitFor('order 00100001 from the SFTP inbox', async () => {
      const res = await fetch(`${base}/oms/orders/00100001`);
      type Trail = Array<{ template: string; to?: string }>;
      const body = res.ok ? ((await res.json()) as { state: string; trail: Trail }) : undefined;
      // Screening may hold it for review (the sandbox provider reviews large orders) or cancel it.
      const settled = ['Allocated', 'Backordered', 'OnHold', 'Cancelled'];
      return body && settled.includes(body.state) ? body : undefined;
    });
    assert.equal(order.trail[0].template, 'order-lifecycle@1.2.0');
    assert.deepEqual(
      order.trail.slice(0, 2).map((e) => e.to),
      ['Created', 'Validated'],
    );
    if (order.state === 'Allocated') {
      // And the order is in the Fluent sandbox, once.
      const fluentUrl = /sandbox Fluent API: (http:\/\/127\.0\.0\.1:\d+)/.exec(runtime.log())?.[1] ?? '';
      const token = (await (
        await fetch(`${fluentUrl}/oauth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=password&client_id=oms-sandbox&client_secret=oms-secret&username=oms-user&password=oms-pass&scope=api',
        })
      ).json()) as { access_token: string };
      const found = (await (
        await fetch(`${fluentUrl}/graphql`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ orders(ref: ["00100001"]) { edges { node { ref status } } } }' }),
        })
      ).json()) as { data: { orders: { edges: Array<{ node: { ref: string } }> } } };
      assert.equal(found.data.orders.edges.length, 1);
    }
    const archive = path.join(dir, 'user', 'sandbox', 'sftp', 'inbox', 'archive');
    const days = await waitFor('the archived export', async () => {
      const found = existsSync(archive) ? readdirSync(archive) : [];
      return found.length > 0 && readdirSync(path.join(archive, found[0])).length > 0 ? found : undefined;
    });
    assert.match(days[0], /^\d{4}-\d{2}-\d{2}$/);
    assert.match(runtime.log(), /sandbox SFTP server: sftp:\/\/sfcc@127\.0\.0\.1:\d+\/inbox \(SHA256:/);
    // The Fluent sandbox runs beside it (the lifecycle template that calls it comes next).
    const fluentUrl = /sandbox Fluent API: (http:\/\/127\.0\.0\.1:\d+)/.exec(runtime.log())?.[1];
    assert.ok(fluentUrl, runtime.log());
    const token = await fetch(`${fluentUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=password&client_id=oms-sandbox&client_secret=oms-secret&username=oms-user&password=oms-pass&scope=api',
    });
    assert.equal(token.status, 200);
  });

  it('checks the signature of a fraud provider webhook on the body as it arrived (default roots)', async () => {
    // Editor and node endpoints share "/" here, as in a default install: the editor's JSON parser
    // must not get the webhook body first.
    const body = JSON.stringify({
      id: 'no-such-ref',
      orderRef: 'X1',
      decision: 'accept',
      score: 1,
      reasons: [],
    });
    const post = (headers: Record<string, string>) =>
      fetch(`${base}/oms/fraud/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    const unsigned = await post({});
    assert.equal(unsigned.status, 401, await unsigned.text());
    const signed = await post(signWebhook('generic', body, FRAUD_SANDBOX_DEFAULT_CREDENTIALS.webhookSecret));
    assert.equal(signed.status, 200, await signed.clone().text());
    assert.deepEqual(await signed.json(), { matched: false, orderRef: 'X1', decision: 'accepted' });
  });

  it('drops a file on the sandbox SFTP server from the file-drop template', async () => {
    await fetch(`${base}/inject/oms-tpl-sftpout-inject`, { method: 'POST' });
    const outbox = path.join(dir, 'user', 'sandbox', 'sftp', 'outbox');
    // Until the rename only a temporary `.release_….part` exists; then only the final name.
    const files = await waitFor('the release file', async () => {
      const found = readdirSync(outbox);
      return found.length === 1 && /^release_.*\.xml$/.test(found[0]) ? found : undefined;
    });
    assert.match(readFileSync(path.join(outbox, files[0]), 'utf8'), /<release created=/);
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
    // The file node appends each valid order on its own; the summary may be written first.
    const orders = await waitFor('200 valid orders in their file', async () => {
      const lines = existsSync(valid) ? readFileSync(valid, 'utf8').trim().split('\n') : [];
      return lines.length >= 200 ? lines.map((l) => JSON.parse(l) as { orderRef: string }) : undefined;
    });
    assert.equal(orders.length, 200);
    assert.equal(orders[0].orderRef, '00000001');
  });
});
