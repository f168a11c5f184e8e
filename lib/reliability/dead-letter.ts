// What oms-dead-letter parks: the letter for a failed message (lib/store/ports/dead-letters), and
// the letters that even the store could not take, one JSON line each in a fallback file.
import { appendFileSync } from 'node:fs';
import { formatTemplate, readEnvelope, setEnvelope, type Envelope } from '../order/envelope';
import { encodeMessage, type NewDeadLetter, type OmsStore } from '../store';
import { errorInfoOf } from './message-error';

export interface ParkedMessage {
  letter: NewDeadLetter;
  oms: Envelope;
  /** False for a msg.oms no step can read: parked as it came, untracked. */
  readable: boolean;
}

/** The letter for `msg`: its error, attempts and times, and the message as it was before it failed. */
export function letterFor(
  msg: Record<string, unknown>,
  nodeId: string,
  now: number,
  noError: string,
): ParkedMessage {
  let readable = true;
  let oms: Envelope = {};
  try {
    oms = readEnvelope(msg);
  } catch {
    readable = false; // the last resort parks even that
  }
  const retry = oms.retry;
  const error = errorInfoOf(msg) ?? { message: noError, code: 'OMS_NO_ERROR' };
  // Replay sends it without the error and the retry marker.
  const { error: _error, _msgid: _id, ...rest } = msg;
  if (readable && msg.oms !== undefined) setEnvelope(rest, oms, { retry: undefined });
  const letter: NewDeadLetter = {
    nodeId,
    orderRef: oms.orderRef || undefined,
    correlationId: oms.correlationId,
    error,
    attempts: retry?.attempts ?? (oms.attempts !== undefined && oms.attempts > 0 ? oms.attempts : 1),
    firstFailureAt: retry?.firstFailureAt ?? now,
    lastFailureAt: retry?.lastFailureAt ?? now,
    template: formatTemplate(oms),
    createdAt: now,
    message: encodeMessage(rest),
  };
  return { letter, oms, readable };
}

/** Parked: the oms-retry record that gave up on the message can go. */
export async function releaseExhausted(store: OmsStore, oms: Envelope): Promise<void> {
  const id = oms.retry?.id;
  if (id === undefined) return;
  const held = await store.retries.get(id);
  if (held?.state === 'exhausted') await store.retries.remove(id, held);
}

/** The message replayed from a letter: attempts start again, the replay is named. */
export function replayMessage(
  msg: Record<string, unknown>,
  replay: { deadLetterId: number; by: string; count: number; at: number },
  hasOrder: boolean,
): void {
  if (!hasOrder && msg.oms === undefined) return;
  const { deadLetterId, by, count, at } = replay;
  setEnvelope(msg, readEnvelope(msg), {
    attempts: 0,
    replay: { deadLetterId, at: new Date(at).toISOString(), by, count },
  });
}

/** When even the store fails: one JSON line in `file`, never dropped. */
export function appendFallback(file: string, letter: NewDeadLetter, storeError: Error): void {
  appendFileSync(file, `${JSON.stringify({ ...letter, storeError: storeError.message })}\n`);
}
