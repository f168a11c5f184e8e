import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../../lib/store/driver';
import {
  decodeMessage,
  encodeMessage,
  openSqliteStore,
  SCHEMA_VERSION,
  type LedgerReceipt,
  type OmsStore,
} from '../../../lib/store';

describe(`SQLite store (${process.env.OMS_SQLITE_DRIVER ?? 'first driver that loads'})`, () => {
  let dir: string;
  const open: OmsStore[] = [];
  const openStore = (name = 'oms.db'): OmsStore => {
    const store = openSqliteStore({ file: join(dir, name) });
    open.push(store);
    return store;
  };
  const receipt = (orderNo: string, hash: string, batchId: string): LedgerReceipt => ({
    key: { source: 'sfcc', site: 'RefArch', orderNo },
    hash,
    batchId,
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'oms-store-'));
  });
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('file and schema', () => {
    it('creates the file and its folder, in WAL mode, at the current schema version', async () => {
      const store = openStore('nested/deeper/oms.db');
      await store.close();
      const db = openDatabase(join(dir, 'nested/deeper/oms.db'), 1000);
      try {
        assert.equal(
          (db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode,
          'wal',
        );
        const versions = db.prepare('SELECT version FROM schema_version ORDER BY version').all();
        assert.deepEqual(
          versions.map((row) => (row as { version: number }).version),
          Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1),
        );
      } finally {
        db.close();
      }
    });

    it('reopens an existing file without applying a migration twice', async () => {
      const first = openStore();
      await first.orders.appendAudit({ orderRef: 'A1', at: 1, kind: 'note' });
      await first.close();
      const second = openStore();
      assert.equal((await second.orders.trail('A1')).length, 1);
    });

    it('refuses a file written by a newer schema, naming both versions', async () => {
      await openStore().close();
      const db = openDatabase(join(dir, 'oms.db'), 1000);
      db.prepare('INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)').run(
        SCHEMA_VERSION + 1,
        'from the future',
        Date.now(),
      );
      db.close();
      assert.throws(
        () => openSqliteStore({ file: join(dir, 'oms.db') }),
        (err: Error & { code?: string }) =>
          err.code === 'OMS_STORE_TOO_NEW' && err.message.includes(`schema version ${SCHEMA_VERSION + 1}`),
      );
    });

    it('reports a path it cannot create with OMS_STORE_OPEN', () => {
      const blocker = join(dir, 'file');
      execFileSync('touch', [blocker]);
      assert.throws(
        () => openSqliteStore({ file: join(blocker, 'oms.db') }),
        (err: Error & { code?: string }) => err.code === 'OMS_STORE_OPEN' && err.message.includes(blocker),
      );
    });
  });

  describe('idempotency ledger', () => {
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

  describe('orders and audit trail', () => {
    it('moves an order atomically and records every move, refused ones included', async () => {
      const store = openStore();
      const ctx = { orderRef: 'A1', nodeId: 'n1', template: 'order-lifecycle@1.0.0', correlationId: 'c1' };
      const first = await store.orders.transition({ ...ctx, at: 100 }, (current) =>
        current === undefined
          ? { ok: true, to: 'Created', event: 'create' }
          : { ok: false, reason: 'exists' },
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

  describe('retry queue', () => {
    it('keeps in-flight and waiting messages per queue, due in time order', async () => {
      const store = openStore();
      const a = await store.retries.add('q1', { message: '{"a":1}', orderRef: 'A', at: 0, dueAt: 1000 });
      const b = await store.retries.add('q1', { message: '{"b":1}', at: 0, dueAt: 1000 });
      await store.retries.add('q2', { message: '{"c":1}', at: 0, dueAt: 10 });
      await store.retries.scheduleRetry(b, { at: 5, dueAt: 50, error: { message: 'HTTP 503', status: 503 } });
      assert.deepEqual(await store.retries.counts('q1'), { inflight: 1, waiting: 1, exhausted: 0 });
      assert.equal(await store.retries.nextDueAt('q1'), 50);
      assert.deepEqual(
        (await store.retries.due('q1', 60, 10)).map((r) => r.id),
        [b],
      );
      const waiting = await store.retries.get(b);
      assert.equal(waiting?.state, 'waiting');
      assert.equal(waiting?.firstFailureAt, 5);
      assert.deepEqual(waiting?.lastError, { message: 'HTTP 503', status: 503 });

      await store.retries.markSent(b, 2, 2000);
      await store.retries.scheduleRetry(b, { at: 70, dueAt: 80, error: { message: 'again' } });
      const later = await store.retries.get(b);
      assert.equal(later?.firstFailureAt, 5, 'first failure time is kept');
      assert.equal(later?.lastFailureAt, 70);
      assert.equal(later?.attempt, 2);

      assert.equal(await store.retries.releaseInflight('q1', 90), 1);
      assert.deepEqual((await store.retries.due('q1', 90, 10)).map((r) => r.id).sort(), [a, b].sort());
      assert.equal(await store.retries.remove(a), true);
      assert.equal(await store.retries.remove(a), false);
      assert.deepEqual(await store.retries.counts('q2'), { inflight: 1, waiting: 0, exhausted: 0 });
    });
  });

  describe('fraud holds', () => {
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

  describe('dead letters', () => {
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

  it('keeps every committed write when the process is killed with SIGKILL', async function () {
    this.timeout(30000);
    const file = join(dir, 'crash.db');
    const storeModule = require.resolve('../../../lib/store');
    // The child commits dead letters one by one and reports each; we kill it mid-way.
    const script = `
      const { openSqliteStore, encodeMessage } = require(${JSON.stringify(storeModule)});
      const store = openSqliteStore({ file: ${JSON.stringify(file)} });
      (async () => {
        for (let i = 1; ; i++) {
          await store.deadLetters.add({ nodeId: 'dl', orderRef: 'O' + i, error: { message: 'x' }, attempts: 1,
            firstFailureAt: i, lastFailureAt: i, createdAt: i, message: encodeMessage({ payload: i }) });
          process.stdout.write(i + '\\n');
        }
      })();`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let acknowledged = 0;
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        const lines = chunk.toString().trim().split('\n');
        acknowledged = Number(lines[lines.length - 1]);
        if (acknowledged >= 200 && child.exitCode === null && !child.killed) {
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    await new Promise((resolve) => child.once('exit', resolve));
    const store = openStore('crash.db');
    const stored = await store.deadLetters.list({}, { offset: 0, limit: 1 });
    assert.ok(
      stored.total >= acknowledged,
      `every acknowledged commit survives: ${stored.total} stored, ${acknowledged} acknowledged`,
    );
  });
});
