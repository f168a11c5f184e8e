import assert from 'node:assert/strict';
import {
  EXAMPLE_ROUTING_CONFIG,
  MAX_SPLIT_LIMIT,
  parseRoutingConfig,
  type ConfigError,
} from '../../../lib/routing/config';

function errorsOf(input: unknown): ConfigError[] {
  const result = parseRoutingConfig(input);
  assert.ok('errors' in result, 'expected the config to be rejected');
  return result.errors;
}

const minimal = { version: 1, strategies: [{ name: 'Any' }] };

describe('lib/routing/config', () => {
  it('accepts the worked example unchanged, as an object and as JSON text', () => {
    assert.deepEqual(parseRoutingConfig(EXAMPLE_ROUTING_CONFIG), { config: EXAMPLE_ROUTING_CONFIG });
    assert.deepEqual(parseRoutingConfig(JSON.stringify(EXAMPLE_ROUTING_CONFIG)), {
      config: EXAMPLE_ROUTING_CONFIG,
    });
  });

  it('accepts a minimal config: one strategy with a name', () => {
    assert.deepEqual(parseRoutingConfig(minimal), { config: minimal });
  });

  it('accepts a fallback without primary strategies, but not neither', () => {
    assert.ok('config' in parseRoutingConfig({ version: 1, strategies: [], fallback: { name: 'F' } }));
    assert.deepEqual(errorsOf({ version: 1, strategies: [] }), [
      { path: 'strategies', message: 'needs at least one strategy or a fallback' },
    ]);
  });

  it('reports JSON syntax errors at the root', () => {
    const [error] = errorsOf('{"version": 1,');
    assert.equal(error.path, '');
    assert.match(error.message, /^not valid JSON: /);
  });

  it('reports a non-object and a missing version', () => {
    assert.deepEqual(errorsOf(null), [{ path: '', message: 'must be an object: the routing config' }]);
    assert.deepEqual(errorsOf('[1]'), [{ path: '', message: 'must be an object: the routing config' }]);
    assert.deepEqual(errorsOf({ strategies: [{ name: 'A' }] }), [{ path: 'version', message: 'must be 1' }]);
    assert.deepEqual(errorsOf({ version: 2, strategies: [{ name: 'A' }] }), [
      { path: 'version', message: 'must be 1' },
    ]);
  });

  it('names unknown fields at their own path (typos do not pass silently)', () => {
    assert.deepEqual(errorsOf({ ...minimal, maxsplit: 2 }), [
      { path: 'maxsplit', message: 'unknown field "maxsplit"' },
    ]);
    assert.deepEqual(errorsOf({ version: 1, strategies: [{ name: 'A', criterion: [] }] }), [
      { path: 'strategies[0].criterion', message: 'unknown field "criterion"' },
    ]);
    assert.deepEqual(
      errorsOf({ version: 1, strategies: [{ name: 'A', criteria: [{ type: 'priority', x: 1 }] }] }),
      [{ path: 'strategies[0].criteria[0].x', message: 'unknown field "x"' }],
    );
  });

  it('points at each bad condition field', () => {
    const errors = errorsOf({
      version: 1,
      strategies: [
        {
          name: 'A',
          when: [
            { path: 'totals.grandTotal', op: 'bigger', value: 1 },
            { op: 'eq' },
            { path: 'a..b', op: 'gt', value: {} },
            { path: 'x', op: 'in', value: [] },
            { path: 'x', op: 'exists', value: 'yes' },
            { path: 'x', op: 'eq', value: 1, scope: 'some' },
          ],
        },
      ],
    });
    assert.deepEqual(errors, [
      {
        path: 'strategies[0].when[0].op',
        message: "must be one of 'eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'notIn', 'contains', 'exists'",
      },
      { path: 'strategies[0].when[1].path', message: 'is required' },
      { path: 'strategies[0].when[1].value', message: 'is required' },
      {
        path: 'strategies[0].when[2].path',
        message:
          'must be a field path such as totals.grandTotal, shipments[0].address.countryCode or lines[*].sku',
      },
      { path: 'strategies[0].when[2].value', message: 'must be a number or a string (a date, a code)' },
      { path: 'strategies[0].when[3].value', message: 'must list at least one value' },
      {
        path: 'strategies[0].when[4].value',
        message: 'must be true (the field is present) or false (absent)',
      },
      { path: 'strategies[0].when[5].scope', message: "must be 'any' or 'all'" },
    ]);
  });

  it('accepts every condition operator and path form', () => {
    const when = [
      { path: 'totals.grandTotal', op: 'eq', value: 1 },
      { path: 'customer.email', op: 'ne', value: null },
      { path: 'totals.grandTotal', op: 'gt', value: 1 },
      { path: 'totals.grandTotal', op: 'gte', value: 1 },
      { path: 'createdAt', op: 'lt', value: '2026-01-01' },
      { path: 'totals.grandTotal', op: 'lte', value: 1 },
      { path: 'shipments[0].address.countryCode', op: 'in', value: ['DE', 'AT'] },
      { path: 'lines[*].sku', op: 'notIn', value: ['X'], scope: 'all' },
      { path: 'customAttributes.tags', op: 'contains', value: 'vip' },
      { path: 'customAttributes.sfcc-flag', op: 'exists' },
      { path: 'customer.customerNo', op: 'exists', value: false },
    ];
    assert.ok('config' in parseRoutingConfig({ version: 1, strategies: [{ name: 'A', when }] }));
  });

  it('points at each bad criterion field', () => {
    const errors = errorsOf({
      version: 1,
      strategies: [
        {
          name: 'A',
          criteria: [
            { type: 'nearest' },
            { type: 'distance', max: 0 },
            { type: 'distance', bands: [50, 10] },
            { type: 'availability', mode: 'most', bands: [100] },
            { type: 'availability', bands: [50, 100] },
            { type: 'availability', min: 120 },
            { type: 'exclude', locations: [] },
            {},
          ],
        },
      ],
    });
    const types = "must be one of 'distance', 'availability', 'priority', 'capacity', 'exclude'";
    assert.deepEqual(errors, [
      { path: 'strategies[0].criteria[0].type', message: types },
      { path: 'strategies[0].criteria[1].max', message: 'must be more than 0 km' },
      {
        path: 'strategies[0].criteria[2].bands',
        message: 'distance bands must be strictly ascending, e.g. [25, 100]',
      },
      { path: 'strategies[0].criteria[3].bands', message: "bands apply only to mode 'banded'" },
      {
        path: 'strategies[0].criteria[4].bands',
        message: 'availability bands must be strictly descending percentages, e.g. [100, 50]',
      },
      { path: 'strategies[0].criteria[5].min', message: 'must be a percentage from 0 to 100' },
      { path: 'strategies[0].criteria[6].locations', message: 'must list at least one value' },
      { path: 'strategies[0].criteria[7].type', message: types },
    ]);
  });

  it('checks strategy fields, maxSplit bounds and buffers', () => {
    const errors = errorsOf({
      version: 1,
      maxSplit: MAX_SPLIT_LIMIT + 1,
      buffers: { default: -1, locations: { 'WH-1': 1.5 }, networks: { DC: 'x' }, percent: 101 },
      strategies: [{ name: '', network: 5, locationTypes: [], maxSplit: 0, commit: 'SOME', status: 'ON' }],
      fallback: { name: 'F', criteria: {} },
      onNothing: 'CANCEL',
    });
    const split = 'must be a whole number from 1 to 10';
    const units = 'must be a whole number of units, 0 or more';
    assert.deepEqual(errors, [
      { path: 'maxSplit', message: split },
      { path: 'buffers.default', message: units },
      { path: 'buffers.locations.WH-1', message: units },
      { path: 'buffers.networks.DC', message: units },
      { path: 'buffers.percent', message: 'must be a percentage from 0 to 100' },
      { path: 'strategies[0].name', message: 'must not be empty' },
      { path: 'strategies[0].status', message: "must be 'ACTIVE' or 'INACTIVE'" },
      { path: 'strategies[0].network', message: 'must be a network name or a list of them' },
      { path: 'strategies[0].locationTypes', message: 'must list at least one value' },
      { path: 'strategies[0].maxSplit', message: split },
      { path: 'strategies[0].commit', message: "must be 'FULL_ONLY' or 'ALLOW_PARTIAL'" },
      { path: 'fallback.criteria', message: 'must be a list of criteria' },
      { path: 'onNothing', message: "must be 'BACKORDER'" },
    ]);
  });

  it('requires unique strategy names, fallback included', () => {
    assert.deepEqual(errorsOf({ version: 1, strategies: [{ name: 'A' }, { name: 'B' }, { name: 'A' }] }), [
      {
        path: 'strategies[2].name',
        message: '"A" is already the name of strategies[0]; names must be unique',
      },
    ]);
    assert.deepEqual(errorsOf({ version: 1, strategies: [{ name: 'A' }], fallback: { name: 'A' } }), [
      { path: 'fallback.name', message: '"A" is already the name of strategies[0]; names must be unique' },
    ]);
  });
});
