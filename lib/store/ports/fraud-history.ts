// The history the fraud rules count in.

/** One order's part in a fraud velocity counter: whose (a hashed key), when and how much. */
export interface VelocityEvent {
  key: string;
  orderRef: string;
  at: number;
  amount: number;
  currency: string;
}

/**
 * What a fraud check decided of an order under one custody token: run again from the checkpoint
 * that token names (a resumed copy), the check sends the order the same way.
 */
export interface Screening {
  nodeId: string;
  orderRef: string;
  token: string;
  decision: string;
  /** msg.oms.fraud as the decision left it. */
  fraud: unknown;
  at: number;
}

/** The history the fraud rules count in: velocity windows and returning customers. */
export interface FraudHistory {
  /**
   * Adds events (an order's event for a key is kept once: the first time counts) and, in the
   * same write, the `screening` of the order when given (a second one for its token is ignored).
   */
  record(events: readonly VelocityEvent[], screening?: Screening): Promise<void>;
  /** The screening of `orderRef` by `nodeId` under custody token `token`, if any. */
  screened(nodeId: string, orderRef: string, token: string): Promise<Screening | undefined>;
  /** Orders other than `exceptOrderRef` with this key since `since`, and their total in `currency`. */
  count(
    key: string,
    since: number,
    currency: string,
    exceptOrderRef: string,
  ): Promise<{ orders: number; amount: number }>;
  /** Whether an order other than `exceptOrderRef` ever had this key. */
  seen(key: string, exceptOrderRef: string): Promise<boolean>;
  /** Deletes events (and screenings) older than `before`; returns how many events. */
  purge(before: number): Promise<number>;
}
