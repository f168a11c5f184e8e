// What an edge mapper hands to validation: the order as far as it could be read, the totals the
// source declared (for reconciliation), and the findings made while reading it.
import type { DeclaredTotals, Order, OrderIssue } from './model';

/** The canonical order minus what validation computes (totals) and the importer adds (source). */
export type OrderDraft = Omit<Order, 'totals' | 'source' | 'createdAt' | 'currency'> & {
  createdAt?: string;
  currency?: string;
};

export interface MappedOrder {
  draft: OrderDraft;
  declared: DeclaredTotals;
  issues: OrderIssue[];
  /** The SFCC site the order was placed on, when the source says. */
  siteId?: string;
  /** Minor-unit digits used to read the money (for messages). */
  exponent: number;
}
