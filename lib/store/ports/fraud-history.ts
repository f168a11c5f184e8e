// The history the fraud rules count in.

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
