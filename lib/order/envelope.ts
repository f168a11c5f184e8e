// msg.oms: the envelope that travels beside the canonical order (DESIGN.md, message envelope).
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { OmsError } from '../errors';
import type { OrderFlag, OrderSource } from './model';

export interface TemplateRef {
  name: string;
  version: string;
}

export interface OmsEnvelope {
  orderRef: string;
  correlationId: string;
  /** Lifecycle state (docs/lifecycle.md); unset for orders that never became valid. */
  state?: string;
  attempts: number;
  template?: TemplateRef;
  source: OrderSource;
  flags: OrderFlag[];
  /** Shared by every order read from the same input message or file. */
  batchId: string;
  /** With a store: the order's ledger key (source/site/orderNo), settled by the durable step that takes it. */
  ledgerKey?: string;
  /** With a store: what the idempotency ledger said (lib/store LedgerVerdict). */
  ledger?: { status: 'new' | 'duplicate' | 'update' | 'redelivery'; key: string; [detail: string]: unknown };
}

/** "order-lifecycle@1.2.0" (flow env OMS_TEMPLATE) to a template reference. */
export function parseTemplateRef(value: unknown): TemplateRef | undefined {
  if (typeof value !== 'string') return undefined;
  const at = value.lastIndexOf('@');
  if (at <= 0 || at === value.length - 1) return undefined;
  return { name: value.slice(0, at), version: value.slice(at + 1) };
}

export function createEnvelope(fields: Omit<OmsEnvelope, 'correlationId' | 'attempts'>): OmsEnvelope {
  return { correlationId: randomUUID(), attempts: 0, ...fields };
}

/** msg.oms.custody: the token of the custody row the message was sent from (lib/store/ports/custody). */
const CustodyMarkerSchema = z.object({ token: z.string(), holder: z.string() });

/** msg.oms.retry: what travels while a message is in an oms-retry queue's care (lib/reliability). */
const RetryMarkerSchema = z.object({
  node: z.string(),
  id: z.number(),
  attempt: z.number(),
  maxAttempts: z.number(),
  firstFailureAt: z.number().optional(),
  lastFailureAt: z.number().optional(),
  lastError: z.string().optional(),
  /** Set on the exhausted output. */
  attempts: z.number().optional(),
  gaveUp: z.string().optional(),
  explanation: z.string().optional(),
});

export type RetryMarker = z.infer<typeof RetryMarkerSchema>;

/**
 * msg.oms as every OMS step reads it, from whatever sent the message (an import, a change node,
 * a resumed checkpoint): the fields the pack reads are checked, the rest travels on untouched.
 */
export const EnvelopeSchema = z.looseObject({
  orderRef: z.string().optional(),
  correlationId: z.string().optional(),
  state: z.string().optional(),
  /** An event or target state for an oms-lifecycle node without a fixed value. */
  transition: z.string().optional(),
  attempts: z.number().optional(),
  template: z.looseObject({ name: z.string(), version: z.string().optional() }).optional(),
  ledgerKey: z.string().optional(),
  custody: CustodyMarkerSchema.optional(),
  retry: RetryMarkerSchema.optional(),
  /** What oms-fraud-check found (lib/fraud/check); read again when a held order is decided. */
  fraud: z.looseObject({ summary: z.string().optional() }).optional(),
  /** Where the order ships from, for oms-route's distances (lib/routing/geo GeoPoint). */
  origin: z.object({ lat: z.number(), lon: z.number() }).optional(),
});

export type Envelope = z.infer<typeof EnvelopeSchema>;

/** A msg.oms no step can read: the order (when known), the field and the rule in one sentence. */
export class EnvelopeError extends OmsError {
  constructor(message: string, orderRef?: string) {
    super(message, 'OMS_BAD_ENVELOPE', { retryable: false, ...(orderRef ? { orderRef } : {}) });
  }
}

/** What carries an envelope: a Node-RED message. */
type Carrier = { oms?: unknown; [key: string]: unknown };

/** Envelopes checked by `readEnvelope` or written by `setEnvelope` (the objects themselves). */
const checked = new WeakSet<object>();

/**
 * Reads msg.oms, checked (an absent one reads as empty), as a step takes a message in: the step
 * extends what this returns and writes it back with `setEnvelope`. Throws EnvelopeError naming
 * the order, the field and the rule.
 */
export function readEnvelope(msg: Carrier): Envelope {
  if (msg.oms === undefined || msg.oms === null) return {};
  const parsed = EnvelopeSchema.safeParse(msg.oms);
  if (parsed.success) {
    msg.oms = parsed.data;
    checked.add(parsed.data);
    return parsed.data;
  }
  const raw = msg.oms as { orderRef?: unknown };
  const orderRef = typeof raw.orderRef === 'string' && raw.orderRef !== '' ? raw.orderRef : undefined;
  const issue = parsed.error.issues[0];
  const field = ['msg.oms', ...(issue?.path ?? []).map(String)].join('.');
  throw new EnvelopeError(
    `${orderRef ? `order ${orderRef}: ` : ''}${field}: ${issue?.message ?? 'not an object'}`,
    orderRef,
  );
}

/** The envelope of a message this step has read already (no second check), else `readEnvelope`. */
export function envelopeOf(msg: Carrier): Envelope {
  const oms = msg.oms;
  return typeof oms === 'object' && oms !== null && checked.has(oms) ? (oms as Envelope) : readEnvelope(msg);
}

/** Writes the envelope back, extended with `patch` (undefined values remove a field). */
export function setEnvelope(msg: Carrier, oms: Envelope, patch: Partial<Envelope> = {}): Envelope {
  const keys = Object.keys(patch);
  let next: Envelope;
  if (keys.every((key) => patch[key] !== undefined)) next = { ...oms, ...patch };
  else {
    // Built without the removed fields rather than deleting them: an object that lost a property
    // is slower to read and to encode at every later step. Same order as the spread above.
    next = {};
    for (const key of Object.keys(oms)) {
      const value = key in patch ? patch[key] : oms[key];
      if (value !== undefined) next[key] = value;
    }
    for (const key of keys) if (!(key in oms) && patch[key] !== undefined) next[key] = patch[key];
  }
  msg.oms = next;
  checked.add(next);
  return next;
}

/** The template an envelope names, as "name@version", the form the audit trail keeps. */
export function formatTemplate(oms: Envelope): string | undefined {
  const { name, version } = oms.template ?? {};
  if (!name) return undefined;
  return version ? `${name}@${version}` : name;
}
