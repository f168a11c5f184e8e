// Admin API of custody (docs/reliability.md): where every order in flight is held, the orders
// that stalled, and an operator's retry of one (write permission, reason required, audited).
import type { NodeAPI } from 'node-red';
import { CUSTODY_KINDS, decodeMessage, type CustodyFilter, type CustodyKind } from '../../lib/store';
import { integer, problem, redact, userOf, view, withStore } from './admin-api';

const MAX_PAGE = 500;

type Handler = ReturnType<NodeAPI['auth']['needsPermission']>;

export function registerCustodyRoutes(RED: NodeAPI, read: Handler, write: Handler): void {
  const admin = RED.httpAdmin;

  admin.get('/oms/custody', read, (req, res) =>
    withStore(req, res, async ({ store }, storeId) => {
      const q = req.query as Record<string, unknown>;
      const filter: CustodyFilter = {};
      if (typeof q.kind === 'string' && q.kind !== '') {
        if (!CUSTODY_KINDS.includes(q.kind as CustodyKind))
          return problem(res, 400, 'OMS_BAD_FILTER', `kind must be one of ${CUSTODY_KINDS.join(', ')}`);
        filter.kind = q.kind as CustodyKind;
      }
      if (q.stalled === 'true' || q.stalled === 'false') filter.stalled = q.stalled === 'true';
      if (typeof q.holder === 'string' && q.holder !== '') filter.holder = q.holder;
      if (typeof q.orderRef === 'string' && q.orderRef !== '') filter.orderRef = q.orderRef;
      const offset = Math.max(0, integer(q.offset) ?? 0);
      const limit = Math.min(MAX_PAGE, Math.max(1, integer(q.limit) ?? 50));
      const [page, counts] = await Promise.all([
        store.custody.list(filter, { offset, limit }),
        store.custody.counts(),
      ]);
      res.json({ store: storeId, counts, offset, limit, total: page.total, items: page.items.map(view) });
    }),
  );

  admin.get('/oms/custody/:orderRef', read, (req, res) =>
    withStore(req, res, async ({ store }, storeId) => {
      const orderRef = String(req.params.orderRef);
      const record = await store.custody.get(orderRef);
      if (!record)
        return problem(
          res,
          404,
          'OMS_NOT_FOUND',
          `No order ${orderRef} is held: it is in a final state, or unknown`,
        );
      const { message, ...rest } = record;
      res.json({
        store: storeId,
        ...view(rest),
        message: message ? redact(decodeMessage(message)) : undefined,
      });
    }),
  );

  admin.post('/oms/custody/:orderRef/resume', write, (req, res) =>
    withStore(req, res, async ({ store }) => {
      const orderRef = String(req.params.orderRef);
      const body = (req.body ?? {}) as Record<string, unknown>;
      const reason = typeof body.reason === 'string' ? body.reason.trim() : '';
      if (reason === '')
        return problem(
          res,
          400,
          'OMS_REASON_REQUIRED',
          'Say why the order is resumed: it goes in the audit trail.',
        );
      const at = Date.now();
      if (!(await store.custody.unstall(orderRef, at)))
        return problem(res, 409, 'OMS_NOT_STALLED', `Order ${orderRef} is not stalled`);
      const by = userOf(req);
      await store.orders.appendAudit({
        orderRef,
        at,
        kind: 'note',
        detail: { action: 'resume', by, reason },
      });
      res.json({ orderRef, status: 'resuming', by, reason });
    }),
  );
}
