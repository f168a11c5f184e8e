// The OMS admin HTTP API, under the editor's authentication (docs/recovery.md):
//   GET    /oms/stores                     deployed stores
//   GET    /oms/dead-letters               parked letters, filtered and paged
//   GET    /oms/dead-letters/:id           one letter with its message (secrets redacted)
//   POST   /oms/dead-letters/:id/replay    emit it again from its oms-dead-letter node
//   POST   /oms/dead-letters/replay        bulk replay by filter
//   DELETE /oms/dead-letters/:id           discard, with a reason kept in the audit trail
//   GET    /oms/orders/:ref                lifecycle state, audit trail and dead letters of an order
//   GET    /oms/holds                      orders held for a fraud review, filtered and paged
//   GET    /oms/holds/:id                  one hold with its reasons and the held message
//   POST   /oms/holds/:id/accept|reject    an analyst's decision (reject needs a reason), audited
import type { NodeAPI } from 'node-red';
import type { Request, Response } from 'express';
import {
  decodeMessage,
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterStatus,
  type HoldStatus,
} from '../../lib/store';
import { registerCustodyRoutes } from './custody-api';
import { deployedStores, findStore, type StoreLease } from './store-registry';

/** What an oms-fraud-check node offers the API: it sends a held order on once decided. */
export interface HoldTarget {
  /** false when the hold is not this node's or no longer held. */
  decideHold(id: number, decision: 'accepted' | 'rejected', by: string, reason?: string): Promise<boolean>;
}

/** What an oms-dead-letter node offers the API. */
export interface ReplayTarget {
  /** Marks the letter replayed (with the order's checkpoint) and sends it; false when resolved meanwhile. */
  replayDeadLetter(letter: DeadLetter, by: string): Promise<boolean>;
  /** The letters of this node changed elsewhere (a discard): update the status count. */
  refreshDeadLetterCount(): void;
}

const MAX_PAGE = 500;
const MAX_BULK = 1000;
const STATUSES: ReadonlyArray<DeadLetterStatus | 'all'> = ['parked', 'replayed', 'discarded', 'all'];
const HOLD_STATUSES: ReadonlyArray<HoldStatus | 'all'> = ['held', 'accepted', 'rejected', 'all'];
/** Keys whose values never leave the server in a view (the stored message keeps them for replay). */
const SECRET_KEY =
  /authorization|cookie|password|passphrase|secret|api[-_]?key|access[-_]?token|refresh[-_]?token/i;

let registered: NodeAPI | undefined;

export function registerAdminApi(RED: NodeAPI): void {
  if (registered === RED) return; // one registration per runtime, however many modules call it
  registered = RED;
  const read = RED.auth.needsPermission('oms.read');
  const write = RED.auth.needsPermission('oms.write');
  const admin = RED.httpAdmin;
  registerCustodyRoutes(RED, read, write);

  admin.get('/oms/stores', read, (_req, res) => {
    res.json({
      stores: deployedStores().map((node) => ({
        id: node.id,
        name: node.name || '',
        location: node.store?.location,
        error: node.openError ? { code: node.openError.code, message: node.openError.message } : undefined,
      })),
    });
  });

  admin.get('/oms/dead-letters', read, (req, res) =>
    withStore(req, res, async ({ store }, storeId) => {
      const filter = filterFrom(req.query);
      if (typeof filter === 'string') return problem(res, 400, 'OMS_BAD_FILTER', filter);
      const offset = Math.max(0, integer(req.query.offset) ?? 0);
      const limit = Math.min(MAX_PAGE, Math.max(1, integer(req.query.limit) ?? 50));
      const page = await store.deadLetters.list(filter, { offset, limit });
      res.json({ store: storeId, ...page, items: page.items.map(view) });
    }),
  );

  admin.get('/oms/dead-letters/:id', read, (req, res) =>
    withStore(req, res, async ({ store }, storeId) => {
      const letter = await store.deadLetters.get(Number(req.params.id));
      if (!letter) return problem(res, 404, 'OMS_NOT_FOUND', `No dead letter ${String(req.params.id)}`);
      const { message, ...rest } = letter;
      const trail = letter.orderRef ? await store.orders.trail(letter.orderRef) : [];
      res.json({
        store: storeId,
        ...view(rest),
        message: message ? redact(decodeMessage(message)) : undefined,
        trail: trail.map(view),
      });
    }),
  );

  admin.post('/oms/dead-letters/:id/replay', write, (req, res) =>
    withStore(req, res, async ({ store }) => {
      const outcome = await replay(RED, store, Number(req.params.id), userOf(req));
      if (outcome.ok) return res.json({ id: outcome.id, status: 'replayed' });
      problem(res, outcome.status, outcome.code, outcome.message);
    }),
  );

  admin.post('/oms/dead-letters/replay', write, (req, res) =>
    withStore(req, res, async ({ store }) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const filter = filterFrom(body);
      if (typeof filter === 'string') return problem(res, 400, 'OMS_BAD_FILTER', filter);
      if (Object.keys(filter).length === 0 && body.all !== true) {
        return problem(
          res,
          400,
          'OMS_BAD_FILTER',
          'Give a filter, or "all": true to replay every parked letter.',
        );
      }
      const limit = Math.min(MAX_BULK, Math.max(1, integer(body.limit) ?? MAX_BULK));
      const replayed: number[] = [];
      const skipped: Array<{ id: number; code: string; message: string }> = [];
      for (const id of await store.deadLetters.ids(filter, limit)) {
        const outcome = await replay(RED, store, id, userOf(req));
        if (outcome.ok) replayed.push(id);
        else skipped.push({ id, code: outcome.code, message: outcome.message });
      }
      res.json({ replayed, skipped });
    }),
  );

  admin.delete('/oms/dead-letters/:id', write, (req, res) =>
    withStore(req, res, async ({ store }) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const reason =
        typeof body.reason === 'string' ? body.reason.trim() : String(req.query.reason ?? '').trim();
      if (reason === '') {
        return problem(
          res,
          400,
          'OMS_REASON_REQUIRED',
          'Say why the letter is discarded: it goes in the audit trail.',
        );
      }
      const id = Number(req.params.id);
      const letter = await store.deadLetters.get(id);
      if (!letter) return problem(res, 404, 'OMS_NOT_FOUND', `No dead letter ${String(req.params.id)}`);
      if (!(await store.deadLetters.discard(id, Date.now(), userOf(req), reason))) {
        return problem(res, 409, 'OMS_ALREADY_RESOLVED', `Dead letter ${id} is already ${letter.status}`);
      }
      publish(RED, store.location);
      (
        RED.nodes.getNode(letter.nodeId) as unknown as Partial<ReplayTarget> | null
      )?.refreshDeadLetterCount?.();
      res.json({ id, status: 'discarded', reason });
    }),
  );

  admin.get('/oms/holds', read, (req, res) =>
    withStore(req, res, async ({ store }, storeId) => {
      const q = req.query as Record<string, unknown>;
      const status = typeof q.status === 'string' && q.status !== '' ? q.status : 'held';
      if (!HOLD_STATUSES.includes(status as HoldStatus | 'all'))
        return problem(res, 400, 'OMS_BAD_FILTER', `status must be one of ${HOLD_STATUSES.join(', ')}`);
      const offset = Math.max(0, integer(q.offset) ?? 0);
      const limit = Math.min(MAX_PAGE, Math.max(1, integer(q.limit) ?? 50));
      const page = await store.holds.list(
        {
          status: status as HoldStatus | 'all',
          ...(typeof q.node === 'string' && q.node ? { nodeId: q.node } : {}),
          ...(typeof q.order === 'string' && q.order ? { orderRef: q.order } : {}),
          ...(typeof q.q === 'string' && q.q ? { text: q.q } : {}),
        },
        { offset, limit },
      );
      res.json({ store: storeId, ...page, items: page.items.map(view) });
    }),
  );

  admin.get('/oms/holds/:id', read, (req, res) =>
    withStore(req, res, async ({ store }, storeId) => {
      const hold = await store.holds.get(Number(req.params.id));
      if (!hold) return problem(res, 404, 'OMS_NOT_FOUND', `No hold ${String(req.params.id)}`);
      const { message, ...rest } = hold;
      const trail = await store.orders.trail(hold.orderRef);
      res.json({
        store: storeId,
        ...view(rest),
        message: message ? redact(decodeMessage(message)) : undefined,
        trail: trail.map(view),
      });
    }),
  );

  for (const [action, decision] of [
    ['accept', 'accepted'],
    ['reject', 'rejected'],
  ] as const) {
    admin.post(`/oms/holds/:id/${action}`, write, (req, res) =>
      withStore(req, res, async ({ store }) => {
        const body = (req.body ?? {}) as Record<string, unknown>;
        const reason = typeof body.reason === 'string' ? body.reason.trim() : '';
        if (decision === 'rejected' && reason === '')
          return problem(
            res,
            400,
            'OMS_REASON_REQUIRED',
            'Say why the order is rejected: it goes in the audit trail.',
          );
        const id = Number(req.params.id);
        const hold = await store.holds.get(id);
        if (!hold) return problem(res, 404, 'OMS_NOT_FOUND', `No hold ${String(req.params.id)}`);
        if (hold.status !== 'held')
          return problem(res, 409, 'OMS_ALREADY_DECIDED', `Hold ${id} is already ${hold.status}`);
        const target = RED.nodes.getNode(hold.nodeId) as unknown as Partial<HoldTarget> | null;
        if (!target || typeof target.decideHold !== 'function') {
          return problem(
            res,
            409,
            'OMS_NODE_NOT_DEPLOYED',
            `The oms-fraud-check node ${hold.nodeId} that holds order ${hold.orderRef} is not deployed: deploy it to decide.`,
          );
        }
        if (!(await target.decideHold(id, decision, userOf(req), reason || undefined)))
          return problem(res, 409, 'OMS_ALREADY_DECIDED', `Hold ${id} was decided meanwhile`);
        res.json({ id, orderRef: hold.orderRef, status: decision, ...(reason ? { reason } : {}) });
      }),
    );
  }

  admin.get('/oms/orders/:ref', read, (req, res) =>
    withStore(req, res, async ({ store }, storeId) => {
      const orderRef = String(req.params.ref);
      const [order, trail, letters] = await Promise.all([
        store.orders.get(orderRef),
        store.orders.trail(orderRef),
        store.deadLetters.list({ orderRef, status: 'all' }, { offset: 0, limit: 100 }),
      ]);
      if (!order && trail.length === 0 && letters.total === 0) {
        return problem(res, 404, 'OMS_NOT_FOUND', `The store knows no order ${orderRef}`);
      }
      res.json({
        store: storeId,
        orderRef,
        state: order?.state,
        createdAt: order ? iso(order.createdAt) : undefined,
        updatedAt: order ? iso(order.updatedAt) : undefined,
        trail: trail.map(view),
        deadLetters: letters.items.map(view),
      });
    }),
  );
}

type Outcome = { ok: true; id: number } | { ok: false; status: number; code: string; message: string };

async function replay(RED: NodeAPI, store: StoreLease['store'], id: number, by: string): Promise<Outcome> {
  const letter = await store.deadLetters.get(id);
  if (!letter) return { ok: false, status: 404, code: 'OMS_NOT_FOUND', message: `No dead letter ${id}` };
  if (letter.status !== 'parked') {
    return {
      ok: false,
      status: 409,
      code: 'OMS_ALREADY_RESOLVED',
      message: `Dead letter ${id} is already ${letter.status}`,
    };
  }
  const target = RED.nodes.getNode(letter.nodeId) as unknown as Partial<ReplayTarget> | null;
  if (!target || typeof target.replayDeadLetter !== 'function') {
    return {
      ok: false,
      status: 409,
      code: 'OMS_NODE_NOT_DEPLOYED',
      message: `The oms-dead-letter node ${letter.nodeId} that parked letter ${id} is not deployed: deploy it, or discard the letter.`,
    };
  }
  try {
    decodeMessage(letter.message ?? '');
  } catch (err) {
    return {
      ok: false,
      status: 422,
      code: 'OMS_BAD_LETTER',
      message: `Dead letter ${id} cannot be read: ${(err as Error).message}`,
    };
  }
  // Marking first makes two concurrent replays of one letter emit it once.
  if (!(await target.replayDeadLetter(letter, by))) {
    return {
      ok: false,
      status: 409,
      code: 'OMS_ALREADY_RESOLVED',
      message: `Dead letter ${id} was resolved meanwhile`,
    };
  }
  publish(RED, store.location);
  return { ok: true, id };
}

/** Tells open sidebars that the dead-letter list changed. */
export function publish(RED: NodeAPI, location: string): void {
  RED.comms.publish('oms/dead-letters', { location, at: Date.now() }, false);
}

export async function withStore(
  req: Request,
  res: Response,
  work: (lease: StoreLease, storeId: string) => Promise<unknown>,
): Promise<void> {
  const storeId = typeof req.query.store === 'string' && req.query.store !== '' ? req.query.store : undefined;
  const node = findStore(storeId);
  const lease = node?.lease();
  if (!node || !lease) {
    const open = deployedStores().filter((n) => n.store).length;
    const message = storeId
      ? `No open oms-store ${storeId}`
      : open === 0
        ? 'No oms-store is deployed and open'
        : `${open} stores are deployed: say which with ?store=<id>`;
    problem(res, storeId || open === 0 ? 404 : 400, 'OMS_NO_STORE', message);
    return;
  }
  try {
    await work(lease, node.id);
  } catch (err) {
    problem(res, 500, 'OMS_STORE_ERROR', (err as Error).message);
  } finally {
    lease.release();
  }
}

export function problem(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ error: { code, message } });
}

export function userOf(req: Request): string {
  const user = (req as Request & { user?: { username?: string } }).user;
  return user?.username ?? 'editor';
}

export function integer(value: unknown): number | undefined {
  const n =
    typeof value === 'number' ? value : typeof value === 'string' && value !== '' ? Number(value) : NaN;
  return Number.isInteger(n) ? n : undefined;
}

function time(value: unknown, name: string): number | string | undefined {
  if (value === undefined || value === '') return undefined;
  const n =
    typeof value === 'number'
      ? value
      : /^\d+$/.test(String(value))
        ? Number(value)
        : Date.parse(String(value));
  return Number.isFinite(n)
    ? n
    : `${name} must be an ISO date-time or epoch milliseconds, got "${String(value)}"`;
}

/** Query or body fields to a filter, or a sentence saying which field is wrong. */
function filterFrom(input: Record<string, unknown>): DeadLetterFilter | string {
  const filter: DeadLetterFilter = {};
  const text = (key: string): string | undefined =>
    typeof input[key] === 'string' && input[key] !== '' ? input[key] : undefined;
  if (text('node')) filter.nodeId = text('node');
  if (text('code')) filter.errorCode = text('code');
  if (text('order')) filter.orderRef = text('order');
  if (text('q')) filter.text = text('q');
  const status = text('status');
  if (status) {
    if (!STATUSES.includes(status as DeadLetterStatus)) return `status must be one of ${STATUSES.join(', ')}`;
    filter.status = status as DeadLetterStatus;
  }
  for (const [key, field] of [
    ['since', 'since'],
    ['until', 'until'],
  ] as const) {
    const value = time(input[key], key);
    if (typeof value === 'string') return value;
    if (value !== undefined) filter[field] = value;
  }
  return filter;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Epoch-millisecond fields (…At) as ISO strings, for people and for JSON clients alike. */
export function view<T extends object>(record: T): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    out[key] = (key.endsWith('At') || key === 'at') && typeof value === 'number' ? iso(value) : value;
  }
  return out;
}

export function redact(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return `<Buffer ${value.length} bytes>`;
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value))
    out[key] = SECRET_KEY.test(key) ? '[redacted]' : redact(item);
  return out;
}
