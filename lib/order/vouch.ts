// msg.payload as an order, checked once per run of OMS nodes: the zod check copies the whole
// order, and four screening and sourcing steps read it in turn. An OMS node that sends a checked
// order to one OMS node (nodes/shared/custody.ts: an output wired to that node alone) vouches
// for that object to it; a node it was vouched to reads it unchecked, once. A node in between
// that is not an OMS node (a function node that may change the order) breaks the chain: nothing
// was vouched to it, so the next OMS node checks again.
//
// The order's JSON goes along the same chain: the order is written to the store at several
// hops, unchanged, and encoding it is most of a write's CPU. The JSON belongs to the one OMS
// node that holds the object intact; it moves with each vouch, and goes whenever the object
// reaches a node by another way (arrive) or leaves to where no vouch follows.
import { encodeValue } from '../store/message-codec';
import { OrderSchema, type Order } from './model';

/**
 * Payload objects and the node an OMS node vouched for each to, to read once; `arrived`: the
 * object reached that node. A vouch is for one arrival: should the very object come back to the
 * node before it used the vouch (Node-RED gives Catch a copy, so only a wire back can), it is not.
 */
const vouched = new WeakMap<object, { reader: string; arrived: boolean }>();
/** What checkOrder returned: orders as the model has them (zod's copy, or one vouched for). */
const checked = new WeakSet<object>();
/** A checked order's JSON and the OMS node that holds the order unchanged since it was made. */
const encoded = new WeakMap<object, { holder: string; json: string }>();

/**
 * `payload` reaches OMS node `reader`: its JSON stays only when it was vouched for to that node
 * (came straight from an OMS node); by any other way (a function node, Catch) it may have changed.
 * True for the vouched arrival: the message is the very object that node sent, untouched since.
 */
export function arrive(payload: unknown, reader: string): boolean {
  if (typeof payload !== 'object' || payload === null) return false;
  const vouch = vouched.get(payload);
  if (vouch && vouch.reader === reader && !vouch.arrived) {
    vouch.arrived = true;
    return true;
  }
  vouched.delete(payload);
  encoded.delete(payload);
  return false;
}

/**
 * The JSON of the checked order `payload` as node `holder` writes it to the store: kept from the
 * node that wrote it before when the order came on intact, else encoded now (and kept).
 * Undefined for a payload that is not a checked order (encoded with the message).
 */
export function orderJson(payload: unknown, holder: string): string | undefined {
  if (typeof payload !== 'object' || payload === null || !checked.has(payload)) return undefined;
  const known = encoded.get(payload);
  if (known?.holder === holder) return known.json;
  const json = encodeValue(payload);
  encoded.set(payload, { holder, json });
  return json;
}

/** The order's JSON passes from `from` to `to` with a vouch; without one (`to` undefined) it goes. */
function handJson(payload: object, from: string, to: string | undefined): void {
  const known = encoded.get(payload);
  if (!known) return;
  if (to !== undefined && known.holder === from) known.holder = to;
  else encoded.delete(payload);
}

/** Whether `payload` was vouched for to `reader` (the vouch is used up). */
export function takeVouch(payload: unknown, reader: string): boolean {
  if (typeof payload !== 'object' || payload === null) return false;
  if (vouched.get(payload)?.reader !== reader) return false;
  vouched.delete(payload);
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

/**
 * Node `from` sends `payload` on to OMS node `reader` alone (undefined: to anything else):
 * vouches for it when it is an order checkOrder gave (or markChecked).
 */
export function vouchFor(payload: unknown, from: string, reader: string | undefined): void {
  if (typeof payload !== 'object' || payload === null) return;
  handJson(payload, from, reader);
  if (reader !== undefined && checked.has(payload)) vouched.set(payload, { reader, arrived: false });
  else vouched.delete(payload);
}

/** Passes a vouch on: what was vouched for to `from` is vouched for to `reader` (a node that only forwards). */
export function passVouch(payload: unknown, from: string, reader: string | undefined): void {
  if (typeof payload !== 'object' || payload === null) return;
  const intact = takeVouch(payload, from);
  handJson(payload, from, intact ? reader : undefined);
  if (intact && reader !== undefined) vouched.set(payload, { reader, arrived: false });
}
