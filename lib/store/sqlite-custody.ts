// Custody in the SQLite store (lib/store/ports/custody.ts). `handOffSync` runs inside the
// transaction of another part's write (a retry record, a dead letter, a decision), so the two
// are kept together or not at all.
import type { SqlDatabase } from './driver';
import type { Write } from './group-commit';
import { num, str, withOptional, type Row } from './rows';
import {
  CUSTODY_KINDS,
  type Custody,
  type CustodyCounts,
  type CustodyFilter,
  type CustodyKind,
  type CustodyRecord,
  type Handoff,
  type HandoffResult,
  CustodyConflict,
  type CustodyStep,
} from './ports/custody';

function toCustody(row: Row, withMessage: boolean): CustodyRecord {
  const kind = CUSTODY_KINDS.find((k) => k === row.kind) ?? 'checkpoint';
  return withOptional<CustodyRecord>(
    {
      orderRef: String(row.order_ref),
      holder: String(row.holder),
      kind,
      token: String(row.token),
      owner: String(row.owner),
      leaseUntil: Number(row.lease_until),
      resumes: Number(row.resumes),
      updatedAt: Number(row.updated_at),
    },
    {
      port: num(row.port),
      ref: num(row.ref),
      state: str(row.state),
      stalledAt: num(row.stalled_at),
      stalledReason: str(row.stalled_reason),
      message: withMessage ? str(row.message) : undefined,
    },
  );
}

export class SqliteCustody implements Custody {
  constructor(
    private readonly db: SqlDatabase,
    private readonly write: Write,
  ) {}

  /** The compare-and-set and the write, synchronously (inside a transaction). */
  handOffSync(h: Handoff): HandoffResult {
    const { db } = this;
    const row = db
      .prepare('SELECT holder, kind, token, ref, state FROM custody WHERE order_ref = ?')
      .get(h.orderRef) as Row | undefined;
    if (!h.force) {
      if (h.expect !== undefined && (!row || row.token !== h.expect)) {
        return {
          ok: false,
          reason: 'stale',
          ...(row ? { holder: String(row.holder), kind: row.kind as CustodyKind } : {}),
        };
      }
      // An order entering again may take one at rest (nothing is resumed from there), never one in flight.
      if (h.expect === undefined && row && row.holder !== h.holder && row.kind !== 'end') {
        return { ok: false, reason: 'another', holder: String(row.holder), kind: row.kind as CustodyKind };
      }
    }
    // The next durable step (or a newer copy taken by the same queue) supersedes a retry record
    // still waiting for the step's outcome or for its next attempt.
    if (row && (row.holder !== h.holder || row.ref !== h.ref)) this.supersede(row);
    if (row && h.expect !== undefined && row.token === h.expect) this.realignSync(h, str(row.state));
    db.prepare(
      `INSERT INTO custody (order_ref, holder, kind, port, ref, token, state, owner, lease_until, resumes,
                            updated_at, stalled_at, stalled_reason, message)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, NULL, NULL, ?)
       ON CONFLICT (order_ref) DO UPDATE SET holder = excluded.holder, kind = excluded.kind,
         port = excluded.port, ref = excluded.ref, token = excluded.token,
         state = coalesce(excluded.state, custody.state), owner = excluded.owner,
         lease_until = excluded.lease_until, resumes = 0, updated_at = excluded.updated_at,
         stalled_at = NULL, stalled_reason = NULL, message = excluded.message`,
    ).run(
      h.orderRef,
      h.holder,
      h.kind,
      h.port ?? null,
      h.ref ?? null,
      h.token,
      h.state ?? null,
      h.owner,
      h.leaseUntil,
      h.at,
      h.message ?? null,
    );
    if (h.settle !== undefined) this.settleSync(h.settle);
    return { ok: true };
  }

  /** The import ledger's entry of a taken order counts as safely taken (LedgerPort.settle). */
  settleSync(orderKey: string): void {
    this.db.prepare('UPDATE ledger SET settled = 1 WHERE order_key = ? AND settled = 0').run(orderKey);
  }

  /** A retry record that held the order, waiting for its step or its next attempt, goes. */
  private supersede(row: Row): void {
    if (row.kind === 'retry' && typeof row.ref === 'number')
      this.db.prepare(`DELETE FROM retries WHERE id = ? AND state IN ('inflight', 'waiting')`).run(row.ref);
  }

  /** Deletes the row when `expect` matches it (or the order is this holder's); synchronously. */
  releaseSync(orderRef: string, expect: string | undefined, holder: string): boolean {
    const row = this.db
      .prepare('SELECT holder, kind, token, ref FROM custody WHERE order_ref = ?')
      .get(orderRef) as Row | undefined;
    if (!row || (expect === undefined ? row.holder !== holder : row.token !== expect)) return false;
    this.supersede(row);
    this.db.prepare('DELETE FROM custody WHERE order_ref = ?').run(orderRef);
    return true;
  }

  /**
   * Whether the order is still held under `expect` (a step staying under it), noting the `state`
   * the step leaves it in; synchronously.
   */
  staySync(orderRef: string, expect: string, state: string | undefined): boolean {
    const info = this.db
      .prepare('UPDATE custody SET state = coalesce(?, state) WHERE order_ref = ? AND token = ?')
      .run(state ?? null, orderRef, expect);
    return Number(info.changes) === 1;
  }

  /**
   * A handoff under the token that moves stayed under: when the message leaves in another state
   * than those moves left the order in, the steps after the checkpoint ran again and took another
   * way (a resumed copy); the order's state follows the message, with an audit entry.
   */
  private realignSync(h: Handoff, left: string | undefined): void {
    if (h.force || h.state === undefined || left === undefined || left === h.state) return;
    const info = this.db
      .prepare('UPDATE orders SET state = ?, updated_at = ? WHERE order_ref = ? AND state = ?')
      .run(h.state, h.at, h.orderRef, left);
    if (Number(info.changes) === 0) return;
    this.db
      .prepare(
        `INSERT INTO audit (order_ref, at, kind, from_state, to_state, node_id, detail)
         VALUES (?, ?, 'realign', ?, ?, ?, ?)`,
      )
      .run(
        h.orderRef,
        h.at,
        left,
        h.state,
        h.holder,
        JSON.stringify({ reason: 'the steps after a checkpoint ran again and left the order in this state' }),
      );
  }

  private tokenRow(orderRef: string): Row | undefined {
    return this.db.prepare('SELECT token FROM custody WHERE order_ref = ?').get(orderRef) as Row | undefined;
  }

  handOff(h: Handoff): Promise<HandoffResult> {
    return this.write(() => this.handOffSync(h));
  }

  handOffMany(hs: readonly Handoff[]): Promise<HandoffResult[]> {
    return this.write(() => hs.map((h) => this.handOffSync(h)));
  }

  release(orderRef: string, expect: string | undefined, holder: string): Promise<boolean> {
    return this.write(() => this.releaseSync(orderRef, expect, holder));
  }

  async get(orderRef: string): Promise<CustodyRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM custody WHERE order_ref = ?').get(orderRef) as Row | undefined;
    return row ? toCustody(row, true) : undefined;
  }

  async tokenOf(orderRef: string): Promise<string | undefined> {
    return str(this.tokenRow(orderRef)?.token);
  }

  claimDue(
    owner: string,
    now: number,
    leaseMs: number,
    deadAfterMs: number,
    limit: number,
  ): Promise<CustodyRecord[]> {
    const { db } = this;
    return this.write((): CustodyRecord[] => {
      const rows = db
        .prepare(
          `SELECT * FROM custody WHERE kind = 'checkpoint' AND stalled_at IS NULL
             AND (lease_until <= ? OR (owner != ? AND owner NOT IN
                  (SELECT owner FROM runtimes WHERE heartbeat_at > ?)))
           ORDER BY lease_until LIMIT ?`,
        )
        .all(now, owner, now - deadAfterMs, limit) as Row[];
      const claim = db.prepare(
        'UPDATE custody SET owner = ?, lease_until = ?, resumes = resumes + 1 WHERE order_ref = ? AND token = ?',
      );
      return rows.map((row) => {
        claim.run(owner, now + leaseMs, row.order_ref, row.token);
        return {
          ...toCustody(row, true),
          owner,
          leaseUntil: now + leaseMs,
          resumes: Number(row.resumes) + 1,
        };
      });
    });
  }

  markStalled(orderRef: string, token: string, at: number, reason: string): Promise<boolean> {
    return this.write(
      () =>
        Number(
          this.db
            .prepare(
              'UPDATE custody SET stalled_at = ?, stalled_reason = ? WHERE order_ref = ? AND token = ? AND stalled_at IS NULL',
            )
            .run(at, reason, orderRef, token).changes,
        ) > 0,
    );
  }

  unstall(orderRef: string, at: number): Promise<boolean> {
    return this.write(
      () =>
        Number(
          this.db
            .prepare(
              `UPDATE custody SET stalled_at = NULL, stalled_reason = NULL, resumes = 0, lease_until = ?
               WHERE order_ref = ? AND stalled_at IS NOT NULL`,
            )
            .run(at, orderRef).changes,
        ) > 0,
    );
  }

  async list(
    filter: CustodyFilter,
    page: { offset: number; limit: number },
  ): Promise<{ items: CustodyRecord[]; total: number }> {
    const parts: string[] = [];
    const params: unknown[] = [];
    if (filter.kind) {
      parts.push('kind = ?');
      params.push(filter.kind);
    }
    if (filter.stalled !== undefined)
      parts.push(filter.stalled ? 'stalled_at IS NOT NULL' : 'stalled_at IS NULL');
    if (filter.holder) {
      parts.push('holder = ?');
      params.push(filter.holder);
    }
    if (filter.orderRef) {
      parts.push('order_ref = ?');
      params.push(filter.orderRef);
    }
    const where = parts.length ? `WHERE ${parts.join(' AND ')}` : '';
    const total = Number(
      (this.db.prepare(`SELECT count(*) AS n FROM custody ${where}`).get(...params) as Row).n,
    );
    const rows = this.db
      .prepare(`SELECT * FROM custody ${where} ORDER BY updated_at, order_ref LIMIT ? OFFSET ?`)
      .all(...params, page.limit, page.offset) as Row[];
    return { items: rows.map((row) => toCustody(row, false)), total };
  }

  async counts(): Promise<CustodyCounts> {
    const counts: CustodyCounts = { checkpoint: 0, end: 0, retry: 0, 'dead-letter': 0, stalled: 0 };
    const rows = this.db
      .prepare(
        'SELECT kind, stalled_at IS NOT NULL AS stalled, count(*) AS n FROM custody GROUP BY kind, stalled_at IS NOT NULL',
      )
      .all() as Row[];
    for (const row of rows) {
      const kind = CUSTODY_KINDS.find((k) => k === row.kind);
      if (kind) counts[kind] += Number(row.n);
      if (Number(row.stalled) === 1) counts.stalled += Number(row.n);
    }
    return counts;
  }

  heartbeat(owner: string, at: number): Promise<void> {
    return this.write(() => {
      this.db
        .prepare(
          `INSERT INTO runtimes (owner, heartbeat_at) VALUES (?, ?)
           ON CONFLICT (owner) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`,
        )
        .run(owner, at);
    });
  }

  leave(owner: string): Promise<void> {
    return this.write(() => {
      this.db.prepare('DELETE FROM runtimes WHERE owner = ?').run(owner);
    });
  }
}

/** Applies a port write's custody step inside its transaction; a refused handoff undoes the write. */
export type ApplyCustody = (step: CustodyStep | undefined, ref?: { id: number; prefix: string }) => void;

export function custodyApplier(custody: SqliteCustody): ApplyCustody {
  return (step, ref) => {
    if (!step) return;
    if ('stay' in step) {
      const { orderRef, expect, state } = step.stay;
      if (!custody.staySync(orderRef, expect, state))
        throw new CustodyConflict(orderRef, { ok: false, reason: 'stale' });
      return;
    }
    if ('release' in step) {
      const { orderRef, expect, holder, settle } = step.release;
      custody.releaseSync(orderRef, expect, holder);
      if (settle !== undefined) custody.settleSync(settle);
      return;
    }
    const handoff =
      ref && (step.handoff.kind === 'retry' || step.handoff.kind === 'dead-letter')
        ? { ...step.handoff, ref: ref.id, token: `${ref.prefix}-${ref.id}` }
        : step.handoff;
    const result = custody.handOffSync(handoff);
    if (!result.ok) throw new CustodyConflict(handoff.orderRef, result);
  };
}
