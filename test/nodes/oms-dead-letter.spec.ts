import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { helper, nodeRedVersion } from '../helpers/runtime';
import {
  collect,
  coreNodes,
  omsNodes,
  storeConfig,
  until,
  eachWithRuntime,
  type FlowNode,
  type TestDir,
} from '../helpers/oms-runtime';

/** A step that always fails; its Catch parks the message in the dead-letter queue. */
const flow = (dir: TestDir, storePath = dir.storeFile): FlowNode[] => [
  { id: 't1', type: 'tab' },
  storeConfig(storePath),
  {
    id: 'step',
    z: 't1',
    type: 'function',
    name: 'call peer',
    func: `const e = new Error('peer refused ' + msg.oms.orderRef); e.code = msg.payload.code; node.error(e, msg); return null;`,
    outputs: 1,
    wires: [[]],
  },
  { id: 'step-failed', z: 't1', type: 'catch', scope: ['step'], uncaught: false, wires: [['dlq']] },
  { id: 'dlq', z: 't1', type: 'oms-dead-letter', store: 'store', wires: [['replayed']] },
  { id: 'replayed', z: 't1', type: 'helper' },
];

const failing = (orderRef: string, code: string) => ({
  payload: { orderRef, code },
  headers: { Authorization: 'Bearer secret-token', 'x-trace': 't1' },
  oms: {
    orderRef,
    correlationId: `c-${orderRef}`,
    attempts: 0,
    template: { name: 'order-lifecycle', version: '1.0.0' },
  },
});

type Letter = {
  id: number;
  orderRef: string;
  status: string;
  attempts: number;
  error: { code: string; message: string; source: { id: string; type: string; name: string } };
  template: string;
  createdAt: string;
};

describe(`oms-dead-letter node and the admin API (Node-RED ${nodeRedVersion})`, function () {
  let dir: TestDir;
  const current = eachWithRuntime('oms-dlq-');
  beforeEach(() => {
    dir = current();
  });

  async function park(...orders: Array<[string, string]>): Promise<Letter[]> {
    for (const [ref, code] of orders) helper.getNode('step').receive(failing(ref, code));
    return until('the letters', async () => {
      const res = await helper.request().get('/oms/dead-letters').expect(200);
      const body = res.body as { items: Letter[]; total: number };
      return body.total === orders.length ? body.items : undefined;
    });
  }

  it('parks a failed message with its error, source node, attempts, times and template', async () => {
    await helper.load([...omsNodes(), ...coreNodes()], flow(dir));
    const [letter] = await park(['D1', 'C0121E']);
    assert.equal(letter.orderRef, 'D1');
    assert.equal(letter.status, 'parked');
    assert.equal(letter.attempts, 1);
    assert.equal(letter.error.code, 'C0121E');
    assert.equal(letter.error.message, 'peer refused D1');
    assert.deepEqual(letter.error.source, { id: 'step', type: 'function', name: 'call peer' });
    assert.equal(letter.template, 'order-lifecycle@1.0.0');
    assert.match(letter.createdAt, /^\d{4}-\d{2}-\d{2}T/);

    const detail = (await helper.request().get(`/oms/dead-letters/${letter.id}`).expect(200)).body as {
      message: { payload: unknown; headers: Record<string, string>; error?: unknown };
      trail: Array<{ kind: string }>;
    };
    assert.deepEqual(detail.message.payload, { orderRef: 'D1', code: 'C0121E' });
    assert.equal(detail.message.headers.Authorization, '[redacted]', 'secrets never reach the view');
    assert.equal(detail.message.headers['x-trace'], 't1');
    assert.equal(detail.message.error, undefined, 'the stored message is the one before the failure');
    assert.deepEqual(
      detail.trail.map((e) => e.kind),
      ['dead-letter'],
    );
  });

  it('replays a letter once through its node output, without the error, and discards only with a reason', async () => {
    await helper.load([...omsNodes(), ...coreNodes()], flow(dir));
    const [b, a] = await park(['A1', 'X'], ['B1', 'Y']);
    assert.deepEqual([a.orderRef, b.orderRef], ['A1', 'B1'], 'newest first');

    const replayed = collect('replayed', 1);
    await helper.request().post(`/oms/dead-letters/${a.id}/replay`).expect(200);
    const [msg] = await replayed;
    assert.deepEqual(msg.payload, { orderRef: 'A1', code: 'X' });
    assert.equal(msg.error, undefined);
    assert.equal(msg.oms?.attempts, 0);
    assert.deepEqual((msg.oms?.replay as { deadLetterId: number; count: number }).deadLetterId, a.id);
    assert.equal((msg.oms?.replay as { count: number }).count, 1);
    assert.equal(
      (msg.headers as Record<string, string>).Authorization,
      'Bearer secret-token',
      'replay is exact',
    );
    const again = await helper.request().post(`/oms/dead-letters/${a.id}/replay`).expect(409);
    assert.equal((again.body as { error: { code: string } }).error.code, 'OMS_ALREADY_RESOLVED');

    const noReason = await helper.request().delete(`/oms/dead-letters/${b.id}`).send({}).expect(400);
    assert.equal((noReason.body as { error: { code: string } }).error.code, 'OMS_REASON_REQUIRED');
    await helper
      .request()
      .delete(`/oms/dead-letters/${b.id}`)
      .send({ reason: 'cancelled by the customer' })
      .expect(200);
    await helper.request().get('/oms/dead-letters/999').expect(404);

    const left = (await helper.request().get('/oms/dead-letters').expect(200)).body as { total: number };
    assert.equal(left.total, 0);
    const all = (await helper.request().get('/oms/dead-letters?status=all').expect(200)).body as {
      items: Letter[];
    };
    assert.deepEqual(all.items.map((l) => l.status).sort(), ['discarded', 'replayed']);
    const order = (await helper.request().get('/oms/orders/B1').expect(200)).body as {
      trail: Array<{ kind: string; detail: { reason?: string } }>;
    };
    assert.deepEqual(
      order.trail.map((e) => e.kind),
      ['dead-letter', 'discard'],
    );
    assert.equal(order.trail[1].detail.reason, 'cancelled by the customer');
    await helper.request().get('/oms/orders/NOPE').expect(404);
  });

  it('filters by error code, order, text and time, pages, and replays in bulk by filter', async () => {
    await helper.load([...omsNodes(), ...coreNodes()], flow(dir));
    await park(['F1', 'HTTP_503'], ['F2', 'HTTP_503'], ['F3', 'C0121E']);
    const byCode = (await helper.request().get('/oms/dead-letters?code=HTTP_503').expect(200)).body as {
      items: Letter[];
    };
    assert.deepEqual(byCode.items.map((l) => l.orderRef).sort(), ['F1', 'F2']);
    const byOrder = (await helper.request().get('/oms/dead-letters?order=F3').expect(200)).body as {
      total: number;
    };
    assert.equal(byOrder.total, 1);
    const byText = (await helper.request().get('/oms/dead-letters?q=refused%20f2').expect(200)).body as {
      items: Letter[];
    };
    assert.deepEqual(
      byText.items.map((l) => l.orderRef),
      ['F2'],
    );
    const future = new Date(Date.now() + 60_000).toISOString();
    const none = (await helper.request().get(`/oms/dead-letters?since=${future}`).expect(200)).body as {
      total: number;
    };
    assert.equal(none.total, 0);
    await helper.request().get('/oms/dead-letters?since=yesterday').expect(400);
    const page = (await helper.request().get('/oms/dead-letters?limit=2&offset=2').expect(200)).body as {
      items: Letter[];
      total: number;
    };
    assert.equal(page.total, 3);
    assert.equal(page.items.length, 1);

    await helper.request().post('/oms/dead-letters/replay').send({}).expect(400);
    const replayed = collect('replayed', 2);
    const bulk = (
      await helper.request().post('/oms/dead-letters/replay').send({ code: 'HTTP_503' }).expect(200)
    ).body as { replayed: number[]; skipped: unknown[] };
    assert.equal(bulk.replayed.length, 2);
    assert.deepEqual(bulk.skipped, []);
    assert.deepEqual((await replayed).map((m) => m.oms?.orderRef).sort(), ['F1', 'F2']);
  });

  it('refuses to replay a letter whose node is no longer deployed, and keeps it parked', async () => {
    await helper.load([...omsNodes(), ...coreNodes()], flow(dir));
    const [letter] = await park(['G1', 'X']);
    await helper.unload();
    // Same store file, but the dead-letter node that parked the letter is gone.
    await helper.load(
      [...omsNodes(), ...coreNodes()],
      [{ id: 't1', type: 'tab' }, storeConfig(dir.storeFile)],
    );
    const res = await helper.request().post(`/oms/dead-letters/${letter.id}/replay`).expect(409);
    assert.equal((res.body as { error: { code: string } }).error.code, 'OMS_NODE_NOT_DEPLOYED');
    const still = (await helper.request().get(`/oms/dead-letters/${letter.id}`).expect(200)).body as Letter;
    assert.equal(still.status, 'parked');
  });

  it('writes the letter to a fallback file in the user dir when the store cannot be opened', async () => {
    // The store path is below a regular file, so the store cannot open.
    const blocked = path.join(dir.dir, 'not-a-dir');
    writeFileSync(blocked, '');
    const withCatch = flow(dir, path.join(blocked, 'oms.db'));
    Object.assign(withCatch.find((n) => n.id === 'step-failed') as FlowNode, {
      scope: ['step', 'dlq'],
      wires: [['dlq', 'caught']],
    });
    withCatch.push({ id: 'caught', z: 't1', type: 'helper' });
    await helper.load([...omsNodes(), ...coreNodes()], withCatch);
    const caught = collect('caught', 2);
    helper.getNode('step').receive(failing('H1', 'X'));
    const errors = await caught;
    assert.ok(errors.some((m) => (m.error as { code?: string }).code === 'OMS_DEAD_LETTER_FALLBACK'));
    const file = path.join(dir.dir, 'oms-dead-letters.fallback.jsonl');
    assert.ok(existsSync(file));
    const line = JSON.parse(readFileSync(file, 'utf8').trim().split('\n')[0]) as {
      orderRef: string;
      message: string;
    };
    assert.equal(line.orderRef, 'H1');
    assert.match(line.message, /"orderRef":"H1"/);
  });
});
