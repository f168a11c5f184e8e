import assert from 'node:assert/strict';
import { conditionHolds, describeCondition, resolvePath } from '../../../lib/routing/conditions';
import type { Condition } from '../../../lib/routing/config';

const order = {
  orderRef: 'O-1',
  createdAt: '2025-06-01T10:00:00.000Z',
  totals: { grandTotal: 12000 },
  customer: { guest: false, email: 'a@example.com' },
  shipments: [{ shipmentRef: 'S1', address: { countryCode: 'DE', postalCode: '10115' } }],
  lines: [
    { lineRef: 'L1', kind: 'product', sku: 'SKU-1', quantity: 2 },
    { lineRef: 'L2', kind: 'product', sku: 'SKU-2', quantity: 1 },
  ],
  customAttributes: {
    tier: 'gold',
    score: '42',
    tags: ['vip', 'b2b'],
    note: { default: 'hello', de: 'hallo' },
  },
};

const holds = (c: Condition): boolean => conditionHolds(c, order);

describe('lib/routing/conditions', () => {
  describe('resolvePath', () => {
    it('follows fields and indexes', () => {
      assert.deepEqual(resolvePath(order, 'totals.grandTotal'), [12000]);
      assert.deepEqual(resolvePath(order, 'shipments[0].address.countryCode'), ['DE']);
      assert.deepEqual(resolvePath(order, 'customAttributes.note.de'), ['hallo']);
    });

    it('yields every value of a [*] step', () => {
      assert.deepEqual(resolvePath(order, 'lines[*].sku'), ['SKU-1', 'SKU-2']);
      assert.deepEqual(resolvePath(order, 'customAttributes.note[*]'), ['hello', 'hallo']);
    });

    it('yields nothing for missing steps, out-of-range indexes and inherited names', () => {
      assert.deepEqual(resolvePath(order, 'shipments[3].address'), []);
      assert.deepEqual(resolvePath(order, 'customer.phone'), []);
      assert.deepEqual(resolvePath(order, 'totals.grandTotal.x'), []);
      assert.deepEqual(resolvePath(order, 'customer.toString'), []);
      assert.deepEqual(resolvePath(order, 'totals[0]'), []);
    });
  });

  describe('operators', () => {
    it('eq and ne (numeric text equals its number)', () => {
      assert.equal(holds({ path: 'shipments[0].address.countryCode', op: 'eq', value: 'DE' }), true);
      assert.equal(holds({ path: 'shipments[0].address.countryCode', op: 'eq', value: 'de' }), false);
      assert.equal(holds({ path: 'customAttributes.score', op: 'eq', value: 42 }), true);
      assert.equal(holds({ path: 'customer.guest', op: 'eq', value: false }), true);
      assert.equal(holds({ path: 'customer.guest', op: 'eq', value: 'false' }), false);
      assert.equal(holds({ path: 'customAttributes.tier', op: 'ne', value: 'gold' }), false);
      assert.equal(holds({ path: 'customAttributes.tier', op: 'ne', value: 'silver' }), true);
    });

    it('gt, gte, lt, lte on numbers, numeric text and ISO dates', () => {
      assert.equal(holds({ path: 'totals.grandTotal', op: 'gt', value: 11999 }), true);
      assert.equal(holds({ path: 'totals.grandTotal', op: 'gt', value: 12000 }), false);
      assert.equal(holds({ path: 'totals.grandTotal', op: 'gte', value: 12000 }), true);
      assert.equal(holds({ path: 'totals.grandTotal', op: 'lt', value: 12000 }), false);
      assert.equal(holds({ path: 'totals.grandTotal', op: 'lte', value: 12000 }), true);
      assert.equal(holds({ path: 'customAttributes.score', op: 'gt', value: 9 }), true, '42 > 9 as numbers');
      assert.equal(holds({ path: 'createdAt', op: 'lt', value: '2025-07-01' }), true);
      assert.equal(holds({ path: 'createdAt', op: 'gte', value: '2025-07-01' }), false);
    });

    it('ordering operators fail when the values cannot be compared', () => {
      assert.equal(holds({ path: 'customAttributes.tier', op: 'gt', value: 5 }), false);
      assert.equal(holds({ path: 'customAttributes.tier', op: 'lte', value: 5 }), false);
      assert.equal(holds({ path: 'customer.guest', op: 'lt', value: 'z' }), false);
    });

    it('in and notIn', () => {
      assert.equal(holds({ path: 'shipments[0].address.countryCode', op: 'in', value: ['AT', 'DE'] }), true);
      assert.equal(holds({ path: 'shipments[0].address.countryCode', op: 'in', value: ['AT', 'CH'] }), false);
      assert.equal(holds({ path: 'customAttributes.score', op: 'in', value: [41, 42] }), true);
      assert.equal(
        holds({ path: 'shipments[0].address.countryCode', op: 'notIn', value: ['AT', 'CH'] }),
        true,
      );
      assert.equal(holds({ path: 'shipments[0].address.countryCode', op: 'notIn', value: ['DE'] }), false);
    });

    it('contains on text and on lists', () => {
      assert.equal(holds({ path: 'customer.email', op: 'contains', value: '@example.com' }), true);
      assert.equal(holds({ path: 'customer.email', op: 'contains', value: '@other' }), false);
      assert.equal(holds({ path: 'customAttributes.tags', op: 'contains', value: 'vip' }), true);
      assert.equal(holds({ path: 'customAttributes.tags', op: 'contains', value: 'vi' }), false);
      assert.equal(holds({ path: 'totals.grandTotal', op: 'contains', value: 1 }), false);
    });

    it('exists and exists false', () => {
      assert.equal(holds({ path: 'customer.email', op: 'exists' }), true);
      assert.equal(holds({ path: 'customer.phone', op: 'exists' }), false);
      assert.equal(holds({ path: 'customer.phone', op: 'exists', value: false }), true);
      assert.equal(holds({ path: 'customer.email', op: 'exists', value: false }), false);
    });

    it('an absent field fails every operator but ne and notIn', () => {
      const path = 'customAttributes.missing';
      assert.equal(holds({ path, op: 'eq', value: null }), false);
      assert.equal(holds({ path, op: 'ne', value: 'x' }), true);
      assert.equal(holds({ path, op: 'gt', value: 0 }), false);
      assert.equal(holds({ path, op: 'in', value: ['x'] }), false);
      assert.equal(holds({ path, op: 'notIn', value: ['x'] }), true);
      assert.equal(holds({ path, op: 'contains', value: 'x' }), false);
    });

    it('scope any (default) and all over [*] paths', () => {
      assert.equal(holds({ path: 'lines[*].sku', op: 'eq', value: 'SKU-2' }), true);
      assert.equal(holds({ path: 'lines[*].sku', op: 'eq', value: 'SKU-2', scope: 'all' }), false);
      assert.equal(holds({ path: 'lines[*].quantity', op: 'gte', value: 1, scope: 'all' }), true);
      assert.equal(holds({ path: 'lines[*].sku', op: 'notIn', value: ['SKU-9'], scope: 'all' }), true);
      assert.equal(holds({ path: 'lines[*].sku', op: 'notIn', value: ['SKU-1'], scope: 'all' }), false);
    });
  });

  it('describes a condition with what the order holds', () => {
    assert.equal(
      describeCondition({ path: 'totals.grandTotal', op: 'gte', value: 50000 }, order),
      'totals.grandTotal gte 50000 (found 12000)',
    );
    assert.equal(
      describeCondition({ path: 'customer.phone', op: 'exists' }, order),
      'customer.phone exists (found absent)',
    );
    assert.equal(
      describeCondition({ path: 'lines[*].sku', op: 'in', value: ['X'], scope: 'all' }, order),
      'lines[*].sku in ["X"] (all) (found ["SKU-1", "SKU-2"])',
    );
  });
});
