import assert from 'node:assert/strict';
import type { Line, Order } from '../../../lib/order/model';
import {
  EXAMPLE_ROUTING_CONFIG,
  parseRoutingConfig,
  type RoutingConfig,
  type Strategy,
} from '../../../lib/routing/config';
import type { InventoryPosition, Location } from '../../../lib/routing/inventory';
import {
  explainRouting,
  routeOrder,
  type RouteOptions,
  type RoutingBackorder,
  type RoutingPlan,
  type RoutingResult,
} from '../../../lib/routing/route';

type LineSpec = [sku: string, quantity: number] | Partial<Line>;

function makeOrder(specs: LineSpec[], extra: Partial<Order> = {}): Order {
  const lines = specs.map((spec, i): Line => {
    const given = Array.isArray(spec) ? { sku: spec[0], quantity: spec[1] } : spec;
    return {
      lineRef: `L${i + 1}`,
      kind: 'product',
      sku: 'SKU',
      quantity: 1,
      unitPrice: 1000,
      netPrice: 1000,
      tax: 0,
      grossPrice: 1000,
      taxRate: 0,
      shipmentRef: 'S1',
      adjustments: [],
      customAttributes: {},
      ...given,
    };
  });
  return {
    orderRef: 'O-1',
    createdAt: '2025-06-01T10:00:00.000Z',
    currency: 'EUR',
    status: {},
    customer: { guest: true },
    lines,
    shipments: [
      {
        shipmentRef: 'S1',
        address: { countryCode: 'DE', postalCode: '10115', city: 'Berlin' },
        customAttributes: {},
      },
    ],
    shippingCharges: [],
    orderAdjustments: [],
    totals: { merchandise: 10000, shipping: 0, discount: 0, giftCertificates: 0, tax: 0, grandTotal: 10000 },
    payments: [],
    customAttributes: {},
    source: { system: 'sfcc', format: 'xml' },
    ...extra,
  };
}

const loc = (ref: string, extra: Partial<Location> = {}): Location => ({
  ref,
  type: 'WAREHOUSE',
  networks: ['ALL'],
  ...extra,
});

function stock(locationRef: string, units: Record<string, number>, reserved: Record<string, number> = {}) {
  return Object.entries(units).map(([productRef, onHand]): InventoryPosition => ({
    productRef,
    locationRef,
    onHand,
    reserved: reserved[productRef],
  }));
}

function config(strategies: Array<Partial<Strategy>>, extra: Partial<RoutingConfig> = {}): RoutingConfig {
  const parsed = parseRoutingConfig({
    version: 1,
    strategies: strategies.map((s, i) => ({ name: `S${i + 1}`, ...s })),
    ...extra,
  });
  if ('errors' in parsed) throw new Error(JSON.stringify(parsed.errors));
  return parsed.config;
}

function asPlan(result: RoutingResult): RoutingPlan {
  assert.equal(result.kind, 'plan', result.summary);
  return result;
}

function asBackorder(result: RoutingResult): RoutingBackorder {
  assert.equal(result.kind, 'backorder', result.summary);
  return result;
}

/** { locationRef: { lineRef: quantity } } for compact assertions. */
function shape(plan: RoutingPlan): Record<string, Record<string, number>> {
  return Object.fromEntries(
    plan.fulfilments.map((f) => [
      f.locationRef,
      Object.fromEntries(f.lines.map((l) => [l.lineRef, l.quantity])),
    ]),
  );
}

const BERLIN = { lat: 52.52, lon: 13.405 };
const geo = {
  berlin: { latitude: 52.5219, longitude: 13.4132 }, // ~0.6 km from BERLIN
  potsdam: { latitude: 52.3906, longitude: 13.0645 }, // ~27 km
  leipzig: { latitude: 51.3397, longitude: 12.3731 }, // ~150 km
  hamburg: { latitude: 53.5511, longitude: 9.9937 }, // ~255 km
  munich: { latitude: 48.1372, longitude: 11.5756 }, // ~504 km
};

describe('lib/routing/route', () => {
  describe('fewest splits', () => {
    it('ships from one location that holds everything, ranked by ref without criteria', () => {
      const plan = asPlan(
        routeOrder(
          makeOrder([
            ['A', 2],
            ['B', 1],
          ]),
          [loc('WH-2'), loc('WH-1')],
          [...stock('WH-1', { A: 5, B: 5 }), ...stock('WH-2', { A: 5, B: 5 })],
          config([{}]),
        ),
      );
      assert.deepEqual(plan.fulfilments, [
        {
          locationRef: 'WH-1',
          lines: [
            { lineRef: 'L1', sku: 'A', quantity: 2 },
            { lineRef: 'L2', sku: 'B', quantity: 1 },
          ],
        },
      ]);
      assert.equal(plan.complete, true);
      assert.equal(plan.strategy, 'S1');
      assert.deepEqual(plan.remainder, []);
      assert.deepEqual(plan.tried, []);
      assert.equal(plan.summary, 'Strategy "S1" ships the whole order (3 units) from 1 location (WH-1)');
    });

    it('prefers a single lower-ranked location over a better-ranked pair', () => {
      const plan = asPlan(
        routeOrder(
          makeOrder([
            ['A', 2],
            ['B', 2],
          ]),
          [loc('WH-1', { priority: 1 }), loc('WH-2', { priority: 2 }), loc('WH-3', { priority: 3 })],
          [...stock('WH-1', { A: 2 }), ...stock('WH-2', { B: 2 }), ...stock('WH-3', { A: 2, B: 2 })],
          config([{ maxSplit: 3, criteria: [{ type: 'priority' }] }]),
        ),
      );
      assert.deepEqual(shape(plan), { 'WH-3': { L1: 2, L2: 2 } });
      assert.equal(plan.explanation[0].rank, 3);
    });

    it('among sets of the same size takes the first in ranking order', () => {
      // {1,3} and {2,3} both cover the order, {1,2} does not: {1,3} wins.
      const plan = asPlan(
        routeOrder(
          makeOrder([
            ['A', 1],
            ['B', 1],
          ]),
          [loc('WH-1', { priority: 1 }), loc('WH-2', { priority: 2 }), loc('WH-3', { priority: 3 })],
          [...stock('WH-1', { A: 1 }), ...stock('WH-2', { A: 1 }), ...stock('WH-3', { B: 1 })],
          config([{ maxSplit: 2, criteria: [{ type: 'priority' }] }]),
        ),
      );
      assert.deepEqual(shape(plan), { 'WH-1': { L1: 1 }, 'WH-3': { L2: 1 } });
      assert.deepEqual(
        plan.explanation.map((e) => [e.locationRef, e.rank, e.candidates]),
        [
          ['WH-1', 1, 3],
          ['WH-3', 3, 3],
        ],
      );
    });

    it('splits one line across the locations of a set, best-ranked first', () => {
      const plan = asPlan(
        routeOrder(
          makeOrder([['A', 5]]),
          [loc('WH-1', { priority: 2 }), loc('WH-2', { priority: 1 })],
          [...stock('WH-1', { A: 4 }), ...stock('WH-2', { A: 3 })],
          config([{ maxSplit: 2, criteria: [{ type: 'priority' }] }]),
        ),
      );
      assert.deepEqual(plan.fulfilments, [
        { locationRef: 'WH-2', lines: [{ lineRef: 'L1', sku: 'A', quantity: 3 }] },
        { locationRef: 'WH-1', lines: [{ lineRef: 'L1', sku: 'A', quantity: 2 }] },
      ]);
    });

    it('lines of the same product share a location stock', () => {
      const plan = asPlan(
        routeOrder(
          makeOrder([
            ['A', 2],
            ['A', 2],
          ]),
          [loc('WH-1'), loc('WH-2')],
          [...stock('WH-1', { A: 3 }), ...stock('WH-2', { A: 4 })],
          config([{ maxSplit: 1 }]),
        ),
      );
      assert.deepEqual(shape(plan), { 'WH-2': { L1: 2, L2: 2 } });
      const split = asPlan(
        routeOrder(
          makeOrder([
            ['A', 4],
            ['A', 2],
          ]),
          [loc('WH-1'), loc('WH-2')],
          [...stock('WH-1', { A: 3 }), ...stock('WH-2', { A: 4 })],
          config([{ maxSplit: 2 }]),
        ),
      );
      assert.deepEqual(split.fulfilments, [
        { locationRef: 'WH-1', lines: [{ lineRef: 'L1', sku: 'A', quantity: 3 }] },
        {
          locationRef: 'WH-2',
          lines: [
            { lineRef: 'L1', sku: 'A', quantity: 1 },
            { lineRef: 'L2', sku: 'A', quantity: 2 },
          ],
        },
      ]);
    });

    it('never uses more locations than maxSplit (strategy, else config, else 1)', () => {
      const order = makeOrder([
        ['A', 1],
        ['B', 1],
        ['C', 1],
      ]);
      const locations = [loc('WH-1'), loc('WH-2'), loc('WH-3')];
      const inventory = [...stock('WH-1', { A: 1 }), ...stock('WH-2', { B: 1 }), ...stock('WH-3', { C: 1 })];
      const two = asBackorder(routeOrder(order, locations, inventory, config([{ maxSplit: 2 }])));
      assert.deepEqual(two.reasons, [
        {
          strategy: 'S1',
          fallback: false,
          code: 'MAX_SPLIT',
          reason: 'no set of up to 2 locations holds the whole order (best: 2 of 3 units from 2 locations)',
        },
      ]);
      const byDefault = asBackorder(routeOrder(order, locations, inventory, config([{}])));
      assert.match(byDefault.reasons[0].reason, /^no set of up to 1 location holds the whole order/);
      assert.equal(
        asPlan(routeOrder(order, locations, inventory, config([{}], { maxSplit: 3 }))).maxSplit,
        3,
      );
      assert.equal(
        asPlan(routeOrder(order, locations, inventory, config([{ maxSplit: 3 }], { maxSplit: 1 })))
          .fulfilments.length,
        3,
      );
    });
  });

  describe('candidates', () => {
    const locations = [
      loc('DC-1', { networks: ['DC'] }),
      loc('ST-1', { type: 'STORE', networks: ['STORES'] }),
      loc('ST-2', { type: 'STORE', networks: ['STORES', 'OUTLETS'] }),
      loc('ST-3', { type: 'STORE', networks: ['STORES'], status: 'INACTIVE' }),
    ];
    const inventory = ['DC-1', 'ST-1', 'ST-2', 'ST-3'].flatMap((ref) => stock(ref, { A: 1 }));
    const chosen = (s: Partial<Strategy>): string[] =>
      asPlan(routeOrder(makeOrder([['A', 1]]), locations, inventory, config([s]))).explanation.map(
        (e) => `${e.locationRef}/${e.candidates}`,
      );

    it('filters by network, a list of networks and location types; inactive locations never ship', () => {
      assert.deepEqual(chosen({ network: 'STORES' }), ['ST-1/2']);
      assert.deepEqual(chosen({ network: ['OUTLETS', 'DC'] }), ['DC-1/2']);
      assert.deepEqual(chosen({ locationTypes: ['STORE'] }), ['ST-1/2']);
      assert.deepEqual(chosen({}), ['DC-1/3']);
    });

    it('says why there is no candidate', () => {
      const result = asBackorder(
        routeOrder(
          makeOrder([['A', 1]]),
          locations,
          inventory,
          config([{ network: 'STORES', criteria: [{ type: 'exclude', networks: ['STORES'] }] }]),
        ),
      );
      assert.deepEqual(result.reasons[0], {
        strategy: 'S1',
        fallback: false,
        code: 'NO_CANDIDATE',
        reason: 'no candidate location (2 excluded network STORES, 1 inactive, 1 not in network STORES)',
      });
      const none = asBackorder(routeOrder(makeOrder([['A', 1]]), [], [], config([{}])));
      assert.equal(none.reasons[0].reason, 'no candidate location (no locations given)');
    });
  });

  describe('criteria', () => {
    const near = [
      loc('BERLIN', { ...geo.berlin, priority: 5 }),
      loc('POTSDAM', { ...geo.potsdam, priority: 1 }),
      loc('LEIPZIG', { ...geo.leipzig, priority: 1 }),
      loc('HAMBURG', { ...geo.hamburg, priority: 2 }),
      loc('NOWHERE', { priority: 0 }),
    ];
    const all = near.flatMap((l) => stock(l.ref, { A: 5 }));
    const ranking = (strategy: Partial<Strategy>, options: RouteOptions = { origin: BERLIN }) => {
      const result = routeOrder(
        makeOrder([['A', 1]]),
        near,
        all,
        config([{ ...strategy, maxSplit: 1 }]),
        options,
      );
      return asPlan(result).explanation[0];
    };
    // The whole ranking: route with maxSplit 5 and an order only all five together can fill.
    const order5 = makeOrder([['A', 25]]);
    const fullRanking = (strategy: Partial<Strategy>, options: RouteOptions = { origin: BERLIN }): string[] =>
      asPlan(routeOrder(order5, near, all, config([{ ...strategy, maxSplit: 5 }]), options)).fulfilments.map(
        (f) => f.locationRef,
      );

    it('distance ranks nearest first; unknown distance ranks last', () => {
      assert.deepEqual(fullRanking({ criteria: [{ type: 'distance' }] }), [
        'BERLIN',
        'POTSDAM',
        'LEIPZIG',
        'HAMBURG',
        'NOWHERE',
      ]);
      const berlin = ranking({ criteria: [{ type: 'distance' }] });
      assert.equal(berlin.criteria[0].type, 'distance');
      assert.ok((berlin.criteria[0].score as number) < 1);
      assert.match(berlin.criteria[0].detail, /^0\.\d km$/);
    });

    it('distance max excludes farther locations and those of unknown distance', () => {
      // Ranked by km, the nearest wins; with one band up to the maximum, distance only filters.
      assert.equal(
        ranking({ criteria: [{ type: 'distance', max: 100 }, { type: 'priority' }] }).locationRef,
        'BERLIN',
      );
      const strategy: Partial<Strategy> = {
        criteria: [{ type: 'distance', max: 100, bands: [100] }, { type: 'priority' }],
      };
      assert.equal(ranking(strategy).locationRef, 'POTSDAM');
      const short = asBackorder(
        routeOrder(makeOrder([['A', 20]]), near, all, config([{ ...strategy, maxSplit: 5 }]), {
          origin: BERLIN,
        }),
      );
      assert.equal(
        short.reasons[0].reason,
        'short of A by 10 (20 ordered, 10 available at 2 candidate locations)',
      );
      const none = asBackorder(
        routeOrder(
          makeOrder([['A', 1]]),
          near,
          all,
          config([
            {
              criteria: [
                { type: 'distance', max: 1 },
                { type: 'exclude', locations: ['BERLIN'] },
              ],
            },
          ]),
          { origin: BERLIN },
        ),
      );
      assert.equal(
        none.reasons[0].reason,
        'no candidate location (1 distance unknown (the location has no coordinates), ' +
          '1 excluded by ref, 3 farther than 1 km)',
      );
      const noOrigin = asBackorder(
        routeOrder(
          makeOrder([['A', 1]]),
          near,
          all,
          config([{ criteria: [{ type: 'distance', max: 1 }] }]),
          {},
        ),
      );
      assert.equal(
        noOrigin.reasons[0].reason,
        'no candidate location (5 distance unknown (no delivery coordinates given))',
      );
    });

    it('distance bands make near locations equal so the next criterion decides', () => {
      const explained = ranking({
        criteria: [{ type: 'distance', bands: [100, 400] }, { type: 'priority' }],
      });
      assert.equal(explained.locationRef, 'POTSDAM');
      assert.equal(explained.criteria[0].score, 0);
      assert.match(explained.criteria[0].detail, /^27\.\d km, band 0 \(up to 100 km\)$/);
      assert.deepEqual(
        fullRanking({ criteria: [{ type: 'distance', bands: [200] }, { type: 'priority' }] }),
        ['LEIPZIG', 'POTSDAM', 'BERLIN', 'HAMBURG', 'NOWHERE'],
      );
      const hamburg = asPlan(
        routeOrder(
          makeOrder([['A', 25]]),
          near,
          all,
          config([{ maxSplit: 5, criteria: [{ type: 'distance', bands: [200] }] }]),
          {
            origin: BERLIN,
          },
        ),
      ).explanation.find((e) => e.locationRef === 'HAMBURG');
      assert.match(hamburg?.criteria[0].detail ?? '', /^25\d\.\d km, band 1 \(over 200 km\)$/);
    });

    it('finds the delivery point in a postcode table', () => {
      const options = { postcodes: { 'DE:1': BERLIN } };
      const result = asPlan(
        routeOrder(makeOrder([['A', 1]]), near, all, config([{ criteria: [{ type: 'distance' }] }]), options),
      );
      assert.equal(result.fulfilments[0].locationRef, 'BERLIN');
      assert.deepEqual(result.origin, { ...BERLIN, source: 'postcode DE:1' });
      const missing = asPlan(
        routeOrder(makeOrder([['A', 1]]), near, all, config([{ criteria: [{ type: 'distance' }] }]), {
          postcodes: { 'DE:2': BERLIN },
        }),
      );
      assert.equal(missing.origin, null);
      assert.equal(
        missing.explanation[0].criteria[0].detail,
        'distance unknown (postcode 10115 is not in the postcode table), ranked last',
      );
    });

    it('priority ranks lower numbers first and locations without one last', () => {
      assert.deepEqual(fullRanking({ criteria: [{ type: 'priority' }] }), [
        'NOWHERE',
        'LEIPZIG',
        'POTSDAM',
        'HAMBURG',
        'BERLIN',
      ]);
      const unranked = [loc('A-1'), loc('B-1', { priority: 9 })];
      const plan = asPlan(
        routeOrder(
          makeOrder([['A', 1]]),
          unranked,
          [...stock('A-1', { A: 1 }), ...stock('B-1', { A: 1 })],
          config([{ criteria: [{ type: 'priority' }] }]),
        ),
      );
      assert.equal(plan.fulfilments[0].locationRef, 'B-1');
    });

    it('availability (most) prefers the location that can fill more of the order', () => {
      const locations = [loc('WH-1'), loc('WH-2'), loc('WH-3'), loc('WH-4')];
      const inventory = [
        ...stock('WH-1', { A: 2 }),
        ...stock('WH-2', { B: 2 }),
        ...stock('WH-3', { A: 2, B: 1 }),
        ...stock('WH-4', { B: 1 }),
      ];
      const order = makeOrder([
        ['A', 2],
        ['B', 2],
      ]);
      const byRef = asPlan(routeOrder(order, locations, inventory, config([{ maxSplit: 2 }])));
      assert.deepEqual(shape(byRef), { 'WH-1': { L1: 2 }, 'WH-2': { L2: 2 } });
      const plan = asPlan(
        routeOrder(
          order,
          locations,
          inventory,
          config([{ maxSplit: 2, criteria: [{ type: 'availability' }] }]),
        ),
      );
      assert.deepEqual(shape(plan), { 'WH-3': { L1: 2, L2: 1 }, 'WH-2': { L2: 1 } });
      assert.deepEqual(
        plan.explanation.map((e) => e.criteria[0]),
        [
          { type: 'availability', score: 1, detail: 'fills 3 of 4 units (75%), 1 short' },
          { type: 'availability', score: 2, detail: 'fills 2 of 4 units (50%), 2 short' },
        ],
      );
    });

    it('availability banded and min', () => {
      const locations = [loc('WH-1'), loc('WH-2'), loc('WH-3')];
      const inventory = [
        ...stock('WH-1', { A: 1 }), // 25 %
        ...stock('WH-2', { A: 2, B: 1 }), // 75 %
        ...stock('WH-3', { A: 2, B: 2 }), // 100 %
      ];
      const order = makeOrder([
        ['A', 2],
        ['B', 2],
      ]);
      const banded = asPlan(
        routeOrder(
          order,
          locations,
          inventory,
          config([{ maxSplit: 3, criteria: [{ type: 'availability', bands: [100, 50] }] }]),
        ),
      );
      assert.deepEqual(banded.explanation[0].criteria, [
        { type: 'availability', score: 0, detail: 'fills 4 of 4 units (100%), band 0 (at least 100%)' },
      ]);
      // Without WH-3 the best pair ranks WH-2 (band 1) before WH-1 (band 2).
      const pair = asPlan(
        routeOrder(
          makeOrder([
            ['A', 3],
            ['B', 1],
          ]),
          locations.slice(0, 2),
          inventory,
          config([{ maxSplit: 2, criteria: [{ type: 'availability', mode: 'banded', bands: [100, 50] }] }]),
        ),
      );
      assert.deepEqual(
        pair.explanation.map((e) => [e.locationRef, e.criteria[0].score, e.criteria[0].detail]),
        [
          ['WH-2', 1, 'fills 3 of 4 units (75%), band 1 (at least 50%)'],
          ['WH-1', 2, 'fills 1 of 4 units (25%), band 2 (under 50%)'],
        ],
      );
      const min = asBackorder(
        routeOrder(
          order,
          locations.slice(0, 2),
          inventory,
          config([{ maxSplit: 2, criteria: [{ type: 'availability', min: 50 }] }]),
        ),
      );
      assert.deepEqual(min.reasons[0], {
        strategy: 'S1',
        fallback: false,
        code: 'SHORT',
        reason: 'short of B by 1 (2 ordered, 1 available at 1 candidate location)',
      });
    });

    it('capacity excludes full locations and prefers the least used', () => {
      const locations = [
        loc('WH-1', { dailyCapacity: 10, ordersToday: 10 }),
        loc('WH-2', { dailyCapacity: 10, ordersToday: 5 }),
        loc('WH-3', { dailyCapacity: 100, ordersToday: 10 }),
        loc('WH-4'),
      ];
      const inventory = locations.flatMap((l) => stock(l.ref, { A: 1 }));
      const order = makeOrder([['A', 3]]);
      const plan = asPlan(
        routeOrder(order, locations, inventory, config([{ maxSplit: 3, criteria: [{ type: 'capacity' }] }])),
      );
      assert.deepEqual(
        plan.explanation.map((e) => [e.locationRef, e.criteria[0].score, e.criteria[0].detail]),
        [
          ['WH-4', 0, 'no daily capacity set'],
          ['WH-3', 0.1, '10 of 100 orders today'],
          ['WH-2', 0.5, '5 of 10 orders today'],
        ],
      );
      const full = asBackorder(
        routeOrder(
          makeOrder([['A', 4]]),
          locations,
          inventory,
          config([{ maxSplit: 4, criteria: [{ type: 'capacity' }] }]),
        ),
      );
      assert.equal(
        full.reasons[0].reason,
        'short of A by 1 (4 ordered, 3 available at 3 candidate locations)',
      );
    });

    it('exclude by location ref, type and network', () => {
      const locations = [
        loc('WH-1'),
        loc('ST-1', { type: 'STORE' }),
        loc('OUT-1', { networks: ['ALL', 'OUTLETS'] }),
        loc('WH-2'),
      ];
      const inventory = locations.flatMap((l) => stock(l.ref, { A: 1 }));
      const plan = asPlan(
        routeOrder(
          makeOrder([['A', 1]]),
          locations,
          inventory,
          config([
            { criteria: [{ type: 'exclude', locations: ['WH-1'], types: ['STORE'], networks: ['OUTLETS'] }] },
          ]),
        ),
      );
      assert.equal(plan.fulfilments[0].locationRef, 'WH-2');
      assert.equal(plan.explanation[0].candidates, 1);
      assert.deepEqual(plan.explanation[0].criteria, [{ type: 'exclude', score: 0, detail: 'not excluded' }]);
    });

    it('criteria act in sequence: later ones only break ties of earlier ones', () => {
      const locations = [
        loc('WH-1', { priority: 1, dailyCapacity: 10, ordersToday: 9 }),
        loc('WH-2', { priority: 2, dailyCapacity: 10, ordersToday: 0 }),
        loc('WH-3', { priority: 1, dailyCapacity: 10, ordersToday: 1 }),
      ];
      const inventory = locations.flatMap((l) => stock(l.ref, { A: 1 }));
      const first = (criteria: Strategy['criteria']) =>
        asPlan(routeOrder(makeOrder([['A', 1]]), locations, inventory, config([{ criteria }]))).fulfilments[0]
          .locationRef;
      assert.equal(first([{ type: 'priority' }, { type: 'capacity' }]), 'WH-3');
      assert.equal(first([{ type: 'capacity' }, { type: 'priority' }]), 'WH-2');
      assert.equal(first([{ type: 'priority' }]), 'WH-1');
    });
  });

  describe('buffers', () => {
    const locations = [
      loc('WH-1', { networks: ['DC'] }),
      loc('ST-1', { type: 'STORE', networks: ['STORES'] }),
      loc('ST-2', { type: 'STORE', networks: ['STORES'] }),
    ];
    const inventory = [
      ...stock('WH-1', { A: 10 }, { A: 2 }),
      ...stock('ST-1', { A: 10 }, { A: 0 }),
      ...stock('ST-2', { A: 10 }, { A: 1 }),
    ];
    const ats = (buffers: RoutingConfig['buffers']): Record<string, number> => {
      // An order for more than anyone has, partial per location with maxSplit 3: each location gives its ATS.
      const result = asPlan(
        routeOrder(
          makeOrder([['A', 100]]),
          locations,
          inventory,
          config([{ maxSplit: 3, commit: 'ALLOW_PARTIAL' }], { buffers }),
        ),
      );
      return Object.fromEntries(result.fulfilments.map((f) => [f.locationRef, f.lines[0].quantity]));
    };

    it('without buffers ATS is on-hand minus reserved', () => {
      assert.deepEqual(ats(undefined), { 'ST-1': 10, 'ST-2': 9, 'WH-1': 8 });
    });

    it('default, network and location buffers take precedence in that order', () => {
      assert.deepEqual(ats({ default: 1 }), { 'ST-1': 9, 'ST-2': 8, 'WH-1': 7 });
      assert.deepEqual(ats({ default: 1, networks: { STORES: 3 } }), { 'ST-1': 7, 'ST-2': 6, 'WH-1': 7 });
      assert.deepEqual(ats({ default: 1, networks: { STORES: 3 }, locations: { 'ST-2': 0 } }), {
        'ST-1': 7,
        'ST-2': 9,
        'WH-1': 7,
      });
    });

    it('a percentage of on-hand comes on top, rounded up', () => {
      assert.deepEqual(ats({ percent: 15 }), { 'ST-1': 8, 'ST-2': 7, 'WH-1': 6 });
      assert.deepEqual(ats({ default: 2, percent: 5 }), { 'ST-1': 7, 'ST-2': 6, 'WH-1': 5 });
    });

    it('a location buffered to nothing is not used and the explanation shows the buffer', () => {
      const result = asPlan(
        routeOrder(
          makeOrder([['A', 8]]),
          locations,
          inventory,
          config([{}], { buffers: { locations: { 'ST-1': 3, 'ST-2': 10 } } }),
        ),
      );
      assert.deepEqual(shape(result), { 'WH-1': { L1: 8 } });
      assert.deepEqual(result.explanation[0].stock, [
        { sku: 'A', onHand: 10, reserved: 2, buffer: 0, bufferFrom: 'none', ats: 8 },
      ]);
      const buffered = asPlan(
        routeOrder(
          makeOrder([['A', 7]]),
          locations,
          inventory,
          config([{ network: 'STORES' }], { buffers: { networks: { STORES: 3 } } }),
        ),
      );
      assert.deepEqual(buffered.explanation[0].stock, [
        { sku: 'A', onHand: 10, reserved: 0, buffer: 3, bufferFrom: 'network', ats: 7 },
      ]);
    });
  });

  describe('strategies', () => {
    const locations = [
      loc('DC-1', { networks: ['DC'] }),
      loc('ST-1', { type: 'STORE', networks: ['STORES'] }),
    ];
    const inventory = [...stock('DC-1', { A: 5, B: 1 }), ...stock('ST-1', { A: 5, B: 5 })];

    it('the first strategy that sources the whole order wins', () => {
      const plan = asPlan(
        routeOrder(
          makeOrder([['A', 2]]),
          locations,
          inventory,
          config([
            { name: 'Stores', network: 'STORES' },
            { name: 'DCs', network: 'DC' },
          ]),
        ),
      );
      assert.equal(plan.strategy, 'Stores');
      assert.equal(plan.explanation[0].strategy, 'Stores');
    });

    it('skips inactive strategies and those whose conditions fail, and says so', () => {
      const plan = asPlan(
        routeOrder(
          makeOrder([
            ['A', 2],
            ['B', 2],
          ]),
          locations,
          inventory,
          config([
            { name: 'Off', status: 'INACTIVE' },
            { name: 'Big', when: [{ path: 'totals.grandTotal', op: 'gte', value: 50000 }] },
            { name: 'DCs', network: 'DC' },
            { name: 'Stores', network: 'STORES', status: 'ACTIVE' },
          ]),
        ),
      );
      assert.equal(plan.strategy, 'Stores');
      assert.deepEqual(plan.tried, [
        { strategy: 'Off', fallback: false, code: 'INACTIVE', reason: 'strategy is INACTIVE' },
        {
          strategy: 'Big',
          fallback: false,
          code: 'CONDITIONS',
          reason: 'conditions not met: totals.grandTotal gte 50000 (found 10000)',
        },
        {
          strategy: 'DCs',
          fallback: false,
          code: 'SHORT',
          reason: 'short of B by 1 (2 ordered, 1 available at 1 candidate location)',
        },
      ]);
    });

    it('needs every condition to hold', () => {
      const when = [
        { path: 'shipments[0].address.countryCode', op: 'eq' as const, value: 'DE' },
        { path: 'customer.guest', op: 'eq' as const, value: false },
      ];
      const result = routeOrder(makeOrder([['A', 1]]), locations, inventory, config([{ when }]));
      assert.equal(
        asBackorder(result).reasons[0].reason,
        'conditions not met: customer.guest eq false (found true)',
      );
      const member = makeOrder([['A', 1]], { customer: { guest: false } });
      assert.equal(asPlan(routeOrder(member, locations, inventory, config([{ when }]))).strategy, 'S1');
    });

    it('the fallback runs when no primary strategy sources the order', () => {
      const plan = asPlan(
        routeOrder(
          makeOrder([
            ['A', 2],
            ['B', 2],
          ]),
          locations,
          inventory,
          config([{ name: 'DCs', network: 'DC' }], { fallback: { name: 'Any', maxSplit: 2 } }),
        ),
      );
      assert.equal(plan.strategy, 'Any');
      assert.equal(plan.fallback, true);
      assert.equal(plan.summary, 'Fallback "Any" ships the whole order (4 units) from 1 location (ST-1)');
      assert.deepEqual(
        plan.tried.map((t) => t.code),
        ['SHORT'],
      );
    });

    it('a primary ALLOW_PARTIAL strategy commits its best partial plan before the fallback', () => {
      const plan = asPlan(
        routeOrder(
          makeOrder([
            ['A', 2],
            ['B', 3],
          ]),
          locations,
          inventory,
          config(
            [
              { name: 'DCs full', network: 'DC' },
              { name: 'DCs partial', network: 'DC', commit: 'ALLOW_PARTIAL' },
            ],
            { fallback: { name: 'Any' } },
          ),
        ),
      );
      assert.equal(plan.strategy, 'DCs partial');
      assert.equal(plan.complete, false);
      assert.deepEqual(shape(plan), { 'DC-1': { L1: 2, L2: 1 } });
      assert.deepEqual(plan.remainder, [{ lineRef: 'L2', sku: 'B', quantity: 2 }]);
      assert.equal(
        plan.summary,
        'Strategy "DCs partial" ships 3 of 5 units from 1 location (DC-1); 2 unsourced',
      );
      assert.deepEqual(
        plan.tried.map((t) => t.strategy),
        ['DCs full', 'DCs partial'],
      );
    });

    it('a full plan of a later strategy wins over an earlier partial one', () => {
      const plan = asPlan(
        routeOrder(
          makeOrder([['B', 3]]),
          locations,
          inventory,
          config([
            { name: 'DCs partial', network: 'DC', commit: 'ALLOW_PARTIAL' },
            { name: 'Stores', network: 'STORES' },
          ]),
        ),
      );
      assert.equal(plan.strategy, 'Stores');
      assert.equal(plan.complete, true);
    });

    it('a partial plan ships the most units within maxSplit, then uses fewest locations', () => {
      const many = [loc('WH-1'), loc('WH-2'), loc('WH-3'), loc('WH-4')];
      const stockOf = [
        ...stock('WH-1', { A: 1 }),
        ...stock('WH-2', { B: 3 }),
        ...stock('WH-3', { A: 2, B: 1 }),
        ...stock('WH-4', { C: 1 }),
      ];
      const order = makeOrder([
        ['A', 3],
        ['B', 3],
        ['D', 1],
      ]);
      const two = asPlan(
        routeOrder(order, many, stockOf, config([{ maxSplit: 2, commit: 'ALLOW_PARTIAL' }])),
      );
      assert.deepEqual(shape(two), { 'WH-2': { L2: 3 }, 'WH-3': { L1: 2 } });
      assert.deepEqual(two.remainder, [
        { lineRef: 'L1', sku: 'A', quantity: 1 },
        { lineRef: 'L3', sku: 'D', quantity: 1 },
      ]);
      const three = asPlan(
        routeOrder(order, many, stockOf, config([{ maxSplit: 4, commit: 'ALLOW_PARTIAL' }])),
      );
      assert.deepEqual(shape(three), { 'WH-1': { L1: 1 }, 'WH-2': { L2: 3 }, 'WH-3': { L1: 2 } });
      assert.equal(three.tried[0].code, 'SHORT');
      assert.equal(
        three.tried[0].reason,
        'short of D by 1 (1 ordered, 0 available at 4 candidate locations)',
      );
    });

    it('the fallback commits partially when it allows', () => {
      const plan = asPlan(
        routeOrder(
          makeOrder([['B', 9]]),
          locations,
          inventory,
          config([{ name: 'DCs', network: 'DC' }], {
            fallback: { name: 'Any', maxSplit: 2, commit: 'ALLOW_PARTIAL' },
          }),
        ),
      );
      assert.equal(plan.fallback, true);
      assert.deepEqual(shape(plan), { 'ST-1': { L1: 5 }, 'DC-1': { L1: 1 } });
      assert.deepEqual(plan.remainder, [{ lineRef: 'L1', sku: 'B', quantity: 3 }]);
    });

    it('backorders with a reason per strategy when nothing can ship', () => {
      const result = asBackorder(
        routeOrder(
          makeOrder([
            ['A', 20],
            ['Z', 1],
          ]),
          locations,
          inventory,
          config(
            [
              { name: 'Big', when: [{ path: 'totals.grandTotal', op: 'gt', value: 99999 }] },
              { name: 'Outlets', network: 'OUTLETS' },
              { name: 'Stores', network: 'STORES' },
            ],
            { fallback: { name: 'Any', maxSplit: 2 } },
          ),
        ),
      );
      assert.equal(result.kind, 'backorder');
      assert.deepEqual(result.reasons, [
        {
          strategy: 'Big',
          fallback: false,
          code: 'CONDITIONS',
          reason: 'conditions not met: totals.grandTotal gt 99999 (found 10000)',
        },
        {
          strategy: 'Outlets',
          fallback: false,
          code: 'NO_CANDIDATE',
          reason: 'no candidate location (2 not in network OUTLETS)',
        },
        {
          strategy: 'Stores',
          fallback: false,
          code: 'SHORT',
          reason:
            'short of A by 15 (20 ordered, 5 available at 1 candidate location); ' +
            'short of Z by 1 (1 ordered, 0 available at 1 candidate location)',
        },
        {
          strategy: 'Any',
          fallback: true,
          code: 'SHORT',
          reason:
            'short of A by 10 (20 ordered, 10 available at 2 candidate locations); ' +
            'short of Z by 1 (1 ordered, 0 available at 2 candidate locations)',
        },
      ]);
      assert.deepEqual(result.remainder, [
        { lineRef: 'L1', sku: 'A', quantity: 20 },
        { lineRef: 'L2', sku: 'Z', quantity: 1 },
      ]);
      assert.match(result.summary, /^Backordered: "Big" conditions not met/);
    });

    it('a partial strategy with nothing in stock does not commit', () => {
      const result = routeOrder(
        makeOrder([['Z', 1]]),
        locations,
        inventory,
        config([{ commit: 'ALLOW_PARTIAL' }]),
      );
      assert.equal(asBackorder(result).reasons[0].code, 'SHORT');
    });
  });

  describe('lines', () => {
    it('sources only product lines: options ship with their product, gift certificates are not stock', () => {
      const order = makeOrder([
        ['A', 1],
        { kind: 'option', sku: 'WARRANTY', parentLineRef: 'L1' },
        { kind: 'giftCertificate', sku: 'GC' },
        { sku: 'A', quantity: 0 },
      ]);
      const plan = asPlan(routeOrder(order, [loc('WH-1')], stock('WH-1', { A: 1 }), config([{}])));
      assert.deepEqual(plan.fulfilments, [
        { locationRef: 'WH-1', lines: [{ lineRef: 'L1', sku: 'A', quantity: 1 }] },
      ]);
    });

    it('an order without product lines needs no location', () => {
      const order = makeOrder([{ kind: 'giftCertificate', sku: 'GC' }]);
      const result = asPlan(routeOrder(order, [], [], config([{}])));
      assert.deepEqual(result, {
        kind: 'plan',
        strategy: null,
        fallback: false,
        complete: true,
        maxSplit: 0,
        fulfilments: [],
        remainder: [],
        explanation: [],
        tried: [],
        origin: null,
        summary: 'Nothing to source: the order has no product lines',
      });
    });

    it('sums duplicate positions, ignores unknown locations and repeated location refs', () => {
      const plan = asPlan(
        routeOrder(
          makeOrder([['A', 4]]),
          [loc('WH-1'), loc('WH-1', { status: 'INACTIVE' })],
          [...stock('WH-1', { A: 2 }), ...stock('WH-1', { A: 2 }), ...stock('WH-9', { A: 9 })],
          config([{}]),
        ),
      );
      assert.deepEqual(shape(plan), { 'WH-1': { L1: 4 } });
      assert.deepEqual(plan.explanation[0].stock, [
        { sku: 'A', onHand: 4, reserved: 0, buffer: 0, bufferFrom: 'none', ats: 4 },
      ]);
    });
  });

  describe('search limit', () => {
    const locations = Array.from({ length: 12 }, (_, i) => loc(`WH-${String(i + 1).padStart(2, '0')}`));
    // Each product sits in one location only; the last three locations hold the order.
    const inventory = [...stock('WH-10', { A: 1 }), ...stock('WH-11', { B: 1 }), ...stock('WH-12', { C: 1 })];
    const clutter = locations.slice(0, 9).flatMap((l) => stock(l.ref, { D: 1 }));
    const order = makeOrder([
      ['A', 1],
      ['B', 1],
      ['C', 1],
      ['D', 1],
    ]);

    it('finds the plan within the default limit', () => {
      const plan = asPlan(
        routeOrder(order, locations, [...inventory, ...clutter], config([{ maxSplit: 4 }])),
      );
      assert.deepEqual(Object.keys(shape(plan)), ['WH-01', 'WH-10', 'WH-11', 'WH-12']);
    });

    it('falls back to a greedy set when the limit is reached', () => {
      const plan = asPlan(
        routeOrder(order, locations, [...inventory, ...clutter], config([{ maxSplit: 4 }]), {
          searchLimit: 5,
        }),
      );
      assert.equal(plan.fulfilments.length, 4);
      const partial = asBackorder(
        routeOrder(order, locations, [...inventory, ...clutter], config([{ maxSplit: 3 }]), {
          searchLimit: 5,
        }),
      );
      assert.deepEqual(partial.reasons[0], {
        strategy: 'S1',
        fallback: false,
        code: 'SEARCH_LIMIT',
        reason:
          'no whole-order set found within the search limit of 5 location sets (best: 3 of 4 units from 3 locations)',
      });
    });
  });

  describe('determinism', () => {
    it('gives the same result for the same input, in any input order', () => {
      const locations = [
        loc('A-1', { ...geo.berlin, priority: 2 }),
        loc('B-1', { ...geo.potsdam, priority: 2 }),
        loc('C-1', { ...geo.leipzig, priority: 1 }),
        loc('D-1', { ...geo.hamburg, priority: 1 }),
      ];
      const inventory = locations.flatMap((l, i) => stock(l.ref, { X: i + 1, Y: 4 - i }));
      const cfg = config([
        { maxSplit: 2, criteria: [{ type: 'distance', bands: [100, 300] }, { type: 'priority' }] },
      ]);
      const order = makeOrder([
        ['X', 4],
        ['Y', 4],
      ]);
      const first = routeOrder(order, locations, inventory, cfg, { origin: BERLIN });
      assert.deepEqual(routeOrder(order, locations, inventory, cfg, { origin: BERLIN }), first);
      assert.deepEqual(
        routeOrder(order, [...locations].reverse(), [...inventory].reverse(), cfg, { origin: BERLIN }),
        first,
      );
      // Ranked A, B (band 0), C, D (band 1, priority 1): {A, B} lacks X, {A, C} is the first pair.
      assert.deepEqual(shape(asPlan(first)), { 'A-1': { L1: 1, L2: 4 }, 'C-1': { L1: 3 } });
    });
  });

  describe('the worked example (docs/routing.md)', () => {
    const locations: Location[] = [
      loc('DC-HAMBURG', { networks: ['DC'], ...geo.hamburg, priority: 1 }),
      loc('DC-MUNICH', { networks: ['DC'], ...geo.munich, priority: 2 }),
      loc('STORE-BERLIN-MITTE', {
        type: 'STORE',
        networks: ['STORES'],
        ...geo.berlin,
        dailyCapacity: 40,
        ordersToday: 12,
      }),
      loc('STORE-POTSDAM', {
        type: 'STORE',
        networks: ['STORES'],
        ...geo.potsdam,
        dailyCapacity: 20,
        ordersToday: 3,
      }),
      loc('STORE-OUTLET-ZWEIBRUECKEN', {
        type: 'STORE',
        networks: ['STORES'],
        latitude: 49.25,
        longitude: 7.36,
      }),
    ];
    const inventory = [
      ...stock('DC-HAMBURG', { JACKET: 100, BOOTS: 0 }),
      ...stock('DC-MUNICH', { JACKET: 40, BOOTS: 60 }),
      ...stock('STORE-BERLIN-MITTE', { JACKET: 6, BOOTS: 4 }),
      ...stock('STORE-POTSDAM', { JACKET: 5, BOOTS: 5 }),
      ...stock('STORE-OUTLET-ZWEIBRUECKEN', { JACKET: 50, BOOTS: 50 }),
    ];
    const postcodes = { 'DE:10': BERLIN, 'DE:80': { lat: 48.14, lon: 11.58 } };
    const route = (order: Order) =>
      routeOrder(order, locations, inventory, EXAMPLE_ROUTING_CONFIG, { postcodes });
    const grand = (grandTotal: number, postalCode = '10115'): Partial<Order> => ({
      totals: { merchandise: grandTotal, shipping: 0, discount: 0, giftCertificates: 0, tax: 0, grandTotal },
      shipments: [{ shipmentRef: 'S1', address: { countryCode: 'DE', postalCode }, customAttributes: {} }],
    });

    it('a big German order ships from the DCs, two parcels at most', () => {
      const plan = asPlan(
        route(
          makeOrder(
            [
              ['JACKET', 10],
              ['BOOTS', 2],
            ],
            grand(89900),
          ),
        ),
      );
      assert.equal(plan.strategy, 'Big DE orders from the DCs');
      // Munich can fill it alone (availability ranks it first); 5% of 40 = 2 units buffered.
      assert.deepEqual(shape(plan), { 'DC-MUNICH': { L1: 10, L2: 2 } });
      assert.deepEqual(plan.explanation[0].criteria, [
        { type: 'availability', score: 0, detail: 'fills 12 of 12 units (100%), 0 short' },
        { type: 'distance', score: 1, detail: '504.3 km, band 1 (up to 600 km)' },
        { type: 'priority', score: 2, detail: 'priority 2' },
      ]);
      const pair = asPlan(
        route(
          makeOrder(
            [
              ['JACKET', 60],
              ['BOOTS', 2],
            ],
            grand(500000),
          ),
        ),
      );
      assert.deepEqual(shape(pair), { 'DC-HAMBURG': { L1: 60 }, 'DC-MUNICH': { L2: 2 } });
    });

    it('a small order ships from a store within 50 km, keeping the store buffers', () => {
      const plan = asPlan(route(makeOrder([['JACKET', 2]], grand(15900))));
      assert.equal(plan.strategy, 'Small orders from a store within 50 km');
      // Berlin Mitte keeps 3 + ceil(5% of 6) = 4 back: 2 left, so it can ship 2.
      assert.deepEqual(shape(plan), { 'STORE-BERLIN-MITTE': { L1: 2 } });
      assert.deepEqual(plan.explanation[0].stock, [
        { sku: 'JACKET', onHand: 6, reserved: 0, buffer: 4, bufferFrom: 'location', ats: 2 },
      ]);
      assert.deepEqual(
        plan.explanation[0].criteria.map((c) => c.type),
        ['distance', 'capacity', 'exclude', 'priority'],
      );
      assert.deepEqual(plan.tried, [
        {
          strategy: 'Big DE orders from the DCs',
          fallback: false,
          code: 'CONDITIONS',
          reason: 'conditions not met: totals.grandTotal gte 50000 (found 15900)',
        },
      ]);
      // Berlin Mitte has no boots to sell (4 on hand, 4 buffered): Potsdam ships both.
      const potsdam = asPlan(
        route(
          makeOrder(
            [
              ['JACKET', 1],
              ['BOOTS', 1],
            ],
            grand(15900),
          ),
        ),
      );
      assert.deepEqual(shape(potsdam), { 'STORE-POTSDAM': { L1: 1, L2: 1 } });
    });

    it('a small order far from every store falls back to any location', () => {
      const plan = asPlan(route(makeOrder([['BOOTS', 1]], grand(9900, '80331'))));
      assert.equal(plan.strategy, 'Any location');
      assert.equal(plan.fallback, true);
      assert.equal(plan.tried[1].code, 'NO_CANDIDATE');
      assert.equal(
        plan.tried[1].reason,
        'no candidate location (3 farther than 50 km, 2 not in network STORES)',
      );
      assert.deepEqual(shape(plan), { 'DC-MUNICH': { L1: 1 } });
    });

    it('explainRouting gives msg.oms.routing for every outcome', () => {
      const allocated = route(makeOrder([['JACKET', 2]], grand(15900)));
      assert.deepEqual(explainRouting(allocated), {
        outcome: 'allocated',
        strategy: 'Small orders from a store within 50 km',
        fallback: false,
        summary:
          'Strategy "Small orders from a store within 50 km" ships the whole order (2 units) from 1 location (STORE-BERLIN-MITTE)',
        locations: asPlan(allocated).explanation,
        tried: asPlan(allocated).tried,
        origin: { ...BERLIN, source: 'postcode DE:10' },
      });
      assert.equal(explainRouting(route(makeOrder([['BOOTS', 200]], grand(9900)))).outcome, 'partial');
      const none = routeOrder(makeOrder([['BOOTS', 1]]), [], [], EXAMPLE_ROUTING_CONFIG);
      const explained = explainRouting(none);
      assert.equal(explained.outcome, 'backordered');
      assert.equal(explained.strategy, null);
      assert.deepEqual(explained.locations, []);
      assert.deepEqual(
        explained.tried.map((t) => [t.strategy, t.code]),
        [
          ['Big DE orders from the DCs', 'CONDITIONS'],
          ['Small orders from a store within 50 km', 'NO_CANDIDATE'],
          ['Any location', 'NO_CANDIDATE'],
        ],
      );
      assert.deepEqual(JSON.parse(JSON.stringify(explained)), explained, 'plain JSON');
    });

    it('an order larger than all stock ships what it can and leaves the rest', () => {
      const plan = asPlan(route(makeOrder([['BOOTS', 200]], grand(9900))));
      assert.equal(plan.complete, false);
      assert.equal(plan.fulfilments.length, 3);
      assert.equal(plan.fallback, true);
    });
  });

  // Speed belongs in a benchmark (npm run bench), not in a timed assertion: this checks the outcome.
  it('routes 500 mixed orders over 20 locations: each gets a plan or a backorder with reasons', () => {
    const locations = Array.from({ length: 20 }, (_, i) =>
      loc(`L-${i}`, {
        latitude: 48 + (i % 5),
        longitude: 8 + i / 4,
        priority: i % 3,
        dailyCapacity: 100,
        ordersToday: i,
      }),
    );
    const skus = ['A', 'B', 'C', 'D', 'E'];
    const inventory = locations.flatMap((l, i) =>
      skus.map((sku, j) => ({ productRef: sku, locationRef: l.ref, onHand: (i * 7 + j * 3) % 6 })),
    );
    const cfg = config(
      [
        { name: 'Near', maxSplit: 1, criteria: [{ type: 'distance', max: 100 }, { type: 'capacity' }] },
        {
          name: 'Any',
          maxSplit: 3,
          criteria: [{ type: 'availability' }, { type: 'priority' }, { type: 'distance' }],
        },
      ],
      {
        buffers: { default: 1, percent: 5 },
        fallback: { name: 'Partial', maxSplit: 3, commit: 'ALLOW_PARTIAL' },
      },
    );
    const orders = Array.from({ length: 500 }, (_, n) =>
      makeOrder(skus.slice(0, 1 + (n % 5)).map((sku, j): [string, number] => [sku, 1 + ((n + j) % 4)])),
    );
    let plans = 0;
    for (const order of orders) {
      const result = routeOrder(order, locations, inventory, cfg, { origin: BERLIN });
      if (result.kind === 'plan') {
        plans++;
        assert.ok(result.fulfilments.length <= 3);
      } else {
        assert.ok(result.reasons.length > 0, 'a backorder says why');
      }
    }
    assert.ok(plans > 0);
  });
});
