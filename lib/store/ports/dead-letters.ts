// Parked orders (oms-dead-letter), replayed or discarded by an operator.
import type { ErrorInfo, Page } from './common';
import type { CustodyStep } from './custody';

export type DeadLetterStatus = 'parked' | 'replayed' | 'discarded';

export interface DeadLetter {
  id: number;
  /** The oms-dead-letter node that stored it and that emits it on replay. */
  nodeId: string;
  orderRef?: string;
  correlationId?: string;
  error: ErrorInfo;
  attempts: number;
  firstFailureAt: number;
  lastFailureAt: number;
  template?: string;
  createdAt: number;
  status: DeadLetterStatus;
  resolvedAt?: number;
  resolvedBy?: string;
  reason?: string;
  replays: number;
  /** Times the same order was parked again by the same node while this letter was parked. */
  repeats: number;
  /** Encoded message (lib/store/message-codec); left out of list results. */
  message?: string;
}

export type NewDeadLetter = Omit<
  DeadLetter,
  'id' | 'status' | 'resolvedAt' | 'resolvedBy' | 'reason' | 'replays' | 'repeats' | 'message'
> & { message: string };

export interface DeadLetterFilter {
  nodeId?: string;
  errorCode?: string;
  orderRef?: string;
  /** createdAt >= since */
  since?: number;
  /** createdAt < until */
  until?: number;
  status?: DeadLetterStatus | 'all';
  /** Case-insensitive match in the order ref, error code or error message. */
  text?: string;
}

export interface DeadLetters {
  /**
   * Parks a letter. An order already parked by the same node gets no second letter: the parked
   * one takes the newer error, message and times, and counts a repeat.
   */
  /** A handoff of kind 'dead-letter' takes the letter's id as its ref and `dead-letter-<id>` as its token. */
  add(entry: NewDeadLetter, custody?: CustodyStep): Promise<DeadLetter>;
  get(id: number): Promise<DeadLetter | undefined>;
  list(filter: DeadLetterFilter, page: { offset: number; limit: number }): Promise<Page<DeadLetter>>;
  /** Ids of parked letters matching the filter, oldest first (bulk replay). */
  ids(filter: DeadLetterFilter, limit: number): Promise<number[]>;
  /** Parked → replayed; false when it was not parked (already replayed or discarded). */
  markReplayed(id: number, at: number, by: string, custody?: CustodyStep): Promise<boolean>;
  /** Parked → discarded, with the reason in the letter and the order's audit trail. */
  discard(id: number, at: number, by: string, reason: string): Promise<boolean>;
  /** Deletes replayed and discarded letters resolved before `before` (never parked ones); returns how many. */
  purge(before: number): Promise<number>;
}
