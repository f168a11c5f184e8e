// How many orders each node sent each way, kept in the store: a node's status is right after a
// restart, on every runtime sharing the store, and a metrics endpoint reads the same numbers.

export interface NodeCounters {
  /** Adds to a node's counters (a counter not seen before starts at 0), atomically. */
  add(nodeId: string, deltas: Readonly<Record<string, number>>): Promise<void>;
  /** A node's counters (none: an empty object). */
  read(nodeId: string): Promise<Record<string, number>>;
}
