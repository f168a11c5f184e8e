// Custody through a real Node-RED runtime: an order lost between two OMS nodes (a function node
// that drops it) is sent again from the checkpoint of the node it last passed once the lease
// lapses; one that never moves on is reported stalled and resumed again only by an operator.
import assert from 'node:assert/strict';
import { helper, nodeRedVersion } from '../helpers/runtime';
import {
  coreNodes,
  eachWithRuntime,
  omsNodes,
  until,
  type FlowNode,
  type Msg,
  type TestDir,
} from '../helpers/oms-runtime';
import { openSqliteStore, type Handoff } from '../../lib/store';
import { generateOrder } from '../../lib/sfcc/generate';
import addressCheckNode from '../../nodes/oms-address-check/oms-address-check';
import type { StoreNode } from '../../nodes/shared/store-registry';

const tab = { id: 't1', type: 'tab' };
const storeNode = (dir: TestDir): FlowNode => ({
  id: 'store',
  type: 'oms-store',
  name: 'custody test store',
  path: dir.storeFile,
  resumeAfter: '1',
});
const move = (id: string, event: string, next: string): FlowNode => ({
  id,
  z: 't1',
  type: 'oms-lifecycle',
  store: 'store',
  by: 'event',
  value: event,
  wires: [[next], []],
});

/** create → function (drops the first `drops` messages) → validate → out. */
function lossyFlow(dir: TestDir, drops: number): FlowNode[] {
  return [
    tab,
    storeNode(dir),
    move('life-create', 'create', 'lossy'),
    {
      id: 'lossy',
      z: 't1',
      type: 'function',
      func: `const seen = context.get('seen') || 0; context.set('seen', seen + 1); return seen < ${drops} ? null : msg;`,
      outputs: 1,
      wires: [['life-validate']],
    },
    move('life-validate', 'validate', 'out'),
    { id: 'out', z: 't1', type: 'helper' },
  ];
}

/** create → validate → retry → out: validate goes straight into a node that always writes. */
function intoRetryFlow(dir: TestDir): FlowNode[] {
  return [
    tab,
    storeNode(dir),
    move('life-create', 'create', 'life-validate'),
    move('life-validate', 'validate', 'retry'),
    { id: 'retry', z: 't1', type: 'oms-retry', store: 'store', requireAck: true, wires: [['out'], []] },
    { id: 'out', z: 't1', type: 'helper' },
  ];
}

/** create → validate → pay → retry → out: validate and pay stay under create's checkpoint. */
function chainFlow(dir: TestDir): FlowNode[] {
  return [
    tab,
    storeNode(dir),
    move('life-create', 'create', 'life-validate'),
    move('life-validate', 'validate', 'life-pay'),
    move('life-pay', 'authorizePayment', 'retry'),
    { id: 'retry', z: 't1', type: 'oms-retry', store: 'store', requireAck: true, wires: [['out'], []] },
    { id: 'out', z: 't1', type: 'helper' },
  ];
}

/** A checkpoint of node life-create holding `message`, written by a runtime that has stopped. */
async function leftByStoppedRuntime(
  dir: TestDir,
  orderRef: string,
  token: string,
  message: object,
): Promise<void> {
  const other = openSqliteStore({ file: dir.storeFile });
  try {
    const result = await other.custody.handOff({
      orderRef,
      holder: 'life-create',
      kind: 'checkpoint',
      port: 0,
      message: JSON.stringify(message),
      token,
      owner: 'a-runtime-that-stopped',
      at: 0,
      leaseUntil: 0,
    });
    assert.deepEqual(result, { ok: true });
  } finally {
    await other.close();
  }
}

/** The custody rows the admin API reports stalled, once there is one. */
function stalledOrders(
  what: string,
  ms: number,
): Promise<Array<{ orderRef: string; stalledReason?: string }>> {
  return until(
    what,
    async () => {
      const res = await helper.request().get('/oms/custody?stalled=true').expect(200);
      const items = (res.body as { items: Array<{ orderRef: string; stalledReason?: string }> }).items;
      return items.length > 0 ? items : undefined;
    },
    ms,
  );
}

describe(`custody: checkpoints, resumption and stalled orders (Node-RED ${nodeRedVersion})`, function () {
  this.timeout(30000);
  let dir: TestDir;
  const current = eachWithRuntime('oms-custody-');
  beforeEach(() => {
    dir = current();
  });

  it('sends an order lost after a step again from that step, once, and it goes on', async () => {
    await helper.load([...omsNodes(), ...coreNodes()], lossyFlow(dir, 1));
    const arrived: Msg[] = [];
    helper.getNode('out').on('input', (msg: Msg) => arrived.push(msg));
    helper.getNode('life-create').receive({ payload: {}, oms: { orderRef: 'L1', correlationId: 'c1' } });
    await until('the resumed order to arrive', () => arrived.length === 1, 15000);
    assert.equal((arrived[0].oms?.resumed as { count?: number } | undefined)?.count, 1);
    assert.equal(arrived[0].oms?.state, 'Validated');
    const res = await helper.request().get('/oms/custody?orderRef=L1').expect(200);
    const body = res.body as { items: Array<{ kind: string; holder: string; state: string }> };
    assert.deepEqual(
      body.items.map((r) => [r.kind, r.holder, r.state]),
      [['end', 'life-validate', 'Validated']],
    );
    await new Promise((r) => setTimeout(r, 2500)); // another lease: nothing is sent twice
    assert.equal(arrived.length, 1);
  });

  it('reports an order that never moves on as stalled; an operator resumes it with a reason', async () => {
    await helper.load([...omsNodes(), ...coreNodes()], lossyFlow(dir, 1000));
    helper.getNode('life-create').receive({ payload: {}, oms: { orderRef: 'S1', correlationId: 'c2' } });
    const stalled = await stalledOrders('the order to be reported stalled', 20000);
    assert.equal(stalled[0].orderRef, 'S1');
    assert.match(stalled[0].stalledReason ?? '', /resumed 5 times from node life-create without moving on/);
    const counts = (await helper.request().get('/oms/custody').expect(200)).body as {
      counts: { stalled: number };
    };
    assert.equal(counts.counts.stalled, 1);
    await helper.request().post('/oms/custody/S1/resume').send({}).expect(400);
    await helper.request().post('/oms/custody/S1/resume').send({ reason: 'peer fixed' }).expect(200);
    await helper.request().post('/oms/custody/S1/resume').send({ reason: 'again' }).expect(409);
    const detail = (await helper.request().get('/oms/custody/S1').expect(200)).body as { stalledAt?: number };
    assert.equal(detail.stalledAt, undefined);
    // The retry is in the audit trail, with who and why.
    const store = openSqliteStore({ file: dir.storeFile });
    try {
      const trail = await store.orders.trail('S1');
      assert.ok(
        trail.some((e) => e.kind === 'note' && (e.detail as { reason?: string }).reason === 'peer fixed'),
      );
    } finally {
      await store.close();
    }
  });

  it('reports a checkpoint it cannot read as stalled with the reason, and resumes the others', async () => {
    await helper.load([...omsNodes(), ...coreNodes()], lossyFlow(dir, 1));
    const arrived: Msg[] = [];
    helper.getNode('out').on('input', (msg: Msg) => arrived.push(msg));
    // A checkpoint whose msg.oms no step can read (written by a runtime that has stopped).
    await leftByStoppedRuntime(dir, 'X1', 'bad-1', { payload: {}, oms: { orderRef: 'X1', state: 7 } });
    helper.getNode('life-create').receive({ payload: {}, oms: { orderRef: 'G1', correlationId: 'c3' } });
    const stalled = await stalledOrders('the unreadable checkpoint to be reported stalled', 15000);
    assert.deepEqual(
      stalled.map((r) => r.orderRef),
      ['X1'],
    );
    assert.match(
      stalled[0].stalledReason ?? '',
      /checkpoint from node life-create cannot be read: .*msg\.oms\.state/,
    );
    await until('the readable order to be resumed', () => arrived.length === 1, 15000);
    assert.equal(arrived[0].oms?.orderRef, 'G1');
  });

  it('lets a move that goes straight into a retry stay under the checkpoint it came with', async () => {
    await helper.load([...omsNodes(), ...coreNodes()], intoRetryFlow(dir));
    // Which nodes write a custody row (the SQLite store's handoff, inside each node's write).
    const custody = (helper.getNode('store') as unknown as StoreNode).store?.custody as unknown as {
      handOffSync(h: Handoff): unknown;
    };
    const handOffSync = custody.handOffSync.bind(custody);
    const writers: string[] = [];
    custody.handOffSync = (h: Handoff) => {
      writers.push(h.holder);
      return handOffSync(h);
    };
    const arrived: Msg[] = [];
    helper.getNode('out').on('input', (msg: Msg) => arrived.push(msg));
    helper.getNode('life-create').receive({ payload: {}, oms: { orderRef: 'R1', correlationId: 'c4' } });
    await until('the order to reach the retry step', () => arrived.length === 1, 10000);
    assert.equal(arrived[0].oms?.state, 'Validated');
    assert.deepEqual(writers, ['life-create', 'retry'], 'validate wrote no row of its own');
    const rows = (await helper.request().get('/oms/custody?orderRef=R1').expect(200)).body as {
      items: Array<{ kind: string; holder: string }>;
    };
    assert.deepEqual(
      rows.items.map((r) => [r.kind, r.holder]),
      [['retry', 'retry']],
    );
  });

  it('takes a copy straight from an OMS node without a look at the store, and refuses it at its write once overtaken', async () => {
    // Two copies of one order under one token (a resumed duplicate and the original) pass the
    // address check together; each reaches the move straight from it, vouched for.
    const order = generateOrder(3);
    const other = openSqliteStore({ file: dir.storeFile });
    try {
      await other.orders.transition({ orderRef: order.orderRef, at: Date.now(), nodeId: 'earlier' }, () => ({
        ok: true,
        to: 'Created',
        event: 'create',
      }));
      const at = Date.now();
      const held = { orderRef: order.orderRef, holder: 'earlier', kind: 'checkpoint' as const, port: 0 };
      const lease = { token: 'k-1', owner: 'a-runtime', at, leaseUntil: at + 600_000 };
      assert.deepEqual(await other.custody.handOff({ ...held, ...lease, message: '{}' }), { ok: true });
    } finally {
      await other.close();
    }
    await helper.load(
      [...omsNodes(), addressCheckNode, ...coreNodes()],
      [
        tab,
        storeNode(dir),
        {
          id: 'check',
          z: 't1',
          type: 'oms-address-check',
          store: 'store',
          wires: [['life-validate'], ['life-validate'], []],
        },
        move('life-validate', 'validate', 'out'),
        { id: 'out', z: 't1', type: 'helper' },
      ],
    );
    const custody = (helper.getNode('store') as unknown as StoreNode).store?.custody as unknown as {
      tokenOf(orderRef: string): Promise<string | undefined>;
    };
    const tokenOf = custody.tokenOf.bind(custody);
    let lookups = 0;
    custody.tokenOf = (orderRef: string) => {
      lookups++;
      return tokenOf(orderRef);
    };
    const arrived: Msg[] = [];
    helper.getNode('out').on('input', (msg: Msg) => arrived.push(msg));
    const copy = (): Msg => ({
      payload: structuredClone(order),
      oms: { orderRef: order.orderRef, state: 'Created', custody: { token: 'k-1', holder: 'earlier' } },
    });
    helper.getNode('check').receive(copy());
    helper.getNode('check').receive(copy());
    await until('one copy to be moved', () => arrived.length === 1, 10000);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(arrived.length, 1, 'the overtaken copy went no further');
    assert.equal(lookups, 2, 'the address check looked each copy up; the move none');
    const store = openSqliteStore({ file: dir.storeFile });
    try {
      const moves = (await store.orders.trail(order.orderRef)).filter((e) => e.nodeId === 'life-validate');
      assert.deepEqual(
        moves.map((e) => [e.kind, e.to, (e.detail as { idempotent?: boolean } | undefined)?.idempotent]),
        [['transition', 'Validated', undefined]],
        'one move; the second copy left no trace',
      );
      assert.equal((await store.custody.get(order.orderRef))?.holder, 'life-validate');
    } finally {
      await store.close();
    }
  });

  it('runs such a move again, idempotently, when its order is resumed from that checkpoint', async () => {
    // As a crash leaves it: validate's move committed, the retry never stored the order, and
    // create's checkpoint (the message as it left create, state Created) belongs to a runtime
    // that has stopped.
    const other = openSqliteStore({ file: dir.storeFile });
    try {
      const at = Date.now();
      for (const [event, to] of [
        ['create', 'Created'],
        ['validate', 'Validated'],
      ])
        await other.orders.transition({ orderRef: 'V1', at, nodeId: 'before-the-crash' }, () => ({
          ok: true,
          to,
          event,
        }));
    } finally {
      await other.close();
    }
    await leftByStoppedRuntime(dir, 'V1', 'k-1', {
      payload: {},
      oms: {
        orderRef: 'V1',
        correlationId: 'c5',
        state: 'Created',
        custody: { token: 'k-1', holder: 'life-create' },
      },
    });
    await helper.load([...omsNodes(), ...coreNodes()], intoRetryFlow(dir));
    const arrived: Msg[] = [];
    helper.getNode('out').on('input', (msg: Msg) => arrived.push(msg));
    await until('the resumed order to reach the retry step', () => arrived.length === 1, 15000);
    assert.equal(arrived[0].oms?.state, 'Validated');
    const store = openSqliteStore({ file: dir.storeFile });
    try {
      const trail = await store.orders.trail('V1');
      const again = trail.filter((e) => e.nodeId === 'life-validate');
      assert.equal(again.length, 1);
      assert.equal(again[0].kind, 'transition');
      assert.equal((again[0].detail as { idempotent?: boolean }).idempotent, true);
      assert.equal((await store.custody.get('V1'))?.holder, 'retry');
    } finally {
      await store.close();
    }
    await new Promise((r) => setTimeout(r, 1500)); // another scan: nothing is sent twice
    assert.equal(arrived.length, 1);
  });
  it('runs a chain of moves that stayed under one checkpoint again from it, each from the message’s state', async () => {
    // As a crash leaves it: validate and pay moved the order under create's checkpoint (token
    // k-1, the message as it left create, state Created), the retry never stored it, and the
    // runtime that held the checkpoint has stopped.
    await leftByStoppedRuntime(dir, 'V2', 'k-1', {
      payload: {},
      oms: {
        orderRef: 'V2',
        correlationId: 'c6',
        state: 'Created',
        custody: { token: 'k-1', holder: 'life-create' },
      },
    });
    const other = openSqliteStore({ file: dir.storeFile });
    try {
      const at = Date.now();
      for (const [event, to] of [
        ['create', 'Created'],
        ['validate', 'Validated'],
        ['authorizePayment', 'PaymentAuthorized'],
      ])
        await other.orders.transition(
          { orderRef: 'V2', at, nodeId: 'before-the-crash' },
          () => ({ ok: true, to, event }),
          () => ({ stay: { orderRef: 'V2', expect: 'k-1', state: to } }),
        );
    } finally {
      await other.close();
    }
    await helper.load([...omsNodes(), ...coreNodes()], chainFlow(dir));
    const arrived: Msg[] = [];
    helper.getNode('out').on('input', (msg: Msg) => arrived.push(msg));
    await until('the resumed order to reach the retry step', () => arrived.length === 1, 15000);
    assert.equal(arrived[0].oms?.state, 'PaymentAuthorized');
    const store = openSqliteStore({ file: dir.storeFile });
    try {
      const trail = await store.orders.trail('V2');
      const again = trail.filter((e) => e.nodeId === 'life-validate' || e.nodeId === 'life-pay');
      assert.deepEqual(
        again.map((e) => [
          e.kind,
          e.from,
          e.to,
          (e.detail as { ranAgainOver?: string } | undefined)?.ranAgainOver,
        ]),
        [
          ['transition', 'Created', 'Validated', 'PaymentAuthorized'],
          ['transition', 'Validated', 'PaymentAuthorized', undefined],
        ],
        'validate decided from the message’s Created, not refused from PaymentAuthorized',
      );
      assert.equal((await store.orders.get('V2'))?.state, 'PaymentAuthorized');
      assert.equal((await store.custody.get('V2'))?.holder, 'retry');
    } finally {
      await store.close();
    }
    await new Promise((r) => setTimeout(r, 1500)); // another scan: nothing is sent twice
    assert.equal(arrived.length, 1);
  });
});
