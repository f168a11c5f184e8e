// Property tests of the sourcing engine: random orders, locations, inventory and configs.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Line, Order } from '../../../lib/order/model';
import { parseRoutingConfig, type RoutingConfig, type Strategy } from '../../../lib/routing/config';
import { haversineKm } from '../../../lib/routing/geo';
import type { InventoryPosition, Location } from '../../../lib/routing/inventory';
import { routeOrder, type RoutingResult } from '../../../lib/routing/route';

const SKUS = ['P1', 'P2', 'P3', 'P4'];
const NETWORKS = ['N1', 'N2'];
const TYPES = ['WAREHOUSE', 'STORE'];
const REFS = ['L0', 'L1', 'L2', 'L3', 'L4', 'L5', 'L6'];
const RUNS = 400;

interface LineSpec {
  kind: Line['kind'];
  sku: string;
  quantity: number;
}

function makeOrder(specs: LineSpec[], grandTotal: number, countryCode: string): Order {
  return {
    orderRef: 'O-1',
    createdAt: '2025-06-01T10:00:00.000Z',
    currency: 'EUR',
    status: {},
    customer: { guest: true },
    lines: specs.map((spec, i) => ({
      lineRef: `L${i + 1}`,
      ...spec,
      unitPrice: 100,
      netPrice: 100,
      tax: 0,
      grossPrice: 100,
      taxRate: 0,
      shipmentRef: 'S1',
      adjustments: [],
      customAttributes: {},
    })),
    shipments: [{ shipmentRef: 'S1', address: { countryCode, postalCode: '10115' }, customAttributes: {} }],
    shippingCharges: [],
    orderAdjustments: [],
    totals: { merchandise: grandTotal, shipping: 0, discount: 0, giftCertificates: 0, tax: 0, grandTotal },
    payments: [],
    customAttributes: {},
    source: { system: 'sfcc', format: 'xml' },
  };
}

/** Present or undefined, `present` times in `of`. */
const opt = <T>(arb: fc.Arbitrary<T>, present = 1, of = 2): fc.Arbitrary<T | undefined> =>
  fc.oneof({ arbitrary: arb, weight: present }, { arbitrary: fc.constant(undefined), weight: of - present });
const point = fc.record({
  lat: fc.double({ min: 47, max: 55, noNaN: true }),
  lon: fc.double({ min: 6, max: 15, noNaN: true }),
});

const locationsArb: fc.Arbitrary<Location[]> = fc
  .array(
    fc.record({
      type: fc.constantFrom(...TYPES),
      networks: fc.subarray(NETWORKS),
      at: opt(point, 4, 5),
      priority: opt(fc.integer({ min: 0, max: 3 })),
      capacity: opt(
        fc.record({
          dailyCapacity: fc.integer({ min: 1, max: 5 }),
          ordersToday: fc.integer({ min: 0, max: 4 }),
        }),
      ),
      status: opt(fc.constantFrom('ACTIVE', 'ACTIVE', 'INACTIVE'), 1, 3),
    }),
    { minLength: 2, maxLength: REFS.length },
  )
  .map((specs) =>
    specs.map(({ at, capacity, ...spec }, i): Location => {
      const location: Location = { ref: REFS[i], ...spec, ...capacity };
      if (at) Object.assign(location, { latitude: at.lat, longitude: at.lon });
      return location;
    }),
  );

// Most location/product pairs hold a position; a few extra ones repeat a pair (summed) or name an
// unknown location or product (ignored).
const positionArb = fc.record({
  onHand: fc.integer({ min: -1, max: 10 }),
  reserved: opt(fc.integer({ min: 0, max: 3 })),
});
const inventoryArb: fc.Arbitrary<InventoryPosition[]> = fc
  .tuple(
    fc.array(fc.option(positionArb, { nil: undefined, freq: 3 }), {
      minLength: REFS.length * SKUS.length,
      maxLength: REFS.length * SKUS.length,
    }),
    fc.array(
      fc.record({
        productRef: fc.constantFrom(...SKUS, 'OTHER'),
        locationRef: fc.constantFrom(...REFS, 'L9'),
        onHand: fc.integer({ min: -2, max: 12 }),
        reserved: opt(fc.integer({ min: 0, max: 3 })),
      }),
      { maxLength: 6 },
    ),
  )
  .map(([grid, extra]) => [
    ...grid.flatMap((cell, i) =>
      cell
        ? [{ productRef: SKUS[i % SKUS.length], locationRef: REFS[Math.floor(i / SKUS.length)], ...cell }]
        : [],
    ),
    ...extra,
  ]);

const linesArb: fc.Arbitrary<LineSpec[]> = fc.array(
  fc.record({
    kind: fc.constantFrom<Line['kind']>(
      'product',
      'product',
      'product',
      'product',
      'option',
      'giftCertificate',
    ),
    sku: fc.constantFrom(...SKUS),
    quantity: fc.oneof(
      { arbitrary: fc.integer({ min: 1, max: 3 }), weight: 4 },
      { arbitrary: fc.integer({ min: 0, max: 9 }), weight: 1 },
    ),
  }),
  { minLength: 1, maxLength: 5 },
);

const bands = (min: number, max: number) =>
  fc
    .uniqueArray(fc.integer({ min, max }), { minLength: 1, maxLength: 3 })
    .map((b) => b.sort((x, y) => x - y));

const criterionArb = fc.oneof(
  fc.record({
    type: fc.constant('distance'),
    max: opt(fc.integer({ min: 100, max: 900 })),
    bands: opt(bands(10, 900)),
  }),
  fc.record({ type: fc.constant('availability'), min: opt(fc.integer({ min: 0, max: 100 })) }),
  fc.record({
    type: fc.constant('availability'),
    mode: fc.constant('banded'),
    bands: bands(0, 100).map((b) => b.reverse()),
  }),
  fc.record({ type: fc.constant('priority') }),
  fc.record({ type: fc.constant('capacity') }),
  fc.record({
    type: fc.constant('exclude'),
    locations: opt(fc.subarray(REFS, { minLength: 1, maxLength: 2 })),
    types: opt(fc.subarray(TYPES, { minLength: 1, maxLength: 1 })),
    networks: opt(fc.subarray(NETWORKS, { minLength: 1, maxLength: 1 })),
  }),
);

const strategyArb = fc.record({
  status: opt(fc.constantFrom('ACTIVE', 'ACTIVE', 'INACTIVE'), 1, 3),
  when: opt(
    fc.array(
      fc.oneof(
        fc.record({
          path: fc.constant('totals.grandTotal'),
          op: fc.constantFrom('gt', 'lte'),
          value: fc.integer({ min: 0, max: 100_000 }),
        }),
        fc.record({
          path: fc.constant('shipments[0].address.countryCode'),
          op: fc.constant('eq'),
          value: fc.constant('DE'),
        }),
      ),
      { maxLength: 1 },
    ),
    1,
    3,
  ),
  network: opt(fc.oneof(fc.constantFrom(...NETWORKS), fc.subarray(NETWORKS, { minLength: 1 }))),
  locationTypes: opt(fc.subarray(TYPES, { minLength: 1 }), 1, 3),
  maxSplit: opt(fc.integer({ min: 1, max: 4 })),
  criteria: opt(fc.array(criterionArb, { maxLength: 3 }), 2, 3),
  commit: opt(fc.constantFrom('FULL_ONLY', 'ALLOW_PARTIAL')),
});

function withoutUndefined(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

const configArb: fc.Arbitrary<RoutingConfig> = fc
  .record({
    maxSplit: opt(fc.integer({ min: 1, max: 4 })),
    buffers: opt(
      fc.record({
        default: opt(fc.integer({ min: 0, max: 2 })),
        locations: opt(fc.dictionary(fc.constantFrom(...REFS), fc.integer({ min: 0, max: 4 }))),
        networks: opt(fc.dictionary(fc.constantFrom(...NETWORKS), fc.integer({ min: 0, max: 3 }))),
        percent: opt(fc.integer({ min: 0, max: 25 })),
      }),
    ),
    strategies: fc.array(strategyArb, { maxLength: 3 }),
    fallback: opt(strategyArb),
  })
  .map(({ strategies, fallback, ...rest }) => {
    const raw = withoutUndefined({
      version: 1,
      ...rest,
      strategies: strategies.map((s, i) => ({ name: `S${i + 1}`, ...s })),
      fallback: fallback || strategies.length === 0 ? { name: 'Fallback', ...fallback } : undefined,
    });
    const parsed = parseRoutingConfig(raw);
    if ('errors' in parsed) throw new Error(`generated an invalid config: ${JSON.stringify(parsed.errors)}`);
    return parsed.config;
  });

const caseArb = fc.record({
  lines: linesArb,
  grandTotal: fc.integer({ min: 0, max: 100_000 }),
  country: fc.constantFrom('DE', 'AT'),
  locations: locationsArb,
  inventory: inventoryArb,
  config: configArb,
  origin: opt(point, 4, 5),
});

/** Available-to-sell per "location|sku", written out again from docs/routing.md. */
function expectedAts(
  locations: Location[],
  inventory: InventoryPosition[],
  config: RoutingConfig,
): Map<string, number> {
  const totals = new Map<string, { onHand: number; reserved: number }>();
  for (const p of inventory) {
    const key = `${p.locationRef}|${p.productRef}`;
    const t = totals.get(key) ?? { onHand: 0, reserved: 0 };
    t.onHand += p.onHand;
    t.reserved += Math.max(0, p.reserved ?? 0);
    totals.set(key, t);
  }
  const ats = new Map<string, number>();
  for (const location of locations) {
    const b = config.buffers ?? {};
    const networkBuffers = location.networks
      .filter((n) => b.networks?.[n] !== undefined)
      .map((n) => b.networks?.[n] ?? 0);
    const units =
      b.locations?.[location.ref] ??
      (networkBuffers.length > 0 ? Math.max(...networkBuffers) : (b.default ?? 0));
    for (const sku of SKUS) {
      const t = totals.get(`${location.ref}|${sku}`) ?? { onHand: 0, reserved: 0 };
      const percent = Math.ceil((Math.max(0, t.onHand) * (b.percent ?? 0)) / 100);
      ats.set(`${location.ref}|${sku}`, Math.max(0, t.onHand - t.reserved - units - percent));
    }
  }
  return ats;
}

function strategyOf(config: RoutingConfig, name: string): Strategy {
  const found = [...config.strategies, ...(config.fallback ? [config.fallback] : [])].find(
    (s) => s.name === name,
  );
  assert.ok(found, `unknown strategy ${name}`);
  return found;
}

function productLines(order: Order): Line[] {
  return order.lines.filter((l) => l.kind === 'product' && l.quantity > 0);
}

describe('lib/routing/route (properties)', () => {
  it('never exceeds ATS after buffers, never splits more than allowed, covers lines exactly', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const order = makeOrder(c.lines, c.grandTotal, c.country);
        const result = routeOrder(order, c.locations, c.inventory, c.config, { origin: c.origin });
        const lines = productLines(order);
        if (result.kind === 'backorder') {
          assert.deepEqual(
            result.remainder,
            lines.map((l) => ({ lineRef: l.lineRef, sku: l.sku, quantity: l.quantity })),
          );
          assert.ok(result.reasons.length > 0);
          return;
        }
        if (lines.length === 0) {
          assert.equal(result.strategy, null);
          assert.deepEqual(result.fulfilments, []);
          return;
        }
        assert.ok(result.strategy !== null);
        const strategy = strategyOf(c.config, result.strategy);
        const maxSplit = strategy.maxSplit ?? c.config.maxSplit ?? 1;
        // (b) never more locations than the strategy's maxSplit, each location once
        assert.equal(result.maxSplit, maxSplit);
        assert.ok(result.fulfilments.length >= 1 && result.fulfilments.length <= maxSplit);
        assert.equal(new Set(result.fulfilments.map((f) => f.locationRef)).size, result.fulfilments.length);
        // (a) per location and product, never more than ATS after buffers
        const ats = expectedAts(c.locations, c.inventory, c.config);
        const used = new Map<string, number>();
        for (const f of result.fulfilments) {
          assert.ok(f.lines.length > 0);
          for (const line of f.lines) {
            // (d) whole positive quantities only
            assert.ok(Number.isInteger(line.quantity) && line.quantity > 0, JSON.stringify(line));
            const key = `${f.locationRef}|${line.sku}`;
            used.set(key, (used.get(key) ?? 0) + line.quantity);
          }
        }
        for (const [key, quantity] of used) assert.ok(quantity <= (ats.get(key) ?? 0), `${key}: ${quantity}`);
        // (c) every product line exactly: shipped + remainder = ordered; nothing else shipped
        const shipped = new Map<string, number>();
        for (const f of result.fulfilments) {
          for (const l of f.lines) shipped.set(l.lineRef, (shipped.get(l.lineRef) ?? 0) + l.quantity);
        }
        for (const r of result.remainder) {
          assert.ok(r.quantity > 0);
          shipped.set(r.lineRef, (shipped.get(r.lineRef) ?? 0) + r.quantity);
        }
        assert.deepEqual(new Map(lines.map((l) => [l.lineRef, l.quantity])), shipped);
        assert.equal(result.complete, result.remainder.length === 0);
        if (!result.complete) assert.equal(strategy.commit, 'ALLOW_PARTIAL');
        // The chosen locations pass the strategy's filters and exclusions.
        const networks = strategy.network === undefined ? undefined : [strategy.network].flat();
        for (const f of result.fulfilments) {
          const location = c.locations.find((l) => l.ref === f.locationRef);
          assert.ok(location);
          assert.ok(location.status === undefined || location.status === 'ACTIVE');
          if (networks) assert.ok(location.networks.some((n) => networks.includes(n)));
          if (strategy.locationTypes) assert.ok(strategy.locationTypes.includes(location.type));
          for (const criterion of strategy.criteria ?? []) {
            if (criterion.type === 'exclude') {
              assert.ok(!criterion.locations?.includes(location.ref));
              assert.ok(!criterion.types?.includes(location.type));
              assert.ok(!location.networks.some((n) => criterion.networks?.includes(n)));
            }
            if (criterion.type === 'capacity' && location.dailyCapacity !== undefined) {
              assert.ok((location.ordersToday ?? 0) < location.dailyCapacity);
            }
            if (criterion.type === 'distance' && criterion.max !== undefined) {
              assert.ok(c.origin && location.latitude !== undefined && location.longitude !== undefined);
              const km = haversineKm(c.origin, { lat: location.latitude, lon: location.longitude ?? 0 });
              assert.ok(km <= criterion.max + 0.001);
            }
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('is deterministic and does not depend on the order of locations and inventory', () => {
    fc.assert(
      fc.property(caseArb, fc.integer({ min: 0, max: 6 }), (c, rotate) => {
        const order = makeOrder(c.lines, c.grandTotal, c.country);
        const run = (locations: Location[], inventory: InventoryPosition[]): RoutingResult =>
          routeOrder(order, locations, inventory, c.config, { origin: c.origin });
        const first = run(c.locations, c.inventory);
        assert.deepEqual(run(c.locations, c.inventory), first);
        const turn = <T>(xs: T[]): T[] => [
          ...xs.slice(rotate % (xs.length || 1)),
          ...xs.slice(0, rotate % (xs.length || 1)),
        ];
        assert.deepEqual(run(turn([...c.locations].reverse()), turn([...c.inventory].reverse())), first);
      }),
      { numRuns: RUNS },
    );
  });

  it('finds the fewest-splits plan an exhaustive search finds (one strategy, no criteria)', () => {
    const simple = fc.record({
      lines: linesArb,
      locations: locationsArb.map((ls) => ls.map((l) => ({ ...l, status: undefined }))),
      inventory: inventoryArb,
      maxSplit: fc.integer({ min: 1, max: 4 }),
      commit: fc.constantFrom<'FULL_ONLY' | 'ALLOW_PARTIAL'>('FULL_ONLY', 'ALLOW_PARTIAL'),
    });
    fc.assert(
      fc.property(simple, (c) => {
        const config: RoutingConfig = {
          version: 1,
          strategies: [{ name: 'S', maxSplit: c.maxSplit, commit: c.commit }],
        };
        const order = makeOrder(c.lines, 0, 'DE');
        const lines = productLines(order);
        const need = new Map<string, number>();
        for (const l of lines) need.set(l.sku, (need.get(l.sku) ?? 0) + l.quantity);
        const total = [...need.values()].reduce((a, b) => a + b, 0);
        const ats = expectedAts(c.locations, c.inventory, config);
        const refs = c.locations.map((l) => l.ref).sort();
        const unitsOf = (set: string[]): number =>
          [...need].reduce(
            (sum, [sku, n]) =>
              sum +
              Math.min(
                n,
                set.reduce((have, ref) => have + (ats.get(`${ref}|${sku}`) ?? 0), 0),
              ),
            0,
          );
        // Every set of up to maxSplit locations, by size, then in ref order.
        const sets: string[][] = [];
        for (let mask = 1; mask < 1 << refs.length; mask++) {
          const set = refs.filter((_, i) => mask & (1 << i));
          if (set.length <= c.maxSplit) sets.push(set);
        }
        sets.sort((a, b) => a.length - b.length || (a.join() < b.join() ? -1 : 1));
        const full = sets.find((s) => unitsOf(s) === total);
        const most = Math.max(0, ...sets.map(unitsOf));
        const result = routeOrder(order, c.locations, c.inventory, config);
        if (total === 0) return;
        if (full) {
          assert.equal(result.kind, 'plan');
          assert.ok(result.kind === 'plan' && result.complete);
          assert.deepEqual(
            result.fulfilments.map((f) => f.locationRef),
            full,
          );
        } else if (c.commit === 'ALLOW_PARTIAL' && most > 0) {
          assert.ok(result.kind === 'plan' && !result.complete, result.summary);
          const chosen = result.fulfilments.map((f) => f.locationRef);
          const expected = sets.find((s) => unitsOf(s) === most);
          assert.deepEqual(chosen, expected);
          assert.equal(total - result.remainder.reduce((sum, r) => sum + r.quantity, 0), most);
        } else {
          assert.equal(result.kind, 'backorder');
        }
      }),
      { numRuns: RUNS },
    );
  });
});
