// The durable retry queues (oms-retry).
import type { ErrorInfo } from './common';
import type { CustodyStep } from './custody';

export type RetryState = 'inflight' | 'waiting' | 'exhausted';

export interface RetryRecord {
  id: number;
  /** The oms-retry node (its id, the same on every runtime running the flow) whose queue it is in. */
  queue: string;
  orderRef?: string;
  /**
   * 'inflight': sent, waiting for its acknowledgement until dueAt; 'waiting': resend at dueAt;
   * 'exhausted': given up and sent to the exhausted output, kept until a dead-letter node parks
   * it (sent there again at dueAt, or when its owner stopped).
   */
  state: RetryState;
  attempt: number;
  dueAt: number;
  createdAt: number;
  /**
   * The queue instance (one per node per runtime start) that sent it or claimed it last. An
   * outcome comes back to the runtime that sent the message, so the record stays with it.
   */
  owner?: string;
  /** Until when a claim keeps others off it (absent: not claimed). */
  leaseUntil?: number;
  firstFailureAt?: number;
  lastFailureAt?: number;
  lastError?: ErrorInfo & { gaveUp?: string; explanation?: string };
  /** The message as it first arrived, encoded by lib/store/message-codec. */
  message: string;
}

/** A record's version: a write that expects it applies only while the record is still in it. */
export interface RetryVersion {
  state: RetryState;
  attempt: number;
}

/** A record claimed by `claimDue`: `orphaned` when its owner has stopped (its outcome will never come). */
export type ClaimedRetry = RetryRecord & { orphaned: boolean };

export interface RetryClaim {
  owner: string;
  now: number;
  /** How long the claim keeps other owners off the record. */
  leaseMs: number;
  /** An owner whose heartbeat (Custody.heartbeat) is older than this has stopped. */
  deadAfterMs: number;
  limit: number;
}

export interface RetryQueue {
  /**
   * A new message, sent now by `owner` for the first time; `dueAt` is when an unacknowledged send
   * times out. A handoff of kind 'retry' takes the record's id as its ref and `retry-<id>` as its token.
   */
  add(
    queue: string,
    entry: { message: string; orderRef?: string; at: number; dueAt: number; owner: string },
    custody?: CustodyStep,
  ): Promise<number>;
  /**
   * Claims, oldest first, the records that are due and not under another owner's live claim, and
   * those of stopped owners (in flight or claimed) at once, whatever their due time. Claimed
   * records are the claimer's until the lease lapses or a write below releases the claim.
   */
  claimDue(queue: string, claim: RetryClaim): Promise<ClaimedRetry[]>;
  /** Gives a claim up without a change (a closing node). False when `owner` did not hold it. */
  releaseClaim(id: number, owner: string): Promise<boolean>;
  /**
   * The writes below apply only while the record is in the `expect`ed version (compare-and-set),
   * release any claim, and return false when the record moved on or is gone.
   */
  /** Sent again by `owner` (attempt number given), unacknowledged until `dueAt`. */
  markSent(
    id: number,
    expect: RetryVersion,
    sent: { attempt: number; dueAt: number; owner: string },
  ): Promise<boolean>;
  /** A failed attempt: wait until `dueAt`, then send again. */
  scheduleRetry(
    id: number,
    expect: RetryVersion,
    failure: { at: number; dueAt: number; error: ErrorInfo },
  ): Promise<boolean>;
  /** Given up by `owner`: kept as 'exhausted' until a dead-letter node takes it (or `dueAt` passes). */
  markExhausted(
    id: number,
    expect: RetryVersion,
    failure: {
      at: number;
      dueAt: number;
      owner: string;
      error: ErrorInfo & { gaveUp: string; explanation: string };
    },
  ): Promise<boolean>;
  /** Deletes the record (in the `expect`ed version, when given) and applies `custody` with it. */
  remove(id: number, expect?: RetryVersion, custody?: CustodyStep): Promise<boolean>;
  get(id: number): Promise<RetryRecord | undefined>;
  nextDueAt(queue: string): Promise<number | undefined>;
  counts(queue: string): Promise<{ inflight: number; waiting: number; exhausted: number }>;
}
