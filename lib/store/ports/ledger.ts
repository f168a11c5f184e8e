// The import ledger: which orders were received, whether a durable step has taken them, and
// effects run once per key.

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
