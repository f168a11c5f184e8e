// The oms-fraud-check use case without Node-RED: settings from the node's config, one order
// screened into msg.oms.fraud (and held for a review, in a real store), a held order decided.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  askProvider,
  countHeld,
  decideHeld,
  fraudCheckSettings,
  heldBy,
  heldByProviderRef,
  heldDecision,
  markDecided,
  screenOrder,
  type FraudCheckSettings,
  type ScreeningProvider,
} from '../../../lib/fraud/check';
import { historyKey, type FraudConfig } from '../../../lib/fraud';
import {
  FraudProviderError,
  type ProviderDecision,
  type ScreeningRequest,
} from '../../../lib/fraud/provider';
import type { Order } from '../../../lib/order/model';
import { generateOrder } from '../../../lib/sfcc/generate';
import { decodeMessage, openSqliteStore, type CustodyStep, type OmsStore } from '../../../lib/store';

const RULES: FraudConfig = {
  version: 1,
  reviewAt: 50,
  rejectAt: 100,
  rules: [
    { name: 'High value', type: 'orderValue', thresholds: { EUR: 100000 }, score: 60 },
    { name: 'Denied country', type: 'country', address: 'either', deny: ['KP'], decision: 'reject' },
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
const highValue = (o: Order): void => {
  o.totals.grandTotal = 200000;
};
const deniedCountry = (o: Order): void => {
  o.customer.billingAddress = { ...o.customer.billingAddress, countryCode: 'KP' };
};

/** A provider that answers with `reply` and remembers what it was asked. */
function provider(reply: (request: ScreeningRequest, signal?: AbortSignal) => Promise<ProviderDecision>) {
  const asked: ScreeningRequest[] = [];
  const fake: ScreeningProvider & { asked: ScreeningRequest[] } = {
    settings: { kind: 'generic' },
    asked,
    screen(request, options) {
      asked.push(request);
      return reply(request, options.signal);
    },
  };
  return fake;
}
const answer = (decision: ProviderDecision['decision'], pending = false): ProviderDecision => ({
  decision,
  pending,
  reasons: ['provider says so'],
  providerRef: 'P-1',
  score: 420,
});

function settingsOf(extra: Record<string, unknown> = {}): FraudCheckSettings & { rules: FraudConfig } {
  const settings = fraudCheckSettings({ rules: JSON.stringify(RULES), ...extra });
  assert.ok(settings.rules, settings.rulesError);
  return { ...settings, rules: settings.rules };
}

describe('fraud check use case', () => {
  describe('settings', () => {
    it('reads the policy, the timeout and the callback as the node did', () => {
      const plain = fraudCheckSettings({ rules: JSON.stringify(RULES) });
      assert.deepEqual(
        { policy: plain.policy, timeoutMs: plain.timeoutMs, callbackUrl: plain.callbackUrl },
        { policy: 'review', timeoutMs: 10_000, callbackUrl: undefined },
      );
      assert.equal(plain.rules?.reviewAt, 50);
      assert.equal(plain.rulesError, undefined);
      assert.equal(fraudCheckSettings({ rules: '{}', failPolicy: 'bogus' }).policy, 'review');
      assert.equal(fraudCheckSettings({ rules: '{}', failPolicy: 'closed' }).policy, 'closed');
      assert.equal(fraudCheckSettings({ rules: '{}', providerTimeout: '3' }).timeoutMs, 3000);
      assert.equal(
        fraudCheckSettings({ rules: '{}', providerTimeout: 0.2 }).timeoutMs,
        1000,
        'one second at least',
      );
      assert.equal(fraudCheckSettings({ rules: '{}', providerTimeout: 'x' }).timeoutMs, 10_000);
      assert.equal(fraudCheckSettings({ rules: '{}', callbackUrl: '' }).callbackUrl, undefined);
      assert.equal(
        fraudCheckSettings({ rules: '{}', callbackUrl: 'https://h/cb' }).callbackUrl,
        'https://h/cb',
      );
    });

    it('says what is wrong with the rules, each problem with its path', () => {
      const bad = fraudCheckSettings({ rules: JSON.stringify({ ...RULES, reviewAt: 'high' }) });
      assert.equal(bad.rules, undefined);
      assert.match(bad.rulesError ?? '', /^reviewAt: /);
      const notJson = fraudCheckSettings({ rules: '{' });
      assert.equal(notJson.rules, undefined);
      assert.ok(notJson.rulesError);
    });

    it('reads the fail-open limits for the open policy only', () => {
      const open = fraudCheckSettings({ rules: '{}', failPolicy: 'open', failOpenLimits: '{"EUR": 20000}' });
      assert.deepEqual([open.openLimits, open.limitsError], [{ EUR: 20000 }, undefined]);
      const wrong = fraudCheckSettings({ rules: '{}', failPolicy: 'open', failOpenLimits: '{"eur": -1}' });
      assert.deepEqual(wrong.openLimits, {});
      assert.match(wrong.limitsError ?? '', /currency codes and amounts in minor units/);
      const review = fraudCheckSettings({ rules: '{}', failOpenLimits: 'not json' });
      assert.deepEqual([review.openLimits, review.limitsError], [{}, undefined]);
    });
  });

  describe('asking the provider', () => {
    it('sends the screening request with the callback, within the time given', async () => {
      const p = provider(async () => answer('accept'));
      const outcome = await askProvider(p, order(2), { timeoutMs: 5000, callbackUrl: 'https://h/cb' });
      assert.deepEqual(outcome, { answer: answer('accept') });
      assert.equal(p.asked[0]?.orderRef, order(2).orderRef);
      assert.equal(p.asked[0]?.callbackUrl, 'https://h/cb');
      assert.equal(p.asked[0]?.email, 'shopper2@example.com');
    });

    it('gives up when the time is over: no answer, for the policy to decide', async () => {
      const p = provider(
        (_r, signal) =>
          new Promise((_resolve, reject) =>
            signal?.addEventListener('abort', () =>
              reject(Object.assign(new Error('gave up'), { code: 'OMS_FRAUD_TIMEOUT' })),
            ),
          ),
      );
      const started = Date.now();
      const outcome = await askProvider(p, order(3), { timeoutMs: 50 });
      assert.ok(Date.now() - started >= 40);
      assert.deepEqual(outcome, {
        error: { code: 'OMS_FRAUD_TIMEOUT', message: 'gave up' },
        cannotScreen: false,
      });
    });

    it('tells an outage from a request the provider cannot screen; refused credentials throw', async () => {
      const failing = (err: Error) => provider(() => Promise.reject(err));
      const down = await askProvider(failing(new FraudProviderError('503', 'HTTP_503')), order(4), {
        timeoutMs: 1000,
      });
      assert.deepEqual(down, { error: { code: 'HTTP_503', message: '503' }, cannotScreen: false });
      const refused = await askProvider(
        failing(new FraudProviderError('no e-mail', 'OMS_FRAUD_BAD_REQUEST')),
        order(4),
        { timeoutMs: 1000 },
      );
      assert.deepEqual(refused, {
        error: { code: 'OMS_FRAUD_BAD_REQUEST', message: 'no e-mail' },
        cannotScreen: true,
      });
      const plain = await askProvider(failing(new TypeError('boom')), order(4), { timeoutMs: 1000 });
      assert.deepEqual(plain, { error: { code: 'TypeError', message: 'boom' }, cannotScreen: false });
      await assert.rejects(
        askProvider(failing(new FraudProviderError('401', 'OMS_FRAUD_AUTH')), order(4), { timeoutMs: 1000 }),
        { code: 'OMS_FRAUD_AUTH' },
      );
    });
  });

  describe('with a store', () => {
    let dir: string;
    let store: OmsStore;
    const NOW = Date.parse('2024-05-01T10:00:00Z');
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'oms-fraud-check-'));
      store = openSqliteStore({ file: join(dir, 'oms.db') });
    });
    afterEach(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const context = (extra: { provider?: ScreeningProvider; now?: number; template?: string } = {}) => ({
      store,
      nodeId: 'fraud-1',
      now: NOW,
      ...extra,
    });
    const msgOf = (o: Order): Record<string, unknown> => ({
      _msgid: 'm1',
      payload: o,
      oms: { orderRef: o.orderRef, correlationId: `c-${o.orderRef}`, state: 'Created' },
    });

    it('accepts by the rules: msg.oms.fraud explains, the rest of msg.oms kept, nothing held', async () => {
      const o = order(10);
      const msg = msgOf(o);
      const screened = await screenOrder(msg, o, settingsOf(), context());
      assert.deepEqual(screened, { decision: 'accept' });
      const oms = msg.oms as Record<string, unknown>;
      assert.equal(oms.state, 'Created');
      assert.equal(oms.correlationId, `c-${o.orderRef}`);
      assert.equal(oms.transition, 'Validated');
      assert.deepEqual(oms.fraud, {
        decision: 'accept',
        score: 0,
        fired: [],
        decidedBy: 'score',
        summary: (oms.fraud as { summary: string }).summary,
        reviewAt: 50,
        rejectAt: 100,
        at: new Date(NOW).toISOString(),
      });
      assert.equal(await countHeld(store.holds, 'fraud-1'), 0);
      // The order went into the history the velocity rules read.
      assert.equal(await store.fraud.seen(historyKey('email', 'shopper10@example.com'), 'another'), true);
    });

    it('does not ask the provider what the rules rejected', async () => {
      const p = provider(async () => answer('accept'));
      const o = order(11, deniedCountry);
      const msg = msgOf(o);
      const screened = await screenOrder(msg, o, settingsOf(), context({ provider: p }));
      assert.equal(screened.decision, 'reject');
      assert.equal(p.asked.length, 0);
      const oms = msg.oms as { transition: string; fraud: Record<string, unknown> };
      assert.equal(oms.transition, 'reject');
      assert.match(String(oms.fraud.decidedBy), /Denied country/);
      assert.equal('provider' in oms.fraud, false);
    });

    it('holds a review with the message as it was, and names the hold in the one sent on', async () => {
      const o = order(12, highValue);
      const msg = msgOf(o);
      const screened = await screenOrder(msg, o, settingsOf(), context({ template: 'shop@2' }));
      assert.equal(screened.decision, 'review');
      assert.ok(screened.hold);
      assert.equal(screened.hold.added, true);
      const fraud = (msg.oms as { fraud: Record<string, unknown>; transition: string }).fraud;
      assert.equal(fraud.holdId, screened.hold.id);
      assert.equal((msg.oms as { transition: string }).transition, 'hold');
      const hold = await store.holds.get(screened.hold.id);
      assert.ok(hold);
      assert.deepEqual(
        [
          hold.nodeId,
          hold.orderRef,
          hold.status,
          hold.score,
          hold.template,
          hold.correlationId,
          hold.createdAt,
        ],
        ['fraud-1', o.orderRef, 'held', 60, 'shop@2', `c-${o.orderRef}`, NOW],
      );
      assert.deepEqual([hold.provider, hold.providerRef], [undefined, undefined]);
      assert.deepEqual((hold.reasons as { decidedBy: string }).decidedBy, 'score');
      const held = decodeMessage(hold.message ?? '') as { oms: { fraud: Record<string, unknown> } };
      assert.equal(held.oms.fraud.decision, 'review');
      assert.equal('holdId' in held.oms.fraud, false);
      assert.equal(await countHeld(store.holds, 'fraud-1'), 1);
      assert.equal(await countHeld(store.holds, 'fraud-2'), 0);

      // Screened again while held (a replay): the same hold, not a second one.
      const again = await screenOrder(msgOf(o), o, settingsOf(), context({ now: NOW + 1000 }));
      assert.deepEqual(again, { decision: 'review', hold: { id: screened.hold.id, added: false } });
      assert.equal(await countHeld(store.holds, 'fraud-1'), 1);
    });

    it("holds under the provider's reference what the provider reviews later", async () => {
      const p = provider(async () => answer('review', true));
      const o = order(13);
      const msg = msgOf(o);
      const screened = await screenOrder(msg, o, settingsOf(), context({ provider: p }));
      assert.equal(screened.decision, 'review');
      assert.equal(p.asked.length, 1);
      const fraud = (msg.oms as { fraud: Record<string, unknown> }).fraud;
      assert.equal(fraud.decidedBy, 'provider:generic');
      assert.deepEqual(fraud.provider, {
        decision: 'review',
        pending: true,
        score: 420,
        reasons: ['provider says so'],
        providerRef: 'P-1',
      });
      const hold = await heldByProviderRef(store.holds, 'fraud-1', 'P-1');
      assert.deepEqual([hold?.id, hold?.provider, hold?.providerRef], [screened.hold?.id, 'generic', 'P-1']);
      assert.equal(await heldByProviderRef(store.holds, 'fraud-2', 'P-1'), undefined, "another node's");
      assert.equal(await heldByProviderRef(store.holds, 'fraud-1', 'P-2'), undefined);
    });

    it('sends an order screened again under the same custody token the same way, without asking again', async () => {
      let reply: ProviderDecision = answer('review', true);
      const p = provider(async () => reply);
      const o = order(15);
      const tracked = (token: string): Record<string, unknown> => {
        const msg = msgOf(o);
        (msg.oms as Record<string, unknown>).custody = { token, holder: 'retry' };
        return msg;
      };
      const first = tracked('r-1');
      const screened = await screenOrder(first, o, settingsOf(), context({ provider: p }));
      assert.equal(screened.decision, 'review');
      const held = (first.oms as { fraud: Record<string, unknown> }).fraud;
      // The provider would now accept: a copy resumed from that checkpoint still goes to review,
      // under the same hold (its provider reference kept for the webhook).
      reply = answer('accept');
      const again = tracked('r-1');
      const rescreened = await screenOrder(again, o, settingsOf(), context({ provider: p, now: NOW + 5000 }));
      assert.deepEqual(rescreened, { decision: 'review', hold: { id: screened.hold?.id, added: false } });
      assert.equal(p.asked.length, 1, 'the provider was asked once');
      assert.deepEqual((again.oms as { fraud: unknown; transition: string }).fraud, held);
      assert.equal((again.oms as { transition: string }).transition, 'hold');
      const hold = await heldByProviderRef(store.holds, 'fraud-1', 'P-1');
      assert.equal(hold?.id, screened.hold?.id);
      assert.equal(await countHeld(store.holds, 'fraud-1'), 1);
      // Under another token (the order entered again, or replayed from a dead letter): screened anew.
      const other = tracked('r-2');
      assert.equal((await screenOrder(other, o, settingsOf(), context({ provider: p }))).decision, 'accept');
      assert.equal(p.asked.length, 2);
      // Without a provider call the decision goes in the history's own write.
      const ruled = order(16, deniedCountry);
      const msg = msgOf(ruled);
      (msg.oms as Record<string, unknown>).custody = { token: 'r-3', holder: 'retry' };
      await screenOrder(msg, ruled, settingsOf(), context());
      assert.equal((await store.fraud.screened('fraud-1', ruled.orderRef, 'r-3'))?.decision, 'reject');
      assert.equal(await store.fraud.screened('fraud-2', ruled.orderRef, 'r-3'), undefined);
    });

    it('applies the policy when the provider is down, saying so', async () => {
      const p = provider(() => Promise.reject(new FraudProviderError('down', 'HTTP_503')));
      const o = order(14);
      const msg = msgOf(o);
      const closed = settingsOf({ failPolicy: 'closed' });
      assert.deepEqual(await screenOrder(msg, o, closed, context({ provider: p })), { decision: 'reject' });
      const fraud = (msg.oms as { fraud: Record<string, unknown> }).fraud;
      assert.equal(fraud.decidedBy, 'policy closed (provider unavailable)');
      assert.deepEqual(fraud.provider, { error: { code: 'HTTP_503', message: 'down' }, policy: 'closed' });
    });

    it('decides a held order once: the message marked, the custody step stored with the decision', async () => {
      const o = order(15, highValue);
      const screened = await screenOrder(msgOf(o), o, settingsOf(), context());
      const id = screened.hold?.id ?? -1;
      const hold = await heldBy(store.holds, 'fraud-1', id);
      assert.ok(hold);
      assert.equal(await heldBy(store.holds, 'fraud-2', id), undefined, "another node's");
      const msg = decodeMessage(hold.message ?? '');
      const steps: Array<{ decision: string; transition: unknown }> = [];
      const handOn = (out: Record<string, unknown>, decision: string): CustodyStep | undefined => {
        steps.push({ decision, transition: (out.oms as { transition?: unknown }).transition });
        return undefined;
      };
      const decided = {
        decision: 'rejected' as const,
        by: 'analyst:ann',
        reason: 'stolen card',
        now: NOW + 5000,
      };
      assert.equal(await decideHeld(store.holds, hold, msg, decided, handOn), 'reject');
      // The step was taken of the message already marked decided.
      assert.deepEqual(steps, [{ decision: 'reject', transition: 'reject' }]);
      const fraud = (msg.oms as { fraud: Record<string, unknown> }).fraud;
      assert.deepEqual(
        [fraud.decision, fraud.decidedBy, fraud.reason, fraud.heldFor, fraud.decidedAt],
        ['reject', 'analyst:ann', 'stolen card', id, new Date(NOW + 5000).toISOString()],
      );
      assert.match(String(fraud.summary), /^reject \(decided by analyst:ann: stolen card\) — held as: ./);
      assert.equal(fraud.score, 60, 'what the screening found stays');
      const stored = await store.holds.get(id);
      assert.deepEqual(
        [stored?.status, stored?.decidedBy, stored?.reason],
        ['rejected', 'analyst:ann', 'stolen card'],
      );
      assert.equal(await heldBy(store.holds, 'fraud-1', id), undefined, 'no longer held');
      assert.equal(await countHeld(store.holds, 'fraud-1'), 0);

      // A second decision (the webhook and an analyst at once) finds it decided: nothing sent.
      const second = await decideHeld(store.holds, hold, decodeMessage(hold.message ?? ''), decided, handOn);
      assert.equal(second, undefined);
      assert.equal(steps.length, 1);
    });
  });

  it('marks a decided message: accepted leaves as accept, rejected as reject', () => {
    assert.equal(heldDecision('accepted'), 'accept');
    assert.equal(heldDecision('rejected'), 'reject');
    const msg: Record<string, unknown> = {
      oms: { orderRef: 'A1', fraud: { score: 70, summary: 'high value' } },
    };
    markDecided(msg, { holdId: 7, decision: 'accept', by: 'provider:generic', at: 0 });
    assert.deepEqual(msg.oms, {
      orderRef: 'A1',
      fraud: {
        score: 70,
        summary: 'accept (decided by provider:generic) — held as: high value',
        decision: 'accept',
        decidedBy: 'provider:generic',
        decidedAt: '1970-01-01T00:00:00.000Z',
        heldFor: 7,
      },
      transition: 'Validated',
    });
    const bare: Record<string, unknown> = {};
    markDecided(bare, { holdId: 8, decision: 'reject', by: 'analyst:bo', reason: 'no', at: 0 });
    assert.equal(
      (bare.oms as { fraud: { summary: string } }).fraud.summary,
      'reject (decided by analyst:bo: no) — held as: ',
    );
  });
});
