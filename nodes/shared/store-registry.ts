// Deployed oms-store config nodes, for the nodes that use one and for the admin API.
// A user leases the store while it works with it, so a redeploy closes the file only after
// the last user has finished (Node-RED closes config nodes alongside the others).
import type { Node } from 'node-red';
import { OmsError } from '../../lib/errors';
import type { OmsStore } from '../../lib/store';

export interface StoreNode extends Node {
  name?: string;
  /** Undefined when the file could not be opened (openError says why). */
  store?: OmsStore;
  openError?: Error & { code?: string };
  lease(): StoreLease | undefined;
  /** This runtime's name in the store's custody (claims and heartbeats), new at each start. */
  owner: string;
  /** How long a checkpoint waits for the next step before it is resumed. */
  leaseMs: number;
}

export interface StoreLease {
  store: OmsStore;
  release(): void;
}

const deployed = new Map<string, StoreNode>();

export function registerStoreNode(node: StoreNode): void {
  deployed.set(node.id, node);
}

export function unregisterStoreNode(node: StoreNode): void {
  if (deployed.get(node.id) === node) deployed.delete(node.id);
}

export function deployedStores(): StoreNode[] {
  return [...deployed.values()];
}

export function findStore(id: string | undefined): StoreNode | undefined {
  if (id) return deployed.get(id);
  // Without an id: the one store, when every open config node points at the same file.
  const open = deployedStores().filter((node) => node.store);
  return new Set(open.map((node) => node.store?.location)).size === 1 ? open[0] : undefined;
}

/** Counts leases; `idle()` resolves when none is held. */
export class LeaseCounter {
  private held = 0;
  private waiters: Array<() => void> = [];

  acquire(): () => void {
    this.held++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held--;
      if (this.held === 0) for (const wake of this.waiters.splice(0)) wake();
    };
  }

  idle(timeoutMs: number): Promise<void> {
    if (this.held === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** Store errors a node reports through done(err), so Catch and retry see a code. */
export class StoreUnavailableError extends OmsError {
  constructor(message: string) {
    super(message, 'OMS_STORE_UNAVAILABLE', { retryable: true });
  }
}
