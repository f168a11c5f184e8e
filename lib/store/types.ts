import type { Custody, CustodyStep } from './ports/custody';

export * from './ports/custody';

// The durable state of the pack, behind one narrow interface (docs/store.md).
// Every method is async although SQLite answers synchronously: a PostgreSQL implementation
// shared by several runtimes must fit the same contract. Times are epoch milliseconds.

/** Source system + site + order number: what makes two exports "the same order". */
export interface OrderKey {
  source: string;
  site: string;
  orderNo: string;
}

export interface LedgerReceipt {
  key: OrderKey;
  /** Content hash of the canonical order (lib/store/hash.ts). */
  hash: string;
  batchId: string;
}

/**
 * What the ledger says about an order just received:
 * - new: never seen;
 * - duplicate: seen with the same content and settled (safely taken), or being read right now
 *   by another batch of this process — do not process again;
 * - update: seen before with different content — process, flagged as an update;
 * - redelivery: seen with the same content but never settled (a crash or a redeploy came
 *   between reading it and a durable step taking it) — process again; later steps are idempotent.
 */
export type LedgerVerdict =
  | { status: 'new' }
  | { status: 'duplicate'; firstSeenAt: number; lastSeenAt: number; seenCount: number; batchId: string }
  | { status: 'update'; previousHash: string; firstSeenAt: number; seenCount: number }
  | { status: 'redelivery'; firstSeenAt: number; previousBatchId: string };

export interface OnceResult<T> {
  value: T;
  /** True when the effect had already completed and its stored result was returned. */
  replayed: boolean;
}

export interface Ledger {
  /** Records several orders of one batch atomically and returns a verdict for each, in order. */
  receive(receipts: readonly LedgerReceipt[], at: number): Promise<LedgerVerdict[]>;
  /**
   * The batch reached its end. With `settle` its orders count as safely taken from now on;
   * without, each waits for `settle` from the durable step that takes it.
   */
  completeBatch(batchId: string, at: number, settle: boolean): Promise<void>;
  /** The batch was cut short (a redeploy stopped the import): its untaken orders come again. */
  abandonBatch(batchId: string): Promise<void>;
  /** Orders (keys as formatOrderKey writes them) that a durable step has taken. */
  settle(orderKeys: readonly string[]): Promise<void>;
  /**
   * Runs `effect` once per key: a completed effect is not run again, its JSON result is returned.
   * An effect interrupted by a crash runs again, so it should pass the key on as an idempotency key.
   */
  once<T>(key: string, effect: (key: string) => Promise<T>): Promise<OnceResult<T>>;
}

export interface AuditEntry {
  id: number;
  orderRef: string;
  at: number;
  /** 'transition' moved the order; 'refused' was an illegal move; others record operator actions. */
  kind: 'transition' | 'refused' | 'dead-letter' | 'replay' | 'discard' | 'note' | 'hold' | 'decision';
  from?: string;
  to?: string;
  event?: string;
  nodeId?: string;
  template?: string;
  correlationId?: string;
  detail?: unknown;
}

export type NewAuditEntry = Omit<AuditEntry, 'id'>;

export interface OrderRecord {
  orderRef: string;
  state: string;
  updatedAt: number;
  createdAt: number;
}

/** Decides a move from the current state; runs inside the store's transaction, so it must be pure. */
export type StateDecision =
  | { ok: true; to: string; event: string; idempotent?: boolean }
  | { ok: false; to?: string; event?: string; reason: string };

export interface TransitionContext {
  orderRef: string;
  at: number;
  nodeId?: string;
  template?: string;
  correlationId?: string;
  detail?: unknown;
}

export interface TransitionOutcome {
  from?: string;
  decision: StateDecision;
  audit: AuditEntry;
}

export interface Orders {
  /** Reads the state, applies `decide`, writes the new state and the audit entry, atomically. */
  /** `custody` is worked out from the outcome and applied in the same transaction. */
  transition(
    context: TransitionContext,
    decide: (current?: string) => StateDecision,
    custody?: (outcome: TransitionOutcome) => CustodyStep | undefined,
  ): Promise<TransitionOutcome>;
  get(orderRef: string): Promise<OrderRecord | undefined>;
  trail(orderRef: string, limit?: number): Promise<AuditEntry[]>;
  appendAudit(entry: NewAuditEntry): Promise<AuditEntry>;
}

/** What is kept of an error: enough to classify it and to explain it to an analyst. */
export interface ErrorInfo {
  message: string;
  code?: string;
  status?: number;
  source?: { id?: string; type?: string; name?: string };
}

export interface RetryRecord {
  id: number;
  /** The oms-retry node that owns it. */
  queue: string;
  orderRef?: string;
  /**
   * 'inflight': sent, waiting for its acknowledgement until dueAt; 'waiting': resend at dueAt;
   * 'exhausted': given up and sent to the exhausted output, kept until a dead-letter node parks
   * it (sent there again at dueAt, or after a restart).
   */
  state: 'inflight' | 'waiting' | 'exhausted';
  attempt: number;
  dueAt: number;
  createdAt: number;
  firstFailureAt?: number;
  lastFailureAt?: number;
  lastError?: ErrorInfo & { gaveUp?: string; explanation?: string };
  /** The message as it first arrived, encoded by lib/store/message-codec. */
  message: string;
}

export interface RetryQueue {
  /**
   * A new message, sent now for the first time; `dueAt` is when an unacknowledged send times out.
   * A handoff of kind 'retry' takes the record's id as its ref and `retry-<id>` as its token.
   */
  add(
    queue: string,
    entry: { message: string; orderRef?: string; at: number; dueAt: number },
    custody?: CustodyStep,
  ): Promise<number>;
  /** The message was sent again (attempt number given), unacknowledged until `dueAt`. */
  markSent(id: number, attempt: number, dueAt: number): Promise<void>;
  /** A failed attempt: wait until `dueAt`, then send again. */
  scheduleRetry(id: number, failure: { at: number; dueAt: number; error: ErrorInfo }): Promise<void>;
  /** Given up: kept as 'exhausted' until a dead-letter node takes it (or `dueAt` passes). */
  markExhausted(
    id: number,
    failure: { at: number; dueAt: number; error: ErrorInfo & { gaveUp: string; explanation: string } },
  ): Promise<void>;
  remove(id: number, custody?: CustodyStep): Promise<boolean>;
  get(id: number): Promise<RetryRecord | undefined>;
  /** Records whose dueAt has passed, oldest first. */
  due(queue: string, now: number, limit: number): Promise<RetryRecord[]>;
  nextDueAt(queue: string): Promise<number | undefined>;
  /** After a restart nothing is in flight any more: make those records (and exhausted ones) due now. */
  releaseInflight(queue: string, now: number): Promise<number>;
  counts(queue: string): Promise<{ inflight: number; waiting: number; exhausted: number }>;
}

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

export interface Page<T> {
  items: T[];
  total: number;
  offset: number;
  limit: number;
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

/** One order's part in a fraud velocity counter: whose (a hashed key), when and how much. */
export interface VelocityEvent {
  key: string;
  orderRef: string;
  at: number;
  amount: number;
  currency: string;
}

/** The history the fraud rules count in: velocity windows and returning customers. */
export interface FraudHistory {
  /** Adds events; an order's event for a key is kept once (the first time counts). */
  record(events: readonly VelocityEvent[]): Promise<void>;
  /** Orders other than `exceptOrderRef` with this key since `since`, and their total in `currency`. */
  count(
    key: string,
    since: number,
    currency: string,
    exceptOrderRef: string,
  ): Promise<{ orders: number; amount: number }>;
  /** Whether an order other than `exceptOrderRef` ever had this key. */
  seen(key: string, exceptOrderRef: string): Promise<boolean>;
  /** Deletes events older than `before`; returns how many. */
  purge(before: number): Promise<number>;
}

export type HoldStatus = 'held' | 'accepted' | 'rejected';

/** An order held for a fraud review, until a provider's webhook or an analyst decides. */
export interface Hold {
  id: number;
  /** The oms-fraud-check node that holds it (and sends it on when decided). */
  nodeId: string;
  orderRef: string;
  status: HoldStatus;
  score: number;
  /** The rules that fired and the provider's reasons (as the node shows them). */
  reasons: unknown;
  provider?: string;
  providerRef?: string;
  template?: string;
  correlationId?: string;
  createdAt: number;
  decidedAt?: number;
  decidedBy?: string;
  reason?: string;
  /** The held message (encodeMessage); only in get(), not in list(). */
  message?: string;
}

export type NewHold = Omit<Hold, 'id' | 'status' | 'decidedAt' | 'decidedBy' | 'reason' | 'message'> & {
  message: string;
};

export interface HoldFilter {
  nodeId?: string;
  orderRef?: string;
  status?: HoldStatus | 'all';
  /** Case-insensitive match in the order ref or the reasons. */
  text?: string;
}

export interface Holds {
  /** Holds an order; one the same node holds already is updated, not held twice. Audited. */
  add(entry: NewHold): Promise<Hold>;
  get(id: number): Promise<Hold | undefined>;
  /** The held (undecided) hold with this provider reference, if any. */
  heldByProviderRef(providerRef: string): Promise<Hold | undefined>;
  list(filter: HoldFilter, page: { offset: number; limit: number }): Promise<Page<Hold>>;
  /**
   * Held → accepted or rejected, audited with who and why; undefined when it was not held (a
   * second decision, from a webhook and an analyst at once, finds it decided).
   */
  decide(
    id: number,
    decision: 'accepted' | 'rejected',
    at: number,
    by: string,
    reason?: string,
    custody?: (hold: Hold) => CustodyStep | undefined,
  ): Promise<Hold | undefined>;
}

export interface OmsStore {
  readonly location: string;
  /** What holds the data, for logs: 'better-sqlite3', 'node:sqlite', later e.g. 'postgresql'. */
  readonly driver: string;
  readonly ledger: Ledger;
  readonly orders: Orders;
  readonly retries: RetryQueue;
  readonly deadLetters: DeadLetters;
  readonly fraud: FraudHistory;
  readonly holds: Holds;
  readonly custody: Custody;
  close(): Promise<void>;
}
