// msg.payload as an order, checked once per run of OMS nodes: the zod check copies the whole
// order, and four screening and sourcing steps read it in turn. An OMS node that sends a checked
// order to one OMS node (nodes/shared/custody.ts: an output wired to that node alone) vouches
// for that object to it; a node it was vouched to reads it unchecked, once. A node in between
// that is not an OMS node (a function node that may change the order) breaks the chain: nothing
// was vouched to it, so the next OMS node checks again.
import { OrderSchema, type Order } from './model';

/** Payload objects and the nodes an OMS node vouched for them to, each to read once. */
const vouched = new WeakMap<object, Set<string>>();
/** What checkOrder returned: orders as the model has them (zod's copy, or one vouched for). */
const checked = new WeakSet<object>();

/** Whether `payload` was vouched for to `reader` (the vouch is used up). */
export function takeVouch(payload: unknown, reader: string): boolean {
  if (typeof payload !== 'object' || payload === null) return false;
  const readers = vouched.get(payload);
  if (!readers?.delete(reader)) return false;
  if (readers.size === 0) vouched.delete(payload);
  return true;
}

/**
 * msg.payload as an order for node `reader`: as it is when vouched for to it, else checked by
 * zod, whose copy (the order with only the model's fields) the node then carries on.
 */
export function checkOrder(payload: unknown, reader: string): { order: Order } | { issue: string } {
  if (takeVouch(payload, reader)) {
    checked.add(payload as object);
    return { order: payload as Order };
  }
  const parsed = OrderSchema.safeParse(payload);
  if (!parsed.success) return { issue: parsed.error.issues[0]?.message ?? '' };
  checked.add(parsed.data);
  return { order: parsed.data };
}

/** Counts `order` (built by typed code from a checked one) as checked. */
export function markChecked(order: Order): Order {
  checked.add(order);
  return order;
}

/** Vouches for `payload` to `readers` when it is an order checkOrder gave (or markChecked). */
export function vouchFor(payload: unknown, readers: readonly string[]): void {
  if (typeof payload !== 'object' || payload === null || !checked.has(payload)) return;
  vouched.set(payload, new Set(readers));
}

/** Passes a vouch on: what was vouched for to `reader` is vouched for to `readers` (a node that only forwards). */
export function passVouch(payload: unknown, reader: string, readers: readonly string[]): void {
  if (takeVouch(payload, reader) && readers.length > 0) vouched.set(payload as object, new Set(readers));
}
