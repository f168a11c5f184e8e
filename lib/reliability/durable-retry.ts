// A durable retry queue in front of a step that can fail (the logic of the oms-retry node).
// A message is kept in the store from arrival until its outcome is known: acknowledged (the
// step completed), forgotten (no failure reported in time, when acknowledgements are not
// required), or given up. Failures come back as messages carrying this queue's marker in
// msg.oms.retry; each is classified and sent again after the policy's delay, always as the
// message first arrived. Timers are the caller's: `pump()` when `nextDueAt()` comes, and every few
// seconds for the records of a stopped runtime. Several runtimes may run the same queue on one
// store: due records are claimed with an owner and a lease, and every change is a compare-and-set
// on the record's version, so no in-process lock stands in for what the store guarantees.
import {
  CustodyConflict,
  decodeMessage,
  encodeMessage,
  type CustodyStep,
  type ErrorInfo,
  type RetryQueue,
  type RetryRecord,
  type RetryVersion,
} from '../store';
import { envelopeOf, setEnvelope, type RetryMarker } from '../order/envelope';
import { orderJson } from '../order/vouch';
import type { Classifier } from './classify';
import { errorFromMessage } from './classify';
import { errorInfoOf } from './message-error';
import { decideRetry, type RetryPolicy } from './policy';

type Msg = Record<string, unknown>;

export type { RetryMarker } from '../order/envelope';

export interface DurableRetryOptions {
  /** The queue's name in the store: the oms-retry node id. */
  queue: string;
  /** This queue instance's name in the store's claims; it beats as a runtime (Custody.heartbeat). */
  owner: string;
  /** An owner whose heartbeat is older than this has stopped: its records are taken over. */
  deadAfterMs: number;
  store: RetryQueue;
  policy: RetryPolicy;
  classifier?: Classifier;
  /** How long a sent message waits for its outcome. */
  ackTimeoutMs: number;
  /** true: a message without an outcome is sent again; false: it is forgotten. */
  requireAck: boolean;
  /** Output 1 (to the step) and output 2 (exhausted). */
  send(msg: Msg): void;
  exhaust(msg: Msg): void;
  /** True when whatever takes exhausted messages stores them and then calls `parked()`. */
  exhaustedAreTaken(): boolean;
  /**
   * Called once a new message is stored without a custody step of this queue (which settles the
   * order's import ledger entry in its own transaction): the ledger settles the order.
   */
  stored?(msg: Msg): Promise<void>;
  newMessageId(): string;
  /** Sentences for people (the node's message catalog). */
  text: { notAcknowledged(seconds: number): string; cutShort(attempt: number, of: number): string };
  onGiveUp?(orderRef: string, explanation: string): void;
  now?(): number;
  /** Custody (docs/reliability.md): without it the queue keeps its records and nothing else. */
  custody?: RetryCustody;
}

/** How the queue takes and hands on custody of the orders it holds (the node kit's side). */
export interface RetryCustody {
  /** The order enters the queue: a handoff of kind 'retry' (compare-and-set on msg's token). */
  take(msg: Msg): CustodyStep | undefined;
  /** The step completed: the order's custody, if the queue still holds it, is released or checkpointed. */
  acknowledged(record: RetryRecord, token: string): CustodyStep | undefined;
  /**
   * Whether what the step sends on reaches another custody node, whose handoff will take the
   * order from the record (and remove it): then an acknowledgement need not write anything.
   */
  leadsOn(): boolean;
  /** Given up without a dead-letter node to take it: at rest on the exhausted output. */
  givenUp(msg: Msg): CustodyStep | undefined;
  /** The token the store holds for the order now. */
  tokenOf(orderRef: string): Promise<string | undefined>;
}

/** The custody token of an order held by retry record `id`. */
export const retryToken = (id: number): string => `retry-${id}`;

const BATCH = 100;

const versionOf = (record: RetryRecord): RetryVersion => ({ state: record.state, attempt: record.attempt });

/** The message as it arrived: without a marker of a retry node or a failure. */
function original(msg: Msg, queue: string): string {
  const { error: _error, _msgid: _id, ...rest } = msg;
  if (rest.oms !== undefined) setEnvelope(rest, envelopeOf(msg), { retry: undefined });
  return encodeMessage(rest, orderJson(msg.payload, queue));
}

export class DurableRetry {
  /** Messages given up since the queue was created (the node's status). */
  exhausted = 0;
  private readonly now: () => number;
  /**
   * Attempts acknowledged while the record holds the order and the step's output leads on to a
   * custody node (record id → attempt, when): nothing is written then, since that node's handoff
   * removes the record within moments. Only a record still there when it comes due is
   * acknowledged in the store (removed, its order kept as a checkpoint). Lost with the process,
   * which is safe: the record is then resent, as the checkpoint would have been resumed.
   */
  private readonly completed = new Map<number, { attempt: number; at: number }>();
  constructor(private readonly o: DurableRetryOptions) {
    this.now = o.now ?? Date.now;
  }

  counts(): Promise<{ inflight: number; waiting: number; exhausted: number }> {
    return this.o.store.counts(this.o.queue);
  }

  nextDueAt(): Promise<number | undefined> {
    return this.o.store.nextDueAt(this.o.queue);
  }

  /**
   * True for a message seen for the first time (no marker of this queue, no failure): receiving
   * it stores a new record and sends it, due for its outcome `ackTimeoutMs` from now.
   */
  isNew(msg: Msg): boolean {
    return !this.marker(msg) && !msg.error;
  }

  /**
   * A message arriving at the input: new, an acknowledgement, or a failure. Messages may be
   * received concurrently, and while `pump()` runs: each outcome applies only to the attempt it
   * reports (compare-and-set in the store), the first one to land wins. A new message that is a
   * stale copy of an order (custody moved on since it was sent) is dropped.
   */
  async receive(msg: Msg): Promise<void> {
    const { store, queue, ackTimeoutMs, owner } = this.o;
    const mine = this.marker(msg);
    // Only messages this queue sent can fail by status; others fail only with msg.error.
    const error = mine || msg.error ? errorFromMessage(msg) : undefined;
    const now = this.now();
    const ref = envelopeOf(msg).orderRef;
    const held = mine ? await store.get(mine.id) : undefined;
    // The outcome of the attempt the record waits for; anything else is stale or a second report
    // of the same outcome (a function node's node.error also completes; the HTTP Request node
    // both throws and sends on a network error).
    const current = held && held.state === 'inflight' && held.attempt === mine?.attempt ? held : undefined;
    /** Stores a new record; undefined for a stale copy. `tracked`: this queue holds the order. */
    const add = async (withCustody: boolean): Promise<{ id: number; tracked: boolean } | undefined> => {
      const entry = {
        message: original(msg, queue),
        orderRef: ref,
        at: now,
        dueAt: now + ackTimeoutMs,
        owner,
      };
      const step = withCustody ? this.o.custody?.take(msg) : undefined;
      let id: number;
      try {
        id = await store.add(queue, entry, step);
      } catch (err) {
        if (!(err instanceof CustodyConflict)) throw err;
        if (err.result.reason === 'stale') return undefined;
        id = await store.add(queue, entry); // held elsewhere: kept here untracked
        setEnvelope(msg, envelopeOf(msg), { custody: undefined }); // take() stamped it; not this copy's
        await this.o.stored?.(msg);
        return { id, tracked: false };
      }
      const tracked = step !== undefined && 'handoff' in step;
      if (!tracked) await this.o.stored?.(msg);
      return { id, tracked };
    };
    // A failure reported after the attempt completed (a node that both sends and throws): stale.
    if (error && current && this.completed.get(current.id)?.attempt === current.attempt) return;
    if (!error) {
      if (current) await this.acknowledge(current, msg);
      else if (!mine) {
        const added = await add(true);
        if (!added) return;
        this.stamp(msg, { id: added.id, attempt: 1 }, {}, added.tracked);
        this.o.send(msg);
      }
    } else if (current) {
      await this.failed(current, error, msg);
    } else if (!held) {
      // A failure of a message not held (forgotten after its timeout, or never sent by this
      // queue): keep it from now on and retry it like any other. Not a late report of a record
      // whose outcome is settled: what came back is the step's output, not the message as it
      // arrived (an HTTP request's has the peer's answer as its payload), and sending it again
      // would give the step a message that lost its fields.
      if (mine && (await this.settled(mine, ref))) return;
      const added = await add(!mine);
      if (!added) return;
      const attempt = mine?.attempt ?? 1;
      if (attempt > 1) {
        const sent = { attempt, dueAt: now + ackTimeoutMs, owner };
        await store.markSent(added.id, { state: 'inflight', attempt: 1 }, sent);
      }
      const stored = await store.get(added.id);
      if (stored) await this.failed(stored, error, msg);
    }
  }

  /** The step completed: the record goes, and custody with it (or a checkpoint, see RetryCustody). */
  private async acknowledge(record: RetryRecord, msg: Msg): Promise<void> {
    const tracked = this.tokenIn(msg) === retryToken(record.id);
    if (tracked && this.o.custody?.leadsOn()) {
      this.remember(record);
      return;
    }
    await this.removeAcknowledged(record, tracked);
  }

  /** A completed attempt whose record waits for the next custody node to take its order. */
  private remember(record: RetryRecord): void {
    const now = this.now();
    // A record still there well after it came due has been handled by pump() meanwhile. The map
    // keeps insertion order, oldest first (a record set again moves to the end).
    for (const [id, entry] of this.completed) {
      if (entry.at >= now - 2 * this.o.ackTimeoutMs) break;
      this.completed.delete(id);
    }
    this.completed.delete(record.id);
    this.completed.set(record.id, { attempt: record.attempt, at: now });
  }

  /** The record goes, and with `tracked` its order's custody is released or checkpointed. */
  private async removeAcknowledged(record: RetryRecord, tracked: boolean): Promise<void> {
    const token = retryToken(record.id);
    const step = tracked ? this.o.custody?.acknowledged(record, token) : undefined;
    try {
      await this.o.store.remove(record.id, versionOf(record), step);
    } catch (err) {
      if (!(err instanceof CustodyConflict)) throw err;
      await this.o.store.remove(record.id, versionOf(record)); // the next step took the order meanwhile
    }
  }

  /**
   * Whether record `mine.id`, gone from the store, left with its outcome settled, so that a report
   * of one of its attempts is stale. With required acknowledgements a record leaves only that way:
   * acknowledged, given up (and parked), or superseded by a newer copy of its order (custody's
   * handoff removes a retry record it replaces, even one in flight). Without, it may have been
   * forgotten after the timeout, and a failure coming back later starts a retry, unless the order's
   * custody has moved on from the record meanwhile (a newer copy, the next step, a dead letter).
   */
  private async settled(mine: RetryMarker, ref: string | undefined): Promise<boolean> {
    if (this.o.requireAck) return true;
    if (!this.o.custody || ref === undefined) return false;
    const token = await this.o.custody.tokenOf(ref);
    return token !== undefined && token !== retryToken(mine.id);
  }

  /** The custody token msg carries. */
  private tokenIn(msg: Msg): string | undefined {
    return envelopeOf(msg).custody?.token;
  }

  /**
   * Claims and handles every record whose time has come, and those a stopped runtime left (sent
   * again at once). Returns how many records of a stopped runtime were taken over.
   */
  async pump(isClosing: () => boolean = () => false): Promise<number> {
    const { store, queue, owner, deadAfterMs } = this.o;
    let resumed = 0;
    for (;;) {
      if (isClosing()) return resumed;
      const claim = { owner, now: this.now(), leaseMs: this.o.ackTimeoutMs, deadAfterMs, limit: BATCH };
      const due = await store.claimDue(queue, claim);
      for (const record of due) {
        if (isClosing()) {
          await store.releaseClaim(record.id, owner);
          continue;
        }
        if (record.orphaned) resumed++;
        await this.dueNow(record, record.orphaned);
      }
      if (due.length < BATCH) return resumed;
    }
  }

  /** `orphaned`: its runtime stopped before the outcome came; it is sent again as if it had failed. */
  private async dueNow(record: RetryRecord, orphaned: boolean): Promise<void> {
    const { store, policy, requireAck, ackTimeoutMs, text } = this.o;
    if (record.state === 'waiting' || (record.state === 'inflight' && orphaned)) {
      if (policy.attempts > 0 && record.attempt >= policy.attempts) {
        // Resumed after a restart with no attempt left: give up instead of going over the limit.
        this.exhausted++;
        await this.giveUp({
          ...record,
          lastFailureAt: this.now(),
          lastError: {
            ...(record.lastError ?? { message: text.notAcknowledged(ackTimeoutMs / 1000) }),
            gaveUp: 'attempts-exhausted',
            explanation: text.cutShort(record.attempt, policy.attempts),
          },
        });
      } else await this.resend(record);
    } else if (record.state === 'exhausted') {
      await this.giveUp(record); // not parked yet: a crash or a slow dead-letter node
    } else if (this.completed.get(record.id)?.attempt === record.attempt) {
      // Completed, and no custody node took the order in time: acknowledged now, in the store.
      this.completed.delete(record.id);
      await this.removeAcknowledged(record, await this.tracked(record));
    } else if (requireAck) {
      const notAcknowledged = {
        message: text.notAcknowledged(ackTimeoutMs / 1000),
        code: 'OMS_NOT_ACKNOWLEDGED',
      };
      await this.failed(record, notAcknowledged, {});
    } else {
      await store.remove(record.id, versionOf(record)); // no failure reported in time: delivered
    }
  }

  private marker(msg: Msg): RetryMarker | undefined {
    const retry = envelopeOf(msg).retry;
    return retry && retry.node === this.o.queue ? retry : undefined;
  }

  private stamp(
    msg: Msg,
    record: Pick<RetryRecord, 'id' | 'attempt'> & Partial<RetryRecord>,
    extra: Partial<RetryMarker> = {},
    tracked = false,
  ): void {
    const oms = envelopeOf(msg);
    const retry: RetryMarker = {
      node: this.o.queue,
      id: record.id,
      attempt: record.attempt,
      maxAttempts: this.o.policy.attempts,
      ...(record.firstFailureAt ? { firstFailureAt: record.firstFailureAt } : {}),
      ...(record.lastFailureAt ? { lastFailureAt: record.lastFailureAt } : {}),
      ...(record.lastError ? { lastError: record.lastError.message } : {}),
      ...extra,
    };
    setEnvelope(msg, oms, {
      attempts: record.attempt,
      retry,
      ...(tracked ? { custody: { token: retryToken(record.id), holder: this.o.queue } } : {}),
    });
  }

  /** Whether the store holds the record's order under this queue's token. */
  private async tracked(record: RetryRecord): Promise<boolean> {
    if (!this.o.custody || !record.orderRef) return false;
    return (await this.o.custody.tokenOf(record.orderRef)) === retryToken(record.id);
  }

  private async resend(record: RetryRecord): Promise<void> {
    const attempt = record.attempt + 1;
    const sent = { attempt, dueAt: this.now() + this.o.ackTimeoutMs, owner: this.o.owner };
    if (!(await this.o.store.markSent(record.id, versionOf(record), sent))) return; // an outcome came first
    const msg = decodeMessage(record.message);
    msg._msgid = this.o.newMessageId();
    this.stamp(msg, { ...record, attempt }, {}, await this.tracked(record));
    this.o.send(msg);
  }

  /** A failed attempt: schedule the next one, or give up. */
  private async failed(record: RetryRecord, error: unknown, failedMsg: Msg): Promise<void> {
    const now = this.now();
    const decision = decideRetry({
      policy: this.o.policy,
      attempt: record.attempt,
      firstFailureAt: record.firstFailureAt ?? now,
      now,
      error,
      classifier: this.o.classifier,
    });
    const info: ErrorInfo = errorInfoOf(failedMsg) ?? errorInfoOf({ error }) ?? { message: String(error) };
    if (decision.retry) {
      await this.o.store.scheduleRetry(record.id, versionOf(record), {
        at: now,
        dueAt: decision.dueAt,
        error: info,
      });
      return;
    }
    this.exhausted++;
    this.o.onGiveUp?.(record.orderRef ?? String(record.id), decision.explanation);
    await this.giveUp({
      ...record,
      firstFailureAt: record.firstFailureAt ?? now,
      lastFailureAt: now,
      lastError: { ...info, gaveUp: decision.reason, explanation: decision.explanation },
    });
  }

  /**
   * Sends a record to the exhausted output. When what takes it stores it (an oms-dead-letter on
   * the same store), the record stays as 'exhausted' until then and is sent there again after the
   * acknowledgement timeout or a restart: a crash between the two loses nothing.
   */
  private async giveUp(record: RetryRecord): Promise<void> {
    const lastError = record.lastError ?? { message: 'gave up' };
    const msg = decodeMessage(record.message);
    msg._msgid = this.o.newMessageId();
    // The message as it first arrived, plus what went wrong in msg.error (as Catch would set it).
    const { gaveUp, explanation, ...error } = lastError;
    msg.error = error;
    this.stamp(msg, record, { attempts: record.attempt, gaveUp, explanation }, await this.tracked(record));
    let kept: boolean;
    if (this.o.exhaustedAreTaken()) {
      kept = await this.o.store.markExhausted(record.id, versionOf(record), {
        at: record.lastFailureAt ?? this.now(),
        dueAt: this.now() + this.o.ackTimeoutMs,
        owner: this.o.owner,
        error: {
          ...lastError,
          gaveUp: lastError.gaveUp ?? 'attempts-exhausted',
          explanation: lastError.explanation ?? '',
        },
      });
    } else {
      const step = this.tokenIn(msg) === retryToken(record.id) ? this.o.custody?.givenUp(msg) : undefined;
      kept = await this.o.store.remove(record.id, versionOf(record), step);
    }
    if (kept) this.o.exhaust(msg); // else another outcome or runtime handled this attempt first
  }
}
