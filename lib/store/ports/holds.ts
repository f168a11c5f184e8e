// Orders held for a fraud review.
import type { Page } from './common';
import type { CustodyStep } from './custody';

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
