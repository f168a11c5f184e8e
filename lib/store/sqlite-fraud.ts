// The fraud parts of the SQLite store: the velocity history and the holds (docs/store.md).
import type { SqlDatabase } from './driver';
import type { Write } from './group-commit';
import { json, jsonOrNull, likePattern, num, str, withOptional, type Row } from './rows';
import type {
  CustodyStep,
  FraudHistory,
  Hold,
  HoldFilter,
  Holds,
  NewAuditEntry,
  NewHold,
  Page,
  Screening,
  VelocityEvent,
} from './types';

interface CachedEvent {
  orderRef: string;
  at: number;
  amount: number;
  currency: string;
}

/** A key's events, oldest first (a window is a tail), and the orders among them. */
interface CachedKey {
  events: CachedEvent[];
  orders: Set<string>;
}

/** Keys whose events are kept in memory (least recently used first out); about 20 MiB at most. */
const CACHED_KEYS = 100_000;

/**
 * Every order asks for several velocity counts; the events of a key are read from the file once
 * and then kept in memory, written through on record() after the COMMIT. This store is the only
 * writer of its file (one runtime per SQLite file, docs/store.md), so the copy cannot go stale.
 */
export class SqliteFraudHistory implements FraudHistory {
  private readonly cache = new Map<string, CachedKey>();

  constructor(
    private readonly db: SqlDatabase,
    private readonly write: Write,
  ) {}

  private eventsOf(key: string): CachedKey {
    const cached = this.cache.get(key);
    if (cached) {
      this.cache.delete(key); // most recently used goes last
      this.cache.set(key, cached);
      return cached;
    }
    const rows = this.db
      .prepare('SELECT order_ref, at, amount, currency FROM fraud_events WHERE key = ? ORDER BY at')
      .all(key) as Row[];
    const events = rows.map((r) => ({
      orderRef: String(r.order_ref),
      at: Number(r.at),
      amount: Number(r.amount),
      currency: String(r.currency),
    }));
    const entry = { events, orders: new Set(events.map((e) => e.orderRef)) };
    this.cache.set(key, entry);
    if (this.cache.size > CACHED_KEYS) this.cache.delete(this.cache.keys().next().value as string);
    return entry;
  }

  async record(events: readonly VelocityEvent[], screening?: Screening): Promise<void> {
    const insert = this.db.prepare(
      'INSERT OR IGNORE INTO fraud_events (key, order_ref, at, amount, currency) VALUES (?, ?, ?, ?, ?)',
    );
    await this.write(() => {
      for (const e of events) insert.run(e.key, e.orderRef, e.at, e.amount, e.currency);
      if (screening)
        this.db
          .prepare(
            `INSERT OR IGNORE INTO fraud_screenings (node_id, order_ref, token, decision, fraud, at)
             VALUES (?, ?, ?, ?, ?, ?)`,
          )
          .run(
            screening.nodeId,
            screening.orderRef,
            screening.token,
            screening.decision,
            JSON.stringify(screening.fraud ?? null),
            screening.at,
          );
    });
    // As the file now has it: an order's first event for a key is the one kept.
    for (const e of events) {
      const cached = this.cache.get(e.key);
      if (!cached || cached.orders.has(e.orderRef)) continue;
      cached.orders.add(e.orderRef);
      const event = { orderRef: e.orderRef, at: e.at, amount: e.amount, currency: e.currency };
      let i = cached.events.length;
      while (i > 0 && cached.events[i - 1].at > e.at) i--; // clocks of concurrent writers
      cached.events.splice(i, 0, event);
    }
  }

  async count(
    key: string,
    since: number,
    currency: string,
    exceptOrderRef: string,
  ): Promise<{ orders: number; amount: number }> {
    let orders = 0;
    let amount = 0;
    const { events } = this.eventsOf(key);
    for (let i = events.length - 1; i >= 0 && events[i].at >= since; i--) {
      const e = events[i];
      if (e.orderRef === exceptOrderRef) continue;
      orders++;
      if (e.currency === currency) amount += e.amount;
    }
    return { orders, amount };
  }

  async seen(key: string, exceptOrderRef: string): Promise<boolean> {
    const { orders } = this.eventsOf(key);
    return orders.size > (orders.has(exceptOrderRef) ? 1 : 0);
  }

  async screened(nodeId: string, orderRef: string, token: string): Promise<Screening | undefined> {
    const row = this.db
      .prepare(
        'SELECT decision, fraud, at FROM fraud_screenings WHERE node_id = ? AND order_ref = ? AND token = ?',
      )
      .get(nodeId, orderRef, token) as Row | undefined;
    if (!row) return undefined;
    const { decision, at } = row;
    return { nodeId, orderRef, token, decision: String(decision), fraud: json(row.fraud), at: Number(at) };
  }

  async purge(before: number): Promise<number> {
    const info = await this.write(() => {
      this.db.prepare('DELETE FROM fraud_screenings WHERE at < ?').run(before);
      return this.db.prepare('DELETE FROM fraud_events WHERE at < ?').run(before);
    });
    this.cache.clear();
    return Number(info.changes);
  }
}

function toHold(row: Row, withMessage: boolean): Hold {
  return withOptional<Hold>(
    {
      id: Number(row.id),
      nodeId: String(row.node_id),
      orderRef: String(row.order_ref),
      status: String(row.status) as Hold['status'],
      score: Number(row.score),
      reasons: json(row.reasons),
      createdAt: Number(row.created_at),
    },
    {
      provider: str(row.provider),
      providerRef: str(row.provider_ref),
      template: str(row.template),
      correlationId: str(row.correlation_id),
      decidedAt: num(row.decided_at),
      decidedBy: str(row.decided_by),
      reason: str(row.reason),
      message: withMessage ? str(row.message) : undefined,
    },
  );
}

export class SqliteHolds implements Holds {
  constructor(
    private readonly db: SqlDatabase,
    private readonly write: Write,
    /** Appends to the audit trail inside the caller's write. */
    private readonly audit: (entry: NewAuditEntry) => void,
    /** Applies a custody step inside the caller's write. */
    private readonly applyCustody: (step: CustodyStep | undefined) => void,
  ) {}

  async add(entry: NewHold): Promise<Hold> {
    const { db } = this;
    return this.write((): Hold => {
      const held = db
        .prepare(`SELECT id FROM holds WHERE node_id = ? AND order_ref = ? AND status = 'held'`)
        .get(entry.nodeId, entry.orderRef) as Row | undefined;
      let id: number;
      if (held) {
        id = Number(held.id);
        db.prepare(
          `UPDATE holds SET score = ?, reasons = ?, provider = ?, provider_ref = ?, message = ? WHERE id = ?`,
        ).run(
          entry.score,
          jsonOrNull(entry.reasons) ?? 'null',
          entry.provider ?? null,
          entry.providerRef ?? null,
          entry.message,
          id,
        );
      } else {
        id = Number(
          db
            .prepare(
              `INSERT INTO holds (node_id, order_ref, status, score, reasons, provider, provider_ref, template,
                 correlation_id, created_at, message) VALUES (?, ?, 'held', ?, ?, ?, ?, ?, ?, ?, ?)`,
            )
            .run(
              entry.nodeId,
              entry.orderRef,
              entry.score,
              jsonOrNull(entry.reasons) ?? 'null',
              entry.provider ?? null,
              entry.providerRef ?? null,
              entry.template ?? null,
              entry.correlationId ?? null,
              entry.createdAt,
              entry.message,
            ).lastInsertRowid,
        );
        this.audit({
          orderRef: entry.orderRef,
          at: entry.createdAt,
          kind: 'hold',
          nodeId: entry.nodeId,
          template: entry.template,
          correlationId: entry.correlationId,
          detail: {
            holdId: id,
            score: entry.score,
            provider: entry.provider,
            providerRef: entry.providerRef,
          },
        });
      }
      return toHold(db.prepare('SELECT * FROM holds WHERE id = ?').get(id) as Row, true);
    });
  }

  async get(id: number): Promise<Hold | undefined> {
    const row = this.db.prepare('SELECT * FROM holds WHERE id = ?').get(id) as Row | undefined;
    return row ? toHold(row, true) : undefined;
  }

  async heldByProviderRef(providerRef: string): Promise<Hold | undefined> {
    const row = this.db
      .prepare(`SELECT * FROM holds WHERE provider_ref = ? AND status = 'held' ORDER BY id LIMIT 1`)
      .get(providerRef) as Row | undefined;
    return row ? toHold(row, true) : undefined;
  }

  async list(filter: HoldFilter, page: { offset: number; limit: number }): Promise<Page<Hold>> {
    const parts: string[] = [];
    const params: unknown[] = [];
    const status = filter.status ?? 'held';
    if (status !== 'all') {
      parts.push('status = ?');
      params.push(status);
    }
    if (filter.nodeId) {
      parts.push('node_id = ?');
      params.push(filter.nodeId);
    }
    if (filter.orderRef) {
      parts.push('order_ref = ?');
      params.push(filter.orderRef);
    }
    if (filter.text) {
      const like = likePattern(filter.text);
      parts.push(`(lower(order_ref) LIKE ? ESCAPE '\\' OR lower(reasons) LIKE ? ESCAPE '\\')`);
      params.push(like, like);
    }
    const where = parts.length > 0 ? `WHERE ${parts.join(' AND ')}` : '';
    const total = Number(
      (this.db.prepare(`SELECT count(*) AS n FROM holds ${where}`).get(...params) as Row).n,
    );
    const rows = this.db
      .prepare(`SELECT * FROM holds ${where} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`)
      .all(...params, page.limit, page.offset) as Row[];
    return { items: rows.map((r) => toHold(r, false)), total, offset: page.offset, limit: page.limit };
  }

  async decide(
    id: number,
    decision: 'accepted' | 'rejected',
    at: number,
    by: string,
    reason?: string,
    custody?: (hold: Hold) => CustodyStep | undefined,
  ): Promise<Hold | undefined> {
    const { db } = this;
    return this.write((): Hold | undefined => {
      const row = db.prepare('SELECT * FROM holds WHERE id = ?').get(id) as Row | undefined;
      if (!row || row.status !== 'held') return undefined;
      db.prepare('UPDATE holds SET status = ?, decided_at = ?, decided_by = ?, reason = ? WHERE id = ?').run(
        decision,
        at,
        by,
        reason ?? null,
        id,
      );
      this.audit({
        orderRef: String(row.order_ref),
        at,
        kind: 'decision',
        nodeId: String(row.node_id),
        template: str(row.template),
        correlationId: str(row.correlation_id),
        detail: { holdId: id, decision, by, ...(reason ? { reason } : {}) },
      });
      const decided = toHold(db.prepare('SELECT * FROM holds WHERE id = ?').get(id) as Row, true);
      this.applyCustody(custody?.(decided));
      return decided;
    });
  }
}
