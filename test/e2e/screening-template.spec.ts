// Template order-lifecycle 1.1.0's screening in a real runtime (issue 6, point 6): 1,000 generated
// orders with a known mix — 90 % clean, 7 % held for review (by the rules or by the provider),
// 3 % rejected (by a rule or by the provider) — through the SFTP inbox, address check, fraud check,
// route and Fluent allocate. Each lands where it should: Allocated/Backordered, OnHold with a
// hold, or Cancelled; then held orders decided by the provider's signed webhook and by an
// analyst go on to Fluent.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { Order } from '../../lib/order/model';
import { generateOrder } from '../../lib/sfcc/generate';
import { renderOrderXml, xmlFooter, xmlHeader } from '../../lib/sfcc/render';
import { startAddressSandbox, type AddressSandbox } from '../../sandbox/address/server';
import { startFluentSandbox, type FluentSandbox } from '../../sandbox/fluent/server';
import { startFraudSandbox, type FraudSandbox } from '../../sandbox/fraud/server';
import { startSftpServer, type SftpSandbox } from '../../sandbox/sftp-server';
import { eachWithRuntime, serveHttpNode, until, type TestDir } from '../helpers/oms-runtime';
import { helper } from '../helpers/runtime';
import { range, refOf } from '../helpers/sftp-flow';
import { loadTemplate } from '../helpers/templates';

const ORDERS = 1000;
const FILES = 4;
const FLUENT = { clientId: 'mix', clientSecret: 'mix-secret', username: 'mix-user', password: 'mix-pass' };
const FRAUD = { apiKey: 'mix-fraud-key', webhookSecret: 'mix-fraud-secret', teamApiKey: 'mix-team' };
const ADDRESS_KEY = 'mix-address-key';
const SFTP = { username: 'sfcc', password: 'export' };

type Expected = 'accept' | 'review-rules' | 'review-provider' | 'reject-rules' | 'reject-provider';

/** The mix by construction, from the order number's last two digits. */
function expected(n: number): Expected {
  const k = n % 100;
  if (k === 0) return 'reject-rules'; // shipped to a sanctioned country
  if (k <= 2) return 'reject-provider'; // the provider refuses +reject e-mails
  if (k <= 5) return 'review-provider'; // the provider holds +review e-mails for a later webhook
  if (k <= 9) return 'review-rules'; // disposable e-mail (35) + billing country differs (25) = 60 ≥ 50
  return 'accept';
}

function mixOrder(n: number): Order {
  const o = structuredClone(generateOrder(n));
  const kind = expected(n);
  if (kind === 'reject-rules' && o.shipments[0].address)
    o.shipments[0].address = { ...o.shipments[0].address, countryCode: 'KP', stateCode: undefined };
  if (kind === 'reject-provider') o.customer.email = `shopper${n}+reject@example.com`;
  if (kind === 'review-provider') o.customer.email = `shopper${n}+review@example.com`;
  if (kind === 'review-rules') {
    o.customer.email = `shopper${n}@mailinator.com`;
    const shipTo = o.shipments[0].address?.countryCode;
    o.customer.billingAddress = { ...o.customer.billingAddress, countryCode: shipTo === 'CA' ? 'US' : 'CA' };
  }
  return o;
}

function storeRows(file: string): {
  states: Map<string, string>;
  holds: Map<string, { status: string; providerRef: string | null }>;
  letters: number;
} {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const states = new Map(
      (
        db.prepare('SELECT order_ref AS ref, state FROM orders').all() as Array<{
          ref: string;
          state: string;
        }>
      ).map((r) => [r.ref, r.state]),
    );
    const holds = new Map(
      (
        db.prepare('SELECT order_ref AS ref, status, provider_ref AS providerRef FROM holds').all() as Array<{
          ref: string;
          status: string;
          providerRef: string | null;
        }>
      ).map((r) => [r.ref, { status: r.status, providerRef: r.providerRef }]),
    );
    const letters = (
      db.prepare("SELECT count(*) AS n FROM dead_letters WHERE status = 'parked'").get() as { n: number }
    ).n;
    return { states, holds, letters };
  } finally {
    db.close();
  }
}

describe('template order-lifecycle: screening 1,000 orders with a known mix', function () {
  this.timeout(240000);
  let dir: TestDir;
  let sftp: SftpSandbox;
  let fluent: FluentSandbox;
  let fraud: FraudSandbox;
  let address: AddressSandbox;
  const env: Record<string, string> = {};
  const current = eachWithRuntime('oms-screening-template-');

  beforeEach(async () => {
    dir = current();
    serveHttpNode();
    const inbox = path.join(dir.dir, 'sftp-root', 'inbox');
    mkdirSync(inbox, { recursive: true });
    const per = ORDERS / FILES;
    for (let f = 0; f < FILES; f++) {
      const xml =
        xmlHeader() +
        range(1 + f * per, per)
          .map((n) => renderOrderXml(mixOrder(n)))
          .join('') +
        xmlFooter();
      writeFileSync(path.join(inbox, `export-${f + 1}.xml`), xml);
    }
    sftp = await startSftpServer({ root: path.join(dir.dir, 'sftp-root'), users: [SFTP] });
    fluent = await startFluentSandbox({ ...FLUENT });
    // No reviews by amount; +review e-mails stay pending until the test resolves them.
    fraud = await startFraudSandbox({
      ...FRAUD,
      reviewAbove: {},
      decisionDelayMs: 600_000,
      webhookUrl: `${helper.url()}/oms/fraud/webhook`,
    });
    address = await startAddressSandbox({ apiKey: ADDRESS_KEY });
    Object.assign(env, {
      OMS_SFTP_HOST: '127.0.0.1',
      OMS_SFTP_PORT: String(sftp.port),
      OMS_SFTP_USER: SFTP.username,
      OMS_SFTP_PASSWORD: SFTP.password,
      OMS_SFTP_FINGERPRINT: sftp.hostKeyFingerprint,
      OMS_FLUENT_URL: fluent.url,
      OMS_FLUENT_RETAILER: String(fluent.retailerId),
      OMS_FLUENT_CLIENT_ID: FLUENT.clientId,
      OMS_FLUENT_CLIENT_SECRET: FLUENT.clientSecret,
      OMS_FLUENT_USERNAME: FLUENT.username,
      OMS_FLUENT_PASSWORD: FLUENT.password,
      OMS_FRAUD_URL: fraud.url,
      OMS_FRAUD_API_KEY: FRAUD.apiKey,
      OMS_FRAUD_WEBHOOK_SECRET: FRAUD.webhookSecret,
      OMS_ADDRESS_URL: address.url,
      OMS_ADDRESS_API_KEY: ADDRESS_KEY,
    });
    Object.assign(process.env, env);
  });
  afterEach(async () => {
    for (const name of Object.keys(env)) delete process.env[name];
    await Promise.all([sftp.close(), fluent.close(), fraud.close(), address.close()]);
  });

  it('each order lands in the right output, and held ones go on once decided', async () => {
    await loadTemplate('order-lifecycle');
    const storeFile = path.join(dir.dir, 'oms', 'oms.db');
    const refs = range(1, ORDERS);
    const final = new Set(['Allocated', 'Backordered', 'OnHold', 'Cancelled']);
    const rows = await until(
      'every order screened and settled',
      () => {
        try {
          const r = storeRows(storeFile);
          return refs.every((n) => final.has(r.states.get(refOf(n)) ?? '')) ? r : undefined;
        } catch {
          return undefined; // the store is not there yet
        }
      },
      200000,
    );
    const mix = new Map<Expected, number>();
    for (const n of refs) {
      const ref = refOf(n);
      const kind = expected(n);
      mix.set(kind, (mix.get(kind) ?? 0) + 1);
      const state = rows.states.get(ref);
      const hold = rows.holds.get(ref);
      if (kind === 'accept') {
        assert.ok(state === 'Allocated' || state === 'Backordered', `${ref} accepted, but ${state}`);
        assert.equal(hold, undefined, `${ref} was not held`);
      } else if (kind.startsWith('review')) {
        assert.equal(state, 'OnHold', `${ref} (${kind})`);
        assert.equal(hold?.status, 'held', `${ref} has a hold`);
        assert.equal(
          Boolean(hold?.providerRef),
          kind === 'review-provider',
          `${ref}: a provider reference only when the provider holds it`,
        );
      } else {
        assert.equal(state, 'Cancelled', `${ref} (${kind})`);
        assert.equal(hold, undefined);
      }
    }
    assert.deepEqual(Object.fromEntries(mix), {
      'reject-rules': 10,
      'reject-provider': 20,
      'review-provider': 30,
      'review-rules': 40,
      accept: 900,
    });
    assert.equal(rows.letters, 0, 'nothing parked');
    const inFluent = fluent.orders();
    assert.equal(inFluent.size, [...rows.states.values()].filter((s) => s === 'Allocated').length);

    // The reasons are there for an analyst: the rules that held an order, the provider's refusal.
    const reviewed = await helper
      .request()
      .get(`/oms/holds/${await holdId(refOf(6))}`)
      .expect(200);
    const reasons = JSON.stringify((reviewed.body as { reasons: unknown }).reasons);
    assert.match(reasons, /Disposable e-mail/);
    assert.match(reasons, /Billing and shipping countries differ/);

    // The provider decides two held orders (signed webhooks), an analyst a third.
    assert.ok(fraud.resolve(refOf(3), 'accept'));
    assert.ok(fraud.resolve(refOf(4), 'reject'));
    await helper
      .request()
      .post(`/oms/holds/${await holdId(refOf(7))}/accept`)
      .send({ reason: 'called the customer' })
      .expect(200);
    const after = await until(
      'the decided orders moved on',
      () => {
        const r = storeRows(storeFile);
        const moved = [refOf(3), refOf(7)].every((ref) =>
          ['Allocated', 'Backordered'].includes(r.states.get(ref) ?? ''),
        );
        return moved && r.states.get(refOf(4)) === 'Cancelled' ? r : undefined;
      },
      30000,
    );
    assert.equal(after.holds.get(refOf(3))?.status, 'accepted');
    assert.equal(after.holds.get(refOf(4))?.status, 'rejected');
    assert.equal(after.holds.get(refOf(7))?.status, 'accepted');
    const trail = (
      await helper
        .request()
        .get(`/oms/orders/${refOf(7)}`)
        .expect(200)
    ).body as {
      trail: Array<{ kind: string; to?: string }>;
    };
    // hold → OnHold → the analyst's decision → released to Validated → paid → allocated.
    const steps = trail.trail.map((e) => (e.kind === 'transition' ? `→${e.to}` : e.kind));
    const order = ['hold', '→OnHold', 'decision', '→Validated', '→PaymentAuthorized'].map((step) =>
      steps.lastIndexOf(step),
    );
    assert.ok(
      order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1])),
      steps.join(' '),
    );
    assert.match(steps.at(-1) ?? '', /^→(Allocated|Backordered)$/);
    console.log(
      `      ${[...after.states.values()].filter((s) => s === 'Allocated').length} allocated, ` +
        `${[...after.states.values()].filter((s) => s === 'OnHold').length} on hold, ` +
        `${[...after.states.values()].filter((s) => s === 'Cancelled').length} cancelled; ` +
        `${fraud.webhooks().length} provider webhooks`,
    );
  });

  async function holdId(orderRef: string): Promise<number> {
    const page = (await helper.request().get(`/oms/holds?order=${orderRef}&status=all`).expect(200)).body as {
      items: Array<{ id: number }>;
    };
    assert.equal(page.items.length, 1, `one hold for ${orderRef}`);
    return page.items[0].id;
  }
});
