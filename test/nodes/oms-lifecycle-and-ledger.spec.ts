import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { generateOrder } from '../../lib/sfcc/generate';
import { renderOrderXml, xmlFooter, xmlHeader } from '../../lib/sfcc/render';
import { openSqliteStore, orderContentHash } from '../../lib/store';
import { helper, nodeRedVersion } from '../helpers/runtime';
import {
  collect,
  coreNodes,
  omsNodes,
  storeConfig,
  eachWithRuntime,
  type FlowNode,
  type TestDir,
} from '../helpers/oms-runtime';

function exportFile(dir: string, name: string, numbers: number[], edit?: (xml: string) => string): string {
  const file = path.join(dir, name);
  const body = numbers.map((n) => renderOrderXml(generateOrder(n, 7))).join('');
  writeFileSync(file, xmlHeader() + (edit ? edit(body) : body) + xmlFooter());
  return file;
}

const importFlow = (dir: TestDir, firstOutput: string[], extra: FlowNode[] = []): FlowNode[] => [
  { id: 't1', type: 'tab', env: [{ name: 'OMS_TEMPLATE', type: 'str', value: 'order-lifecycle@1.0.0' }] },
  storeConfig(dir.storeFile),
  {
    id: 'imp',
    z: 't1',
    type: 'oms-sfcc-import',
    store: 'store',
    format: 'auto',
    wires: [firstOutput, ['rejected'], ['summary'], ['again']],
  },
  { id: 'valid', z: 't1', type: 'helper' },
  { id: 'rejected', z: 't1', type: 'helper' },
  { id: 'summary', z: 't1', type: 'helper' },
  { id: 'again', z: 't1', type: 'helper' },
  ...extra,
];

describe(`oms-sfcc-import with a store: the idempotency ledger (Node-RED ${nodeRedVersion})`, function () {
  let dir: TestDir;
  const current = eachWithRuntime('oms-ledger-');
  beforeEach(() => {
    dir = current();
  });

  it('sends an order exported again in another file to "already imported", and a changed one as UPDATED', async () => {
    const first = exportFile(dir.dir, 'day1.xml', [1, 2, 3]);
    // Day 2: order 2 again unchanged, order 3 with a new customer e-mail, order 4 new.
    const second = exportFile(dir.dir, 'day2.xml', [2, 3, 4], (xml) =>
      xml.replace(/(<order order-no="00000003">[\s\S]*?<customer-email>)[^<]*/, '$1changed@example.com'),
    );
    await helper.load([...omsNodes(), ...coreNodes()], importFlow(dir, ['valid']));
    let summary = collect('summary', 1);
    const valid1 = collect('valid', 3);
    helper.getNode('imp').receive({ filename: first });
    await valid1;
    assert.equal(
      (await summary)[0].payload &&
        ((await summary)[0].payload as { alreadyImported: number }).alreadyImported,
      0,
    );

    summary = collect('summary', 1);
    const valid2 = collect('valid', 2);
    const again = collect('again', 1);
    helper.getNode('imp').receive({ filename: second });
    const [duplicate] = await again;
    assert.equal(duplicate.oms?.orderRef, '00000002');
    const ledger = duplicate.oms?.ledger as { status: string; key: string; seenCount: number };
    assert.equal(ledger.status, 'duplicate');
    assert.equal(ledger.seenCount, 2);
    assert.match(ledger.key, /^sfcc\/.*\/00000002$/);
    const byRef = new Map((await valid2).map((m) => [m.oms?.orderRef, m]));
    assert.deepEqual(byRef.get('00000003')?.oms?.flags, ['UPDATED']);
    assert.equal((byRef.get('00000003')?.oms?.ledger as { status: string }).status, 'update');
    assert.deepEqual(byRef.get('00000004')?.oms?.flags, []);
    const totals = (await summary)[0].payload as Record<string, number>;
    assert.deepEqual(
      { accepted: totals.accepted, alreadyImported: totals.alreadyImported, updates: totals.updates },
      { accepted: 3, alreadyImported: 1, updates: 1 },
    );
  });

  it('delivers again, flagged REDELIVERED, an order read before a crash that no durable step took', async () => {
    const file = exportFile(dir.dir, 'orders.xml', [11, 12]);
    // A previous process read order 11 in a batch that never completed, and then died.
    const before = openSqliteStore({ file: dir.storeFile });
    const order = generateOrder(11, 7);
    await before.ledger.receive(
      [
        {
          key: { source: 'sfcc', site: order.source.siteId ?? '', orderNo: order.orderRef },
          hash: orderContentHash(order),
          batchId: 'dead',
        },
      ],
      1,
    );
    await before.close();

    await helper.load([...omsNodes(), ...coreNodes()], importFlow(dir, ['valid']));
    const valid = collect('valid', 2);
    helper.getNode('imp').receive({ filename: file });
    const byRef = new Map((await valid).map((m) => [m.oms?.orderRef, m]));
    assert.deepEqual(byRef.get('00000011')?.oms?.flags, ['REDELIVERED']);
    assert.deepEqual(byRef.get('00000012')?.oms?.flags, []);
  });
});

describe(`oms-lifecycle node (Node-RED ${nodeRedVersion})`, function () {
  let dir: TestDir;
  const current = eachWithRuntime('oms-lifecycle-');
  beforeEach(() => {
    dir = current();
  });

  const lifecycle = (id: string, by: string, value: string, next: string): FlowNode => ({
    id,
    z: 't1',
    type: 'oms-lifecycle',
    store: 'store',
    by,
    value,
    wires: [[next], ['refused']],
  });
  /** One lifecycle node 'lc' (create) whose errors a Catch node sends to 'caught'. */
  const caughtFlow = (dir: TestDir): FlowNode[] => [
    { id: 't1', type: 'tab' },
    storeConfig(dir.storeFile),
    lifecycle('lc', 'event', 'create', 'moved'),
    { id: 'moved', z: 't1', type: 'helper' },
    { id: 'refused', z: 't1', type: 'helper' },
    { id: 'lc-failed', z: 't1', type: 'catch', scope: ['lc'], uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 't1', type: 'helper' },
  ];

  it('moves an imported order Created → Validated, refuses an illegal move, and keeps the audit trail', async () => {
    const file = exportFile(dir.dir, 'orders.xml', [21]);
    const flow = importFlow(
      dir,
      ['created'],
      [
        lifecycle('created', 'event', 'create', 'validated'),
        lifecycle('validated', 'state', 'Validated', 'shipped'),
        lifecycle('shipped', 'event', 'ship', 'valid'),
        { id: 'refused', z: 't1', type: 'helper' },
      ],
    );
    await helper.load([...omsNodes(), ...coreNodes()], flow);
    const refused = collect('refused', 1);
    helper.getNode('imp').receive({ filename: file });
    const [msg] = await refused;
    assert.equal(msg.oms?.state, 'Validated');
    const refusal = msg.oms?.lifecycle as Record<string, unknown>;
    assert.equal(refusal.from, 'Validated');
    assert.equal(refusal.to, 'Shipped');
    assert.equal(refusal.rule, 'illegal-transition');
    assert.match(String(refusal.reason), /ship/);

    const res = await helper.request().get('/oms/orders/00000021').expect(200);
    const body = res.body as { state: string; trail: Array<Record<string, unknown>> };
    assert.equal(body.state, 'Validated');
    assert.deepEqual(
      body.trail.map((e) => [e.kind, e.from ?? null, e.to, e.event, e.nodeId, e.template]),
      [
        ['transition', null, 'Created', 'create', 'created', 'order-lifecycle@1.0.0'],
        ['transition', 'Created', 'Validated', 'validate', 'validated', 'order-lifecycle@1.0.0'],
        ['refused', 'Validated', 'Shipped', 'ship', 'shipped', 'order-lifecycle@1.0.0'],
      ],
    );
    assert.ok(
      body.trail.every((e) => e.correlationId === msg.oms?.correlationId && typeof e.at === 'string'),
    );

    // The lifecycle node took the order, so importing the file again finds it already imported.
    const again = collect('again', 1);
    helper.getNode('imp').receive({ filename: file });
    assert.equal((await again)[0].oms?.orderRef, '00000021');
  });

  it('reads the event or state from msg.oms.transition, and re-applying the current state is idempotent', async () => {
    await helper.load(
      [...omsNodes(), ...coreNodes()],
      importFlow(
        dir,
        ['valid'],
        [lifecycle('any', 'event', '', 'valid'), { id: 'refused', z: 't1', type: 'helper' }],
      ),
    );
    const moved = collect('valid', 3);
    const node = helper.getNode('any');
    node.receive({ oms: { orderRef: 'T1', transition: 'create', correlationId: 'c' } });
    node.receive({ oms: { orderRef: 'T1', transition: 'Validated', correlationId: 'c' } });
    node.receive({ oms: { orderRef: 'T1', transition: 'Validated', correlationId: 'c' } });
    const out = await moved;
    assert.deepEqual(
      out.map((m) => [m.oms?.state, (m.oms?.lifecycle as { idempotent: boolean }).idempotent]),
      [
        ['Created', false],
        ['Validated', false],
        ['Validated', true],
      ],
    );
  });

  it('keeps its counts in the store: a restart starts from them, and adds to them', async () => {
    const flow = importFlow(
      dir,
      ['valid'],
      [lifecycle('any', 'event', '', 'valid'), { id: 'refused', z: 't1', type: 'helper' }],
    );
    await helper.load([...omsNodes(), ...coreNodes()], flow);
    let moved = collect('valid', 2);
    const refused = collect('refused', 1);
    const node = () => helper.getNode('any');
    node().receive({ oms: { orderRef: 'K1', transition: 'create' } });
    node().receive({ oms: { orderRef: 'K2', transition: 'create' } });
    node().receive({ oms: { orderRef: 'K1', transition: 'ship' } });
    await Promise.all([moved, refused]);
    await helper.unload(); // closing flushes what the last second counted
    const store = openSqliteStore({ file: dir.storeFile });
    assert.deepEqual(await store.counters.read('any'), { moved: 2, refused: 1 });
    await store.close();

    await helper.load([...omsNodes(), ...coreNodes()], flow);
    moved = collect('valid', 1);
    node().receive({ oms: { orderRef: 'K3', transition: 'create' } });
    await moved;
    await helper.unload();
    const after = openSqliteStore({ file: dir.storeFile });
    assert.deepEqual(await after.counters.read('any'), { moved: 3, refused: 1 });
    await after.close();
  });

  it('settles the import ledger entry of a copy that moves untracked (its order held elsewhere)', async () => {
    const key = { source: 'sfcc', site: 'RefArch', orderNo: 'U1' };
    const before = openSqliteStore({ file: dir.storeFile });
    await before.ledger.receive([{ key, hash: 'h', batchId: 'b1' }], 1);
    await before.ledger.completeBatch('b1', 2, false); // waits for the step that takes it
    // Another step holds the order in flight (the same order imported again meanwhile).
    await before.custody.handOff({
      orderRef: 'U1',
      holder: 'elsewhere',
      kind: 'checkpoint',
      port: 0,
      message: '{}',
      token: 'held',
      owner: 'another-runtime',
      at: Date.now(),
      leaseUntil: Date.now() + 3_600_000,
    });
    await before.close();

    await helper.load([...omsNodes(), ...coreNodes()], caughtFlow(dir));
    const moved = collect('moved', 1);
    helper.getNode('lc').receive({ oms: { orderRef: 'U1', ledgerKey: 'sfcc/RefArch/U1' } });
    const [msg] = await moved;
    assert.equal(msg.oms?.state, 'Created');
    assert.equal(msg.oms?.custody, undefined, 'moved untracked');
    const after = openSqliteStore({ file: dir.storeFile });
    try {
      assert.equal(await after.custody.tokenOf('U1'), 'held', 'the other step keeps the order');
      const [verdict] = await after.ledger.receive([{ key, hash: 'h', batchId: 'b2' }], 3);
      assert.equal(verdict.status, 'duplicate', 'settled: not delivered again');
    } finally {
      await after.close();
    }
  });

  it('refuses a msg.oms it cannot read through Catch with OMS_BAD_ENVELOPE, naming order and field', async () => {
    await helper.load([...omsNodes(), ...coreNodes()], caughtFlow(dir));
    const caught = collect('caught', 1);
    helper.getNode('lc').receive({ oms: { orderRef: 'B1', correlationId: 42 } });
    const [msg] = await caught;
    const error = msg.error as { code: string; message: string };
    assert.equal(error.code, 'OMS_BAD_ENVELOPE');
    assert.match(error.message, /order B1: msg\.oms\.correlationId: .*string/);
  });

  it('reports a message without msg.oms.orderRef through Catch with OMS_NO_ORDER_REF', async () => {
    await helper.load([...omsNodes(), ...coreNodes()], caughtFlow(dir));
    const caught = collect('caught', 1);
    helper.getNode('lc').receive({ payload: {} });
    const [msg] = await caught;
    assert.equal((msg.error as { code: string }).code, 'OMS_NO_ORDER_REF');
  });
});
