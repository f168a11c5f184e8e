// oms-route and oms-fluent-allocate through a real Node-RED runtime; allocation against the
// Fluent sandbox over real HTTP.
import assert from 'node:assert/strict';
import fluentAccountNode from '../../nodes/oms-fluent-account/oms-fluent-account';
import fluentAllocateNode from '../../nodes/oms-fluent-allocate/oms-fluent-allocate';
import routeNode from '../../nodes/oms-route/oms-route';
import { generateOrder } from '../../lib/sfcc/generate';
import { startFluentSandbox, type FluentSandbox } from '../../sandbox/fluent/server';
import { helper, nodeRedVersion } from '../helpers/runtime';
import { collect, coreNodes, eachWithRuntime, type FlowNode } from '../helpers/oms-runtime';

const credentials = { clientId: 'oms', clientSecret: 'secret', username: 'api', password: 'pass' };
const nodes = (): never[] => [
  ...coreNodes(),
  fluentAccountNode as never,
  fluentAllocateNode as never,
  routeNode as never,
];

describe(`oms-route and oms-fluent-allocate nodes (Node-RED ${nodeRedVersion})`, function () {
  this.timeout(20000);
  let fluent: FluentSandbox;
  eachWithRuntime('oms-fluent-');
  beforeEach(async () => {
    fluent = await startFluentSandbox({ ...credentials });
  });
  afterEach(async () => {
    await fluent.close();
  });

  const account = (password = credentials.password): { flow: FlowNode; creds: Record<string, unknown> } => ({
    flow: {
      id: 'account',
      type: 'oms-fluent-account',
      baseUrl: fluent.url,
      retailerId: '1',
      productCatalogueRef: 'PC:MASTER:1',
    },
    creds: { account: { ...credentials, password } },
  });

  const routing = JSON.stringify({
    version: 1,
    strategies: [
      { name: 'One warehouse', locationTypes: ['WAREHOUSE'], maxSplit: 1, criteria: [{ type: 'priority' }] },
    ],
  });

  it('routes an order with locations and inventory from Fluent, explaining the choice', async () => {
    const a = account();
    await helper.load(
      nodes(),
      [
        { id: 't1', type: 'tab' },
        a.flow,
        {
          id: 'route',
          z: 't1',
          type: 'oms-route',
          account: 'account',
          routing,
          wires: [['plan'], ['backorder']],
        },
        { id: 'plan', z: 't1', type: 'helper' },
        { id: 'backorder', z: 't1', type: 'helper' },
      ],
      a.creds,
    );
    const planned = collect('plan', 1);
    const order = generateOrder(12, 3);
    helper.getNode('route').receive({ payload: order, oms: { orderRef: order.orderRef } });
    const [msg] = await planned;
    const plan = msg.oms?.plan as {
      complete: boolean;
      fulfilments: Array<{ locationRef: string; lines: Array<{ sku: string; quantity: number }> }>;
    };
    assert.equal(plan.complete, true);
    assert.equal(plan.fulfilments.length, 1);
    assert.match(plan.fulfilments[0].locationRef, /^DC_/);
    const shipped = plan.fulfilments[0].lines.reduce((n, l) => n + l.quantity, 0);
    const ordered = order.lines.filter((l) => l.kind === 'product').reduce((n, l) => n + l.quantity, 0);
    assert.equal(shipped, ordered);
    const explained = msg.oms?.routing as { outcome: string; strategy: string };
    assert.equal(explained.outcome, 'allocated');
    assert.equal(explained.strategy, 'One warehouse');
  });

  it('asks Fluent for the locations once for orders that arrive together, then uses its cache', async () => {
    const a = account();
    await helper.load(
      nodes(),
      [
        { id: 't1', type: 'tab' },
        a.flow,
        { id: 'route', z: 't1', type: 'oms-route', account: 'account', routing, wires: [['plan'], ['plan']] },
        { id: 'plan', z: 't1', type: 'helper' },
      ],
      a.creds,
    );
    const routed = collect('plan', 30);
    for (let n = 1; n <= 30; n++) {
      const order = generateOrder(n, 3);
      helper.getNode('route').receive({ payload: order, oms: { orderRef: order.orderRef } });
    }
    assert.equal((await routed).length, 30);
    const asked = fluent.log().filter((e) => e.operationName === 'locations').length;
    assert.equal(asked, 1, `${asked} locations queries for 30 orders`);
  });

  it('backorders, with the reason, what no strategy can source from the inventory in the message', async () => {
    const flow: FlowNode[] = [
      { id: 't1', type: 'tab' },
      { id: 'route', z: 't1', type: 'oms-route', routing, wires: [['plan'], ['backorder']] },
      { id: 'plan', z: 't1', type: 'helper' },
      { id: 'backorder', z: 't1', type: 'helper' },
    ];
    await helper.load(nodes(), flow);
    const backordered = collect('backorder', 1);
    const order = generateOrder(13, 3);
    helper.getNode('route').receive({
      payload: order,
      oms: { orderRef: order.orderRef },
      locations: [{ ref: 'DC_A', type: 'WAREHOUSE', networks: [] }],
      inventory: [],
    });
    const [msg] = await backordered;
    assert.equal(msg.oms?.transition, 'backorder');
    const explained = msg.oms?.routing as { outcome: string; tried: Array<{ reason: string }> };
    assert.equal(explained.outcome, 'backordered');
    assert.match(explained.tried[0].reason, /short of/);
  });

  it('creates the order in Fluent once: a second run finds it; a refusal leaves by output 2', async () => {
    const a = account();
    await helper.load(
      nodes(),
      [
        { id: 't1', type: 'tab' },
        a.flow,
        {
          id: 'allocate',
          z: 't1',
          type: 'oms-fluent-allocate',
          account: 'account',
          concurrency: 4,
          wires: [['created'], ['refused']],
        },
        { id: 'created', z: 't1', type: 'helper' },
        { id: 'refused', z: 't1', type: 'helper' },
      ],
      a.creds,
    );
    const order = generateOrder(21, 3);
    const refusedOrder = generateOrder(22, 3);
    fluent.faults.rejectRef(refusedOrder.orderRef, 'C0160E');
    const created = collect('created', 2);
    const refused = collect('refused', 1);
    const node = helper.getNode('allocate');
    node.receive({ payload: order, oms: { orderRef: order.orderRef } });
    node.receive({ payload: refusedOrder, oms: { orderRef: refusedOrder.orderRef } });
    await new Promise((r) => setTimeout(r, 200));
    node.receive({ payload: order, oms: { orderRef: order.orderRef } });
    const out = await created;
    const results = out.map((m) => m.oms?.fluent as { fluentId: string; created: boolean });
    assert.deepEqual(results.map((r) => r.created).sort(), [false, true]);
    assert.equal(results[0].fluentId, results[1].fluentId);
    assert.equal(out[0].oms?.transition, 'allocate');
    assert.equal(fluent.orders().size, 1);
    const [no] = await refused;
    assert.equal((no.oms?.fluent as { error: { code: string } }).error.code, 'C0160E');
  });

  it('sends a refused login to Catch (not to "refused"): the order is not at fault', async () => {
    const a = account('wrong');
    await helper.load(
      nodes(),
      [
        { id: 't1', type: 'tab' },
        a.flow,
        {
          id: 'allocate',
          z: 't1',
          type: 'oms-fluent-allocate',
          account: 'account',
          wires: [['created'], ['refused']],
        },
        { id: 'created', z: 't1', type: 'helper' },
        { id: 'refused', z: 't1', type: 'helper' },
        {
          id: 'allocate-failed',
          z: 't1',
          type: 'catch',
          scope: ['allocate'],
          uncaught: false,
          wires: [['caught']],
        },
        { id: 'caught', z: 't1', type: 'helper' },
      ],
      a.creds,
    );
    const caught = collect('caught', 1);
    const order = generateOrder(30, 3);
    helper.getNode('allocate').receive({ payload: order, oms: { orderRef: order.orderRef } });
    assert.equal(((await caught)[0].error as { code: string }).code, 'OMS_FLUENT_AUTH');
  });
});
