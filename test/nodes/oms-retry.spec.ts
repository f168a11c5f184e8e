import assert from 'node:assert/strict';
import type { StoreNode } from '../../nodes/shared/store-registry';
import { helper, nodeRedVersion } from '../helpers/runtime';
import {
  collect,
  coreNodes,
  omsNodes,
  storeConfig,
  until,
  eachWithRuntime,
  type FlowNode,
  type Msg,
  type TestDir,
} from '../helpers/oms-runtime';

/**
 * retry → step (a function node) → ok; the step's failures come back through a Catch node,
 * its completions (acknowledgements, or HTTP-like statuses) through a Complete node.
 * The step fails while msg.payload.failures has entries: each entry says how.
 */
const STEP = `
const attempt = msg.oms.attempts;
msg.payload.seenBy = (msg.payload.seenBy || []).concat(attempt);
const how = (msg.payload.failures || [])[attempt - 1];
if (how === 'throw') { node.error(new Error('peer reset the connection'), msg); return null; }
if (how === 'code') { const e = new Error('Fluent said no'); e.code = 'C0121E'; node.error(e, msg); return null; }
if (typeof how === 'number') { msg.statusCode = how; if (how === 429) msg.headers = { 'retry-after': '1' }; return null; }
msg.statusCode = 200;
return msg;`;

function flow(dir: TestDir, retry: Record<string, unknown> = {}): FlowNode[] {
  return [
    { id: 't1', type: 'tab' },
    storeConfig(dir.storeFile),
    {
      id: 'retry',
      z: 't1',
      type: 'oms-retry',
      store: 'store',
      attempts: 3,
      initialDelay: 0.02,
      multiplier: 2,
      maxDelay: 0.1,
      deadline: 10,
      jitter: false,
      ackTimeout: 30,
      requireAck: true,
      permanentCodes: 'C0121E',
      ...retry,
      wires: [['step'], ['exhausted']],
    },
    { id: 'step', z: 't1', type: 'function', func: STEP, outputs: 1, wires: [['ok']] },
    { id: 'step-failed', z: 't1', type: 'catch', scope: ['step'], uncaught: false, wires: [['retry']] },
    { id: 'step-done', z: 't1', type: 'complete', scope: ['step'], uncaught: false, wires: [['retry']] },
    { id: 'ok', z: 't1', type: 'helper' },
    { id: 'exhausted', z: 't1', type: 'helper' },
  ];
}

const store = () => {
  const node = helper.getNode('store') as unknown as StoreNode;
  assert.ok(node.store, 'the store is open');
  return node.store;
};

/** Arrays made inside the function node's sandbox have another realm's prototype. */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value)) as unknown;

const order = (orderRef: string, failures: unknown[] = []): Msg => ({
  _msgid: `m-${orderRef}`,
  payload: { orderRef, failures },
  oms: { orderRef, correlationId: `c-${orderRef}`, attempts: 0 },
});

describe(`oms-retry node (Node-RED ${nodeRedVersion})`, function () {
  let dir: TestDir;
  const current = eachWithRuntime('oms-retry-');
  beforeEach(() => {
    dir = current();
  });

  it('sends a message once and forgets it when the step acknowledges it', async () => {
    await helper.load([...omsNodes(), ...coreNodes()], flow(dir));
    const ok = collect('ok', 1);
    helper.getNode('retry').receive(order('A1'));
    const [msg] = await ok;
    assert.deepEqual(plain((msg.payload as { seenBy: number[] }).seenBy), [1]);
    assert.equal((msg.oms?.retry as { attempt: number }).attempt, 1);
    await until('the acknowledgement', async () => (await store().retries.counts('retry')).inflight === 0);
    assert.deepEqual(await store().retries.counts('retry'), { inflight: 0, waiting: 0, exhausted: 0 });
  });

  it('retries thrown errors and 5xx with the original message until the step succeeds', async () => {
    await helper.load([...omsNodes(), ...coreNodes()], flow(dir));
    const ok = collect('ok', 1);
    helper.getNode('retry').receive(order('A2', ['throw', 503]));
    const [msg] = await ok;
    // Each attempt starts from the message as it first arrived: the failed attempts left no trace.
    assert.deepEqual(plain((msg.payload as { seenBy: number[] }).seenBy), [3]);
    assert.equal(msg.oms?.attempts, 3);
    const marker = msg.oms?.retry as { firstFailureAt?: number; lastError?: string };
    assert.ok(marker.firstFailureAt, 'the first failure time travels with the message');
    assert.equal(marker.lastError, 'HTTP 503');
  });

  it('gives up at once on a permanent error (4xx, or a code listed as permanent)', async () => {
    await helper.load([...omsNodes(), ...coreNodes()], flow(dir));
    const exhausted = collect('exhausted', 2);
    helper.getNode('retry').receive(order('P1', [400]));
    helper.getNode('retry').receive(order('P2', ['code']));
    const out = await exhausted;
    const byRef = new Map(out.map((m) => [m.oms?.orderRef, m]));
    const http = byRef.get('P1') as Msg;
    assert.equal((http.oms?.retry as { gaveUp: string }).gaveUp, 'permanent');
    assert.equal((http.oms?.retry as { attempts: number }).attempts, 1);
    assert.equal((http.error as { status: number }).status, 400);
    assert.equal(http.statusCode, undefined, 'the message as it first arrived, the failure in msg.error');
    assert.deepEqual((http.payload as { seenBy?: number[] }).seenBy, undefined, 'the original message');
    const coded = byRef.get('P2') as Msg;
    assert.equal((coded.error as { code: string }).code, 'C0121E');
    assert.match(String((coded.oms?.retry as { explanation: string }).explanation), /C0121E/);
    assert.deepEqual(await store().retries.counts('retry'), { inflight: 0, waiting: 0, exhausted: 0 });
  });

  it('leaves by "exhausted" after the last attempt, with attempts, failure times and the reason', async () => {
    await helper.load([...omsNodes(), ...coreNodes()], flow(dir));
    const exhausted = collect('exhausted', 1);
    helper.getNode('retry').receive(order('X1', [500, 502, 504]));
    const [msg] = await exhausted;
    const retry = msg.oms?.retry as Record<string, unknown>;
    assert.equal(retry.attempts, 3);
    assert.equal(retry.gaveUp, 'attempts-exhausted');
    assert.ok(Number(retry.lastFailureAt) >= Number(retry.firstFailureAt));
    assert.equal((msg.error as { code: string }).code, 'HTTP_504');
    assert.match(String(retry.explanation), /attempt 3 of 3 failed with HTTP 504/);
  });

  it('keeps an exhausted message until oms-dead-letter has parked it', async () => {
    // Only oms-dead-letter nodes on the exhausted output make the record wait for them.
    const custody = flow(dir).map((n) => (n.id === 'retry' ? { ...n, wires: [['step'], ['dlq']] } : n));
    custody.push({ id: 'dlq', z: 't1', type: 'oms-dead-letter', store: 'store', wires: [['exhausted']] });
    await helper.load([...omsNodes(), ...coreNodes()], custody);
    helper.getNode('retry').receive(order('E1', [404]));
    const letter = await until(
      'the dead letter',
      async () => (await store().deadLetters.list({}, { offset: 0, limit: 1 })).items[0],
    );
    assert.equal(letter.orderRef, 'E1');
    assert.equal(letter.error.status, 404);
    assert.equal(letter.error.code, 'HTTP_404');
    await until(
      'the retry record to go',
      async () => (await store().retries.counts('retry')).exhausted === 0,
    );
    assert.deepEqual(await store().retries.counts('retry'), { inflight: 0, waiting: 0, exhausted: 0 });
  });

  it("honours the peer's Retry-After over the policy's delay", async () => {
    await helper.load([...omsNodes(), ...coreNodes()], flow(dir));
    const ok = collect('ok', 1);
    const sentAt = Date.now();
    helper.getNode('retry').receive(order('R1', [429]));
    const [msg] = await ok;
    const elapsed = Date.now() - sentAt;
    // Policy delay is 20 ms; the peer asked for 1 s.
    assert.ok(elapsed >= 1000, `resent after ${elapsed} ms`);
    assert.equal(msg.oms?.attempts, 2);
  });

  it('keeps pending messages in the store across a restart and sends them again', async () => {
    // The step is a plain helper node: it never acknowledges, as if the process died mid-call.
    const stalled = flow(dir).map((n) => (n.id === 'step' ? { id: 'step', z: 't1', type: 'helper' } : n));
    await helper.load([...omsNodes(), ...coreNodes()], stalled);
    const first = collect('step', 1);
    helper.getNode('retry').receive(order('C1'));
    await first;
    assert.deepEqual(await store().retries.counts('retry'), { inflight: 1, waiting: 0, exhausted: 0 });
    await helper.unload();

    await helper.load([...omsNodes(), ...coreNodes()], stalled);
    const [again] = await collect('step', 1);
    assert.equal(again.oms?.orderRef, 'C1');
    assert.equal(again.oms?.attempts, 2, 'a resend after a restart counts as an attempt');
    assert.deepEqual(await store().retries.counts('retry'), { inflight: 1, waiting: 0, exhausted: 0 });
  });

  it('without required acknowledgement, forgets a message when no failure came back in time', async () => {
    const quiet = flow(dir, { requireAck: false, ackTimeout: 1 }).map((n) =>
      n.id === 'step' ? { id: 'step', z: 't1', type: 'helper' } : n,
    );
    await helper.load([...omsNodes(), ...coreNodes()], quiet);
    const first = collect('step', 1);
    helper.getNode('retry').receive(order('F1'));
    await first;
    await until(
      'the message to be forgotten',
      async () => (await store().retries.counts('retry')).inflight === 0,
      5000,
    );
    assert.deepEqual(await store().retries.counts('retry'), { inflight: 0, waiting: 0, exhausted: 0 });
  });

  it('with required acknowledgement, sends again when the step stays silent past the timeout', async () => {
    const silent = flow(dir, { ackTimeout: 1 }).map((n) =>
      n.id === 'step' ? { id: 'step', z: 't1', type: 'helper' } : n,
    );
    await helper.load([...omsNodes(), ...coreNodes()], silent);
    const both = collect('step', 2, 8000);
    helper.getNode('retry').receive(order('S1'));
    const [first, second] = await both;
    assert.equal(first.oms?.attempts, 1);
    assert.equal(second.oms?.attempts, 2);
    assert.match((second.oms?.retry as { lastError: string }).lastError, /acknowledg/i);
  });

  it('reports a missing store through Catch with OMS_STORE_UNAVAILABLE', async () => {
    const noStore = flow(dir).filter((n) => n.type !== 'oms-store');
    // One Catch node per flow: the test helper registers the catch module once per catch node.
    Object.assign(noStore.find((n) => n.id === 'step-failed') as FlowNode, {
      scope: ['retry'],
      wires: [['caught']],
    });
    noStore.push({ id: 'caught', z: 't1', type: 'helper' });
    await helper.load([...omsNodes(), ...coreNodes()], noStore);
    const caught = collect('caught', 1);
    helper.getNode('retry').receive(order('N1'));
    const [msg] = await caught;
    assert.equal((msg.error as { code?: string }).code, 'OMS_STORE_UNAVAILABLE');
  });
});
