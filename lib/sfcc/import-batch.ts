// One input of the SFCC import as a batch, without Node-RED: reads the orders, asks the
// idempotency ledger about the accepted ones a chunk at a time (one commit each), and routes each
// order to its output. The caller builds and sends the messages and takes custody of them.
import { createEnvelope, type OmsEnvelope, type TemplateRef } from '../order/envelope';
import type { Order } from '../order/model';
import { formatOrderKey, orderContentHash, orderKey } from '../store/hash';
import type { Ledger, LedgerVerdict } from '../store/types';
import { importFile, importOrders, type ImportFormat, type ImportInput, type ImportSummary } from './import';

/** The outputs of oms-sfcc-import, by index. */
export const IMPORT_OUTPUT = { accepted: 0, rejected: 1, summary: 2, alreadyImported: 3 } as const;
export type ImportPort = (typeof IMPORT_OUTPUT)[keyof typeof IMPORT_OUTPUT];

/** Orders between pauses that let the runtime deliver what was sent (keeps memory flat). */
export const YIELD_EVERY = 64;
/** Rejected orders listed in the summary (for error reports); the count is always complete. */
export const MAX_REJECTIONS_IN_SUMMARY = 1000;

/** The input of one import: a file name, else a payload that can hold orders; undefined if neither. */
export function importSource(filename: unknown, payload: unknown): { filename?: string } | undefined {
  const file = typeof filename === 'string' && filename !== '' ? filename : undefined;
  const usable = typeof payload === 'string' || (typeof payload === 'object' && payload !== null);
  return file || usable ? { filename: file } : undefined;
}

/** The outputs array of the node with `msg` on `port` only. */
export function toOutputs<M>(port: ImportPort, msg: M): Array<M | null> {
  return Object.values(IMPORT_OUTPUT).map((p) => (p === port ? msg : null));
}

export interface ImportCounts {
  accepted: number;
  rejected: number;
  alreadyImported: number;
  updates: number;
  redeliveries: number;
}

export interface ImportBatchOptions<M> {
  /** A local file to stream; without it `payload` is imported. */
  filename?: string;
  payload?: unknown;
  format: ImportFormat;
  template?: TemplateRef;
  batchId: string;
  /** The store's ledger: duplicates, updates and redeliveries. Without it every order is new. */
  ledger?: Pick<Ledger, 'receive' | 'completeBatch' | 'abandonBatch'>;
  /** The message carrying `payload` with `oms`; the same object is handed off and sent. */
  message(payload: unknown, oms: OmsEnvelope): M;
  send(port: ImportPort, msg: M): void;
  /** Custody of one chunk of accepted messages, before any of them is sent. */
  handOff(accepted: M[]): Promise<void>;
  /** Orders read so far, every YIELD_EVERY orders. */
  progress(seen: number): void;
  /** True when the import must stop (a redeploy); asked before each order. */
  stopped(): boolean;
  /** Asked at the end, with a ledger: do the batch's orders count as safely taken now? */
  settles(): boolean;
  now?: () => number;
}

export interface ImportBatchResult {
  summary: ImportSummary;
  counts: ImportCounts;
  /** The payload of the summary message (output 3). */
  payload: Record<string, unknown>;
  /** 'failed': a file-level error; 'partial': rejected or already imported orders. */
  outcome: 'complete' | 'partial' | 'failed';
  /** The file-level error to report, once the summary is sent. */
  error?: { message: string; code: string };
}

/** An accepted order waiting for its ledger verdict. */
interface Pending {
  order: Order;
  oms: OmsEnvelope;
  key: string;
  hash: string;
}

/**
 * Imports one input. Undefined when stopped: the batch is then abandoned in the ledger, so its
 * untaken orders come again on a re-import.
 */
export async function importBatch<M>(o: ImportBatchOptions<M>): Promise<ImportBatchResult | undefined> {
  const now = o.now ?? Date.now;
  const { ledger, batchId } = o;
  const counts: ImportCounts = { accepted: 0, rejected: 0, alreadyImported: 0, updates: 0, redeliveries: 0 };
  const rejections: Array<{ orderRef: string; position: number; errors: unknown[] }> = [];
  let pending: Pending[] = [];

  /** Asks the ledger about the pending orders in one commit, then sends each where it belongs. */
  async function flush(): Promise<void> {
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    const verdicts: Array<LedgerVerdict | undefined> = ledger
      ? await ledger.receive(
          batch.map((p) => ({ key: orderKey(p.order), hash: p.hash, batchId })),
          now(),
        )
      : batch.map(() => undefined);
    const out: M[] = [];
    batch.forEach((p, i) => {
      const verdict = verdicts[i];
      if (verdict) {
        p.oms.ledgerKey = p.key;
        p.oms.ledger = { ...verdict, key: p.key };
      }
      if (verdict?.status === 'duplicate') {
        counts.alreadyImported++;
        o.send(IMPORT_OUTPUT.alreadyImported, o.message(p.order, p.oms));
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
      out.push(o.message(p.order, p.oms));
    });
    await o.handOff(out);
    for (const m of out) o.send(IMPORT_OUTPUT.accepted, m);
  }

  const events = o.filename
    ? importFile(o.filename, { format: o.format })
    : importOrders(o.payload as ImportInput, { format: o.format });
  let summary: ImportSummary;
  let seen = 0;
  try {
    for (;;) {
      const next = await events.next();
      if (next.done) {
        summary = next.value;
        break;
      }
      if (o.stopped()) {
        await ledger?.abandonBatch(batchId);
        return undefined;
      }
      const event = next.value;
      const common = {
        template: o.template,
        // A copy: the envelope is not to share an object with the order (whose JSON is kept, lib/order/vouch).
        source: { ...(event.type === 'accepted' ? event.order.source : event.source) },
        flags: event.flags,
        batchId,
      };
      if (event.type === 'accepted') {
        const oms = createEnvelope({ ...common, orderRef: event.order.orderRef, state: 'Created' });
        const hash = ledger ? orderContentHash(event.order) : '';
        pending.push({ order: event.order, oms, key: formatOrderKey(orderKey(event.order)), hash });
        // Without a ledger there is nothing to batch: each order goes at once.
        if (!ledger || pending.length >= YIELD_EVERY) await flush();
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
        o.send(IMPORT_OUTPUT.rejected, o.message(payload, oms));
      }
      if (++seen % YIELD_EVERY === 0) {
        o.progress(seen);
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    await flush();
  } finally {
    await events.return(undefined as never); // closes the file if the loop was left early
  }
  if (ledger) await ledger.completeBatch(batchId, now(), o.settles());
  const ledgerCounts = ledger
    ? { alreadyImported: counts.alreadyImported, updates: counts.updates, redeliveries: counts.redeliveries }
    : {};
  const where = summary.file ? ` ${summary.file}` : '';
  return {
    summary,
    counts,
    payload: { ...summary, ...ledgerCounts, batchId, rejections },
    outcome: summary.error
      ? 'failed'
      : summary.rejected > 0 || counts.alreadyImported > 0
        ? 'partial'
        : 'complete',
    error: summary.error
      ? { message: `SFCC import${where}: ${summary.error.message}`, code: summary.error.code }
      : undefined,
  };
}
