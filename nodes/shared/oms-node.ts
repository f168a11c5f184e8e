// The one way to define an OMS node (docs/reliability.md, README "Developing"): it finds the
// store, leases it for each piece of work, hands orders on through custody before they are sent,
// calls done() once the next holder has them, keeps the node's counters in the store (so the
// status is right after a restart, and a metrics endpoint reads the same numbers) and shows a
// throttled status from them. An adapter only says what the node does with a message.
import type { NodeAPI, NodeDef, NodeStatus } from 'node-red';
import type { OmsStore } from '../../lib/store';
import {
  custodyFor,
  onOrders,
  registerHolder,
  type CustodyHand,
  type CustodyNode,
  type CustodyOptions,
  type OmsMessage,
  type Resume,
} from './custody';
import { throttleStatus, type StatusThrottle } from './status';
import { findStore, StoreUnavailableError, type StoreNode } from './store-registry';

export interface OmsNodeConfig extends NodeDef {
  /** The oms-store it writes to (empty: the one deployed store). */
  store?: string;
  wires?: string[][];
}

type Send = Parameters<Parameters<typeof onOrders>[2]>[1];
type Done = Parameters<Parameters<typeof onOrders>[2]>[2];
export type Counts = Record<string, number>;

export interface OmsNodeContext<C extends OmsNodeConfig> {
  readonly RED: NodeAPI;
  readonly node: CustodyNode;
  readonly config: C;
  /** The node's message catalog entry `<type>.<key>`. */
  t(key: string, params?: Record<string, string | number>): string;
  readonly custody: CustodyHand;
  /** The oms-store node it writes to, when one is deployed. */
  storeNode(): StoreNode | undefined;
  /** Runs `work` under a lease of the store (a redeploy closes it only after); StoreUnavailableError without one. */
  withStore<T>(work: (store: OmsStore) => Promise<T>): Promise<T>;
  /** Counts an outcome: added to the store's counters within a second, and shown. */
  count(outcome: string, by?: number): void;
  /** The store's counts (read at start) plus this run's. */
  readonly counts: Counts;
  /** How the counts read as a status (default: the catalog's `status.counts`, green; yellow on a warning count). */
  statusFrom(make: (counts: Counts) => NodeStatus | undefined | Promise<NodeStatus | undefined>): void;
  /** Shows the status from the counts (throttled). */
  refresh(): void;
  /** An error status (red ring with its code), at once. */
  failed(err: Error): void;
  readonly status: StatusThrottle;
  /** Work done on close, awaited before the counters are flushed and the status stops. */
  onClose(work: (removed: boolean) => Promise<void> | void): void;
  /** Takes orders: stale copies dropped, what it sends handed on in the store before, done() after. */
  onOrders(handler: (msg: OmsMessage, send: Send, done: Done) => void, options?: CustodyOptions): void;
}

export interface OmsNodeDefinition<C extends OmsNodeConfig> {
  type: string;
  /** The outcomes it counts, shown as 0 until they happen. */
  counters?: readonly string[];
  /** Counters that make the default status yellow when above zero (refused, invalid …). */
  warnOn?: readonly string[];
  /** How a checkpoint of this node is resumed; default: sent again by its output. false: not a holder. */
  resume?: false | ((ctx: OmsNodeContext<C>) => Resume);
  setup(ctx: OmsNodeContext<C>): void;
}

const FLUSH_MS = 1000;

export function defineOmsNode<C extends OmsNodeConfig>(RED: NodeAPI, def: OmsNodeDefinition<C>): void {
  function OmsNode(this: CustodyNode, config: C): void {
    RED.nodes.createNode(this, config);
    this.omsStoreId = config.store;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- closures below outlive `this`
    const node = this;
    const t = (key: string, params?: Record<string, string | number>): string =>
      RED._(`${def.type}.${key}`, params);
    const storeNode = (): StoreNode | undefined => findStore(config.store || undefined);
    const status = throttleStatus(node);
    const closers: Array<(removed: boolean) => Promise<void> | void> = [];
    const counts: Counts = Object.fromEntries((def.counters ?? []).map((name) => [name, 0]));
    let pending: Counts = {};
    let closing = false;

    // Held for the node's life, so that the counts of its last second reach the store on close.
    const held = storeNode()?.lease();
    const flush = async (): Promise<void> => {
      if (!held || Object.keys(pending).length === 0) return;
      const deltas = pending;
      pending = {};
      try {
        await held.store.counters.add(node.id, deltas);
      } catch {
        for (const [k, v] of Object.entries(deltas)) pending[k] = (pending[k] ?? 0) + v; // next time
      }
    };
    const flusher = setInterval(() => void flush(), FLUSH_MS);
    flusher.unref();

    type MakeStatus = (now: Counts) => NodeStatus | undefined | Promise<NodeStatus | undefined>;
    let statusOf: MakeStatus = (now) => {
      const warn = (def.warnOn ?? []).some((name) => (now[name] ?? 0) > 0);
      return { fill: warn ? 'yellow' : 'green', shape: 'dot', text: t('status.counts', now) };
    };

    const ctx: OmsNodeContext<C> = {
      RED,
      node,
      config,
      t,
      custody: custodyFor(RED, node, config.store),
      storeNode,
      async withStore(work) {
        const lease = storeNode()?.lease();
        if (!lease) throw new StoreUnavailableError(t('status.noStore'));
        try {
          return await work(lease.store);
        } finally {
          lease.release();
        }
      },
      count(outcome, by = 1) {
        counts[outcome] = (counts[outcome] ?? 0) + by;
        pending[outcome] = (pending[outcome] ?? 0) + by;
        ctx.refresh();
      },
      counts,
      statusFrom(make) {
        statusOf = make;
      },
      refresh() {
        if (!closing) status.show(() => statusOf(counts));
      },
      failed(err) {
        const code = (err as Error & { code?: unknown }).code;
        status.now({ fill: 'red', shape: 'ring', text: typeof code === 'string' ? code : 'error' });
      },
      status,
      onClose(work) {
        closers.push(work);
      },
      onOrders(handler, options) {
        onOrders(node, ctx.custody, handler, options);
      },
    };

    // The counts start from what the store knows (another runtime's or the last run's included).
    if (held) {
      held.store.counters.read(node.id).then(
        (stored) => {
          for (const [k, v] of Object.entries(stored)) counts[k] = (counts[k] ?? 0) + v;
          if (Object.keys(stored).length > 0) ctx.refresh();
        },
        () => undefined, // shown from this run's counts only
      );
    }
    if (def.resume !== false) registerHolder(node, def.resume ? def.resume(ctx) : undefined);
    def.setup(ctx);

    node.on('close', (removed: boolean, done: () => void) => {
      closing = true;
      clearInterval(flusher);
      Promise.allSettled(closers.map(async (work) => work(removed)))
        .then(() => flush())
        .catch(() => undefined)
        .finally(() => {
          held?.release();
          status.stop();
          done();
        });
    });
  }
  RED.nodes.registerType(def.type, OmsNode);
}
