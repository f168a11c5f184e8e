// The store contract for the ports other than custody (lib/store/ports): the ledger, orders and
// audit trail, retry queues, holds and dead letters. Every store implementation must pass it.
import assert from 'node:assert/strict';
import { decodeMessage, encodeMessage, type LedgerReceipt } from '../../../lib/store';
import { forEachStore } from './contract';

const receipt = (orderNo: string, hash: string, batchId: string): LedgerReceipt => ({
  key: { source: 'sfcc', site: 'RefArch', orderNo },
  hash,
  batchId,
});

forEachStore('ledger', ({ openStore }) => {
  it('tells new, duplicate (completed batch) and update (content changed) apart', async () => {
    const store = openStore();
    assert.deepEqual(await store.ledger.receive([receipt('1', 'h1', 'b1'), receipt('2', 'h2', 'b1')], 10), [
      { status: 'new' },
      { status: 'new' },
    ]);
    await store.ledger.completeBatch('b1', 11, true);
    const [same, changed, fresh] = await store.ledger.receive(
      [receipt('1', 'h1', 'b2'), receipt('2', 'h2-changed', 'b2'), receipt('3', 'h3', 'b2')],
      20,
    );
    assert.deepEqual(same, {
      status: 'duplicate',
      firstSeenAt: 10,
      lastSeenAt: 10,
      seenCount: 2,
      batchId: 'b1',
    });
    assert.deepEqual(changed, { status: 'update', previousHash: 'h2', firstSeenAt: 10, seenCount: 1 });
    assert.deepEqual(fresh, { status: 'new' });
    // The update became the reference content: the same changed export again is a duplicate.
    await store.ledger.completeBatch('b2', 21, true);
    const [again] = await store.ledger.receive([receipt('2', 'h2-changed', 'b3')], 30);
    assert.equal(again.status, 'duplicate');
  });

  it('delivers again the orders of a batch cut short by a previous process, and only those', async () => {
    const before = openStore();
    await before.ledger.receive([receipt('1', 'h1', 'done'), receipt('2', 'h2', 'cut')], 10);
    await before.ledger.completeBatch('done', 11, true);
    await before.close(); // the process died before batch "cut" completed

    const after = openStore();
    const verdicts = await after.ledger.receive(
      [receipt('1', 'h1', 'retry'), receipt('2', 'h2', 'retry')],
      20,
    );
    assert.equal(verdicts[0].status, 'duplicate');
    assert.deepEqual(verdicts[1], { status: 'redelivery', firstSeenAt: 10, previousBatchId: 'cut' });
  });

  it('waits for a durable step to settle each order when the batch does not settle them', async () => {
    const store = openStore();
    await store.ledger.receive([receipt('1', 'h1', 'b1'), receipt('2', 'h2', 'b1')], 10);
    await store.ledger.completeBatch('b1', 11, false);
    await store.ledger.settle(['sfcc/RefArch/1']); // order 2 was lost before any step took it
    const verdicts = await store.ledger.receive([receipt('1', 'h1', 'b2'), receipt('2', 'h2', 'b2')], 20);
    assert.equal(verdicts[0].status, 'duplicate');
    assert.deepEqual(verdicts[1], { status: 'redelivery', firstSeenAt: 10, previousBatchId: 'b1' });
  });

  it('delivers again the untaken orders of a batch abandoned by a redeploy in this process', async () => {
    const store = openStore();
    await store.ledger.receive([receipt('1', 'h1', 'cut')], 10);
    await store.ledger.abandonBatch('cut');
    const [verdict] = await store.ledger.receive([receipt('1', 'h1', 'next')], 11);
    assert.equal(verdict.status, 'redelivery');
  });

  it('treats an order in a batch still running in this process as a duplicate', async () => {
    const store = openStore();
    await store.ledger.receive([receipt('1', 'h1', 'running')], 10);
    const [verdict] = await store.ledger.receive([receipt('1', 'h1', 'other')], 11);
    assert.equal(verdict.status, 'duplicate');
  });

  it('keeps orders of different sites apart', async () => {
    const store = openStore();
    await store.ledger.receive([receipt('1', 'h1', 'b1')], 10);
    await store.ledger.completeBatch('b1', 10, true);
    const [other] = await store.ledger.receive(
      [{ key: { source: 'sfcc', site: 'SiteGenesis', orderNo: '1' }, hash: 'h1', batchId: 'b2' }],
      11,
    );
    assert.equal(other.status, 'new');
  });

  it('once(): runs an effect once, returns its stored result afterwards, also after a reopen', async () => {
    const store = openStore();
    let runs = 0;
    const effect = async (key: string): Promise<{ id: string }> => {
      runs++;
      return { id: `peer-${key}` };
    };
    assert.deepEqual(await store.ledger.once('k1', effect), { value: { id: 'peer-k1' }, replayed: false });
    assert.deepEqual(await store.ledger.once('k1', effect), { value: { id: 'peer-k1' }, replayed: true });
    await store.close();
    assert.deepEqual(await openStore().ledger.once('k1', effect), {
      value: { id: 'peer-k1' },
      replayed: true,
    });
    assert.equal(runs, 1);
  });

  it('once(): shares one run between concurrent callers and runs again after a failure', async () => {
    const store = openStore();
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = async (): Promise<number> => {
      runs++;
      await gate;
      return 7;
    };
    const both = Promise.all([store.ledger.once('k', slow), store.ledger.once('k', slow)]);
    release();
    assert.deepEqual(
      (await both).map((r) => r.value),
      [7, 7],
    );
    assert.equal(runs, 1);

    await assert.rejects(
      store.ledger.once('failing', async () => {
        throw new Error('peer down');
      }),
      /peer down/,
    );
    assert.deepEqual(await store.ledger.once('failing', async () => 'ok'), {
      value: 'ok',
      replayed: false,
    });
  });
});

forEachStore('orders and audit trail', ({ openStore }) => {
  it('moves an order atomically and records every move, refused ones included', async () => {
    const store = openStore();
    const ctx = { orderRef: 'A1', nodeId: 'n1', template: 'order-lifecycle@1.0.0', correlationId: 'c1' };
    const first = await store.orders.transition({ ...ctx, at: 100 }, (current) =>
      current === undefined ? { ok: true, to: 'Created', event: 'create' } : { ok: false, reason: 'exists' },
    );
    assert.equal(first.from, undefined);
    const refused = await store.orders.transition({ ...ctx, at: 200 }, (current) => ({
      ok: false,
      to: 'Shipped',
      event: 'ship',
      reason: `Cannot ship order from ${current}`,
    }));
    assert.equal(refused.from, 'Created');
    assert.deepEqual(await store.orders.get('A1'), {
      orderRef: 'A1',
      state: 'Created',
      createdAt: 100,
      updatedAt: 100,
    });

    const trail = await store.orders.trail('A1');
    assert.deepEqual(
      trail.map(({ kind, from, to, event, nodeId, template, correlationId, at }) => ({
        kind,
        from,
        to,
        event,
        nodeId,
        template,
        correlationId,
        at,
      })),
      [
        { kind: 'transition', from: undefined, to: 'Created', event: 'create', ...ctx, at: 100 },
        { kind: 'refused', from: 'Created', to: 'Shipped', event: 'ship', ...ctx, at: 200 },
      ].map(({ orderRef: _o, ...rest }) => rest),
    );
    assert.deepEqual(trail[1].detail, { reason: 'Cannot ship order from Created' });
  });

  it('marks an idempotent re-application in the trail without changing the state time', async () => {
    const store = openStore();
    await store.orders.transition({ orderRef: 'A1', at: 1 }, () => ({
      ok: true,
      to: 'Created',
      event: 'create',
    }));
    await store.orders.transition({ orderRef: 'A1', at: 2 }, () => ({
      ok: true,
      to: 'Created',
      event: 'create',
      idempotent: true,
    }));
    const trail = await store.orders.trail('A1');
    assert.deepEqual(trail[1].detail, { idempotent: true });
    assert.equal((await store.orders.get('A1'))?.updatedAt, 1);
  });
});

forEachStore('retry queue', ({ openStore }) => {
  const claim = (owner: string, now: number, limit = 10) => ({
    owner,
    now,
    leaseMs: 1000,
    deadAfterMs: 10_000,
    limit,
  });
  const entry = (message: string, at: number, dueAt: number, owner = 'A', orderRef?: string) => ({
    message,
    at,
    dueAt,
    owner,
    ...(orderRef ? { orderRef } : {}),
  });

  it('keeps in-flight and waiting messages per queue; writes apply only to the version they expect', async () => {
    const store = openStore();
    const a = await store.retries.add('q1', entry('{"a":1}', 0, 1000, 'A', 'A'));
    const b = await store.retries.add('q1', entry('{"b":1}', 0, 1000));
    await store.retries.add('q2', entry('{"c":1}', 0, 10));
    const failure = { at: 5, dueAt: 50, error: { message: 'HTTP 503', status: 503 } };
    assert.equal(await store.retries.scheduleRetry(b, { state: 'inflight', attempt: 1 }, failure), true);
    assert.equal(
      await store.retries.scheduleRetry(b, { state: 'inflight', attempt: 1 }, failure),
      false,
      'a second report of the same attempt changes nothing',
    );
    assert.deepEqual(await store.retries.counts('q1'), { inflight: 1, waiting: 1, exhausted: 0 });
    assert.equal(await store.retries.nextDueAt('q1'), 50);
    const waiting = await store.retries.get(b);
    assert.equal(waiting?.state, 'waiting');
    assert.equal(waiting?.firstFailureAt, 5);
    assert.deepEqual(waiting?.lastError, { message: 'HTTP 503', status: 503 });

    const sent = { attempt: 2, dueAt: 2000, owner: 'A' };
    assert.equal(await store.retries.markSent(b, { state: 'waiting', attempt: 1 }, sent), true);
    assert.equal(await store.retries.markSent(b, { state: 'waiting', attempt: 1 }, sent), false);
    await store.retries.scheduleRetry(
      b,
      { state: 'inflight', attempt: 2 },
      { at: 70, dueAt: 80, error: { message: 'again' } },
    );
    const later = await store.retries.get(b);
    assert.equal(later?.firstFailureAt, 5, 'first failure time is kept');
    assert.equal(later?.lastFailureAt, 70);
    assert.equal(later?.attempt, 2);

    assert.equal(
      await store.retries.remove(a, { state: 'waiting', attempt: 1 }),
      false,
      'not in that version',
    );
    assert.equal(await store.retries.remove(a), true);
    assert.equal(await store.retries.remove(a), false);
    assert.deepEqual(await store.retries.counts('q2'), { inflight: 1, waiting: 0, exhausted: 0 });
  });

  it('claims due records oldest first, once, until the lease lapses or the claim is released', async () => {
    const store = openStore();
    await store.custody.heartbeat('A', 0);
    await store.custody.heartbeat('B', 0);
    const late = await store.retries.add('q', entry('late', 0, 300));
    const early = await store.retries.add('q', entry('early', 0, 100));
    await store.retries.add('q', entry('not due', 0, 5000));
    const first = await store.retries.claimDue('q', claim('A', 400));
    assert.deepEqual(
      first.map((r) => [r.id, r.owner, r.leaseUntil, r.orphaned]),
      [
        [early, 'A', 1400, false],
        [late, 'A', 1400, false],
      ],
    );
    assert.deepEqual(await store.retries.claimDue('q', claim('B', 500)), [], 'under A’s claim');
    assert.equal(await store.retries.releaseClaim(early, 'B'), false, 'only the owner releases');
    assert.equal(await store.retries.releaseClaim(early, 'A'), true);
    assert.deepEqual(
      (await store.retries.claimDue('q', claim('B', 600))).map((r) => [r.id, r.owner]),
      [[early, 'B']],
    );
    // A's claim on `late` lapses at 1400; B may take it then.
    await store.custody.heartbeat('A', 1500);
    await store.custody.heartbeat('B', 1500);
    const lapsed = await store.retries.claimDue('q', claim('B', 1500));
    assert.deepEqual(lapsed.map((r) => r.id).sort(), [early, late].sort());
    assert.ok(lapsed.every((r) => !r.orphaned));
  });

  it('takes over at once what a stopped owner has in flight or claimed, and nothing of a live one', async () => {
    const store = openStore();
    await store.custody.heartbeat('A', 0);
    await store.custody.heartbeat('B', 0);
    const inflight = await store.retries.add('q', entry('A in flight', 0, 60_000, 'A'));
    const waiting = await store.retries.add('q', entry('A waiting', 0, 60_000, 'A'));
    await store.retries.scheduleRetry(
      waiting,
      { state: 'inflight', attempt: 1 },
      { at: 1, dueAt: 60_000, error: { message: 'x' } },
    );
    assert.deepEqual(await store.retries.claimDue('q', claim('B', 5000)), [], 'A is alive');
    await store.custody.heartbeat('B', 20_000); // A's last beat is 20 s old
    const taken = await store.retries.claimDue('q', claim('B', 20_000));
    assert.deepEqual(
      taken.map((r) => [r.id, r.orphaned]),
      [[inflight, true]],
      'in flight: its outcome will never come; waiting: due at its time, whoever claims it then',
    );
    // An owner that left (a closed node) is stopped at once.
    await store.retries.add('q', entry('C in flight', 0, 60_000, 'C'));
    await store.custody.heartbeat('C', 20_000);
    await store.custody.leave('C');
    const left = await store.retries.claimDue('q', claim('B', 20_001));
    assert.deepEqual(
      left.map((r) => [r.message, r.orphaned]),
      [['C in flight', true]],
    );
  });

  it('gives each due record to one of several owners claiming at the same moment', async () => {
    const store = openStore();
    const other = openStore(); // a second connection to the same file, as a second runtime has
    for (let i = 0; i < 50; i++) await store.retries.add('q', entry(`m${i}`, 0, i));
    const owners = ['A', 'B', 'C', 'D'];
    for (const owner of owners) await store.custody.heartbeat(owner, 0);
    const claims = await Promise.all(
      owners.map((owner, i) => (i % 2 === 0 ? store : other).retries.claimDue('q', claim(owner, 100, 20))),
    );
    const ids = claims.flat().map((r) => r.id);
    assert.equal(ids.length, 50);
    assert.equal(new Set(ids).size, 50, 'no record claimed twice');
  });
});

forEachStore('fraud history', ({ openStore }) => {
  it('keeps velocity events once per order and key, and one screening per node, order and token', async () => {
    const { fraud } = openStore();
    const event = { key: 'k1', orderRef: 'F1', at: 1_000, amount: 500, currency: 'EUR' };
    const screening = {
      nodeId: 'n1',
      orderRef: 'F1',
      token: 't1',
      decision: 'review',
      fraud: { score: 60 },
      at: 1_000,
    };
    await fraud.record([event], screening);
    await fraud.record([{ ...event, at: 2_000, amount: 900 }], {
      ...screening,
      decision: 'accept',
      fraud: {},
    });
    assert.deepEqual(
      await fraud.count('k1', 0, 'EUR', 'other'),
      { orders: 1, amount: 500 },
      'the first counts',
    );
    assert.deepEqual(await fraud.screened('n1', 'F1', 't1'), screening, 'the first decision stays');
    assert.equal(await fraud.screened('n1', 'F1', 't2'), undefined);
    assert.equal(await fraud.screened('n2', 'F1', 't1'), undefined);
    await fraud.record([], { ...screening, token: 't3', at: 5_000 });
    assert.equal(await fraud.purge(3_000), 1);
    assert.equal(await fraud.screened('n1', 'F1', 't1'), undefined, 'purged with the events of its time');
    assert.equal((await fraud.screened('n1', 'F1', 't3'))?.at, 5_000);
  });
});

forEachStore('holds', ({ openStore }) => {
  const hold = (orderRef: string, createdAt: number, providerRef?: string) => ({
    nodeId: 'fraud1',
    orderRef,
    score: 60,
    reasons: [{ rule: 'High value', reason: 'order total 2000.00 EUR is at or above 1000.00 EUR' }],
    provider: providerRef ? 'sandbox' : undefined,
    providerRef,
    template: 'order-lifecycle@1.1.0',
    correlationId: `c-${orderRef}`,
    createdAt,
    message: encodeMessage({ payload: { orderRef }, oms: { orderRef } }),
  });

  it('holds an order once per node, lists held ones, finds one by provider reference', async () => {
    const store = openStore();
    const first = await store.holds.add(hold('H1', 1000, 'sig-1'));
    const again = await store.holds.add({ ...hold('H1', 2000, 'sig-2'), score: 80 });
    assert.equal(again.id, first.id, 'held again by the same node: the same hold, updated');
    assert.equal(again.score, 80);
    assert.equal(again.providerRef, 'sig-2');
    await store.holds.add(hold('H2', 3000));
    const page = await store.holds.list({}, { offset: 0, limit: 10 });
    assert.deepEqual(
      page.items.map((h) => [h.orderRef, h.status, h.message]),
      [
        ['H2', 'held', undefined],
        ['H1', 'held', undefined],
      ],
    );
    assert.equal((await store.holds.list({ text: 'high VALUE' }, { offset: 0, limit: 10 })).total, 2);
    assert.equal((await store.holds.heldByProviderRef('sig-2'))?.orderRef, 'H1');
    assert.equal(await store.holds.heldByProviderRef('sig-1'), undefined);
    const trail = await store.orders.trail('H1');
    assert.deepEqual(
      trail.map((e) => e.kind),
      ['hold'],
      'one hold in the trail',
    );
  });

  it('decides a held order once, audited with who and why', async () => {
    const store = openStore();
    const { id } = await store.holds.add(hold('H3', 1000, 'sig-3'));
    const [a, b] = await Promise.all([
      store.holds.decide(id, 'accepted', 5000, 'webhook:sandbox'),
      store.holds.decide(id, 'rejected', 5001, 'analyst:anna', 'looks stolen'),
    ]);
    assert.equal(a?.status, 'accepted');
    assert.equal(b, undefined, 'the second decision finds it decided');
    assert.equal(await store.holds.heldByProviderRef('sig-3'), undefined);
    assert.equal((await store.holds.list({ status: 'accepted' }, { offset: 0, limit: 10 })).total, 1);
    const decided = await store.holds.get(id);
    assert.equal(decided?.decidedBy, 'webhook:sandbox');
    assert.ok(decided?.message, 'the held message is kept');
    const trail = await store.orders.trail('H3');
    assert.deepEqual(
      trail.map((e) => [e.kind, (e.detail as { decision?: string } | undefined)?.decision]),
      [
        ['hold', undefined],
        ['decision', 'accepted'],
      ],
    );
  });
});

forEachStore('dead letters', ({ openStore }) => {
  const letter = (orderRef: string, code: string, createdAt: number, nodeId = 'dl1') => ({
    nodeId,
    orderRef,
    correlationId: `c-${orderRef}`,
    error: { message: `failed with ${code}`, code, source: { id: 'http1', type: 'http request' } },
    attempts: 5,
    firstFailureAt: createdAt - 100,
    lastFailureAt: createdAt,
    template: 'order-lifecycle@1.0.0',
    createdAt,
    message: encodeMessage({ payload: { orderRef }, oms: { orderRef } }),
  });

  it('stores, filters, pages and searches, newest first', async () => {
    const store = openStore();
    await store.deadLetters.add(letter('A1', 'HTTP_503', 1000));
    await store.deadLetters.add(letter('A2', 'C0121E', 2000));
    await store.deadLetters.add(letter('A3', 'HTTP_503', 3000, 'dl2'));
    const all = await store.deadLetters.list({}, { offset: 0, limit: 2 });
    assert.equal(all.total, 3);
    assert.deepEqual(
      all.items.map((l) => l.orderRef),
      ['A3', 'A2'],
    );
    assert.equal(all.items[0].message, undefined, 'lists leave the message out');
    const page2 = await store.deadLetters.list({}, { offset: 2, limit: 2 });
    assert.deepEqual(
      page2.items.map((l) => l.orderRef),
      ['A1'],
    );
    const byCode = await store.deadLetters.list({ errorCode: 'HTTP_503' }, { offset: 0, limit: 10 });
    assert.deepEqual(
      byCode.items.map((l) => l.orderRef),
      ['A3', 'A1'],
    );
    const byNode = await store.deadLetters.list({ nodeId: 'dl2' }, { offset: 0, limit: 10 });
    assert.equal(byNode.total, 1);
    const byTime = await store.deadLetters.list({ since: 1500, until: 3000 }, { offset: 0, limit: 10 });
    assert.deepEqual(
      byTime.items.map((l) => l.orderRef),
      ['A2'],
    );
    const byText = await store.deadLetters.list({ text: 'c0121' }, { offset: 0, limit: 10 });
    assert.deepEqual(
      byText.items.map((l) => l.orderRef),
      ['A2'],
    );
    const percent = await store.deadLetters.list({ text: '%' }, { offset: 0, limit: 10 });
    assert.equal(percent.total, 0, 'a % in the search text is literal');
    const full = await store.deadLetters.get(all.items[0].id);
    assert.deepEqual(decodeMessage(full?.message ?? ''), {
      payload: { orderRef: 'A3' },
      oms: { orderRef: 'A3' },
    });
    assert.deepEqual(await store.deadLetters.ids({ errorCode: 'HTTP_503' }, 10), [1, 3]);
  });

  it('replays and discards once, keeps the reason in the letter and the audit trail, purges only resolved', async () => {
    const store = openStore();
    const a = await store.deadLetters.add(letter('A1', 'X', 1000));
    const b = await store.deadLetters.add(letter('A2', 'X', 1000));
    await store.deadLetters.add(letter('A3', 'X', 1000));
    assert.equal(await store.deadLetters.markReplayed(a.id, 2000, 'alice'), true);
    assert.equal(await store.deadLetters.markReplayed(a.id, 2001, 'alice'), false);
    assert.equal(await store.deadLetters.discard(b.id, 2000, 'bob', 'customer cancelled by phone'), true);
    assert.equal(await store.deadLetters.discard(b.id, 2000, 'bob', 'again'), false);
    const discarded = await store.deadLetters.get(b.id);
    assert.equal(discarded?.status, 'discarded');
    assert.equal(discarded?.reason, 'customer cancelled by phone');
    assert.equal(discarded?.resolvedBy, 'bob');
    assert.equal((await store.deadLetters.get(a.id))?.replays, 1);

    const trail = await store.orders.trail('A2');
    assert.deepEqual(
      trail.map((e) => e.kind),
      ['dead-letter', 'discard'],
    );
    assert.deepEqual(trail[1].detail, {
      deadLetterId: b.id,
      by: 'bob',
      reason: 'customer cancelled by phone',
    });
    assert.equal((await store.deadLetters.list({}, { offset: 0, limit: 10 })).total, 1);
    assert.equal((await store.deadLetters.list({ status: 'all' }, { offset: 0, limit: 10 })).total, 3);

    assert.equal(await store.deadLetters.purge(1500), 0, 'resolved after the cut-off: kept');
    assert.equal(await store.deadLetters.purge(3000), 2);
    assert.equal((await store.deadLetters.list({ status: 'all' }, { offset: 0, limit: 10 })).total, 1);
  });
});

forEachStore('node counters', ({ openStore }) => {
  it('adds to each node’s counters atomically, seen by every connection, kept across a reopen', async () => {
    const store = openStore();
    const other = openStore();
    assert.deepEqual(await store.counters.read('n1'), {});
    await Promise.all([
      store.counters.add('n1', { valid: 2, invalid: 1 }),
      other.counters.add('n1', { valid: 3, corrected: 0 }),
      store.counters.add('n2', { valid: 7 }),
    ]);
    assert.deepEqual(await other.counters.read('n1'), { valid: 5, invalid: 1 });
    await store.close();
    assert.deepEqual(await openStore().counters.read('n2'), { valid: 7 });
  });
});
