// The durable retry queue without Node-RED: a real SQLite store, an injected clock.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DurableRetry, type DurableRetryOptions, type RetryMarker } from '../../../lib/reliability';
import { openSqliteStore, type OmsStore } from '../../../lib/store';

type Msg = Record<string, unknown>;

describe('DurableRetry (the oms-retry queue)', () => {
  let dir: string;
  let store: OmsStore;
  let clock: number;
  let sent: Msg[];
  let exhausted: Msg[];
  let taken: boolean;

  const make = (options: Partial<DurableRetryOptions> = {}): DurableRetry =>
    new DurableRetry({
      queue: 'q',
      owner: 'runtime-1',
      deadAfterMs: 10_000,
      store: store.retries,
      policy: {
        attempts: 3,
        initialDelayMs: 1000,
        multiplier: 2,
        maxDelayMs: 10_000,
        deadlineMs: 0,
        jitter: 'none',
      },
      ackTimeoutMs: 30_000,
      requireAck: true,
      send: (msg) => sent.push(msg),
      exhaust: (msg) => exhausted.push(msg),
      exhaustedAreTaken: () => taken,
      newMessageId: () => `m${sent.length + exhausted.length}`,
      text: {
        notAcknowledged: (s) => `no outcome in ${s} s`,
        cutShort: (a, of) => `attempt ${a} of ${of} cut short`,
      },
      now: () => clock,
      ...options,
    });
  const marker = (msg: Msg): RetryMarker => (msg.oms as { retry: RetryMarker }).retry;
  /** What the step sends back: the message it got, with a failure. */
  const failure = (msg: Msg, status: number): Msg => ({ ...msg, statusCode: status });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'oms-durable-retry-'));
    store = openSqliteStore({ file: join(dir, 'oms.db') });
    clock = 1_000_000;
    sent = [];
    exhausted = [];
    taken = false;
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes concurrent messages at once, and the outcomes and timer of one record one at a time', async () => {
    const queue = make();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => queue.receive({ payload: i, oms: { orderRef: `R${i}` } })),
    );
    assert.equal(sent.length, 20);
    assert.equal(new Set(sent.map((m) => marker(m).id)).size, 20);
    // The acknowledgement of R0 and the timer that finds it overdue arrive together.
    clock += 31_000;
    const acked = sent[0];
    await Promise.all([queue.receive({ ...acked, statusCode: 200 }), queue.pump()]);
    const r0 = await store.retries.get(marker(acked).id);
    // Either the acknowledgement came first (R0 gone) or the timer did (R0 resent as attempt 2,
    // and the acknowledgement of attempt 1 ignored as stale): never both, never an error.
    const resentR0 = sent.slice(20).filter((m) => marker(m).id === marker(acked).id);
    if (r0) {
      assert.equal(r0.attempt, 2);
      assert.equal(resentR0.length, 1);
    } else assert.equal(resentR0.length, 0);
    // The 19 others were overdue too: each failed once and waits for its retry.
    assert.equal((await store.retries.counts('q')).waiting, 19);
  });

  it('resends the original message after the backoff, and forgets it once acknowledged', async () => {
    const queue = make();
    await queue.receive({ payload: { n: 1 }, oms: { orderRef: 'A' } });
    assert.equal(sent.length, 1);
    const first = sent[0];
    assert.equal(marker(first).attempt, 1);
    await queue.receive(failure({ ...first, payload: { n: 1, touched: true } }, 503));
    assert.equal(await queue.nextDueAt(), clock + 1000);
    clock += 999;
    await queue.pump();
    assert.equal(sent.length, 1, 'not due yet');
    clock += 1;
    await queue.pump();
    assert.equal(sent.length, 2);
    assert.deepEqual(sent[1].payload, { n: 1 }, 'the message as it first arrived');
    assert.equal(marker(sent[1]).attempt, 2);
    assert.equal(marker(sent[1]).lastError, 'HTTP 503');
    await queue.receive({ ...sent[1], statusCode: 200 });
    assert.deepEqual(await queue.counts(), { inflight: 0, waiting: 0, exhausted: 0 });
  });

  it('ignores a stale or repeated report of an attempt', async () => {
    const queue = make();
    await queue.receive({ payload: 1, oms: { orderRef: 'B' } });
    const attempt1 = sent[0];
    await queue.receive(failure(attempt1, 500));
    await queue.receive(failure(attempt1, 500)); // the same failure reported twice
    await queue.receive({ ...attempt1, statusCode: 200 }); // and a late completion of attempt 1
    assert.deepEqual(await queue.counts(), { inflight: 0, waiting: 1, exhausted: 0 });
    const record = await store.retries.get(marker(attempt1).id);
    assert.deepEqual([record?.state, record?.attempt], ['waiting', 1]);
  });

  it('keeps a given-up message as exhausted until it is taken, and sends it there again', async () => {
    taken = true;
    const queue = make();
    await queue.receive({ payload: 1, oms: { orderRef: 'C' } });
    await queue.receive(failure(sent[0], 422));
    assert.equal(exhausted.length, 1);
    assert.equal(marker(exhausted[0]).gaveUp, 'permanent');
    assert.deepEqual(exhausted[0].error, { message: 'HTTP 422', code: 'HTTP_422', status: 422 });
    assert.equal(exhausted[0].statusCode, undefined);
    assert.deepEqual(await queue.counts(), { inflight: 0, waiting: 0, exhausted: 1 });
    // Nobody parked it (a crash): after the acknowledgement timeout it goes out again.
    clock += 30_000;
    await queue.pump();
    assert.equal(exhausted.length, 2);
    assert.equal(marker(exhausted[1]).id, marker(exhausted[0]).id);
    await store.retries.remove(marker(exhausted[1]).id); // what oms-dead-letter does once parked
    assert.deepEqual(await queue.counts(), { inflight: 0, waiting: 0, exhausted: 0 });
  });

  it("keeps the peer's own error message and code in the error it gives up with", async () => {
    const queue = make();
    await queue.receive({ payload: 1, oms: { orderRef: 'P' } });
    await queue.receive({
      ...sent[0],
      statusCode: 422,
      payload: { code: 'ORDER_REJECTED', message: 'no ship-to' },
    });
    assert.deepEqual(exhausted[0].error, {
      message: 'HTTP 422: no ship-to (ORDER_REJECTED)',
      code: 'HTTP_422',
      status: 422,
    });
    assert.equal(exhausted[0].payload, 1, 'the message itself is the one that arrived');
  });

  it('after a restart, resends what was in flight, and gives up on what has no attempt left', async () => {
    const before = make();
    await before.receive({ payload: 'in flight', oms: { orderRef: 'D' } });
    await before.receive({ payload: 'last try', oms: { orderRef: 'E' } });
    const e = sent[1];
    await before.receive(failure(e, 503));
    clock += 1000;
    await before.pump(); // E attempt 2
    await before.receive(failure(sent[2], 503));
    clock += 2000;
    await before.pump(); // E attempt 3 of 3, in flight when the process dies
    assert.equal(marker(sent[3]).attempt, 3);

    const after = make({ owner: 'runtime-2' }); // runtime-1 never beats again
    assert.equal(await after.pump(), 2, 'two records of the stopped runtime taken over');
    assert.deepEqual(
      sent.slice(4).map((m) => [m.payload, marker(m).attempt]),
      [['in flight', 2]],
    );
    assert.equal(exhausted.length, 1);
    assert.equal(exhausted[0].payload, 'last try');
    assert.equal(marker(exhausted[0]).gaveUp, 'attempts-exhausted');
    assert.equal(marker(exhausted[0]).explanation, 'attempt 3 of 3 cut short');
  });

  it('without required acknowledgements, forgets a message when no failure came back in time', async () => {
    const queue = make({ requireAck: false });
    await queue.receive({ payload: 1 });
    clock += 30_000;
    await queue.pump();
    assert.equal(sent.length, 1);
    assert.deepEqual(await queue.counts(), { inflight: 0, waiting: 0, exhausted: 0 });
  });

  describe('a late report of a record that is gone', () => {
    /** Custody as the node kit takes it: each new copy of an order is handed to the queue. */
    const custody = (leadsOn = false): NonNullable<DurableRetryOptions['custody']> => ({
      take: (msg) => {
        const orderRef = (msg.oms as { orderRef?: string } | undefined)?.orderRef;
        return orderRef === undefined
          ? undefined
          : {
              handoff: {
                orderRef,
                holder: 'q',
                kind: 'retry',
                token: 'set-by-the-store',
                owner: 'runtime-1',
                at: clock,
                leaseUntil: clock + 30_000,
              },
            };
      },
      acknowledged: (record) =>
        record.orderRef === undefined ? undefined : { release: { orderRef: record.orderRef, holder: 'q' } },
      leadsOn: () => leadsOn,
      givenUp: () => undefined,
      tokenOf: (orderRef) => store.custody.tokenOf(orderRef),
    });
    /** What an HTTP request node hands back on a 503: the peer's answer is the payload now. */
    const answered = (msg: Msg): Msg => ({
      ...msg,
      payload: { code: 'UNAVAILABLE', message: 'Injected fault' },
      statusCode: 503,
      headers: { 'content-type': 'application/json' },
    });

    it('is not sent again when a newer copy of the order replaced the record in flight', async () => {
      const queue = make({ custody: custody() });
      const order = { payload: { orderRef: 'N' }, oms: { orderRef: 'N' } };
      await queue.receive(structuredClone(order));
      const first = sent[0];
      // The order comes in again (its sender did not hear the first answer): the newer copy
      // takes custody, and the store drops the record whose attempt 1 is still on its way.
      await queue.receive(structuredClone(order));
      assert.equal(sent.length, 2);
      assert.equal(await store.retries.get(marker(first).id), undefined, 'replaced');
      // Attempt 1 of the replaced record fails late: nothing is kept or sent for it.
      await queue.receive(answered(first));
      clock += 60_000;
      await queue.pump();
      assert.equal(sent.length, 2, 'only the two copies as they arrived were sent');
      for (const msg of sent) assert.deepEqual(msg.payload, { orderRef: 'N' });
      const counts = await queue.counts();
      assert.equal(counts.inflight + counts.waiting, 1, 'only the newer copy is kept');
    });

    it('an acknowledgement writes nothing while the next custody node will take the order; if none does, it counts when due', async () => {
      const queue = make({ custody: custody(true) });
      await queue.receive({ payload: { orderRef: 'L1' }, oms: { orderRef: 'L1' } });
      await queue.receive({ payload: { orderRef: 'L2' }, oms: { orderRef: 'L2' } });
      const [l1, l2] = sent;
      // The SQLite store's group commit counts its commits (not part of the OmsStore port).
      const commits = (store as unknown as { group: { stats: { commits: number } } }).group.stats;
      const before = commits.commits;
      await queue.receive({ ...l1, statusCode: 200 });
      await queue.receive({ ...l2, statusCode: 200 });
      assert.equal(commits.commits, before, 'no write for either acknowledgement');
      // A failure reported for a completed attempt (a node that sends and throws) changes nothing.
      await queue.receive(failure(l2, 503));
      assert.equal((await queue.counts()).waiting, 0);
      // The next custody node takes L1 by the record's token: the handoff removes the record.
      const token = (await store.custody.tokenOf('L1')) ?? '';
      assert.match(token, /^retry-/);
      const taken = await store.custody.handOff({
        orderRef: 'L1',
        holder: 'next',
        kind: 'checkpoint',
        port: 0,
        message: '{}',
        token: 'n1',
        expect: token,
        owner: 'runtime-1',
        at: clock,
        leaseUntil: clock + 30_000,
      });
      assert.deepEqual(taken, { ok: true });
      assert.equal(await store.retries.get(marker(l1).id), undefined);
      // L2 was never taken: when it comes due it is acknowledged then (custody as the step's
      // output leaves it), not resent as an attempt without an outcome.
      clock += 31_000;
      await queue.pump();
      assert.equal(sent.length, 2, 'nothing sent again');
      assert.deepEqual(await queue.counts(), { inflight: 0, waiting: 0, exhausted: 0 });
      assert.equal(await store.custody.tokenOf('L2'), undefined, 'released as acknowledged() says');
    });

    it('is not sent again after its record was acknowledged (a second report of one attempt)', async () => {
      const queue = make();
      await queue.receive({ payload: { orderRef: 'D' }, oms: { orderRef: 'D' } });
      const attempt1 = sent[0];
      await queue.receive(failure(attempt1, 503));
      clock += 1000;
      await queue.pump();
      await queue.receive({ ...sent[1], statusCode: 201 }); // attempt 2 accepted: record gone
      // The HTTP request node reports a network error twice (Catch, then Complete): the second
      // report of attempt 1 comes after the whole retry.
      await queue.receive({
        ...attempt1,
        payload: 'RequestError: socket hang up : http://peer/orders',
        statusCode: 'ECONNRESET',
      });
      clock += 60_000;
      await queue.pump();
      assert.equal(sent.length, 2);
      assert.deepEqual(await queue.counts(), { inflight: 0, waiting: 0, exhausted: 0 });
    });

    it('without required acknowledgements, a failure after the record was forgotten still starts a retry', async () => {
      const queue = make({ requireAck: false, custody: custody() });
      await queue.receive({ payload: { orderRef: 'F' }, oms: { orderRef: 'F' } });
      clock += 30_000;
      await queue.pump(); // forgotten: taken as delivered
      assert.deepEqual(await queue.counts(), { inflight: 0, waiting: 0, exhausted: 0 });
      await queue.receive(failure(sent[0], 503));
      assert.equal((await queue.counts()).waiting, 1);
    });

    it('without required acknowledgements, a failure of a record superseded by a newer copy is dropped', async () => {
      const queue = make({ requireAck: false, custody: custody() });
      const order = { payload: { orderRef: 'S' }, oms: { orderRef: 'S' } };
      await queue.receive(structuredClone(order));
      await queue.receive(structuredClone(order));
      await queue.receive(answered(sent[0]));
      const counts = await queue.counts();
      assert.deepEqual([counts.inflight, counts.waiting], [1, 0], 'only the newer copy, in flight');
    });
  });

  describe('two runtimes on one store', () => {
    /** Both runtimes beat (they are alive) unless told otherwise. */
    const beat = async (...owners: string[]): Promise<void> => {
      for (const owner of owners) await store.custody.heartbeat(owner, clock);
    };

    it('leaves the records in flight of a live runtime alone, and takes over those of a stopped one', async () => {
      const a = make({ owner: 'A' });
      const b = make({ owner: 'B' });
      await beat('A', 'B');
      await a.receive({ payload: 'sent by A', oms: { orderRef: 'R1' } });
      assert.equal(await b.pump(), 0);
      assert.equal(sent.length, 1, 'B does not resend what A has in flight');
      clock += 10_001; // A stops beating, B goes on
      await beat('B');
      assert.equal(await b.pump(), 1);
      assert.deepEqual(
        sent.map((m) => [m.payload, marker(m).attempt]),
        [
          ['sent by A', 1],
          ['sent by A', 2],
        ],
      );
      const record = await store.retries.get(marker(sent[1]).id);
      assert.equal(record?.owner, 'B', 'the resent attempt is now B’s');
    });

    it('sends each due record once when both pump at the same moment', async () => {
      const a = make({ owner: 'A' });
      const b = make({ owner: 'B' });
      await beat('A', 'B');
      for (let i = 0; i < 20; i++) await a.receive({ payload: i, oms: { orderRef: `P${i}` } });
      for (const msg of sent.splice(0)) await a.receive(failure(msg, 503));
      clock += 1000;
      await beat('A', 'B');
      await Promise.all([a.pump(), b.pump(), a.pump(), b.pump()]);
      assert.equal(sent.length, 20);
      assert.deepEqual(
        sent.map((m) => m.payload).sort((x, y) => Number(x) - Number(y)),
        Array.from({ length: 20 }, (_, i) => i),
      );
      assert.ok(sent.every((m) => marker(m).attempt === 2));
    });

    it('applies one outcome per attempt: a late failure after the timeout took the attempt is ignored', async () => {
      const a = make({ owner: 'A' });
      await beat('A');
      await a.receive({ payload: 1, oms: { orderRef: 'T' } });
      clock += 30_000; // no outcome in time: the timer counts it as a failure
      await beat('A');
      await Promise.all([a.pump(), a.receive(failure(sent[0], 503))]);
      const record = await store.retries.get(marker(sent[0]).id);
      assert.equal(record?.state, 'waiting');
      assert.equal(record?.attempt, 1);
      assert.ok(record?.lastError?.message, 'one failure recorded');
      assert.equal(sent.length, 1, 'nothing sent twice');
    });
  });
});
