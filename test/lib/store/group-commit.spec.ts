// Group commit (lib/store/group-commit.ts): writes asked for in one turn share one COMMIT, each in
// its own savepoint, and a write's promise settles only once it is committed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type DriverName, type SqlDatabase } from '../../../lib/store/driver';
import { GroupCommit } from '../../../lib/store/group-commit';

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
    assert.deepEqual(group.stats, { commits: 1, writes: 50 });
    await group.write(insert(100));
    assert.deepEqual(group.stats, { commits: 2, writes: 51 });
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
});
