import assert from 'node:assert/strict';
import { deliveryAddress, haversineKm, lookupPostcode } from '../../../lib/routing/geo';
import {
  InventoryPositionSchema,
  LocationSchema,
  availableToSell,
  bufferRule,
  type Location,
} from '../../../lib/routing/inventory';
import type { Order } from '../../../lib/order/model';

const store: Location = { ref: 'S-1', type: 'STORE', networks: ['STORES', 'BERLIN'] };

describe('lib/routing/inventory', () => {
  describe('bufferRule', () => {
    it('is zero without buffers', () => {
      assert.deepEqual(bufferRule(store, undefined), { units: 0, source: 'none', percent: 0 });
      assert.deepEqual(bufferRule(store, {}), { units: 0, source: 'none', percent: 0 });
    });

    it('takes the location buffer before network and default', () => {
      const buffers = { default: 1, networks: { STORES: 2 }, locations: { 'S-1': 0 } };
      assert.deepEqual(bufferRule(store, buffers), { units: 0, source: 'location', percent: 0 });
    });

    it('takes the largest buffer of the location networks before the default', () => {
      const buffers = { default: 1, networks: { STORES: 2, BERLIN: 4, DC: 9 } };
      assert.deepEqual(bufferRule(store, buffers), { units: 4, source: 'network', percent: 0 });
    });

    it('falls back to the default and carries the percentage', () => {
      const buffers = { default: 3, networks: { DC: 9 }, locations: { 'S-2': 5 }, percent: 10 };
      assert.deepEqual(bufferRule(store, buffers), { units: 3, source: 'default', percent: 10 });
    });
  });

  describe('availableToSell', () => {
    const rule = (units: number, percent = 0) => ({ units, percent, source: 'default' as const });

    it('is on-hand minus reserved minus the buffer', () => {
      assert.equal(availableToSell(10, 3, rule(2)), 5);
      assert.equal(availableToSell(10, 0, rule(0)), 10);
    });

    it('never goes below zero', () => {
      assert.equal(availableToSell(2, 3, rule(0)), 0);
      assert.equal(availableToSell(5, 0, rule(6)), 0);
      assert.equal(availableToSell(-4, 0, rule(0)), 0);
    });

    it('adds a percentage of on-hand, rounded up', () => {
      assert.equal(availableToSell(10, 0, rule(0, 5)), 9, '5% of 10 = 0.5 -> 1 unit');
      assert.equal(availableToSell(20, 0, rule(0, 5)), 19, '5% of 20 = exactly 1 unit');
      assert.equal(availableToSell(100, 10, rule(2, 10)), 78);
      assert.equal(availableToSell(0, 0, rule(0, 50)), 0);
    });

    it('ignores negative or non-finite reserved and treats non-finite on-hand as zero', () => {
      assert.equal(availableToSell(5, -3, rule(0)), 5);
      assert.equal(availableToSell(5, NaN, rule(0)), 5);
      assert.equal(availableToSell(Infinity, 0, rule(0)), 0);
    });
  });

  it('schemas accept what routeOrder reads and reject bad coordinates', () => {
    assert.ok(LocationSchema.safeParse({ ...store, latitude: 52.5, longitude: 13.4, priority: 1 }).success);
    assert.ok(!LocationSchema.safeParse({ ...store, latitude: 95 }).success);
    assert.ok(!LocationSchema.safeParse({ ref: 'X', type: 'STORE' }).success);
    assert.ok(InventoryPositionSchema.safeParse({ productRef: 'P', locationRef: 'S-1', onHand: 3 }).success);
    assert.ok(
      !InventoryPositionSchema.safeParse({ productRef: 'P', locationRef: 'S-1', onHand: NaN }).success,
    );
  });
});

describe('lib/routing/geo', () => {
  it('measures great-circle distances in km', () => {
    const berlin = { lat: 52.52, lon: 13.405 };
    const munich = { lat: 48.1372, lon: 11.5756 };
    assert.equal(haversineKm(berlin, berlin), 0);
    assert.ok(Math.abs(haversineKm(berlin, munich) - 504) < 2, String(haversineKm(berlin, munich)));
    assert.equal(haversineKm(berlin, munich), haversineKm(munich, berlin));
  });

  it('looks postcodes up with the country, by prefix, or alone', () => {
    const table = {
      'DE:10115': { lat: 1, lon: 1 },
      'DE:8': { lat: 2, lon: 2 },
      'sw1a 1aa': { lat: 3, lon: 3 },
    };
    assert.deepEqual(lookupPostcode(table, { countryCode: 'DE', postalCode: '10115' }), {
      point: { lat: 1, lon: 1 },
      key: 'DE:10115',
    });
    assert.deepEqual(lookupPostcode(table, { countryCode: 'de', postalCode: '80331' }), {
      point: { lat: 2, lon: 2 },
      key: 'DE:8',
    });
    assert.deepEqual(lookupPostcode(table, { countryCode: 'GB', postalCode: 'SW1A 1AA' }), {
      point: { lat: 3, lon: 3 },
      key: 'SW1A1AA',
    });
    assert.equal(lookupPostcode(table, { countryCode: 'AT', postalCode: '1010' }), undefined);
    assert.equal(lookupPostcode(table, { countryCode: 'DE' }), undefined);
    assert.equal(lookupPostcode(table, undefined), undefined);
  });

  it('takes the address of the first product line shipment, else the first with an address', () => {
    const base = {
      lines: [
        { kind: 'giftCertificate', shipmentRef: 'S0' },
        { kind: 'product', shipmentRef: 'S2' },
      ],
      shipments: [
        { shipmentRef: 'S0', address: { postalCode: '0' } },
        { shipmentRef: 'S1' },
        { shipmentRef: 'S2', address: { postalCode: '2' } },
      ],
    };
    assert.deepEqual(deliveryAddress(base as unknown as Order), { postalCode: '2' });
    const noRef = { ...base, lines: [{ kind: 'product' }] };
    assert.deepEqual(deliveryAddress(noRef as unknown as Order), { postalCode: '0' });
    assert.equal(deliveryAddress({ lines: [], shipments: [] } as unknown as Order), undefined);
  });
});
