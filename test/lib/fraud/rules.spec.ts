// The fraud rules engine: each rule kind, the decision, the config checks, and velocity counted in
// the SQLite store across a restart.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EXAMPLE_FRAUD_CONFIG,
  evaluateFraud,
  needsHistory,
  parseFraudConfig,
  recordOrder,
  type FraudConfig,
  type FraudRule,
} from '../../../lib/fraud';
import type { Order } from '../../../lib/order/model';
import { generateOrder } from '../../../lib/sfcc/generate';
import { openSqliteStore, type OmsStore } from '../../../lib/store';

const config = (rules: FraudRule[], reviewAt = 50, rejectAt = 100): FraudConfig => ({
  version: 1,
  reviewAt,
  rejectAt,
  rules,
});

/** A generated order with changes (deep copy first). */
function order(n: number, change: (o: Order) => void = () => undefined): Order {
  const o = structuredClone(generateOrder(n));
  change(o);
  return o;
}

describe('fraud rules', () => {
  describe('config', () => {
    it('accepts the worked example, which needs the store for its velocity rules', () => {
      const parsed = parseFraudConfig(JSON.stringify(EXAMPLE_FRAUD_CONFIG));
      assert.ok('config' in parsed, JSON.stringify(parsed));
      assert.equal(needsHistory(parsed.config), true);
      assert.equal(
        needsHistory(config([{ name: 'v', type: 'orderValue', thresholds: { EUR: 1 }, score: 1 }])),
        false,
      );
    });

    it('names the path and the rule of every problem', () => {
      const parsed = parseFraudConfig({
        version: 1,
        reviewAt: 50,
        rejectAt: 40,
        rules: [
          { name: 'a', type: 'orderValue', thresholds: { EURO: 100 }, score: 1 },
          { name: 'a', type: 'velocity', key: 'email', measure: 'orders', windowMinutes: 60, score: 1 },
          { name: 'c', type: 'country', address: 'shipping', deny: ['Germany'], score: 1 },
          { name: 'd', type: 'emailDomain' },
          { name: 'e', type: 'nope', score: 1 },
          { name: 'f', type: 'firstTimeCustomer', shippingMethods: '(' },
        ],
      });
      assert.ok('errors' in parsed);
      const byPath = new Map(parsed.errors.map((e) => [e.path, e.message]));
      assert.match(byPath.get('rules[0].thresholds.EURO') ?? '', /ISO 4217/);
      assert.match(byPath.get('rules[1].limit') ?? '', /required when measure is 'orders'/);
      assert.match(byPath.get('rules[2].deny[0]') ?? '', /ISO 3166-1/);
      assert.ok(
        [...byPath.keys()].some((p) => p.startsWith('rules[3]')),
        'emailDomain without a list',
      );
      assert.match(byPath.get('rules[4].type') ?? '', /must be one of/);
      assert.match(byPath.get('rules[5].shippingMethods') ?? '', /regular expression/);
      // Checks across rules run once every rule is well formed.
      const rule = { name: 'a', type: 'orderValue', thresholds: { EUR: 100 }, score: 1 };
      const across = parseFraudConfig({
        version: 1,
        reviewAt: 50,
        rejectAt: 40,
        rules: [rule, rule, { ...rule, name: 'b', score: undefined }],
      });
      assert.ok('errors' in across);
      assert.deepEqual(across.errors, [
        { path: 'rejectAt', message: 'must be above reviewAt' },
        { path: 'rules[1].name', message: '"a" is already the name of rules[0]; names must be unique' },
        { path: 'rules[2]', message: 'needs a score, a decision or both' },
      ]);
      const bad = parseFraudConfig('{ nope');
      assert.ok('errors' in bad && /not valid JSON/.test(bad.errors[0].message));
    });
  });

  describe('each rule', () => {
    it('orderValue fires at or above the threshold of the order currency only', async () => {
      const rules: FraudRule[] = [{ name: 'big', type: 'orderValue', thresholds: { USD: 10000 }, score: 60 }];
      const usd = order(1, (o) => {
        o.currency = 'USD';
        o.totals.grandTotal = 10000;
      });
      const r = await evaluateFraud(usd, config(rules));
      assert.equal(r.decision, 'review');
      assert.deepEqual(
        r.fired.map((f) => [f.rule, f.reason]),
        [['big', 'order total 100.00 USD is at or above 100.00 USD']],
      );
      usd.totals.grandTotal = 9999;
      assert.equal((await evaluateFraud(usd, config(rules))).fired.length, 0);
      const eur = order(1, (o) => {
        o.currency = 'EUR';
        o.totals.grandTotal = 10_000_000;
      });
      assert.equal((await evaluateFraud(eur, config(rules))).decision, 'accept');
    });

    it('addressMismatch compares billing and shipping countries, or postcodes', async () => {
      const o = order(2, (x) => {
        x.customer.billingAddress = { ...x.shipments[0].address, countryCode: 'US', postalCode: '10118' };
        x.shipments[0].address = { ...x.shipments[0].address, countryCode: 'DE', postalCode: '10623' };
      });
      const country: FraudRule = { name: 'cc', type: 'addressMismatch', compare: 'country', score: 25 };
      const r = await evaluateFraud(o, config([country]));
      assert.equal(r.fired[0]?.reason, 'billing country US, shipping country DE');
      assert.equal(r.score, 25);
      o.customer.billingAddress = { ...o.shipments[0].address, postalCode: '10115' };
      assert.equal((await evaluateFraud(o, config([country]))).fired.length, 0);
      const postcode: FraudRule = { ...country, name: 'pc', compare: 'postcode' };
      assert.equal(
        (await evaluateFraud(o, config([postcode]))).fired[0]?.reason,
        'billing postcode 10115, shipping postcode 10623',
      );
    });

    it('country fires on a deny list, or off an allow list, for the address asked', async () => {
      const o = order(3, (x) => {
        x.shipments[0].address = { ...x.shipments[0].address, countryCode: 'KP' };
        x.customer.billingAddress = { ...x.customer.billingAddress, countryCode: 'DE' };
      });
      const deny: FraudRule = {
        name: 'deny',
        type: 'country',
        address: 'shipping',
        deny: ['KP'],
        decision: 'reject',
      };
      const r = await evaluateFraud(o, config([deny]));
      assert.equal(r.decision, 'reject');
      assert.equal(r.decidedBy, 'rule "deny"');
      assert.equal(r.fired[0].reason, 'shipping country KP is on the deny list');
      const billingOnly: FraudRule = { ...deny, address: 'billing' };
      assert.equal((await evaluateFraud(o, config([billingOnly]))).decision, 'accept');
      const allow: FraudRule = {
        name: 'eu',
        type: 'country',
        address: 'either',
        allow: ['DE', 'AT'],
        score: 70,
      };
      assert.equal(
        (await evaluateFraud(o, config([allow]))).fired[0].reason,
        'shipping country KP is not on the allow list',
      );
    });

    it('emailDomain knows disposable services (sub-domains too) and the rule list', async () => {
      const rule: FraudRule = {
        name: 'mail',
        type: 'emailDomain',
        disposable: true,
        domains: ['bad.example'],
        score: 35,
      };
      const at = (email: string): Order => order(4, (o) => (o.customer.email = email));
      assert.equal(
        (await evaluateFraud(at('x@mailinator.com'), config([rule]))).fired[0].reason,
        'e-mail domain mailinator.com is a disposable e-mail service',
      );
      assert.equal((await evaluateFraud(at('x@eu.mailinator.com'), config([rule]))).fired.length, 1);
      assert.equal(
        (await evaluateFraud(at('X@Shop.BAD.example'), config([rule]))).fired[0].reason,
        "e-mail domain shop.bad.example is on the rule's list",
      );
      assert.equal((await evaluateFraud(at('x@example.com'), config([rule]))).fired.length, 0);
      assert.equal((await evaluateFraud(at('not-an-address'), config([rule]))).fired.length, 0);
    });

    it('avsCvv reads the gateway result codes from the payment attributes', async () => {
      const rule: FraudRule = { name: 'avs', type: 'avsCvv', avsCodes: ['N'], cvvCodes: ['N'], score: 30 };
      const o = order(5, (x) => {
        x.payments = [
          {
            method: 'CREDIT_CARD',
            amount: x.totals.grandTotal,
            customAttributes: { avsResult: 'Y', cvvResult: 'n' },
          },
        ];
      });
      assert.equal(
        (await evaluateFraud(o, config([rule]))).fired[0].reason,
        'payment 1 (CREDIT_CARD) has CVV result n',
      );
      o.payments[0].customAttributes = { avsResult: 'Y', cvvResult: 'M' };
      assert.equal((await evaluateFraud(o, config([rule]))).fired.length, 0);
      const named: FraudRule = { ...rule, avsAttribute: 'gatewayAvs' };
      o.payments[0].customAttributes = { gatewayAvs: 'N' };
      assert.equal(
        (await evaluateFraud(o, config([named]))).fired[0].reason,
        'payment 1 (CREDIT_CARD) has AVS result N',
      );
    });

    it('condition fires when all its conditions hold, and says what it found', async () => {
      const rule: FraudRule = {
        name: 'guest express',
        type: 'condition',
        when: [
          { path: 'customer.guest', op: 'eq', value: true },
          { path: 'totals.grandTotal', op: 'gte', value: 1000 },
        ],
        score: 10,
      };
      const o = order(6, (x) => {
        x.customer.guest = true;
        x.totals.grandTotal = 5000;
      });
      assert.equal(
        (await evaluateFraud(o, config([rule]))).fired[0].reason,
        'customer.guest eq true (found true) and totals.grandTotal gte 1000 (found 5000)',
      );
      o.customer.guest = false;
      assert.equal((await evaluateFraud(o, config([rule]))).fired.length, 0);
    });

    it('a disabled rule is not evaluated', async () => {
      const rule: FraudRule = {
        name: 'off',
        type: 'orderValue',
        thresholds: { EUR: 1, USD: 1, GBP: 1, JPY: 1 },
        decision: 'reject',
        enabled: false,
      };
      const r = await evaluateFraud(order(7), config([rule]));
      assert.equal(r.rulesChecked, 0);
      assert.equal(r.decision, 'accept');
    });
  });

  describe('decision', () => {
    const value = (name: string, score: number, decision?: 'accept' | 'review' | 'reject'): FraudRule => ({
      name,
      type: 'condition',
      when: [{ path: 'orderRef', op: 'exists' }],
      score,
      ...(decision ? { decision } : {}),
    });
    it('sums the scores: review at reviewAt, reject at rejectAt', async () => {
      const o = order(8);
      assert.equal((await evaluateFraud(o, config([value('a', 49)]))).decision, 'accept');
      assert.equal((await evaluateFraud(o, config([value('a', 30), value('b', 20)]))).decision, 'review');
      const r = await evaluateFraud(o, config([value('a', 60), value('b', 40)]));
      assert.equal(r.decision, 'reject');
      assert.equal(r.score, 100);
      assert.match(
        r.summary,
        /^reject \(score 100; review at 50, reject at 100; decided by score\) — a: .*; b: /,
      );
      assert.equal(
        (await evaluateFraud(o, config([value('a', 80), value('credit', -40)]))).decision,
        'accept',
      );
    });
    it('a hard decision wins over the score: accept first, then reject, then review', async () => {
      const o = order(9);
      const both = await evaluateFraud(o, config([value('vip', 0, 'accept'), value('deny', 500, 'reject')]));
      assert.equal(both.decision, 'accept');
      assert.equal(both.decidedBy, 'rule "vip"');
      assert.equal(
        (await evaluateFraud(o, config([value('r', 0, 'review'), value('x', 0, 'reject')]))).decision,
        'reject',
      );
      assert.equal((await evaluateFraud(o, config([value('r', 0, 'review')]))).decision, 'review');
      // A review rule does not soften a score that rejects.
      assert.equal(
        (await evaluateFraud(o, config([value('r', 0, 'review'), value('s', 100)]))).decision,
        'reject',
      );
    });
  });

  describe('history in the store', () => {
    let dir: string;
    let store: OmsStore;
    const open: OmsStore[] = [];
    const reopen = async (): Promise<OmsStore> => {
      await store.close();
      store = openSqliteStore({ file: join(dir, 'oms.db') });
      open.push(store);
      return store;
    };
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'oms-fraud-'));
      store = openSqliteStore({ file: join(dir, 'oms.db') });
      open.push(store);
    });
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const sameCustomer = (n: number): Order =>
      order(n, (o) => {
        o.orderRef = `V${n}`;
        o.customer.email = 'Repeat@Example.com';
        o.currency = 'EUR';
        o.totals.grandTotal = 40000;
        o.payments = [
          {
            method: 'CREDIT_CARD',
            amount: 40000,
            card: { token: 'tok_1', last4: '1111' },
            customAttributes: {},
          },
        ];
      });

    it('counts orders per e-mail in the window, across a restart, not counting an order twice', async () => {
      const rule: FraudRule = {
        name: 'velocity',
        type: 'velocity',
        key: 'email',
        measure: 'orders',
        windowMinutes: 60,
        limit: 2,
        score: 50,
      };
      const t0 = Date.parse('2026-11-24T10:00:00Z');
      for (const [i, n] of [1, 2].entries()) {
        const r = await evaluateFraud(sameCustomer(n), config([rule]), store.fraud, t0 + i * 60_000);
        assert.equal(r.fired.length, 0, `order ${n} is within the limit`);
        await recordOrder(sameCustomer(n), store.fraud, t0 + i * 60_000);
      }
      await recordOrder(sameCustomer(2), store.fraud, t0 + 5 * 60_000); // evaluated again: still one
      await reopen();
      const third = await evaluateFraud(sameCustomer(3), config([rule]), store.fraud, t0 + 10 * 60_000);
      assert.equal(third.fired[0]?.reason, '3 orders with this e-mail in 1 h (limit 2)');
      // Re-evaluating an order already recorded does not count it against itself.
      await recordOrder(sameCustomer(3), store.fraud, t0 + 10 * 60_000);
      const again = await evaluateFraud(sameCustomer(3), config([rule]), store.fraud, t0 + 11 * 60_000);
      assert.equal(again.fired[0]?.reason, '3 orders with this e-mail in 1 h (limit 2)');
      // Outside the window the early orders no longer count.
      const later = await evaluateFraud(sameCustomer(4), config([rule]), store.fraud, t0 + 62 * 60_000);
      assert.equal(later.fired.length, 0, later.summary);
    });

    it('sums order values per card in the order currency', async () => {
      const rule: FraudRule = {
        name: 'card',
        type: 'velocity',
        key: 'cardToken',
        measure: 'value',
        windowMinutes: 1440,
        limits: { EUR: 100000 },
        score: 40,
      };
      const now = Date.now();
      await recordOrder(sameCustomer(1), store.fraud, now - 1000);
      const usd = sameCustomer(2);
      usd.currency = 'USD';
      await recordOrder(usd, store.fraud, now - 500); // another currency: not summed with EUR
      assert.equal((await evaluateFraud(sameCustomer(3), config([rule]), store.fraud, now)).fired.length, 0);
      await recordOrder(sameCustomer(3), store.fraud, now);
      const fourth = await evaluateFraud(sameCustomer(4), config([rule]), store.fraud, now);
      assert.equal(fourth.fired[0]?.reason, '1200.00 EUR with this card in 1 day (limit 1000.00 EUR)');
    });

    it('counts per IP address and per shipping address too, keeping only hashes', async () => {
      const ip: FraudRule = {
        name: 'ip',
        type: 'velocity',
        key: 'ip',
        measure: 'orders',
        windowMinutes: 30,
        limit: 1,
        score: 20,
      };
      const a = order(10, (o) => (o.remoteHost = '198.51.100.7'));
      const b = order(11, (o) => (o.remoteHost = '198.51.100.7'));
      await recordOrder(a, store.fraud, Date.now());
      assert.equal(
        (await evaluateFraud(b, config([ip]), store.fraud)).fired[0]?.reason,
        '2 orders with this IP address in 30 min (limit 1)',
      );
      const addr: FraudRule = {
        name: 'addr',
        type: 'velocity',
        key: 'address',
        measure: 'orders',
        windowMinutes: 30,
        limit: 1,
        score: 20,
      };
      const c = order(
        12,
        (o) =>
          (o.shipments[0].address = {
            ...a.shipments[0].address,
            line1: `  ${a.shipments[0].address?.line1?.toUpperCase()} `,
          }),
      );
      assert.equal(
        (await evaluateFraud(c, config([addr]), store.fraud)).fired.length,
        1,
        'case and spaces do not hide an address',
      );
    });

    it('firstTimeCustomer fires for an e-mail the store has not seen, optionally by shipping method', async () => {
      const rule: FraudRule = { name: 'new', type: 'firstTimeCustomer', score: 15 };
      assert.equal(
        (await evaluateFraud(sameCustomer(1), config([rule]), store.fraud)).fired[0]?.reason,
        'first order from this e-mail',
      );
      await recordOrder(sameCustomer(1), store.fraud, Date.now());
      assert.equal((await evaluateFraud(sameCustomer(2), config([rule]), store.fraud)).fired.length, 0);
      const express: FraudRule = {
        name: 'new express',
        type: 'firstTimeCustomer',
        shippingMethods: 'express',
        score: 15,
      };
      const o = order(13, (x) => (x.shipments[0].method = 'EXPRESS'));
      assert.equal(
        (await evaluateFraud(o, config([express]), store.fraud)).fired[0]?.reason,
        'first order from this e-mail, shipped EXPRESS',
      );
      o.shipments[0].method = 'Standard';
      assert.equal((await evaluateFraud(o, config([express]), store.fraud)).fired.length, 0);
    });

    it('refuses to evaluate a history rule without a store, naming the rule', async () => {
      const rule: FraudRule = { name: 'new', type: 'firstTimeCustomer', score: 15 };
      await assert.rejects(evaluateFraud(order(1), config([rule])), {
        code: 'OMS_FRAUD_CONFIG',
        message: /"new".*needs a store/,
      });
    });
  });
});
