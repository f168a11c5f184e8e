// The retry queues in the SQLite store (lib/store/ports/retries.ts). Work is claimed with an owner
// and a lease; every change is a compare-and-set on the record's state and attempt, so two
// runtimes (or a timer and an outcome in one) never both act on the same attempt.
import type { SqlDatabase } from './driver';
import type { Write } from './group-commit';
import { num, str, withOptional, type Row } from './rows';
import type { ApplyCustody } from './sqlite-custody';
import type { CustodyStep } from './ports/custody';
import type { ErrorInfo } from './ports/common';
import type {
  ClaimedRetry,
  RetryClaim,
  RetryQueue,
  RetryRecord,
  RetryState,
  RetryVersion,
} from './ports/retries';

function stateOf(value: unknown): RetryState {
  return value === 'inflight' || value === 'exhausted' ? value : 'waiting';
}

function toRetry(row: Row): RetryRecord {
  return withOptional<RetryRecord>(
    {
      id: Number(row.id),
      queue: String(row.queue),
      state: stateOf(row.state),
      attempt: Number(row.attempt),
      dueAt: Number(row.due_at),
      createdAt: Number(row.created_at),
      message: String(row.message),
    },
    {
      orderRef: str(row.order_ref),
      owner: str(row.owner),
      leaseUntil: num(row.lease_until),
      firstFailureAt: num(row.first_failure),
      lastFailureAt: num(row.last_failure),
      lastError: typeof row.last_error === 'string' ? (JSON.parse(row.last_error) as ErrorInfo) : undefined,
    },
  );
}

/** Matches the record in the expected version. */
const VERSION = 'id = ? AND state = ? AND attempt = ?';

/** A failure's columns: the due time, the first and last failure, the error. */
const FAILURE = 'due_at = ?, first_failure = coalesce(first_failure, ?), last_failure = ?, last_error = ?';
const failureParams = (f: { at: number; dueAt: number; error: ErrorInfo }): unknown[] => [
  f.dueAt,
  f.at,
  f.at,
  JSON.stringify(f.error),
];

export class SqliteRetries implements RetryQueue {
  constructor(
    private readonly db: SqlDatabase,
    private readonly write: Write,
    private readonly applyCustody: ApplyCustody,
  ) {}

  add(
    queue: string,
    entry: { message: string; orderRef?: string; at: number; dueAt: number; owner: string },
    custody?: CustodyStep,
  ): Promise<number> {
    return this.write((): number => {
      const info = this.db
        .prepare(
          `INSERT INTO retries (queue, order_ref, state, attempt, due_at, created_at, message, owner)
           VALUES (?, ?, 'inflight', 1, ?, ?, ?, ?)`,
        )
        .run(queue, entry.orderRef ?? null, entry.dueAt, entry.at, entry.message, entry.owner);
      const id = Number(info.lastInsertRowid);
      this.applyCustody(custody, { id, prefix: 'retry' });
      return id;
    });
  }

  claimDue(queue: string, claim: RetryClaim): Promise<ClaimedRetry[]> {
    const { db } = this;
    const { owner, now, leaseMs, deadAfterMs, limit } = claim;
    return this.write((): ClaimedRetry[] => {
      const stopped = `owner IS NOT NULL AND owner != ? AND owner NOT IN
                       (SELECT owner FROM runtimes WHERE heartbeat_at > ?)`;
      const alive = now - deadAfterMs;
      const rows = db
        .prepare(
          `SELECT *, (${stopped}) AS orphaned FROM retries WHERE queue = ? AND (
             (due_at <= ? AND (lease_until IS NULL OR lease_until <= ? OR owner = ?))
             OR ((state IN ('inflight', 'exhausted') OR lease_until > ?) AND ${stopped}))
           ORDER BY due_at, id LIMIT ?`,
        )
        .all(owner, alive, queue, now, now, owner, now, owner, alive, limit) as Row[];
      const take = db.prepare('UPDATE retries SET owner = ?, lease_until = ? WHERE id = ?');
      return rows.map((row) => {
        take.run(owner, now + leaseMs, row.id);
        return { ...toRetry(row), owner, leaseUntil: now + leaseMs, orphaned: Number(row.orphaned) === 1 };
      });
    });
  }

  releaseClaim(id: number, owner: string): Promise<boolean> {
    return this.write(
      () =>
        Number(
          this.db
            .prepare(
              'UPDATE retries SET lease_until = NULL WHERE id = ? AND owner = ? AND lease_until IS NOT NULL',
            )
            .run(id, owner).changes,
        ) > 0,
    );
  }

  markSent(
    id: number,
    expect: RetryVersion,
    sent: { attempt: number; dueAt: number; owner: string },
  ): Promise<boolean> {
    return this.versioned(id, expect, `state = 'inflight', attempt = ?, due_at = ?, owner = ?`, [
      sent.attempt,
      sent.dueAt,
      sent.owner,
    ]);
  }

  scheduleRetry(
    id: number,
    expect: RetryVersion,
    failure: { at: number; dueAt: number; error: ErrorInfo },
  ): Promise<boolean> {
    return this.versioned(id, expect, `state = 'waiting', ${FAILURE}`, failureParams(failure));
  }

  markExhausted(
    id: number,
    expect: RetryVersion,
    failure: {
      at: number;
      dueAt: number;
      owner: string;
      error: ErrorInfo & { gaveUp: string; explanation: string };
    },
  ): Promise<boolean> {
    return this.versioned(id, expect, `state = 'exhausted', ${FAILURE}, owner = ?`, [
      ...failureParams(failure),
      failure.owner,
    ]);
  }

  /** `UPDATE … SET <set>` on the record in the expected version; releases any claim. */
  private versioned(id: number, expect: RetryVersion, set: string, params: unknown[]): Promise<boolean> {
    return this.write(
      () =>
        Number(
          this.db
            .prepare(`UPDATE retries SET ${set}, lease_until = NULL WHERE ${VERSION}`)
            .run(...params, id, expect.state, expect.attempt).changes,
        ) > 0,
    );
  }

  remove(id: number, expect?: RetryVersion, custody?: CustodyStep): Promise<boolean> {
    return this.write((): boolean => {
      const info = expect
        ? this.db.prepare(`DELETE FROM retries WHERE ${VERSION}`).run(id, expect.state, expect.attempt)
        : this.db.prepare('DELETE FROM retries WHERE id = ?').run(id);
      const removed = Number(info.changes) > 0;
      if (removed) this.applyCustody(custody);
      return removed;
    });
  }

  async get(id: number): Promise<RetryRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM retries WHERE id = ?').get(id) as Row | undefined;
    return row ? toRetry(row) : undefined;
  }

  async nextDueAt(queue: string): Promise<number | undefined> {
    const row = this.db.prepare('SELECT min(due_at) AS at FROM retries WHERE queue = ?').get(queue) as Row;
    return num(row.at);
  }

  async counts(queue: string): Promise<{ inflight: number; waiting: number; exhausted: number }> {
    const rows = this.db
      .prepare('SELECT state, count(*) AS n FROM retries WHERE queue = ? GROUP BY state')
      .all(queue) as Row[];
    const counts = { inflight: 0, waiting: 0, exhausted: 0 };
    for (const row of rows) counts[stateOf(row.state)] = Number(row.n);
    return counts;
  }
}
