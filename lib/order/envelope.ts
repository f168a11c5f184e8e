// msg.oms: the envelope that travels beside the canonical order (DESIGN.md, message envelope).
import { randomUUID } from 'node:crypto';
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
