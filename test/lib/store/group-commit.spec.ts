// Group commit (lib/store/group-commit.ts): writes asked for in one turn share one COMMIT, each in
// its own savepoint, and a write's promise settles only once it is committed — and, with a
// durable sync (the store's WAL fsync), only once that sync has covered it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type DriverName, type SqlDatabase } from '../../../lib/store/driver';
import { GroupCommit, type DurableSync } from '../../../lib/store/group-commit';

const driver = process.env.OMS_SQLITE_DRIVER as DriverName | undefined;

describe(`group commit (${driver ?? 'first driver that loads'})`, () => {
  let dir: string;
  let db: SqlDatabase;
  let other: SqlDatabase;
  let group: GroupCommit;
  const rows = (): number[] =>
    (other.prepare('SELECT v FROM t ORDER BY v').all() as Array<{ v: number }>).map((r) => r.v);
  const insert = (v: number) => () => db.prepare('INSERT INTO t (v) VALUES (?)').run(v).lastInsertRowid;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'oms-group-'));
    db = openDatabase(join(dir, 'g.db'), 1000, driver);
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('CREATE TABLE t (v INTEGER PRIMARY KEY)');
    other = openDatabase(join(dir, 'g.db'), 1000, driver);
    group = new GroupCommit(db);
  });
  afterEach(() => {
    group.close();
    db.close();
    other.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits the writes of one turn together, each answered with its own result', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => group.write(insert(i + 1))));
    assert.deepEqual(
      results.map(Number),
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    assert.deepEqual(group.stats, { commits: 1, writes: 50, syncs: 0 });
    await group.write(insert(100));
    assert.deepEqual(group.stats, { commits: 2, writes: 51, syncs: 0 });
  });

  it('undoes a failing write alone; the others of its group are kept', async () => {
    await group.write(insert(7));
    const outcomes = await Promise.allSettled([
      group.write(insert(1)),
      group.write(() => {
        db.prepare('INSERT INTO t (v) VALUES (?)').run(2);
        db.prepare('INSERT INTO t (v) VALUES (?)').run(7); // primary key taken: this write fails whole
      }),
      group.write(insert(3)),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.match(String((outcomes[1] as PromiseRejectedResult).reason), /UNIQUE|constraint/i);
    assert.deepEqual(rows(), [1, 3, 7], 'row 2 went with the failed write');
  });

  it('answers a write only once it is committed: another connection sees it then, not before', async () => {
    const pending = group.write(insert(42));
    assert.deepEqual(rows(), [], 'not visible before the group commits');
    await pending;
    assert.deepEqual(rows(), [42]);
  });

  it('commits what is queued when closed, and refuses writes afterwards', async () => {
    const pending = group.write(insert(5));
    group.close();
    await pending;
    assert.deepEqual(rows(), [5]);
    await assert.rejects(group.write(insert(6)), /closed/);
  });

  describe('with a durable sync after COMMIT', () => {
    /** A sync the test finishes by hand, so what waits for it can be seen. */
    class HeldSync implements DurableSync {
      readonly waiting: Array<(error: Error | null) => void> = [];
      blocking = 0;
      /** Set once closed; a sync running then would use a file that is gone. */
      closedWith: number | undefined;
      sync(done: (error: Error | null) => void): void {
        assert.equal(this.closedWith, undefined, 'no sync after close');
        this.waiting.push(done);
      }
      syncNow(): void {
        this.blocking++;
      }
      close(): void {
        assert.equal(this.closedWith, undefined, 'closed once');
        this.closedWith = this.waiting.length;
      }
      finish(error: Error | null = null): void {
        const done = this.waiting.shift();
        assert.ok(done, 'a sync is running');
        done(error);
      }
    }
    let sync: HeldSync;
    let synced: GroupCommit;
    const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
    beforeEach(() => {
      sync = new HeldSync();
      synced = new GroupCommit(db, sync);
    });
    afterEach(() => synced.close());

    it('answers a committed write only after the sync that covers it', async () => {
      let answered = false;
      const pending = synced.write(insert(1)).then(() => (answered = true));
      await turn();
      assert.deepEqual(rows(), [1], 'committed: another connection sees it');
      assert.equal(answered, false, 'not answered before the sync');
      assert.equal(sync.waiting.length, 1);
      sync.finish();
      await pending;
      assert.deepEqual(synced.stats, { commits: 1, writes: 1, syncs: 1 });
    });

    it('lets the groups committed while a sync runs share the next one', async () => {
      const first = synced.write(insert(1));
      await turn();
      const later = [synced.write(insert(2))];
      await turn();
      later.push(synced.write(insert(3)));
      await turn();
      assert.deepEqual(rows(), [1, 2, 3]);
      assert.equal(sync.waiting.length, 1, 'one sync at a time');
      sync.finish();
      await first;
      assert.equal(sync.waiting.length, 1, 'the next sync covers both later groups');
      sync.finish();
      await Promise.all(later);
      assert.deepEqual(synced.stats, { commits: 3, writes: 3, syncs: 2 });
    });

    it('refuses the writes a failed sync covered and every write after it', async () => {
      const pending = synced.write(insert(1));
      await turn();
      sync.finish(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
      await assert.rejects(pending, (err: Error & { code?: string }) => {
        assert.equal(err.code, 'OMS_STORE_SYNC');
        assert.match(err.message, /could not write to its disk.*EIO/);
        return true;
      });
      await assert.rejects(synced.write(insert(2)), { code: 'OMS_STORE_SYNC' });
    });

    it('makes every committed group durable when closed, and releases the file after the running sync', async () => {
      const first = synced.write(insert(1));
      await turn();
      const second = synced.write(insert(2));
      synced.close(); // commits the second group, then one blocking sync covers both
      await Promise.all([first, second]);
      assert.equal(sync.blocking, 1);
      assert.equal(sync.closedWith, undefined, 'not while the first sync still runs on the pool');
      sync.finish();
      assert.equal(sync.closedWith, 0, 'released once that sync returned');
      assert.deepEqual(rows(), [1, 2]);
    });

    it('trusts no later sync once one failed: groups committed meanwhile fail too', async () => {
      const first = synced.write(insert(1));
      await turn();
      const during = synced.write(insert(2)); // committed while the first sync runs
      await turn();
      sync.finish(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
      await assert.rejects(first, { code: 'OMS_STORE_SYNC' });
      if (sync.waiting.length > 0) sync.finish(); // a later sync that says all is well
      await assert.rejects(during, { code: 'OMS_STORE_SYNC' });
    });
  });
});
