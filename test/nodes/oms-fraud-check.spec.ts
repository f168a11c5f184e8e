// oms-fraud-check and oms-fraud-provider in a real runtime, against the fraud provider sandbox:
// rules alone, a review decided later by a signed webhook (generic and Signifyd-shaped), a bad
// signature refused, each policy when the provider is down, and an analyst's decision.
import assert from 'node:assert/strict';
import fraudCheckNode from '../../nodes/oms-fraud-check/oms-fraud-check';
import fraudProviderNode from '../../nodes/oms-fraud-provider/oms-fraud-provider';
import type { FraudConfig } from '../../lib/fraud';
import { signWebhook } from '../../lib/fraud/provider';
import type { Order } from '../../lib/order/model';
import { generateOrder } from '../../lib/sfcc/generate';
import { startFraudSandbox, type FraudSandbox } from '../../sandbox/fraud/server';
import { helper, nodeRedVersion } from '../helpers/runtime';
import {
  collect,
  eachWithRuntime,
  omsNodes,
  serveHttpNode,
  storeConfig,
  type FlowNode,
  type Msg,
  type TestDir,
} from '../helpers/oms-runtime';

const KEYS = { apiKey: 'fraud-key', webhookSecret: 'hook-secret', teamApiKey: 'team-key' };
const WEBHOOK = '/oms/fraud/webhook';

const RULES: FraudConfig = {
  version: 1,
  reviewAt: 50,
  rejectAt: 100,
  rules: [
    {
      name: 'High value',
      type: 'orderValue',
      thresholds: { EUR: 100000, USD: 100000, GBP: 100000, JPY: 10000000 },
      score: 60,
    },
    { name: 'Denied country', type: 'country', address: 'either', deny: ['KP'], decision: 'reject' },
    { name: 'Disposable e-mail', type: 'emailDomain', disposable: true, score: 35 },
  ],
};

function order(n: number, change: (o: Order) => void = () => undefined): Order {
  const o = structuredClone(generateOrder(n));
  o.currency = 'EUR';
  o.totals.grandTotal = 5000;
  o.customer.email = `shopper${n}@example.com`;
  change(o);
  return o;
}

const msgOf = (o: Order): Msg => ({
  payload: o,
  oms: { orderRef: o.orderRef, correlationId: `c-${o.orderRef}` },
});

describe(`oms-fraud-check node (Node-RED ${nodeRedVersion})`, function () {
  this.timeout(20000);
  let dir: TestDir;
  let sandbox: FraudSandbox | undefined;
  const current = eachWithRuntime('oms-fraud-');
  beforeEach(() => {
    dir = current();
    serveHttpNode();
  });

  /** POSTs a webhook to the provider node over HTTP, as the provider would. */
  async function postWebhook(
    body: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${helper.url()}${WEBHOOK}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    return { status: res.status, body: await res.json() };
  }
  afterEach(async () => {
    await sandbox?.close();
    sandbox = undefined;
  });

  async function load(
    check: Record<string, unknown> = {},
    provider?: Record<string, unknown>,
  ): Promise<void> {
    const flow: FlowNode[] = [
      { id: 't1', type: 'tab' },
      storeConfig(dir.storeFile),
      {
        id: 'fraud',
        z: 't1',
        type: 'oms-fraud-check',
        store: 'store',
        rules: JSON.stringify(RULES),
        ...(provider ? { provider: 'provider' } : {}),
        ...check,
        wires: [['accept'], ['review'], ['reject']],
      },
      { id: 'accept', z: 't1', type: 'helper' },
      { id: 'review', z: 't1', type: 'helper' },
      { id: 'reject', z: 't1', type: 'helper' },
    ];
    if (provider)
      flow.push({
        id: 'provider',
        type: 'oms-fraud-provider',
        webhookPath: WEBHOOK,
        timeout: 2,
        ...provider,
      });
    await helper.load([...omsNodes(), fraudProviderNode, fraudCheckNode], flow, {
      provider: {
        apiKey: provider?.kind === 'signifyd' ? KEYS.teamApiKey : KEYS.apiKey,
        webhookSecret: KEYS.webhookSecret,
      },
    });
  }

  async function startProvider(decisionDelayMs = 100): Promise<FraudSandbox> {
    sandbox = await startFraudSandbox({ ...KEYS, webhookUrl: `${helper.url()}${WEBHOOK}`, decisionDelayMs });
    return sandbox;
  }

  type Fraud = {
    decision: string;
    score: number;
    decidedBy: string;
    fired: Array<{ rule: string; reason: string }>;
    holdId?: number;
    heldFor?: number;
    provider?: {
      decision?: string;
      pending?: boolean;
      providerRef?: string;
      error?: { code: string };
      policy?: string;
    };
  };
  const fraudOf = (m: Msg): Fraud => m.oms?.fraud as Fraud;

  it('decides by the rules alone: accept, review (held in the store), reject — each explained', async () => {
    await load();
    const accepted = collect('accept', 1);
    const reviewed = collect('review', 1);
    const rejected = collect('reject', 1);
    const node = helper.getNode('fraud');
    node.receive(msgOf(order(1)));
    node.receive(msgOf(order(2, (o) => (o.totals.grandTotal = 250000))));
    node.receive(
      msgOf(order(3, (o) => (o.shipments[0].address = { ...o.shipments[0].address, countryCode: 'KP' }))),
    );
    const [a] = await accepted;
    assert.equal(fraudOf(a).decision, 'accept');
    assert.equal(a.oms?.transition, 'Validated');
    const [r] = await reviewed;
    assert.equal(fraudOf(r).decision, 'review');
    assert.equal(fraudOf(r).score, 60);
    assert.deepEqual(
      fraudOf(r).fired.map((f) => f.rule),
      ['High value'],
    );
    assert.equal(r.oms?.transition, 'hold');
    assert.ok(typeof fraudOf(r).holdId === 'number');
    const [x] = await rejected;
    assert.equal(fraudOf(x).decidedBy, 'rule "Denied country"');
    assert.equal(x.oms?.transition, 'reject');
    const held = await helper.request().get('/oms/holds').expect(200);
    assert.deepEqual(
      (held.body as { items: Array<{ orderRef: string; status: string }> }).items.map((h) => [
        h.orderRef,
        h.status,
      ]),
      [[order(2).orderRef, 'held']],
    );
  });

  it('holds what the provider reviews, and sends it on when its signed webhook decides', async () => {
    const fraud = await startProvider();
    await load({}, { kind: 'generic', baseUrl: fraud.url });
    const reviewed = collect('review', 2);
    const accepted = collect('accept', 2, 15000);
    const rejected = collect('reject', 1, 15000);
    const node = helper.getNode('fraud');
    node.receive(msgOf(order(10)));
    node.receive(msgOf(order(11, (o) => (o.customer.email = 'later+review@example.com'))));
    node.receive(msgOf(order(12, (o) => (o.customer.email = 'later+review+thenreject@example.com'))));
    const held = await reviewed;
    for (const m of held) {
      assert.equal(fraudOf(m).provider?.pending, true);
      assert.ok(fraudOf(m).provider?.providerRef);
    }
    const [first, released] = await accepted;
    assert.equal(first.oms?.orderRef, order(10).orderRef);
    assert.equal(released.oms?.orderRef, order(11).orderRef);
    assert.equal(fraudOf(released).decidedBy, 'provider:generic');
    assert.equal(fraudOf(released).heldFor, fraudOf(held[0]).holdId);
    assert.equal(released.oms?.transition, 'Validated');
    const [refused] = await rejected;
    assert.equal(refused.oms?.orderRef, order(12).orderRef);
    assert.equal(refused.oms?.transition, 'reject');
    const trail = await helper
      .request()
      .get(`/oms/orders/${order(11).orderRef}`)
      .expect(200);
    assert.deepEqual(
      (trail.body as { trail: Array<{ kind: string }> }).trail.map((e) => e.kind),
      ['hold', 'decision'],
    );
    await fraud.webhooksSettled();
    assert.deepEqual(
      fraud
        .webhooks()
        .map((w) => `${w.orderRef} ${w.status} ${w.responseStatus}`)
        .sort(),
      [`${order(11).orderRef} delivered 200`, `${order(12).orderRef} delivered 200`],
    );
  });

  it('does the same with a Signifyd-shaped provider (HOLD, then its webhook)', async () => {
    const fraud = await startProvider();
    await load({}, { kind: 'signifyd', baseUrl: fraud.url });
    const reviewed = collect('review', 1);
    const accepted = collect('accept', 1, 15000);
    helper.getNode('fraud').receive(msgOf(order(20, (o) => (o.customer.email = 'hold+review@example.com'))));
    const [held] = await reviewed;
    assert.equal(fraudOf(held).provider?.decision, 'review');
    const [released] = await accepted;
    assert.equal(fraudOf(released).decidedBy, 'provider:signifyd');
  });

  it('refuses a webhook without the right signature (401) and keeps the order held', async () => {
    const fraud = await startProvider(60_000); // the provider's own webhook comes too late to matter
    await load({}, { kind: 'generic', baseUrl: fraud.url });
    const reviewed = collect('review', 1);
    helper.getNode('fraud').receive(msgOf(order(30, (o) => (o.customer.email = 'slow+review@example.com'))));
    const [held] = await reviewed;
    const providerRef = fraudOf(held).provider?.providerRef;
    assert.ok(providerRef, JSON.stringify(fraudOf(held)));
    const body = JSON.stringify({
      id: providerRef,
      orderRef: order(30).orderRef,
      decision: 'accept',
      score: 10,
      reasons: [],
    });
    const good = signWebhook('generic', body, KEYS.webhookSecret);
    assert.equal((await postWebhook(body)).status, 401, 'unsigned');
    assert.equal(
      (await postWebhook(body, signWebhook('generic', body, 'not-the-secret'))).status,
      401,
      'wrong secret',
    );
    assert.equal(
      (await postWebhook(body.replace('"accept"', '"reject"'), good)).status,
      401,
      'tampered body',
    );
    const holds = await helper.request().get('/oms/holds').expect(200);
    assert.equal((holds.body as { total: number }).total, 1, 'still held');
    const accepted = collect('accept', 1);
    const ok = await postWebhook(body, good);
    assert.equal(ok.status, 200);
    assert.equal((ok.body as { matched: boolean }).matched, true);
    assert.equal((await accepted)[0].oms?.orderRef, order(30).orderRef);
  });

  describe('when the provider is down', () => {
    const outage = async (failPolicy: string): Promise<void> => {
      const fraud = await startProvider();
      await fraud.down();
      await load(
        { failPolicy, failOpenLimits: JSON.stringify({ EUR: 10000 }), providerTimeout: 2 },
        { kind: 'generic', baseUrl: fraud.url },
      );
    };
    it('fail to review: holds the order, saying why', async () => {
      await outage('review');
      const reviewed = collect('review', 1);
      helper.getNode('fraud').receive(msgOf(order(40)));
      const [m] = await reviewed;
      assert.equal(fraudOf(m).decidedBy, 'policy review (provider unavailable)');
      assert.equal(fraudOf(m).provider?.policy, 'review');
      assert.ok(fraudOf(m).provider?.error?.code);
    });
    it('fail closed: rejects', async () => {
      await outage('closed');
      const rejected = collect('reject', 1);
      helper.getNode('fraud').receive(msgOf(order(41)));
      assert.equal(fraudOf((await rejected)[0]).decidedBy, 'policy closed (provider unavailable)');
    });
    it('fail open: accepts below the limit of the currency, holds above it', async () => {
      await outage('open');
      const accepted = collect('accept', 1);
      const reviewed = collect('review', 1);
      const node = helper.getNode('fraud');
      node.receive(msgOf(order(42, (o) => (o.totals.grandTotal = 9999))));
      node.receive(msgOf(order(43, (o) => (o.totals.grandTotal = 10000))));
      assert.equal(fraudOf((await accepted)[0]).decidedBy, 'policy open (provider unavailable)');
      assert.equal((await reviewed)[0].oms?.orderRef, order(43).orderRef);
    });
  });

  it('lets an analyst decide a held order through the admin API, once, with a reason to reject', async () => {
    await load();
    const reviewed = collect('review', 1);
    helper.getNode('fraud').receive(msgOf(order(50, (o) => (o.totals.grandTotal = 250000))));
    const id = fraudOf((await reviewed)[0]).holdId;
    await helper.request().post(`/oms/holds/${id}/reject`).send({}).expect(400);
    const rejected = collect('reject', 1);
    const done = await helper
      .request()
      .post(`/oms/holds/${id}/reject`)
      .send({ reason: 'card reported stolen' })
      .expect(200);
    assert.equal((done.body as { status: string }).status, 'rejected');
    const [m] = await rejected;
    assert.equal(fraudOf(m).decision, 'reject');
    assert.equal((m.oms?.fraud as { reason?: string }).reason, 'card reported stolen');
    await helper.request().post(`/oms/holds/${id}/accept`).send({}).expect(409);
    const view = await helper.request().get(`/oms/holds/${id}`).expect(200);
    assert.equal((view.body as { status: string }).status, 'rejected');
  });
});
