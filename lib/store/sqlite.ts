// The embedded store: one SQLite file (better-sqlite3 or node:sqlite), WAL journal; a write's
// promise resolves once its commit is on disk, so it survives a crash or a power loss: SQLite
// commits with synchronous=NORMAL and the group commit fsyncs the WAL off the event loop.
import { randomUUID } from 'node:crypto';
import { closeSync, fsync, fsyncSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { openDatabase, type DriverName, type SqlDatabase } from './driver';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations';
import { GroupCommit, type DurableSync, type Write } from './group-commit';
import { json, jsonOrNull, likePattern, num, str, type Row } from './rows';
import { SqliteFraudHistory, SqliteHolds } from './sqlite-fraud';
import { custodyApplier, SqliteCustody, type ApplyCustody } from './sqlite-custody';
import { SqliteRetries } from './sqlite-retries';
import { SqliteCounters } from './sqlite-counters';
import type { CustodyStep } from './ports/custody';
import type {
  AuditEntry,
  DeadLetter,
  DeadLetterFilter,
  DeadLetters,
  ErrorInfo,
  FraudHistory,
  Holds,
  Ledger,
  LedgerReceipt,
  LedgerVerdict,
  NewAuditEntry,
  NewDeadLetter,
  OmsStore,
  OnceResult,
  OrderRecord,
  Orders,
  Page,
  RetryQueue,
  StateDecision,
  TransitionContext,
  TransitionOutcome,
} from './types';
import { formatOrderKey } from './hash';

export class StoreError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

export interface SqliteStoreOptions {
  /** Path of the database file; created with its folder when missing. */
  file: string;
  /** How long a write waits for another connection's lock before failing (ms). */
  busyTimeoutMs?: number;
  /** Which SQLite driver; default: OMS_SQLITE_DRIVER, else the first that works (lib/store/driver.ts). */
  driver?: DriverName;
}

type Db = SqlDatabase;

/** Opens (creating or migrating) the store file. Throws StoreError with a code on failure. */
export function openSqliteStore(options: SqliteStoreOptions): OmsStore {
  const file = resolve(options.file);
  let db: Db;
  try {
    mkdirSync(dirname(file), { recursive: true });
    const fromEnv = process.env.OMS_SQLITE_DRIVER;
    const driver =
      options.driver ?? (fromEnv === 'better-sqlite3' || fromEnv === 'node:sqlite' ? fromEnv : undefined);
    db = openDatabase(file, options.busyTimeoutMs ?? 5000, driver);
  } catch (err) {
    const code =
      (err as { code?: string }).code === 'OMS_STORE_DRIVER' ? 'OMS_STORE_DRIVER' : 'OMS_STORE_OPEN';
    throw new StoreError(`Cannot open the OMS store ${file}: ${(err as Error).message}`, code);
  }
  try {
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = FULL');
    migrate(db, file);
  } catch (err) {
    db.close();
    if (err instanceof StoreError) throw err;
    throw new StoreError(`Cannot open the OMS store ${file}: ${(err as Error).message}`, 'OMS_STORE_OPEN');
  }
  const wal = walSync(file);
  // SQLite's own fsync in COMMIT blocks the event loop; ours of the WAL runs on the thread pool.
  if (wal) db.exec('PRAGMA synchronous = NORMAL');
  return new SqliteStore(db, file, wal);
}

/**
 * fsync of the store's WAL file (kept open: SQLite never deletes the WAL while a connection
 * of its own is open, and an fd held from the start sees every write-back error). Undefined
 * when the file cannot be opened: SQLite then syncs in COMMIT (synchronous=FULL).
 */
function walSync(file: string): DurableSync | undefined {
  let fd: number;
  try {
    fd = openSync(`${file}-wal`, 'r+'); // write access: Windows flushes only such a handle
  } catch {
    return undefined;
  }
  // The WAL may be new: its name in the folder must survive a power loss as well.
  try {
    const dir = openSync(dirname(file), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // Not possible everywhere (Windows cannot open a folder): the file's own fsync stays.
  }
  return {
    sync: (done) => fsync(fd, (error) => done(error)),
    syncNow: () => fsyncSync(fd),
    close: () => closeSync(fd),
  };
}

function migrate(db: Db, file: string): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const row = db.prepare('SELECT max(version) AS v FROM schema_version').get() as Row;
  const version = num(row.v) ?? 0;
  if (version > SCHEMA_VERSION) {
    throw new StoreError(
      `The OMS store ${file} has schema version ${version}, newer than this pack knows (${SCHEMA_VERSION}): ` +
        'upgrade node-red-contrib-oms or point the store at another file.',
      'OMS_STORE_TOO_NEW',
    );
  }
  const record = db.prepare('INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)');
  for (const step of MIGRATIONS) {
    if (step.version <= version) continue;
    db.transaction(() => {
      db.exec(step.sql);
      record.run(step.version, step.description, Date.now());
    });
  }
}

class SqliteStore implements OmsStore {
  readonly driver: DriverName;
  readonly ledger: Ledger;
  readonly orders: Orders;
  readonly retries: RetryQueue;
  readonly deadLetters: DeadLetters;
  readonly fraud: FraudHistory;
  readonly holds: Holds;
  readonly custody: SqliteCustody;
  readonly counters: SqliteCounters;
  private closed = false;
  readonly group: GroupCommit;

  constructor(
    private readonly db: Db,
    readonly location: string,
    wal?: DurableSync,
  ) {
    this.driver = db.driver;
    this.group = new GroupCommit(db, wal);
    const write = this.group.write;
    this.custody = new SqliteCustody(db, write);
    this.counters = new SqliteCounters(db, write);
    const apply = custodyApplier(this.custody);
    this.orders = new SqliteOrders(db, write, apply);
    this.ledger = new SqliteLedger(db, write, randomUUID());
    this.retries = new SqliteRetries(db, write, apply);
    this.deadLetters = new SqliteDeadLetters(db, write, this.orders as SqliteOrders, apply);
    this.fraud = new SqliteFraudHistory(db, write);
    const orders = this.orders as SqliteOrders;
    this.holds = new SqliteHolds(db, write, (entry) => orders.appendSync(entry), apply);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.group.close();
    // Folds the WAL back into the main file so a copied .db is complete on its own.
    this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    this.db.close(); // the WAL file itself is released by the group commit, once no fsync runs
  }
}

class SqliteLedger implements Ledger {
  private readonly running = new Map<string, Promise<OnceResult<unknown>>>();

  constructor(
    private readonly db: Db,
    private readonly write: Write,
    /** Identifies this process's batches: an open batch of another owner was cut short. */
    private readonly owner: string,
  ) {}

  async receive(receipts: readonly LedgerReceipt[], at: number): Promise<LedgerVerdict[]> {
    const db = this.db;
    const openBatch = db.prepare(
      'INSERT OR IGNORE INTO batches (batch_id, owner, started_at) VALUES (?, ?, ?)',
    );
    const find = db.prepare('SELECT * FROM ledger WHERE order_key = ?');
    const findBatch = db.prepare('SELECT owner, completed_at FROM batches WHERE batch_id = ?');
    const insert = db.prepare(
      `INSERT INTO ledger (order_key, source, site, order_no, content_hash, batch_id, first_seen, last_seen, seen_count)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)`,
    );
    const seen = db.prepare(
      `UPDATE ledger SET content_hash = ?, batch_id = ?, last_seen = ?, seen_count = seen_count + 1, settled = 0
       WHERE order_key = ?`,
    );
    const touch = db.prepare(
      'UPDATE ledger SET last_seen = ?, seen_count = seen_count + 1 WHERE order_key = ?',
    );
    return this.write((): LedgerVerdict[] => {
      const verdicts: LedgerVerdict[] = [];
      for (const { key, hash, batchId } of receipts) {
        openBatch.run(batchId, this.owner, at);
        const orderKey = formatOrderKey(key);
        const row = find.get(orderKey) as Row | undefined;
        if (!row) {
          insert.run(orderKey, key.source, key.site, key.orderNo, hash, batchId, at, at);
          verdicts.push({ status: 'new' });
          continue;
        }
        const firstSeenAt = Number(row.first_seen);
        const seenCount = Number(row.seen_count);
        const previousBatchId = String(row.batch_id);
        if (row.content_hash !== hash) {
          seen.run(hash, batchId, at, orderKey);
          verdicts.push({
            status: 'update',
            previousHash: String(row.content_hash),
            firstSeenAt,
            seenCount,
          });
          continue;
        }
        const batch = findBatch.get(previousBatchId) as Row | undefined;
        // Being read right now by this process (another file with the same order): not again.
        const inProgress =
          previousBatchId === batchId || (batch?.completed_at === null && batch.owner === this.owner);
        if (row.settled === 0 && !inProgress) {
          seen.run(hash, batchId, at, orderKey);
          verdicts.push({ status: 'redelivery', firstSeenAt, previousBatchId });
        } else {
          touch.run(at, orderKey);
          verdicts.push({
            status: 'duplicate',
            firstSeenAt,
            lastSeenAt: Number(row.last_seen),
            seenCount: seenCount + 1,
            batchId: previousBatchId,
          });
        }
      }
      return verdicts;
    });
  }

  async completeBatch(batchId: string, at: number, settle: boolean): Promise<void> {
    const { db } = this;
    await this.write(() => {
      db.prepare(
        `INSERT INTO batches (batch_id, owner, started_at, completed_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (batch_id) DO UPDATE SET completed_at = excluded.completed_at`,
      ).run(batchId, this.owner, at, at);
      if (settle) db.prepare('UPDATE ledger SET settled = 1 WHERE batch_id = ?').run(batchId);
    });
  }

  async abandonBatch(batchId: string): Promise<void> {
    // No owner any more: receive() treats it like the open batch of a process that died.
    await this.write(() =>
      this.db
        .prepare(`UPDATE batches SET owner = '' WHERE batch_id = ? AND completed_at IS NULL`)
        .run(batchId),
    );
  }

  async settle(orderKeys: readonly string[]): Promise<void> {
    const { db } = this;
    const update = db.prepare('UPDATE ledger SET settled = 1 WHERE order_key = ? AND settled = 0');
    await this.write(() => {
      for (const key of orderKeys) update.run(key);
    });
  }

  once<T>(key: string, effect: (key: string) => Promise<T>): Promise<OnceResult<T>> {
    // Two callers with one key in this process share one run.
    const pending = this.running.get(key);
    if (pending) return pending as Promise<OnceResult<T>>;
    const run = this.runOnce(key, effect).finally(() => this.running.delete(key));
    this.running.set(key, run);
    return run;
  }

  private async runOnce<T>(key: string, effect: (key: string) => Promise<T>): Promise<OnceResult<T>> {
    const row = this.db.prepare('SELECT state, result FROM effects WHERE effect_key = ?').get(key) as
      Row | undefined;
    if (row?.state === 'done') return { value: json(row.result) as T, replayed: true };
    await this.write(() =>
      this.db
        .prepare(
          `INSERT INTO effects (effect_key, state, runs, started_at) VALUES (?, 'running', 1, ?)
           ON CONFLICT (effect_key) DO UPDATE SET runs = runs + 1, started_at = excluded.started_at`,
        )
        .run(key, Date.now()),
    );
    const value = await effect(key);
    await this.write(() =>
      this.db
        .prepare(`UPDATE effects SET state = 'done', result = ?, finished_at = ? WHERE effect_key = ?`)
        .run(jsonOrNull(value) ?? 'null', Date.now(), key),
    );
    return { value, replayed: false };
  }
}

function toAudit(row: Row): AuditEntry {
  const entry: AuditEntry = {
    id: Number(row.id),
    orderRef: String(row.order_ref),
    at: Number(row.at),
    kind: String(row.kind) as AuditEntry['kind'],
  };
  const optional = {
    from: str(row.from_state),
    to: str(row.to_state),
    event: str(row.event),
    nodeId: str(row.node_id),
    template: str(row.template),
    correlationId: str(row.correlation_id),
    detail: json(row.detail),
  };
  for (const [k, v] of Object.entries(optional)) {
    if (v !== undefined) (entry as unknown as Record<string, unknown>)[k] = v;
  }
  return entry;
}

class SqliteOrders implements Orders {
  constructor(
    private readonly db: Db,
    private readonly write: Write,
    private readonly applyCustody: ApplyCustody,
  ) {}

  /** Synchronous so other store parts can append inside their own transaction. */
  appendSync(entry: NewAuditEntry): AuditEntry {
    const info = this.db
      .prepare(
        `INSERT INTO audit (order_ref, at, kind, from_state, to_state, event, node_id, template, correlation_id, detail)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        entry.orderRef,
        entry.at,
        entry.kind,
        entry.from ?? null,
        entry.to ?? null,
        entry.event ?? null,
        entry.nodeId ?? null,
        entry.template ?? null,
        entry.correlationId ?? null,
        jsonOrNull(entry.detail),
      );
    return { ...entry, id: Number(info.lastInsertRowid) };
  }

  async appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    return this.write(() => this.appendSync(entry));
  }

  async transition(
    context: TransitionContext,
    decide: (current?: string) => StateDecision,
    custody?: (outcome: TransitionOutcome) => CustodyStep | undefined,
  ): Promise<TransitionOutcome> {
    const { db } = this;
    return this.write((): TransitionOutcome => {
      const row = db.prepare('SELECT state FROM orders WHERE order_ref = ?').get(context.orderRef) as
        Row | undefined;
      const stored = str(row?.state);
      const from = this.runAgainFrom(context) ?? stored;
      const decision = decide(from);
      if (decision.ok && (!decision.idempotent || decision.to !== stored)) {
        db.prepare(
          `INSERT INTO orders (order_ref, state, created_at, updated_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (order_ref) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
        ).run(context.orderRef, decision.to, context.at, context.at);
      }
      const base = from === stored ? context.detail : { ...(context.detail as object), ranAgainOver: stored };
      const detail =
        decision.ok && decision.idempotent
          ? { ...(base as object | undefined), idempotent: true }
          : !decision.ok
            ? { ...(base as object | undefined), reason: decision.reason }
            : base;
      const audit = this.appendSync({
        orderRef: context.orderRef,
        at: context.at,
        kind: decision.ok ? 'transition' : 'refused',
        from,
        to: decision.to,
        event: decision.event,
        nodeId: context.nodeId,
        template: context.template,
        correlationId: context.correlationId,
        detail,
      });
      const outcome = { from, decision, audit };
      this.applyCustody(custody?.(outcome));
      return outcome;
    });
  }

  /** The message's state when the steps after its checkpoint run again (TransitionContext.carried). */
  private runAgainFrom(context: TransitionContext): string | undefined {
    const carried = context.carried;
    if (carried?.state === undefined) return undefined;
    const held = this.db
      .prepare('SELECT token, state FROM custody WHERE order_ref = ?')
      .get(context.orderRef) as Row | undefined;
    const left = str(held?.state);
    return held?.token === carried.token && left !== undefined && left !== carried.state
      ? carried.state
      : undefined;
  }

  async get(orderRef: string): Promise<OrderRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM orders WHERE order_ref = ?').get(orderRef) as Row | undefined;
    if (!row) return undefined;
    return {
      orderRef,
      state: String(row.state),
      createdAt: Number(row.created_at),
      updatedAt: Number(row.updated_at),
    };
  }

  async trail(orderRef: string, limit = 1000): Promise<AuditEntry[]> {
    const rows = this.db
      .prepare('SELECT * FROM audit WHERE order_ref = ? ORDER BY id LIMIT ?')
      .all(orderRef, limit) as Row[];
    return rows.map(toAudit);
  }
}

function toDeadLetter(row: Row, withMessage: boolean): DeadLetter {
  const letter: DeadLetter = {
    id: Number(row.id),
    nodeId: String(row.node_id),
    error: JSON.parse(String(row.error)) as ErrorInfo,
    attempts: Number(row.attempts),
    firstFailureAt: Number(row.first_failure_at),
    lastFailureAt: Number(row.last_failure_at),
    createdAt: Number(row.created_at),
    status: String(row.status) as DeadLetter['status'],
    replays: Number(row.replays),
    repeats: Number(row.repeats),
  };
  const optional = {
    orderRef: str(row.order_ref),
    correlationId: str(row.correlation_id),
    template: str(row.template),
    resolvedAt: num(row.resolved_at),
    resolvedBy: str(row.resolved_by),
    reason: str(row.reason),
    message: withMessage ? str(row.message) : undefined,
  };
  for (const [k, v] of Object.entries(optional)) {
    if (v !== undefined) (letter as unknown as Record<string, unknown>)[k] = v;
  }
  return letter;
}

function whereClause(filter: DeadLetterFilter): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  const status = filter.status ?? 'parked';
  if (status !== 'all') {
    parts.push('status = ?');
    params.push(status);
  }
  if (filter.nodeId) {
    parts.push('node_id = ?');
    params.push(filter.nodeId);
  }
  if (filter.errorCode) {
    parts.push('error_code = ?');
    params.push(filter.errorCode);
  }
  if (filter.orderRef) {
    parts.push('order_ref = ?');
    params.push(filter.orderRef);
  }
  if (filter.since !== undefined) {
    parts.push('created_at >= ?');
    params.push(filter.since);
  }
  if (filter.until !== undefined) {
    parts.push('created_at < ?');
    params.push(filter.until);
  }
  if (filter.text) {
    const like = likePattern(filter.text);
    parts.push(
      `(lower(coalesce(order_ref, '')) LIKE ? ESCAPE '\\' OR lower(coalesce(error_code, '')) LIKE ? ESCAPE '\\'
        OR lower(error_message) LIKE ? ESCAPE '\\')`,
    );
    params.push(like, like, like);
  }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

class SqliteDeadLetters implements DeadLetters {
  constructor(
    private readonly db: Db,
    private readonly write: Write,
    private readonly orders: SqliteOrders,
    private readonly applyCustody: ApplyCustody,
  ) {}

  async add(entry: NewDeadLetter, custody?: CustodyStep): Promise<DeadLetter> {
    const { db } = this;
    return this.write((): DeadLetter => {
      const parked = entry.orderRef
        ? (db
            .prepare(`SELECT id FROM dead_letters WHERE node_id = ? AND order_ref = ? AND status = 'parked'`)
            .get(entry.nodeId, entry.orderRef) as Row | undefined)
        : undefined;
      let id: number;
      if (parked) {
        id = Number(parked.id);
        db.prepare(
          `UPDATE dead_letters SET error_code = ?, error_message = ?, error = ?, attempts = max(attempts, ?),
             last_failure_at = ?, message = ?, repeats = repeats + 1 WHERE id = ?`,
        ).run(
          entry.error.code ?? null,
          entry.error.message,
          JSON.stringify(entry.error),
          entry.attempts,
          entry.lastFailureAt,
          entry.message,
          id,
        );
      } else {
        const info = db
          .prepare(
            `INSERT INTO dead_letters (node_id, order_ref, correlation_id, error_code, error_message, error,
                 attempts, first_failure_at, last_failure_at, template, created_at, status, message)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'parked', ?)`,
          )
          .run(
            entry.nodeId,
            entry.orderRef ?? null,
            entry.correlationId ?? null,
            entry.error.code ?? null,
            entry.error.message,
            JSON.stringify(entry.error),
            entry.attempts,
            entry.firstFailureAt,
            entry.lastFailureAt,
            entry.template ?? null,
            entry.createdAt,
            entry.message,
          );
        id = Number(info.lastInsertRowid);
      }
      this.applyCustody(custody, { id, prefix: 'dead-letter' });
      if (entry.orderRef) {
        this.orders.appendSync({
          orderRef: entry.orderRef,
          at: entry.createdAt,
          kind: 'dead-letter',
          nodeId: entry.nodeId,
          template: entry.template,
          correlationId: entry.correlationId,
          detail: {
            deadLetterId: id,
            error: entry.error,
            attempts: entry.attempts,
            ...(parked ? { repeat: true } : {}),
          },
        });
      }
      return toDeadLetter(db.prepare('SELECT * FROM dead_letters WHERE id = ?').get(id) as Row, true);
    });
  }

  async get(id: number): Promise<DeadLetter | undefined> {
    const row = this.db.prepare('SELECT * FROM dead_letters WHERE id = ?').get(id) as Row | undefined;
    return row ? toDeadLetter(row, true) : undefined;
  }

  async list(filter: DeadLetterFilter, page: { offset: number; limit: number }): Promise<Page<DeadLetter>> {
    const { sql, params } = whereClause(filter);
    const total = Number(
      (this.db.prepare(`SELECT count(*) AS n FROM dead_letters ${sql}`).get(...params) as Row).n,
    );
    const rows = this.db
      .prepare(`SELECT * FROM dead_letters ${sql} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`)
      .all(...params, page.limit, page.offset) as Row[];
    return {
      items: rows.map((row) => toDeadLetter(row, false)),
      total,
      offset: page.offset,
      limit: page.limit,
    };
  }

  async ids(filter: DeadLetterFilter, limit: number): Promise<number[]> {
    const { sql, params } = whereClause({ ...filter, status: 'parked' });
    const rows = this.db
      .prepare(`SELECT id FROM dead_letters ${sql} ORDER BY created_at, id LIMIT ?`)
      .all(...params, limit) as Row[];
    return rows.map((row) => Number(row.id));
  }

  private resolve(
    id: number,
    at: number,
    by: string,
    status: 'replayed' | 'discarded',
    reason?: string,
    custody?: CustodyStep,
  ): Promise<boolean> {
    const { db } = this;
    return this.write((): boolean => {
      const row = db.prepare('SELECT * FROM dead_letters WHERE id = ?').get(id) as Row | undefined;
      if (!row || row.status !== 'parked') return false;
      db.prepare(
        `UPDATE dead_letters SET status = ?, resolved_at = ?, resolved_by = ?, reason = ?,
           replays = replays + ? WHERE id = ?`,
      ).run(status, at, by, reason ?? null, status === 'replayed' ? 1 : 0, id);
      // A discarded letter's order leaves the pack's care (an operator decided so).
      if (status === 'discarded' && typeof row.order_ref === 'string') {
        db.prepare(`DELETE FROM custody WHERE order_ref = ? AND kind = 'dead-letter' AND ref = ?`).run(
          row.order_ref,
          id,
        );
      }
      this.applyCustody(custody);
      if (typeof row.order_ref === 'string') {
        this.orders.appendSync({
          orderRef: row.order_ref,
          at,
          kind: status === 'replayed' ? 'replay' : 'discard',
          nodeId: String(row.node_id),
          correlationId: str(row.correlation_id),
          template: str(row.template),
          detail: { deadLetterId: id, by, ...(reason ? { reason } : {}) },
        });
      }
      return true;
    });
  }

  async markReplayed(id: number, at: number, by: string, custody?: CustodyStep): Promise<boolean> {
    return this.resolve(id, at, by, 'replayed', undefined, custody);
  }

  async discard(id: number, at: number, by: string, reason: string): Promise<boolean> {
    return this.resolve(id, at, by, 'discarded', reason);
  }

  async purge(before: number): Promise<number> {
    // Parked letters are orders nobody has recovered yet: retention never deletes them.
    const info = await this.write(() =>
      this.db.prepare(`DELETE FROM dead_letters WHERE status != 'parked' AND resolved_at < ?`).run(before),
    );
    return Number(info.changes);
  }
}
