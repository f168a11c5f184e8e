// The durable state of the pack, behind one narrow interface (docs/store.md).
// Every method is async although SQLite answers synchronously: a PostgreSQL implementation
// shared by several runtimes must fit the same contract. Times are epoch milliseconds.
// One port file per repository under ./ports; the contract suite (test/lib/store) runs against each
// implementation.
import type { NodeCounters } from './ports/counters';
import type { Custody } from './ports/custody';
import type { DeadLetters } from './ports/dead-letters';
import type { FraudHistory } from './ports/fraud-history';
import type { Holds } from './ports/holds';
import type { Ledger } from './ports/ledger';
import type { Orders } from './ports/orders';
import type { RetryQueue } from './ports/retries';

export * from './ports/common';
export * from './ports/counters';
export * from './ports/custody';
export * from './ports/dead-letters';
export * from './ports/fraud-history';
export * from './ports/holds';
export * from './ports/ledger';
export * from './ports/orders';
export * from './ports/retries';

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
  readonly counters: NodeCounters;
  close(): Promise<void>;
}
