// The store contract for custody: every store implementation must pass it (today SQLite on
// better-sqlite3 and on node:sqlite; a PostgreSQL store later). Each driver this Node can load
// runs the whole suite; the others are skipped with the reason.
import assert from 'node:assert/strict';
import { CustodyConflict, type Handoff, type LedgerReceipt } from '../../../lib/store';
import { forEachStore } from './contract';

const LEASE = 30_000;

function handoff(orderRef: string, fields: Partial<Handoff> = {}): Handoff {
  const at = fields.at ?? 1_000;
  return {
    orderRef,
    holder: 'node-a',
    kind: 'checkpoint',
    port: 0,
    message: JSON.stringify({ payload: orderRef }),
    token: `t-${Math.random().toString(36).slice(2)}`,
    owner: 'runtime-1',
    at,
    leaseUntil: at + LEASE,
    ...fields,
  };
}

forEachStore('custody', ({ openStore }) => {
  it('takes a new order, then hands it on only to the copy that carries its token', async () => {
    const { custody } = openStore();
    const first = handoff('A1', { token: 'one' });
    assert.deepEqual(await custody.handOff(first), { ok: true });
    assert.equal(await custody.tokenOf('A1'), 'one');
    // A copy that left before the order moved on (token 'zero') is stale; nothing changes.
    const stale = await custody.handOff(handoff('A1', { holder: 'node-b', token: 'x', expect: 'zero' }));
    assert.deepEqual(stale, { ok: false, reason: 'stale', holder: 'node-a', kind: 'checkpoint' });
    assert.equal(await custody.tokenOf('A1'), 'one');
    const next = await custody.handOff(
      handoff('A1', { holder: 'node-b', token: 'two', expect: 'one', kind: 'end' }),
    );
    assert.deepEqual(next, { ok: true });
    const row = await custody.get('A1');
    assert.equal(row?.holder, 'node-b');
    assert.equal(row?.kind, 'end');
    assert.equal(row?.token, 'two');
    // The old token no longer hands anything on.
    assert.equal((await custody.handOff(handoff('A1', { token: 'three', expect: 'one' }))).ok, false);
  });

  it('lets an order without a token in only when nobody holds it in flight; a forced step always', async () => {
    const { custody } = openStore();
    await custody.handOff(handoff('B1', { holder: 'import', token: 'i1' }));
    // The same holder again (a redelivery of its own order): supersedes its own row.
    assert.deepEqual(await custody.handOff(handoff('B1', { holder: 'import', token: 'i2' })), { ok: true });
    await custody.handOff(handoff('B1', { holder: 'life', token: 'l1', expect: 'i2' }));
    const again = await custody.handOff(handoff('B1', { holder: 'import', token: 'i3' }));
    assert.deepEqual(again, { ok: false, reason: 'another', holder: 'life', kind: 'checkpoint' });
    // At rest at the end of a flow, it may be taken by an order entering again.
    await custody.handOff(handoff('B2', { holder: 'life', token: 'e1', kind: 'end' }));
    assert.deepEqual(await custody.handOff(handoff('B2', { holder: 'import', token: 'i9' })), { ok: true });
    const forced = await custody.handOff(handoff('B1', { holder: 'analyst', token: 'f1', force: true }));
    assert.deepEqual(forced, { ok: true });
    assert.equal(await custody.tokenOf('B1'), 'f1');
    // A copy with a token of an order no longer held (released) is stale.
    assert.equal(await custody.release('B1', 'f1', 'analyst'), true);
    assert.equal((await custody.handOff(handoff('B1', { token: 'z', expect: 'f1' }))).ok, false);
    assert.equal(await custody.get('B1'), undefined);
  });

  it('a retry record holds the order under retry-<id>, and the next step supersedes the record', async () => {
    const store = openStore();
    await store.custody.handOff(handoff('C1', { token: 'c0' }));
    const id = await store.retries.add(
      'queue-1',
      { message: '{}', orderRef: 'C1', at: 1_000, dueAt: 61_000, owner: 'runtime-1' },
      {
        handoff: handoff('C1', {
          holder: 'queue-1',
          kind: 'retry',
          token: 'ignored',
          expect: 'c0',
          message: undefined,
        }),
      },
    );
    const row = await store.custody.get('C1');
    assert.equal(row?.kind, 'retry');
    assert.equal(row?.ref, id);
    assert.equal(row?.token, `retry-${id}`);
    // The step behind the queue hands the order on: the record waiting for it is gone with it.
    await store.custody.handOff(handoff('C1', { holder: 'step', token: 's1', expect: `retry-${id}` }));
    assert.equal(await store.retries.get(id), undefined);
    assert.equal((await store.custody.get('C1'))?.holder, 'step');
  });

  it('a release supersedes the retry record that held the order, as a handoff does', async () => {
    const store = openStore();
    const id = await store.retries.add(
      'queue-1',
      { message: '{}', orderRef: 'R1', at: 1_000, dueAt: 61_000, owner: 'runtime-1' },
      { handoff: handoff('R1', { holder: 'queue-1', kind: 'retry', token: 'ignored', message: undefined }) },
    );
    // A step behind the queue moves the order to a final state at the end of the flow.
    await store.orders.transition(
      { orderRef: 'R1', at: 2_000, nodeId: 'life' },
      () => ({ ok: true, to: 'Cancelled', event: 'cancel' }),
      () => ({ release: { orderRef: 'R1', expect: `retry-${id}`, holder: 'life' } }),
    );
    assert.equal(await store.custody.get('R1'), undefined);
    assert.equal(await store.retries.get(id), undefined, 'not left to time out as unacknowledged');
  });

  it('a write that stays under a checkpoint commits only while the checkpoint holds the token', async () => {
    const store = openStore();
    await store.custody.handOff(handoff('S1', { token: 's1' }));
    const move = (expect: string, to: string) =>
      store.orders.transition(
        { orderRef: 'S1', at: 1_000, nodeId: 'life' },
        () => ({ ok: true, to, event: to.toLowerCase() }),
        () => ({ stay: { orderRef: 'S1', expect } }),
      );
    await move('s1', 'Created');
    await assert.rejects(
      move('s0', 'Validated'),
      (err: unknown) => err instanceof CustodyConflict && err.result.reason === 'stale',
    );
    assert.equal((await store.orders.get('S1'))?.state, 'Created', 'the stale move was undone');
    assert.equal(await store.custody.tokenOf('S1'), 's1', 'the checkpoint is untouched');
  });

  it('decides moves run again under a checkpoint from the message’s state; a handoff realigns one left behind', async () => {
    const store = openStore();
    await store.custody.handOff(handoff('M1', { token: 'm1', state: 'Created' }));
    const seen: Array<string | undefined> = [];
    const move = (carried: string, to: string, token = 'm1') =>
      store.orders.transition(
        { orderRef: 'M1', at: 1_000, nodeId: `to-${to}`, carried: { token, state: carried } },
        (current) => {
          seen.push(current);
          return { ok: true, to, event: to.toLowerCase(), idempotent: current === to };
        },
        () => ({ stay: { orderRef: 'M1', expect: token, state: to } }),
      );
    // The first run: two moves stay under the checkpoint, each from the state the order is in.
    await move('Created', 'Validated');
    await move('Validated', 'PaymentAuthorized');
    assert.equal((await store.custody.get('M1'))?.state, 'PaymentAuthorized', 'the row knows the moves');
    // Run again from the checkpoint (state Created): decided from Created, not PaymentAuthorized.
    const again = await move('Created', 'Validated');
    assert.deepEqual(seen, [undefined, 'Validated', 'Created']);
    assert.equal(again.from, 'Created');
    assert.deepEqual(again.audit.detail, { ranAgainOver: 'PaymentAuthorized' });
    assert.equal((await store.orders.get('M1'))?.state, 'Validated');
    // A copy under another token is decided from the stored state (and its stay is refused).
    await assert.rejects(move('Created', 'Validated', 'm0'), CustodyConflict);
    assert.deepEqual(seen.slice(3), ['Validated']);
    // The run again goes another way: into a retry record, the order as its message left the
    // checkpoint (Created). The order's state follows, with a trace.
    await store.custody.handOff(
      handoff('M1', { holder: 'queue', token: 'r1', expect: 'm1', state: 'Created' }),
    );
    assert.equal((await store.orders.get('M1'))?.state, 'Created');
    const realigned = (await store.orders.trail('M1')).filter((e) => e.kind === 'realign');
    assert.deepEqual(
      realigned.map((e) => [e.from, e.to, e.nodeId]),
      [['Validated', 'Created', 'queue']],
    );
    // Handoffs that agree with the moves, or are forced (a held order decided), change nothing.
    await store.custody.handOff(
      handoff('M1', { holder: 'life', token: 'r2', expect: 'r1', state: 'Created' }),
    );
    await store.custody.handOff(
      handoff('M1', { holder: 'analyst', token: 'f1', force: true, state: 'OnHold' }),
    );
    assert.equal((await store.orders.get('M1'))?.state, 'Created');
    assert.equal((await store.orders.trail('M1')).filter((e) => e.kind === 'realign').length, 1);
  });

  it("settles the order's import ledger entry with a handoff that takes it, not with a refused one", async () => {
    const store = openStore();
    const receipt = (orderNo: string, batchId: string): LedgerReceipt => ({
      key: { source: 'sfcc', site: 'RefArch', orderNo },
      hash: `h-${orderNo}`,
      batchId,
    });
    await store.ledger.receive([receipt('S1', 'b1'), receipt('S2', 'b1'), receipt('S3', 'b1')], 10);
    await store.ledger.completeBatch('b1', 11, false); // each waits for the step that takes it
    assert.deepEqual(await store.custody.handOff(handoff('S1', { settle: 'sfcc/RefArch/S1' })), { ok: true });
    await store.custody.handOff(handoff('S2', { holder: 'x', token: 's2' }));
    const refused = await store.custody.handOff(
      handoff('S2', { holder: 'y', expect: 'not-s2', settle: 'sfcc/RefArch/S2' }),
    );
    assert.equal(refused.ok, false);
    // A release at the end of the flow (a final state) settles too, in the same transaction.
    await store.custody.handOff(handoff('S3', { token: 's3' }));
    await store.orders.transition(
      { orderRef: 'S3', at: 12, nodeId: 'n' },
      () => ({ ok: true, to: 'Created', event: 'create' }),
      () => ({ release: { orderRef: 'S3', expect: 's3', holder: 'node-a', settle: 'sfcc/RefArch/S3' } }),
    );
    assert.equal(await store.custody.tokenOf('S3'), undefined);
    const verdicts = await store.ledger.receive(
      [receipt('S1', 'b2'), receipt('S2', 'b2'), receipt('S3', 'b2')],
      20,
    );
    assert.deepEqual(
      verdicts.map((v) => v.status),
      ['duplicate', 'redelivery', 'duplicate'],
    );
  });

  it('a refused handoff undoes the write that carried it', async () => {
    const store = openStore();
    await store.custody.handOff(handoff('D1', { token: 'd1' }));
    await assert.rejects(
      store.retries.add(
        'queue-1',
        { message: '{}', orderRef: 'D1', at: 1_000, dueAt: 2_000, owner: 'runtime-1' },
        { handoff: handoff('D1', { holder: 'queue-1', kind: 'retry', expect: 'old' }) },
      ),
      (err: unknown) =>
        err instanceof CustodyConflict && err.result.reason === 'stale' && err.orderRef === 'D1',
    );
    assert.deepEqual(await store.retries.counts('queue-1'), { inflight: 0, waiting: 0, exhausted: 0 });
    // A lifecycle move whose handoff is refused is not made, and not audited.
    await assert.rejects(
      store.orders.transition(
        { orderRef: 'D1', at: 1_000, nodeId: 'life' },
        () => ({ ok: true, to: 'Created', event: 'create' }),
        () => ({ handoff: handoff('D1', { holder: 'life', expect: 'old' }) }),
      ),
      CustodyConflict,
    );
    assert.equal(await store.orders.get('D1'), undefined);
    assert.deepEqual(await store.orders.trail('D1'), []);
    assert.equal(await store.custody.tokenOf('D1'), 'd1');
  });

  it('claims lapsed checkpoints once, with a new lease and a count; never ends or stalled ones', async () => {
    const { custody } = openStore();
    await custody.heartbeat('runtime-1', 1_000);
    await custody.handOff(handoff('E1', { token: 'e1', at: 1_000, leaseUntil: 5_000 }));
    await custody.handOff(handoff('E2', { token: 'e2', at: 1_000, leaseUntil: 5_000, kind: 'end' }));
    await custody.handOff(handoff('E3', { token: 'e3', at: 1_000, leaseUntil: 5_000 }));
    assert.equal(await custody.markStalled('E3', 'e3', 2_000, 'resumed 5 times'), true);
    await custody.heartbeat('runtime-1', 4_000);
    assert.deepEqual(await custody.claimDue('runtime-1', 4_000, LEASE, 10_000, 10), []);
    const claimed = await custody.claimDue('runtime-1', 5_000, LEASE, 10_000, 10);
    assert.deepEqual(
      claimed.map((r) => [r.orderRef, r.resumes, r.leaseUntil, r.token, r.message]),
      [['E1', 1, 5_000 + LEASE, 'e1', JSON.stringify({ payload: 'E1' })]],
    );
    assert.deepEqual(await custody.claimDue('runtime-2', 6_000, LEASE, 10_000, 10), []);
    const counts = await custody.counts();
    assert.deepEqual(counts, { checkpoint: 2, end: 1, retry: 0, 'dead-letter': 0, stalled: 1 });
    const stalled = await custody.list({ stalled: true }, { offset: 0, limit: 10 });
    assert.deepEqual(
      stalled.items.map((r) => [r.orderRef, r.stalledReason]),
      [['E3', 'resumed 5 times']],
    );
    assert.equal(await custody.unstall('E3', 7_000), true);
    const after = await custody.claimDue('runtime-1', 7_000, LEASE, 10_000, 10);
    assert.deepEqual(
      after.map((r) => [r.orderRef, r.resumes]),
      [['E3', 1]],
    );
  });

  it("claims a stopped runtime's checkpoints at once, a live one's only after their lease", async () => {
    const { custody } = openStore();
    await custody.heartbeat('alive', 1_000);
    await custody.heartbeat('gone', 1_000);
    await custody.handOff(handoff('F1', { token: 'f1', owner: 'alive', leaseUntil: 100_000 }));
    await custody.handOff(handoff('F2', { token: 'f2', owner: 'gone', leaseUntil: 100_000 }));
    await custody.handOff(handoff('F3', { token: 'f3', owner: 'left', leaseUntil: 100_000 }));
    await custody.leave('left');
    await custody.heartbeat('alive', 14_000);
    const claimed = await custody.claimDue('me', 15_000, LEASE, 10_000, 10);
    assert.deepEqual(claimed.map((r) => r.orderRef).sort(), ['F2', 'F3']);
    assert.ok(claimed.every((r) => r.owner === 'me'));
  });

  it('two runtimes on one store never claim the same checkpoint', async () => {
    const one = openStore();
    const two = openStore();
    for (let i = 0; i < 200; i++) {
      await one.custody.handOff(handoff(`G${i}`, { token: `g${i}`, owner: 'dead', leaseUntil: 0 }));
    }
    // Both beat: a claim by one is not taken for a dead runtime's by the other.
    await one.custody.heartbeat('one', 10_000);
    await two.custody.heartbeat('two', 10_000);
    const [a, b] = await Promise.all([
      Promise.all([0, 1, 2, 3].map(() => one.custody.claimDue('one', 10_000, LEASE, 1, 30))),
      Promise.all([0, 1, 2, 3].map(() => two.custody.claimDue('two', 10_000, LEASE, 1, 30))),
    ]);
    const refs = [...a.flat(), ...b.flat()].map((r) => r.orderRef);
    assert.equal(new Set(refs).size, refs.length, 'a checkpoint was claimed twice');
    assert.equal(refs.length, 200);
  });

  it('a dead letter holds its order; a replay hands it on; a discard lets it go', async () => {
    const store = openStore();
    await store.custody.handOff(handoff('H1', { token: 'h0' }));
    const letter = {
      nodeId: 'dlq',
      orderRef: 'H1',
      error: { message: 'refused', code: 'X' },
      attempts: 1,
      firstFailureAt: 1,
      lastFailureAt: 1,
      createdAt: 1,
      message: '{}',
    };
    const parked = await store.deadLetters.add(letter, {
      handoff: handoff('H1', { holder: 'dlq', kind: 'dead-letter', expect: 'h0', message: undefined }),
    });
    const row = await store.custody.get('H1');
    assert.deepEqual(
      [row?.kind, row?.ref, row?.token],
      ['dead-letter', parked.id, `dead-letter-${parked.id}`],
    );
    assert.equal(
      await store.deadLetters.markReplayed(parked.id, 2, 'analyst', {
        handoff: handoff('H1', { holder: 'dlq', token: 'r1', force: true }),
      }),
      true,
    );
    assert.equal((await store.custody.get('H1'))?.kind, 'checkpoint');
    const again = await store.deadLetters.add(letter, {
      handoff: handoff('H1', { holder: 'dlq', kind: 'dead-letter', expect: 'r1', message: undefined }),
    });
    assert.equal(await store.deadLetters.discard(again.id, 3, 'analyst', 'customer cancelled'), true);
    assert.equal(await store.custody.get('H1'), undefined);
  });

  it('a hold decision and the checkpoint of the decided order are stored together', async () => {
    const store = openStore();
    const hold = await store.holds.add({
      nodeId: 'fraud',
      orderRef: 'J1',
      score: 50,
      reasons: [],
      createdAt: 1,
      message: '{}',
    });
    await store.custody.handOff(handoff('J1', { holder: 'hold-life', token: 'j1', kind: 'end' }));
    const decided = await store.holds.decide(hold.id, 'accepted', 2, 'analyst', undefined, (h) => ({
      handoff: handoff('J1', { holder: h.nodeId, token: 'j2', force: true }),
    }));
    assert.equal(decided?.status, 'accepted');
    assert.deepEqual(
      [(await store.custody.get('J1'))?.holder, await store.custody.tokenOf('J1')],
      ['fraud', 'j2'],
    );
  });
});
