// End to end in a real browser: the OMS sidebar tab (plugins/oms-sidebar) against a real Node-RED
// started by `npm start`'s script. A deployed flow parks failed orders in an oms-dead-letter node;
// in headless Chromium the analyst finds them in the sidebar, filters, opens one, replays it (it
// leaves the node's output again), discards another with a reason, looks up an order's audit
// trail, and replays a whole filter. The same flow holds high-value orders in an oms-fraud-check
// node: the analyst finds them under "Held orders", reads why, accepts one (it leaves by output 1)
// and rejects another only with a reason (output 3, audited), and sees a refusal when an order was
// decided meanwhile. Screenshots go to a temp folder, or to docs/images/ (the README's) with
// OMS_UPDATE_SCREENSHOTS=1, so a test run leaves the checkout as it was.
// Skipped, with a message, on a machine without /usr/bin/chromium (CI installs it: .ci/run).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { generateOrder } from '../../lib/sfcc/generate';
import { launchChromium, skipWithoutChromium } from '../helpers/browser';
import { repoRoot } from '../helpers/paths';
import { startRuntime, waitFor, type StartedRuntime } from '../helpers/started-runtime';

const images = process.env.OMS_UPDATE_SCREENSHOTS
  ? path.join(repoRoot, 'docs', 'images')
  : path.join(tmpdir(), 'oms-sidebar-screenshots');
const wait = 60000;
const tab = 'e2e-sidebar-tab';

/** The few parts of the editor's global `RED` the test touches (only used inside the page). */
interface EditorRed {
  nodes: { workspace(id: string): object | undefined };
}
declare const RED: EditorRed;

interface Letter {
  id: number;
  orderRef?: string;
  status: string;
  reason?: string;
  resolvedBy?: string;
  error: { message: string; code?: string; source?: { id?: string; type?: string; name?: string } };
}
interface LetterPage {
  items: Letter[];
  total: number;
}
interface Replayed {
  orderRef?: string;
  replay?: { deadLetterId: number; by: string; count: number };
  payload?: unknown;
}
interface Hold {
  id: number;
  orderRef: string;
  status: string;
  score: number;
  decidedBy?: string;
  reason?: string;
  reasons: { fired: Array<{ rule: string; reason: string }>; decidedBy: string };
}
interface HoldPage {
  items: Hold[];
  total: number;
}
/** What left the oms-fraud-check node, by output (1 accept, 2 review, 3 reject). */
interface Screened {
  output: number;
  orderRef?: string;
  decision?: string;
  decidedBy?: string;
  reason?: string;
}

/** Orders an oms-fraud-check node holds: the rules send an order of 1,000.00 EUR or more to review. */
const FRAUD_RULES = {
  version: 1,
  reviewAt: 50,
  rejectAt: 100,
  rules: [{ name: 'High value', type: 'orderValue', thresholds: { EUR: 100000 }, score: 60 }],
};
const HELD = ['HOLD-1', 'HOLD-2', 'HOLD-3'];

/** A canonical order (lib/sfcc/generate), in EUR, at 1,500.00: held for a review. */
function heldOrder(n: number, orderRef: string): object {
  const order = structuredClone(generateOrder(n));
  order.orderRef = orderRef;
  order.currency = 'EUR';
  order.totals.grandTotal = 150000;
  return order;
}

/**
 * Orders go in by inject node, get their envelope (msg.oms) and move to Created, then Validated
 * (oms-lifecycle, in the audit trail); "peer" fails each with msg.payload's code, as a peer call
 * would; a Catch node hands the failure to oms-dead-letter, whose output (a replay) is recorded in
 * global context and served at GET /e2e-replays.
 */
function flow(dir: string): object[] {
  const z = tab;
  const inject = (id: string, orderNo: string, code: string, y: number) => ({
    id,
    type: 'inject',
    z,
    name: orderNo,
    props: [{ p: 'payload' }],
    payload: JSON.stringify({ orderNo, code, total: { amount: 1250, currency: 'EUR' } }),
    payloadType: 'json',
    repeat: '',
    once: false,
    x: 100,
    y,
    wires: [['e2e-sidebar-envelope']],
  });
  const lifecycle = (id: string, event: string, x: number, y: number, next: string) => ({
    id,
    type: 'oms-lifecycle',
    z,
    name: event,
    store: 'e2e-sidebar-store',
    by: 'event',
    value: event,
    x,
    y,
    wires: [[next], []],
  });
  return [
    { id: z, type: 'tab', label: 'Sidebar e2e' },
    {
      id: 'e2e-sidebar-store',
      type: 'oms-store',
      name: 'e2e store',
      path: path.join(dir, 'oms-test.db'),
      retentionDays: 30,
    },
    inject('e2e-sidebar-in-1', 'E2E-1', 'PEER_REJECTED', 60),
    inject('e2e-sidebar-in-2', 'E2E-2', 'PEER_TIMEOUT', 100),
    inject('e2e-sidebar-in-3', 'E2E-3', 'PEER_TIMEOUT', 140),
    inject('e2e-sidebar-in-4', 'E2E-4', 'PEER_TIMEOUT', 180),
    {
      id: 'e2e-sidebar-envelope',
      type: 'function',
      z,
      name: 'envelope',
      func: [
        "msg.oms = { orderRef: msg.payload.orderNo, correlationId: 'c-' + msg.payload.orderNo };",
        "msg.headers = { Authorization: 'Bearer e2e-secret' };",
        'return msg;',
      ].join('\n'),
      outputs: 1,
      x: 250,
      y: 120,
      wires: [['e2e-sidebar-create']],
    },
    lifecycle('e2e-sidebar-create', 'create', 410, 120, 'e2e-sidebar-validate'),
    lifecycle('e2e-sidebar-validate', 'validate', 410, 200, 'e2e-sidebar-peer'),
    {
      id: 'e2e-sidebar-peer',
      type: 'function',
      z,
      name: 'peer',
      func: [
        "const err = new Error(msg.payload.code === 'PEER_TIMEOUT' ? 'peer timed out' : 'peer said no');",
        'err.code = msg.payload.code;',
        'node.error(err, msg);',
        'return null;',
      ].join('\n'),
      outputs: 1,
      x: 570,
      y: 200,
      wires: [[]],
    },
    {
      id: 'e2e-sidebar-catch',
      type: 'catch',
      z,
      name: '',
      scope: ['e2e-sidebar-peer'],
      uncaught: false,
      x: 110,
      y: 300,
      wires: [['e2e-sidebar-dlq']],
    },
    {
      id: 'e2e-sidebar-dlq',
      type: 'oms-dead-letter',
      z,
      name: 'parked orders',
      store: 'e2e-sidebar-store',
      x: 300,
      y: 300,
      wires: [['e2e-sidebar-record']],
    },
    {
      id: 'e2e-sidebar-record',
      type: 'function',
      z,
      name: 'record replay',
      func: [
        "const replays = global.get('e2eReplays') || [];",
        'replays.push({ orderRef: msg.oms && msg.oms.orderRef, replay: msg.oms && msg.oms.replay, payload: msg.payload });',
        "global.set('e2eReplays', replays);",
        'return null;',
      ].join('\n'),
      outputs: 1,
      x: 500,
      y: 300,
      wires: [[]],
    },
    {
      id: 'e2e-sidebar-http-in',
      type: 'http in',
      z,
      name: '',
      url: '/e2e-replays',
      method: 'get',
      x: 130,
      y: 380,
      wires: [['e2e-sidebar-http-fn']],
    },
    {
      id: 'e2e-sidebar-http-fn',
      type: 'function',
      z,
      name: 'replays',
      func: "msg.payload = global.get('e2eReplays') || [];\nreturn msg;",
      outputs: 1,
      x: 320,
      y: 380,
      wires: [['e2e-sidebar-http-out']],
    },
    { id: 'e2e-sidebar-http-out', type: 'http response', z, name: '', x: 480, y: 380, wires: [] },
    ...fraudFlow(),
  ];
}

/**
 * High-value orders go in by inject node (msg.oms from an envelope) to an oms-fraud-check node
 * with no provider; what leaves each of its outputs is recorded in global context and served at
 * GET /e2e-screened.
 */
function fraudFlow(): object[] {
  const z = tab;
  const record = (output: number, y: number) => ({
    id: `e2e-sidebar-fraud-out-${output}`,
    type: 'function',
    z,
    name: `output ${output}`,
    func: [
      'const fraud = (msg.oms && msg.oms.fraud) || {};',
      "const screened = global.get('e2eScreened') || [];",
      `screened.push({ output: ${output}, orderRef: msg.oms && msg.oms.orderRef, decision: fraud.decision, decidedBy: fraud.decidedBy, reason: fraud.reason });`,
      "global.set('e2eScreened', screened);",
      'return null;',
    ].join('\n'),
    outputs: 1,
    x: 620,
    y,
    wires: [[]],
  });
  return [
    ...HELD.map((orderRef, i) => ({
      id: `e2e-sidebar-fraud-in-${i + 1}`,
      type: 'inject',
      z,
      name: orderRef,
      props: [{ p: 'payload' }],
      payload: JSON.stringify(heldOrder(i + 1, orderRef)),
      payloadType: 'json',
      repeat: '',
      once: false,
      x: 100,
      y: 460 + i * 40,
      wires: [['e2e-sidebar-fraud-envelope']],
    })),
    {
      id: 'e2e-sidebar-fraud-envelope',
      type: 'function',
      z,
      name: 'fraud envelope',
      func: [
        "msg.oms = { orderRef: msg.payload.orderRef, correlationId: 'c-' + msg.payload.orderRef };",
        "msg.headers = { Authorization: 'Bearer e2e-secret' };",
        'return msg;',
      ].join('\n'),
      outputs: 1,
      x: 270,
      y: 500,
      wires: [['e2e-sidebar-fraud']],
    },
    {
      id: 'e2e-sidebar-fraud',
      type: 'oms-fraud-check',
      z,
      name: 'fraud check',
      store: 'e2e-sidebar-store',
      rules: JSON.stringify(FRAUD_RULES),
      provider: '',
      failPolicy: 'review',
      failOpenLimits: '{"EUR": 20000}',
      providerTimeout: 10,
      callbackUrl: '',
      x: 440,
      y: 500,
      wires: [['e2e-sidebar-fraud-out-1'], ['e2e-sidebar-fraud-out-2'], ['e2e-sidebar-fraud-out-3']],
    },
    record(1, 460),
    record(2, 500),
    record(3, 540),
    {
      id: 'e2e-sidebar-fraud-http-in',
      type: 'http in',
      z,
      name: '',
      url: '/e2e-screened',
      method: 'get',
      x: 130,
      y: 600,
      wires: [['e2e-sidebar-fraud-http-fn']],
    },
    {
      id: 'e2e-sidebar-fraud-http-fn',
      type: 'function',
      z,
      name: 'screened',
      func: "msg.payload = global.get('e2eScreened') || [];\nreturn msg;",
      outputs: 1,
      x: 320,
      y: 600,
      wires: [['e2e-sidebar-fraud-http-out']],
    },
    { id: 'e2e-sidebar-fraud-http-out', type: 'http response', z, name: '', x: 480, y: 600, wires: [] },
  ];
}

describe('the OMS sidebar in a browser: dead letters (find, inspect, replay, discard) and held orders (accept, reject)', function () {
  this.timeout(120000);
  let runtime: StartedRuntime | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let base = '';
  const pageErrors: string[] = [];

  const api = async <T>(route: string, init?: RequestInit): Promise<T> => {
    const res = await fetch(`${base}/${route}`, init);
    const text = await res.text();
    assert.ok(res.ok, `${route}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };
  const letters = (query = 'status=all') => api<LetterPage>(`oms/dead-letters?${query}`);
  const letterOf = async (orderRef: string): Promise<Letter> => {
    const found = (await letters(`status=all&order=${orderRef}`)).items;
    assert.equal(found.length, 1, `one letter for ${orderRef}`);
    return found[0];
  };
  const inject = async (id: string) => {
    const res = await fetch(`${base}/inject/${id}`, { method: 'POST' });
    assert.equal(res.status, 200, await res.text());
  };
  const replays = () => api<Replayed[]>('e2e-replays');
  const screened = () => api<Screened[]>('e2e-screened');
  const holds = (query = 'status=all') => api<HoldPage>(`oms/holds?${query}`);
  const holdOf = async (orderRef: string): Promise<Hold> => {
    const found = (await holds(`status=all&order=${orderRef}`)).items;
    assert.equal(found.length, 1, `one hold for ${orderRef}`);
    return found[0];
  };
  const holdItem = (orderRef: string) =>
    sidebar().locator('.oms-sidebar-hold-list-view .oms-sidebar-item', {
      has: page.locator('.oms-sidebar-order', { hasText: new RegExp(`^${orderRef}$`) }),
    });
  const listedHolds = () =>
    sidebar()
      .locator('.oms-sidebar-hold-list-view .oms-sidebar-item .oms-sidebar-order')
      .evaluateAll((els) => els.map((e) => e.textContent));
  const sidebar = () => page.locator('.oms-sidebar');
  const item = (orderRef: string) =>
    sidebar().locator('.oms-sidebar-list-view .oms-sidebar-item', {
      has: page.locator('.oms-sidebar-order', { hasText: new RegExp(`^${orderRef}$`) }),
    });
  const listedOrders = () =>
    sidebar()
      .locator('.oms-sidebar-list-view .oms-sidebar-item .oms-sidebar-order')
      .evaluateAll((els) => els.map((e) => e.textContent));
  const screenshot = async (name: string) => {
    // Earlier notifications gone, the tab settled.
    await page.waitForFunction(() => document.querySelectorAll('.red-ui-notification').length === 0);
    await page.waitForTimeout(400);
    const file = path.join(images, name);
    await page.screenshot({ path: file });
    console.log(`      screenshot: ${path.relative(repoRoot, file)}`);
  };

  before(async function () {
    skipWithoutChromium(this);
    mkdirSync(images, { recursive: true });
    runtime = await startRuntime('oms-e2e-sidebar-');
    base = runtime.base;
    const seen = await fetch(`${base}/settings/user`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ editor: { view: { 'view-show-welcome-tours': false } } }),
    });
    assert.equal(seen.status, 204, await seen.text());

    // Replaces the template the start script deployed.
    const deployed = await fetch(`${base}/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify(flow(runtime.dir)),
    });
    assert.equal(deployed.status, 204, await deployed.text());
    await waitFor('the store', async () => {
      const { stores } = await api<{ stores: Array<{ id: string }> }>('oms/stores');
      return stores.some((s) => s.id === 'e2e-sidebar-store') ? true : undefined;
    });
    // Two failed orders: E2E-1 first, E2E-2 a moment later (the list shows the newest first).
    await inject('e2e-sidebar-in-1');
    await waitFor('the first letter', async () => ((await letters()).total === 1 ? true : undefined));
    await new Promise((r) => setTimeout(r, 20));
    await inject('e2e-sidebar-in-2');
    await waitFor('the second letter', async () => ((await letters()).total === 2 ? true : undefined));

    browser = await launchChromium(wait);
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(wait);
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(base);
    await page.waitForFunction(
      (t) => typeof RED !== 'undefined' && !!RED.nodes && !!RED.nodes.workspace(t),
      tab,
      { timeout: wait },
    );
    await sidebar().waitFor({ state: 'attached' });
    // The editor accepts the deployed flow as it is.
    assert.deepEqual(
      await page.evaluate((z) => {
        const red = RED as unknown as {
          nodes: {
            filterNodes(f: {
              z: string;
            }): Array<{ id: string; valid?: boolean; validationErrors?: string[] }>;
          };
        };
        return red.nodes
          .filterNodes({ z })
          .filter((n) => n.valid === false)
          .map((n) => `${n.id}: ${(n.validationErrors ?? []).join(', ')}`);
      }, tab),
      [],
    );
  });

  after(async () => {
    await browser?.close();
    await runtime?.stop();
  });

  it('opens the OMS tab and lists the parked letters, newest first', async () => {
    // At the default sidebar width the tab's button is folded into the tab menu, like "context".
    await page.locator('#red-ui-sidebar .red-ui-tab-link-button-menu').click();
    await page.locator('#red-ui-tabs-menu-option-oms').click();
    await sidebar().waitFor({ state: 'visible' });
    await item('E2E-1').waitFor({ state: 'visible' });
    assert.deepEqual(await listedOrders(), ['E2E-2', 'E2E-1']);
    assert.equal(
      (await sidebar().locator('.oms-sidebar-list-view .oms-sidebar-count').innerText()).trim(),
      '2 of 2',
    );
    const first = item('E2E-1');
    assert.equal((await first.locator('.oms-sidebar-code').innerText()).trim(), 'PEER_REJECTED');
    assert.match(await first.locator('.oms-sidebar-error-message').innerText(), /peer said no/);
    assert.match(await first.locator('.oms-sidebar-item-meta').innerText(), /peer \(function\)/);
    assert.match(await first.locator('.oms-sidebar-item-meta').innerText(), /1 attempt\b/);

    // Its keyboard shortcut brings it back after another tab was shown.
    await page.locator('#red-ui-tab-info-link-button').click();
    await sidebar().waitFor({ state: 'hidden' });
    await page.locator('#red-ui-workspace-chart').click({ position: { x: 600, y: 600 } });
    await page.keyboard.press('Control+g');
    await page.keyboard.press('o');
    await sidebar().waitFor({ state: 'visible' });

    // Wider, as an analyst would drag it, so that the screenshots show whole lines.
    const separator = await page.locator('#red-ui-sidebar-separator').boundingBox();
    assert.ok(separator);
    await page.mouse.move(separator.x + separator.width / 2, separator.y + separator.height / 2);
    await page.mouse.down();
    await page.mouse.move(separator.x - 160, separator.y + separator.height / 2, { steps: 10 });
    await page.mouse.up();
    await screenshot('oms-sidebar-list.png');
  });

  it('filters by error code and by search text', async () => {
    await sidebar().locator('.oms-sidebar-code-filter').fill('PEER_TIMEOUT');
    await page.waitForFunction(
      () => document.querySelectorAll('.oms-sidebar-list-view .oms-sidebar-item').length === 1,
    );
    assert.deepEqual(await listedOrders(), ['E2E-2']);
    await sidebar().locator('.oms-sidebar-code-filter').fill('');
    await item('E2E-1').waitFor({ state: 'visible' });

    await sidebar().locator('.oms-sidebar-search').pressSequentially('said no');
    await item('E2E-2').waitFor({ state: 'detached' });
    assert.deepEqual(await listedOrders(), ['E2E-1']);
    await sidebar().locator('.oms-sidebar-letter-filters .red-ui-searchBox-clear').click();
    await item('E2E-2').waitFor({ state: 'visible' });
    assert.deepEqual(await listedOrders(), ['E2E-2', 'E2E-1']);
  });

  it('opens a letter: error, attempts, failures, message (secrets redacted) and trail', async () => {
    await item('E2E-1').click();
    const detail = sidebar().locator('.oms-sidebar-detail-view');
    await detail.locator('.oms-sidebar-replay').waitFor({ state: 'visible' });
    const text = await detail.innerText();
    assert.match(text, /Dead letter #\d+ · E2E-1/);
    assert.match(text, /PEER_REJECTED/);
    assert.match(text, /Error\s+peer said no/);
    assert.match(text, /Failed in\s+peer \(function\)/);
    assert.match(text, /Attempts\s+1/);
    assert.match(text, /First failure\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    assert.match(text, /Correlation id\s+c-E2E-1/);
    assert.match(text, /Parked by\s+parked orders/);
    // msg.payload and msg.oms open, the rest folded.
    assert.match(text, /orderNo: "E2E-1"/);
    // The message, as collapsible JSON: msg.payload is there, the Authorization header is not.
    assert.ok(await detail.locator('.oms-sidebar-json .red-ui-debug-msg-element').first().isVisible());
    assert.match(text, /payload/);
    assert.doesNotMatch(text, /e2e-secret/);
    const id = (await letterOf('E2E-1')).id;
    const viewed = await api<{ message: { headers: { Authorization: string } } }>(`oms/dead-letters/${id}`);
    assert.equal(viewed.message.headers.Authorization, '[redacted]');
    // The order's trail so far: the dead letter.
    assert.deepEqual(
      await detail
        .locator('table.oms-sidebar-trail tbody tr[data-kind]')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-kind'))),
      ['transition', 'transition', 'dead-letter'],
    );
    await screenshot('oms-sidebar-dead-letter.png');
  });

  it('replays it: the letter leaves the list and the message leaves the dead-letter node again', async () => {
    const { id } = await letterOf('E2E-1');
    await sidebar().locator('.oms-sidebar-detail-view .oms-sidebar-replay').click();
    await page.locator('.red-ui-notification', { hasText: `Replayed dead letter #${id}` }).waitFor();
    await sidebar().locator('.oms-sidebar-list-view').waitFor({ state: 'visible' });
    await item('E2E-1').waitFor({ state: 'detached' });
    assert.deepEqual(await listedOrders(), ['E2E-2']);

    const letter = await letterOf('E2E-1');
    assert.equal(letter.status, 'replayed');
    const seen = await waitFor('the replayed message', async () => {
      const all = await replays();
      return all.length > 0 ? all : undefined;
    });
    assert.equal(seen.length, 1);
    assert.equal(seen[0].orderRef, 'E2E-1');
    assert.equal(seen[0].replay?.deadLetterId, id);
    assert.equal(seen[0].replay?.count, 1);
    assert.deepEqual(seen[0].payload, {
      orderNo: 'E2E-1',
      code: 'PEER_REJECTED',
      total: { amount: 1250, currency: 'EUR' },
    });
  });

  it('discards a letter only with a reason, kept on the letter', async () => {
    await item('E2E-2').click();
    const detail = sidebar().locator('.oms-sidebar-detail-view');
    await detail.locator('.oms-sidebar-discard-button').click();
    const confirm = detail.locator('.oms-sidebar-discard-confirm');
    await confirm.waitFor({ state: 'visible' });
    assert.equal(await confirm.isDisabled(), true, 'no reason, no discard');
    await detail.locator('.oms-sidebar-reason').fill('duplicate of E2E-1, fixed by hand');
    assert.equal(await confirm.isDisabled(), false);
    await confirm.click();
    await item('E2E-2').waitFor({ state: 'detached' });
    const letter = await letterOf('E2E-2');
    assert.equal(letter.status, 'discarded');
    assert.equal(letter.reason, 'duplicate of E2E-1, fixed by hand');
    assert.match(await sidebar().locator('.oms-sidebar-list-view').innerText(), /No parked dead letters/);
    assert.equal((await replays()).length, 1, 'a discarded letter is not sent');

    // The "all" status shows resolved letters with their status.
    await sidebar().locator('.oms-sidebar-status').selectOption('all');
    await item('E2E-2').waitFor({ state: 'visible' });
    assert.match(await item('E2E-2').locator('.oms-sidebar-badge').innerText(), /Discarded/);
    assert.match(await item('E2E-1').locator('.oms-sidebar-badge').innerText(), /Replayed/);
    await sidebar().locator('.oms-sidebar-status').selectOption('parked');
    await item('E2E-2').waitFor({ state: 'detached' });
  });

  it('looks up an order: its audit trail with the dead letter and the replay', async () => {
    await sidebar().locator('.oms-sidebar-lookup').fill('E2E-1');
    await sidebar().locator('.oms-sidebar-lookup').press('Enter');
    const view = sidebar().locator('.oms-sidebar-order-view');
    await view.waitFor({ state: 'visible' });
    assert.deepEqual(
      await view
        .locator('table.oms-sidebar-trail tbody tr[data-kind]')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-kind'))),
      ['transition', 'transition', 'dead-letter', 'replay'],
    );
    assert.match(await view.innerText(), /State\s+Validated/);
    assert.match(await view.innerText(), /Created\s+→\s+Validated\s+validate/);
    assert.match(await view.innerText(), /PEER_REJECTED: peer said no/);
    assert.match(await view.innerText(), /by editor|by anonymous|by admin/);
    assert.equal(await view.locator('.oms-sidebar-item').count(), 1, 'its one dead letter');
    await screenshot('oms-sidebar-trail.png');

    await sidebar().locator('.oms-sidebar-lookup').fill('NO-SUCH-ORDER');
    await sidebar().locator('.oms-sidebar-lookup').press('Enter');
    await sidebar()
      .locator('.oms-sidebar-detail-view .oms-sidebar-error', { hasText: 'knows no order NO-SUCH-ORDER' })
      .waitFor();
    // Back through the views to the list.
    await sidebar().locator('.oms-sidebar-back').click();
    await sidebar().locator('.oms-sidebar-back').click();
    await sidebar().locator('.oms-sidebar-list-view').waitFor({ state: 'visible' });
  });

  it('shows new letters as they are parked, and replays everything a filter matches', async () => {
    await inject('e2e-sidebar-in-3');
    await inject('e2e-sidebar-in-4');
    // No click on refresh: the runtime's comms message brings them in.
    await item('E2E-3').waitFor({ state: 'visible' });
    await item('E2E-4').waitFor({ state: 'visible' });
    const button = sidebar().locator('.oms-sidebar-replay-all');
    assert.match(await button.innerText(), /Replay all \(2\)/);
    await button.click();
    const confirm = page.locator('#oms-sidebar-replay-all-confirm');
    await confirm.waitFor({ state: 'visible' });
    assert.match(await confirm.innerText(), /Replay 2/);
    await confirm.click();
    await page.locator('.red-ui-notification', { hasText: 'Replayed 2 dead letter(s)' }).waitFor();
    await item('E2E-3').waitFor({ state: 'detached' });
    await item('E2E-4').waitFor({ state: 'detached' });
    assert.equal((await letters('status=parked')).total, 0);
    const seen = await waitFor('both replays', async () => {
      const all = await replays();
      return all.length === 3 ? all : undefined;
    });
    assert.deepEqual(seen.map((r) => r.orderRef).sort(), ['E2E-1', 'E2E-3', 'E2E-4']);
    assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
  });

  it('lists held orders with the rules that fired, live, under "Held orders"', async () => {
    await inject('e2e-sidebar-fraud-in-1');
    await waitFor('the first hold', async () => ((await holds()).total === 1 ? true : undefined));
    await new Promise((r) => setTimeout(r, 20));
    await inject('e2e-sidebar-fraud-in-2');
    // Without a click, the section button counts what waits for a decision.
    const count = sidebar().locator('.oms-sidebar-section-holds .oms-sidebar-section-count');
    await page.waitForFunction(
      () =>
        document.querySelector('.oms-sidebar-section-holds .oms-sidebar-section-count')?.textContent === '2',
    );
    assert.equal(await count.innerText(), '2');
    assert.deepEqual(
      (await screened()).map((s) => [s.output, s.orderRef, s.decision]),
      [
        [2, 'HOLD-1', 'review'],
        [2, 'HOLD-2', 'review'],
      ],
      'both left by output 2 (review)',
    );

    await sidebar().locator('.oms-sidebar-section-holds').click();
    await sidebar().locator('.oms-sidebar-lookup').fill('');
    await holdItem('HOLD-1').waitFor({ state: 'visible' });
    await sidebar().locator('.oms-sidebar-list-view').waitFor({ state: 'hidden' });
    assert.deepEqual(await listedHolds(), ['HOLD-2', 'HOLD-1']);
    assert.equal(
      (await sidebar().locator('.oms-sidebar-hold-list-view .oms-sidebar-hold-count').innerText()).trim(),
      '2 of 2',
    );
    const first = holdItem('HOLD-1');
    assert.equal((await first.locator('.oms-sidebar-score').innerText()).trim(), 'score 60');
    assert.match(
      await first.locator('.oms-sidebar-item-reasons').innerText(),
      /^High value: order total 1500\.00 EUR is at or above 1000\.00 EUR$/,
    );
    assert.match(await first.locator('.oms-sidebar-item-meta').innerText(), /fraud check/);
    await screenshot('oms-sidebar-holds.png');

    // Search text narrows the list; cleared, both are back.
    await sidebar().locator('.oms-sidebar-hold-search').pressSequentially('HOLD-2');
    await holdItem('HOLD-1').waitFor({ state: 'detached' });
    assert.deepEqual(await listedHolds(), ['HOLD-2']);
    await sidebar().locator('.oms-sidebar-hold-filters .red-ui-searchBox-clear').click();
    await holdItem('HOLD-1').waitFor({ state: 'visible' });
    assert.deepEqual(await listedHolds(), ['HOLD-2', 'HOLD-1']);
  });

  it('opens a held order: score, every reason, the trail and the held message (secrets redacted)', async () => {
    await holdItem('HOLD-1').click();
    const detail = sidebar().locator('.oms-sidebar-detail-view');
    await detail.locator('.oms-sidebar-accept').waitFor({ state: 'visible' });
    assert.ok(await detail.locator('.oms-sidebar-reject').isVisible());
    const text = await detail.innerText();
    assert.match(text, /Hold #\d+ · HOLD-1/);
    assert.match(text, /Status\s+Held/);
    assert.match(text, /Score\s+60/);
    assert.match(text, /Held by\s+the score \(60, review from 50\)/);
    assert.match(text, /Held since\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    assert.match(text, /Correlation id\s+c-HOLD-1/);
    assert.match(text, /Held in\s+fraud check/);
    assert.deepEqual(
      await detail
        .locator('table.oms-sidebar-rules tbody tr')
        .evaluateAll((rows) => rows.map((r) => Array.from(r.children).map((c) => c.textContent))),
      [['High value', '60', (await holdOf('HOLD-1')).reasons.fired[0].reason]],
    );
    assert.deepEqual(
      await detail
        .locator('table.oms-sidebar-trail:not(.oms-sidebar-rules) tbody tr[data-kind]')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-kind'))),
      ['hold'],
    );
    assert.match(text, /hold #\d+ · score 60/);
    // The held message: msg.payload (the order) and msg.oms open, the Authorization header not shown.
    assert.ok(await detail.locator('.oms-sidebar-json .red-ui-debug-msg-element').first().isVisible());
    assert.match(text, /orderRef: "HOLD-1"/);
    assert.doesNotMatch(text, /e2e-secret/);
    await screenshot('oms-sidebar-hold.png');
  });

  it('accepts it: it leaves the held list, the API says accepted, and the order left by output 1', async () => {
    const { id } = await holdOf('HOLD-1');
    const detail = sidebar().locator('.oms-sidebar-detail-view');
    await detail.locator('.oms-sidebar-accept').click();
    const form = detail.locator('.oms-sidebar-decide');
    await form.waitFor({ state: 'visible' });
    assert.match(
      await form.locator('.oms-sidebar-decide-text').innerText(),
      /Accept order HOLD-1\?.*output 1/,
    );
    assert.equal(
      await form.locator('.oms-sidebar-decide-confirm').isDisabled(),
      false,
      'a reason is optional',
    );
    assert.equal(await holdItem('HOLD-1').count(), 1, 'nothing decided before the confirmation');
    assert.equal((await holdOf('HOLD-1')).status, 'held');
    await form.locator('.oms-sidebar-decide-reason').fill('called the customer');
    await form.locator('.oms-sidebar-decide-confirm').click();
    await page.locator('.red-ui-notification', { hasText: `Accepted order HOLD-1 (hold #${id})` }).waitFor();
    await sidebar().locator('.oms-sidebar-hold-list-view').waitFor({ state: 'visible' });
    await holdItem('HOLD-1').waitFor({ state: 'detached' });
    assert.deepEqual(await listedHolds(), ['HOLD-2']);

    const hold = await holdOf('HOLD-1');
    assert.equal(hold.status, 'accepted');
    assert.equal(hold.reason, 'called the customer');
    assert.ok(hold.decidedBy);
    const out = await waitFor('the accepted order', async () => {
      const all = (await screened()).filter((s) => s.output !== 2);
      return all.length > 0 ? all : undefined;
    });
    assert.deepEqual(out, [
      {
        output: 1,
        orderRef: 'HOLD-1',
        decision: 'accept',
        decidedBy: hold.decidedBy,
        reason: 'called the customer',
      },
    ]);
  });

  it('rejects only with a reason: refused without one in the UI, audited with it', async () => {
    const { id } = await holdOf('HOLD-2');
    await holdItem('HOLD-2').click();
    const detail = sidebar().locator('.oms-sidebar-detail-view');
    await detail.locator('.oms-sidebar-reject').click();
    const form = detail.locator('.oms-sidebar-decide');
    await form.waitFor({ state: 'visible' });
    assert.match(await form.locator('.oms-sidebar-decide-text').innerText(), /A reason is required/);
    const confirm = form.locator('.oms-sidebar-decide-confirm');
    assert.equal(await confirm.isDisabled(), true, 'no reason, no reject');
    const reason = form.locator('.oms-sidebar-decide-reason');
    await reason.fill('   ');
    assert.equal(await confirm.isDisabled(), true, 'blanks are no reason');
    await reason.press('Enter');
    await form
      .locator('.oms-sidebar-decide-error', { hasText: 'Give a reason to reject the order.' })
      .waitFor();
    assert.equal((await holdOf('HOLD-2')).status, 'held');

    await reason.fill('card reported stolen');
    assert.equal(await confirm.isDisabled(), false);
    await screenshot('oms-sidebar-hold-reject.png');
    // The refreshes meanwhile (the accept above) left the form and the title alone.
    assert.match(await detail.locator('.oms-sidebar-bar-title').innerText(), /^Hold #\d+ · HOLD-2$/);
    assert.equal(await reason.inputValue(), 'card reported stolen');
    assert.equal(await detail.locator('.oms-sidebar-accept').isVisible(), false, 'one decision at a time');
    await confirm.click();
    await page.locator('.red-ui-notification', { hasText: `Rejected order HOLD-2 (hold #${id})` }).waitFor();
    await holdItem('HOLD-2').waitFor({ state: 'detached' });
    assert.match(await sidebar().locator('.oms-sidebar-hold-list-view').innerText(), /No orders wait/);

    const hold = await holdOf('HOLD-2');
    assert.equal(hold.status, 'rejected');
    assert.equal(hold.reason, 'card reported stolen');
    const out = await waitFor('the rejected order', async () => {
      const all = (await screened()).filter((s) => s.output === 3);
      return all.length > 0 ? all : undefined;
    });
    assert.deepEqual(
      out.map((s) => [s.orderRef, s.decision, s.reason]),
      [['HOLD-2', 'reject', 'card reported stolen']],
    );
    const order = await api<{ trail: Array<{ kind: string; detail?: Record<string, unknown> }> }>(
      'oms/orders/HOLD-2',
    );
    assert.deepEqual(
      order.trail.map((e) => e.kind),
      ['hold', 'decision'],
    );
    assert.deepEqual(order.trail[1].detail, {
      holdId: id,
      decision: 'rejected',
      by: hold.decidedBy,
      reason: 'card reported stolen',
    });

    // "All" shows decided holds with their decision.
    await sidebar().locator('.oms-sidebar-hold-status').selectOption('all');
    await holdItem('HOLD-1').waitFor({ state: 'visible' });
    assert.match(
      await holdItem('HOLD-1').locator('.oms-sidebar-badge:not(.oms-sidebar-score)').innerText(),
      /Accepted/,
    );
    assert.match(
      await holdItem('HOLD-2').locator('.oms-sidebar-badge:not(.oms-sidebar-score)').innerText(),
      /Rejected/,
    );
    await sidebar().locator('.oms-sidebar-hold-status').selectOption('rejected');
    await holdItem('HOLD-1').waitFor({ state: 'detached' });
    assert.deepEqual(await listedHolds(), ['HOLD-2']);
    await sidebar().locator('.oms-sidebar-hold-status').selectOption('held');
    await holdItem('HOLD-2').waitFor({ state: 'detached' });
  });

  it("shows the API's refusal when an order was decided meanwhile, and an order's holds", async () => {
    await inject('e2e-sidebar-fraud-in-3');
    // No click on refresh: the runtime's comms message brings it in.
    await holdItem('HOLD-3').waitFor({ state: 'visible' });
    const { id } = await holdOf('HOLD-3');
    await holdItem('HOLD-3').click();
    const detail = sidebar().locator('.oms-sidebar-detail-view');
    await detail.locator('.oms-sidebar-accept').click();
    const form = detail.locator('.oms-sidebar-decide');
    await form.waitFor({ state: 'visible' });
    // Another analyst rejects it first.
    await api(`oms/holds/${id}/reject`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'duplicate order' }),
    });
    await holdItem('HOLD-3').waitFor({ state: 'detached' });
    // The refresh left the open form alone; confirming shows why the API refuses.
    await form.locator('.oms-sidebar-decide-confirm').click();
    await form.locator('.oms-sidebar-decide-error', { hasText: `Hold ${id} is already rejected` }).waitFor();
    await page.locator('.red-ui-notification', { hasText: `Hold ${id} is already rejected` }).waitFor();
    await form.locator('.oms-sidebar-decide-cancel').click();
    await detail.locator('.oms-sidebar-accept').waitFor({ state: 'detached' });
    assert.match(await detail.innerText(), /Status\s+Rejected/);
    assert.match(await detail.innerText(), /Reason\s+duplicate order/);
    assert.deepEqual(
      (await screened()).filter((s) => s.orderRef === 'HOLD-3').map((s) => s.output),
      [2, 3],
      'sent on once, by output 3',
    );

    // The order lookup shows the holds of the order, and its trail the decision with its reason.
    await sidebar().locator('.oms-sidebar-lookup').fill('HOLD-2');
    await sidebar().locator('.oms-sidebar-lookup').press('Enter');
    const view = sidebar().locator('.oms-sidebar-order-view');
    await view.locator('.oms-sidebar-order-holds .oms-sidebar-hold-item').waitFor({ state: 'visible' });
    assert.deepEqual(
      await view
        .locator('table.oms-sidebar-trail tbody tr[data-kind]')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-kind'))),
      ['hold', 'decision'],
    );
    assert.match(await view.innerText(), /rejected · by \S+ · “card reported stolen”/);
    assert.equal(await view.locator('.oms-sidebar-order-holds .oms-sidebar-hold-item').count(), 1);
    await sidebar().locator('.oms-sidebar-back').click();
    await sidebar().locator('.oms-sidebar-back').click();
    await sidebar().locator('.oms-sidebar-hold-list-view').waitFor({ state: 'visible' });
    // Back to the dead letters.
    await sidebar().locator('.oms-sidebar-section-letters').click();
    await sidebar().locator('.oms-sidebar-list-view').waitFor({ state: 'visible' });
    await sidebar().locator('.oms-sidebar-search').waitFor({ state: 'visible' });
    assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
  });
});
