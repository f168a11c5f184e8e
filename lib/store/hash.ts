// Content hash of a canonical order, for the idempotency ledger: equal for the same order
// exported twice, different when anything an OMS acts on changed.
import { createHash } from 'node:crypto';
import type { Order } from '../order/model';
import type { OrderKey } from './types';

/**
 * Left out: `source` (which file, which format, position — the same order read from another
 * export) and `status.export` (SFCC flips it to EXPORTED after the first export).
 */
export function orderContentHash(order: Order): string {
  const { source: _source, status, ...content } = order;
  const { export: _export, ...otherStatus } = status;
  return createHash('sha256')
    .update(stableJson({ ...content, status: otherStatus }))
    .digest('hex');
}

export function orderKey(order: Order): OrderKey {
  return { source: order.source.system, site: order.source.siteId ?? '', orderNo: order.orderRef };
}

/** "sfcc/RefArch/00001234" — how keys appear in messages, logs and the admin API. */
export function formatOrderKey(key: OrderKey): string {
  return `${key.source}/${key.site || '-'}/${key.orderNo}`;
}

/** JSON with object keys sorted, so the hash does not depend on property order. */
export function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i > 0 ? ',' : '') + stableJson(value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  // Built as one string, without the arrays of entries: the import hashes every order it reads.
  let out = '{';
  let first = true;
  for (const key of Object.keys(record).sort()) {
    const item = record[key];
    if (item === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${stableJson(item)}`;
    first = false;
  }
  return `${out}}`;
}
