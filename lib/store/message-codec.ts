// Node-RED messages to and from the text kept in the store (retries, dead letters).
// JSON with Buffers preserved; what cannot survive a restart is dropped on purpose.

/** Live objects of the HTTP In node: meaningless after a restart and not serialisable. */
const DROPPED_KEYS = new Set(['req', 'res', 'socket']);

/**
 * The message as stored. `payloadJson`: msg.payload already encoded (encodeValue), when the
 * caller knows the payload has not changed since (lib/order/vouch); it goes in as it is.
 */
export function encodeMessage(msg: object, payloadJson?: string): string {
  const top: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(msg)) {
    if (!DROPPED_KEYS.has(key) && (payloadJson === undefined || key !== 'payload')) top[key] = value;
  }
  const rest = encodeValue(top);
  if (payloadJson === undefined) return rest;
  return rest === '{}' ? `{"payload":${payloadJson}}` : `{"payload":${payloadJson},${rest.slice(1)}`;
}

/** A value as JSON the way encodeMessage writes it. */
export function encodeValue(value: object): string {
  // JSON.stringify gives what toPlain would (Buffer and Date have toJSON, functions and symbols
  // go, holes become null) at a fraction of the cost; only a cycle needs the careful copy.
  try {
    return JSON.stringify(value, bigintAsText);
  } catch {
    return JSON.stringify(toPlain(value, []));
  }
}

function bigintAsText(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** A JSON-safe copy: cycles become "[Circular]", BigInt a string, functions and symbols go. */
function toPlain(value: unknown, ancestors: object[]): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (value === null || typeof value !== 'object') return value;
  if (Buffer.isBuffer(value)) return value.toJSON();
  if (value instanceof Date) return value.toJSON();
  if (ancestors.includes(value)) return '[Circular]';
  ancestors.push(value);
  try {
    if (Array.isArray(value)) return value.map((item) => toPlain(item, ancestors) ?? null);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const plain = toPlain(item, ancestors);
      if (plain !== undefined) out[key] = plain;
    }
    return out;
  } finally {
    ancestors.pop();
  }
}

export function decodeMessage(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text, (_key, v: unknown) => {
    if (
      v !== null &&
      typeof v === 'object' &&
      (v as { type?: unknown }).type === 'Buffer' &&
      Array.isArray((v as { data?: unknown }).data) &&
      Object.keys(v).length === 2
    ) {
      return Buffer.from((v as { data: number[] }).data);
    }
    return v;
  });
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error('Stored message is not a JSON object');
  }
  return value as Record<string, unknown>;
}
