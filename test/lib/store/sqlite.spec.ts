import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../../lib/store/driver';
import type { GroupCommit } from '../../../lib/store/group-commit';
import { openSqliteStore, SCHEMA_VERSION, type OmsStore } from '../../../lib/store';

describe(`SQLite store (${process.env.OMS_SQLITE_DRIVER ?? 'first driver that loads'})`, () => {
  let dir: string;
  const open: OmsStore[] = [];
  const openStore = (name = 'oms.db'): OmsStore => {
    const store = openSqliteStore({ file: join(dir, name) });
    open.push(store);
    return store;
  };
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

    it('answers each write once an fsync of its WAL, off the event loop, has made it durable', async () => {
      const store = openStore();
      const group = (store as { group?: GroupCommit }).group;
      assert.ok(group, 'the SQLite store commits in groups');
      await Promise.all([
        store.orders.appendAudit({ orderRef: 'A1', at: 1, kind: 'note' }),
        store.orders.appendAudit({ orderRef: 'A2', at: 1, kind: 'note' }),
      ]);
      assert.deepEqual(group.stats, { commits: 1, writes: 2, syncs: 1 });
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
