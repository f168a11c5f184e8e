// oms-sfcc-import: SFCC order export (XML, OCAPI or SCAPI JSON) in, one message per order out.
// Outputs: 1 valid canonical orders, 2 rejected orders with their errors, 3 one summary per input,
// 4 already imported (with a store: orders imported before with the same content).
import { OmsError } from '../../lib/errors';
import { randomUUID } from 'node:crypto';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { createEnvelope, parseTemplateRef, type OmsEnvelope } from '../../lib/order/envelope';
import type { Order } from '../../lib/order/model';
import {
  formatOrderKey,
  orderContentHash,
  orderKey,
  type LedgerVerdict,
  type OmsStore,
} from '../../lib/store';
import { CUSTODY_TYPES, custodyFor, omsMessage, orderRefOf, wiredOnlyToStoring } from '../shared/custody';
import { StoreUnavailableError, type StoreNode } from '../shared/store-registry';
import {
  importFile,
  importOrders,
  type ImportFormat,
  type ImportInput,
  type ImportSummary,
} from '../../lib/sfcc/import';

interface ImportNodeDef extends NodeDef {
  format: ImportFormat;
  /** Optional oms-store: with it, the idempotency ledger reports duplicates and updates. */
  store?: string;
  wires?: string[][];
}

/** Orders between pauses that let Node-RED deliver what was sent (keeps memory flat). */
const YIELD_EVERY = 64;
/** Rejected orders listed in the summary (for error reports); the count is always complete. */
const MAX_REJECTIONS_IN_SUMMARY = 1000;
const FORMATS: readonly ImportFormat[] = ['auto', 'xml', 'ocapi', 'scapi'];

type Send = (msgs: Array<NodeMessage | null>) => void;

interface Counts {
  accepted: number;
  rejected: number;
  alreadyImported: number;
  updates: number;
  redeliveries: number;
}

/** An accepted order waiting for its ledger verdict (asked for in chunks: one commit each). */
interface Pending {
  order: Order;
  oms: OmsEnvelope;
  key: string;
  hash: string;
}

export = function register(RED: NodeAPI): void {
  const t = (key: string, params?: Record<string, string | number>): string =>
    RED._(`oms-sfcc-import.${key}`, params);

  function OmsSfccImport(this: Node, config: ImportNodeDef): void {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- closures below outlive `this`
    const node = this;
    const format: ImportFormat = FORMATS.includes(config.format) ? config.format : 'auto';
    if (format !== config.format) node.warn(t('errors.badFormat', { value: String(config.format) }));
    let closing = false;
    let queue: Promise<void> = Promise.resolve();

    const storeNode = config.store ? (RED.nodes.getNode(config.store) as StoreNode | null) : null;
    const custody = config.store ? custodyFor(RED, node, config.store) : undefined;
    if (config.store && !storeNode) node.status({ fill: 'red', shape: 'ring', text: t('status.noStore') });

    /**
     * Orders on output 1 are settled by the durable step they go to when every node wired there
     * stores them (oms-lifecycle, oms-retry, oms-dead-letter on the same store); otherwise the
     * batch settles them when the file has been read.
     */
    function custodyDownstream(): boolean {
      return wiredOnlyToStoring(RED, config.wires?.[0], CUSTODY_TYPES, config.store);
    }

    async function run(msg: NodeMessageInFlow, send: Send, done: (err?: Error) => void): Promise<void> {
      if (closing) return; // queued behind an import cut short by a redeploy
      const filename = typeof msg.filename === 'string' && msg.filename !== '' ? msg.filename : undefined;
      const payload = msg.payload;
      const usable = typeof payload === 'string' || (typeof payload === 'object' && payload !== null);
      if (!filename && !usable) {
        node.status({ fill: 'red', shape: 'ring', text: 'OMS_BAD_INPUT' });
        done(new OmsError(t('errors.noInput'), 'OMS_BAD_INPUT'));
        return;
      }
      const lease = storeNode?.lease();
      if (config.store && !lease) {
        node.status({ fill: 'red', shape: 'ring', text: t('status.noStore') });
        done(new StoreUnavailableError(t('status.noStore')));
        return;
      }
      try {
        await importOne(msg, send, filename, lease?.store);
        done();
      } catch (err) {
        done(err as Error);
      } finally {
        lease?.release();
      }
    }

    async function importOne(
      msg: NodeMessageInFlow,
      send: Send,
      filename: string | undefined,
      store: OmsStore | undefined,
    ): Promise<void> {
      const template = parseTemplateRef(RED.util.evaluateNodeProperty('OMS_TEMPLATE', 'env', node, msg));
      const batchId = randomUUID();
      const counts: Counts = { accepted: 0, rejected: 0, alreadyImported: 0, updates: 0, redeliveries: 0 };
      let pending: Pending[] = [];
      const rejections: Array<{ orderRef: string; position: number; errors: unknown[] }> = [];
      const message = (payload: unknown, oms: OmsEnvelope): NodeMessage => ({
        _msgid: RED.util.generateId(),
        topic: msg.topic,
        payload,
        oms,
      });

      /** Asks the ledger about the pending orders in one commit, then sends each where it belongs. */
      async function flush(): Promise<void> {
        const batch = pending;
        pending = [];
        if (batch.length === 0) return;
        const verdicts: Array<LedgerVerdict | undefined> = store
          ? await store.ledger.receive(
              batch.map((p) => ({ key: orderKey(p.order), hash: p.hash, batchId })),
              Date.now(),
            )
          : batch.map(() => undefined);
        const out: NodeMessage[] = [];
        batch.forEach((p, i) => {
          const verdict = verdicts[i];
          if (verdict) {
            p.oms.ledgerKey = p.key;
            p.oms.ledger = { ...verdict, key: p.key };
          }
          if (verdict?.status === 'duplicate') {
            counts.alreadyImported++;
            send([null, null, null, message(p.order, p.oms)]);
            return;
          }
          if (verdict?.status === 'update') {
            counts.updates++;
            p.oms.flags = [...p.oms.flags, 'UPDATED'];
          } else if (verdict?.status === 'redelivery') {
            counts.redeliveries++;
            p.oms.flags = [...p.oms.flags, 'REDELIVERED'];
          }
          counts.accepted++;
          out.push(message(p.order, p.oms));
        });
        await handOn(out);
        for (const m of out) send([m, null, null, null]);
      }

      /** Checkpoints of the accepted orders, in one commit, when output 1 leads to custody. */
      async function handOn(out: NodeMessage[]): Promise<void> {
        if (!custody || !store || out.length === 0 || !custody.leads(0)) return;
        const steps = out.map((m) => custody.step(omsMessage(m), 0));
        const handoffs = steps.flatMap((step) => (step && 'handoff' in step ? [step.handoff] : []));
        const results = await store.custody.handOffMany(handoffs);
        results.forEach((result, i) => {
          if (result.ok) return;
          // Held by a step already (an update or a redelivery of an order in flight): untracked.
          const m = out.find((o) => orderRefOf(omsMessage(o)) === handoffs[i].orderRef);
          if (m) delete (m as { oms?: Record<string, unknown> }).oms?.custody;
        });
      }

      node.status({ fill: 'blue', shape: 'ring', text: t('status.importing', { count: 0 }) });
      const events = filename
        ? importFile(filename, { format })
        : importOrders(msg.payload as ImportInput, { format });
      let summary: ImportSummary;
      let seen = 0;
      try {
        for (;;) {
          const next = await events.next();
          if (next.done) {
            summary = next.value;
            break;
          }
          // Redeploy: stop reading. The batch is abandoned, so its untaken orders come again on a re-import.
          if (closing) {
            await store?.ledger.abandonBatch(batchId);
            return;
          }
          const event = next.value;
          const common = {
            template,
            source: event.type === 'accepted' ? event.order.source : event.source,
            flags: event.flags,
            batchId,
          };
          if (event.type === 'accepted') {
            const oms = createEnvelope({ ...common, orderRef: event.order.orderRef, state: 'Created' });
            const hash = store ? orderContentHash(event.order) : '';
            pending.push({ order: event.order, oms, key: formatOrderKey(orderKey(event.order)), hash });
            if (!store || pending.length >= YIELD_EVERY) await flush();
          } else {
            counts.rejected++;
            if (rejections.length < MAX_REJECTIONS_IN_SUMMARY) {
              rejections.push({ orderRef: event.orderRef, position: event.position, errors: event.errors });
            }
            const oms = createEnvelope({ ...common, orderRef: event.orderRef });
            const payload = {
              orderRef: event.orderRef,
              errors: event.errors,
              position: event.position,
              order: event.partial,
            };
            send([null, message(payload, oms), null, null]);
          }
          if (++seen % YIELD_EVERY === 0) {
            node.status({ fill: 'blue', shape: 'ring', text: t('status.importing', { count: seen }) });
            await new Promise((resolve) => setImmediate(resolve));
          }
        }
        await flush();
      } finally {
        await events.return(undefined as never); // closes the file if the loop was left early
      }
      if (store) await store.ledger.completeBatch(batchId, Date.now(), !custodyDownstream());
      const ledger = store
        ? {
            alreadyImported: counts.alreadyImported,
            updates: counts.updates,
            redeliveries: counts.redeliveries,
          }
        : {};
      msg.payload = { ...summary, ...ledger, batchId, rejections };
      send([null, null, msg, null]);
      const fill = summary.error
        ? 'red'
        : summary.rejected > 0 || counts.alreadyImported > 0
          ? 'yellow'
          : 'green';
      const extra =
        (counts.alreadyImported > 0 ? t('status.alreadyImported', { count: counts.alreadyImported }) : '') +
        (summary.error ? ` - ${summary.error.code}` : '');
      node.status({
        fill,
        shape: 'dot',
        text: t('status.counts', { accepted: counts.accepted, rejected: counts.rejected, extra }),
      });
      if (summary.error) {
        const where = summary.file ? ` ${summary.file}` : '';
        throw new OmsError(`SFCC import${where}: ${summary.error.message}`, summary.error.code);
      }
    }

    node.on('input', (msg, send, done) => {
      // One input at a time, in arrival order: a file's orders never interleave with the next one's.
      queue = queue.then(() =>
        run(msg, send, done).catch((err: unknown) => {
          done(err instanceof Error ? err : new Error(String(err)));
        }),
      );
    });
    node.on('close', (_removed: boolean, finished: () => void) => {
      closing = true;
      queue.then(finished, finished);
    });
  }

  RED.nodes.registerType('oms-sfcc-import', OmsSfccImport);
};
