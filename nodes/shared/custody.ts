// Custody: an order read by oms-sfcc-import is only safe once a durable step has stored it.
// The steps that store orders (oms-lifecycle, oms-retry, oms-dead-letter) settle its ledger
// entry, so a re-import after a crash delivers again exactly the orders none of them took.
import type { Node, NodeAPI } from 'node-red';
import type { OmsStore } from '../../lib/store';

/** Node types that store what they receive before anything else happens to it. */
export const CUSTODY_TYPES: ReadonlySet<string> = new Set(['oms-lifecycle', 'oms-retry', 'oms-dead-letter']);

/** Set by custody nodes: the id of the oms-store config node they write to. */
export interface CustodyNode extends Node {
  omsStoreId?: string;
}

export async function settleOrder(store: OmsStore, msg: Record<string, unknown>): Promise<void> {
  const key = (msg.oms as { ledgerKey?: unknown } | undefined)?.ledgerKey;
  if (typeof key === 'string' && key !== '') await store.ledger.settle([key]);
}

/**
 * True when an output is wired, and only to nodes of `types` that write to the store `storeId`:
 * then what leaves by it is safe once those nodes have stored it.
 */
export function wiredOnlyToStoring(
  RED: NodeAPI,
  targets: readonly string[] | undefined,
  types: ReadonlySet<string>,
  storeId: string | undefined,
): boolean {
  return (
    (targets ?? []).length > 0 &&
    (targets ?? []).every((id) => {
      const target = RED.nodes.getNode(id) as CustodyNode | null;
      return target !== null && types.has(target.type) && target.omsStoreId === storeId;
    })
  );
}
