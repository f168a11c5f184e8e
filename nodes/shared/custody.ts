// Custody in the node kit (docs/reliability.md): an OMS node that sends an order on first hands
// it on in the store — a checkpoint with the message as it leaves, compare-and-set on the token
// the message arrived with — and only then sends it. A copy whose token the store no longer holds
// is stale (the order moved on) and is dropped on arrival. Checkpoints not taken by the next
// durable step in time are resumed by the store node's resumer through the node that wrote them.
import { randomBytes } from 'node:crypto';
import type { Node, NodeAPI, NodeMessage } from 'node-red';
import { envelopeOf, readEnvelope, setEnvelope } from '../../lib/order/envelope';
import { isOrderState, isTerminal } from '../../lib/order/lifecycle';
import { arrive, orderJson, passVouch, takeVouch, vouchFor } from '../../lib/order/vouch';
import {
  encodeMessage,
  type CustodyKind,
  type CustodyMarker,
  type CustodyStep,
  type Handoff,
  type OmsStore,
} from '../../lib/store';
import { findStore } from './store-registry';

/** Node types that take custody of what they receive (they hand it on through this kit). */
export const CUSTODY_TYPES: ReadonlySet<string> = new Set([
  'oms-lifecycle',
  'oms-retry',
  'oms-dead-letter',
  'oms-address-check',
  'oms-fraud-check',
  'oms-route',
  'oms-fluent-allocate',
]);

/** Set by custody nodes: the id of the oms-store config node they write to. */
export interface CustodyNode extends Node {
  omsStoreId?: string;
}

type Msg = Record<string, unknown>;

/** A Node-RED message as the OMS nodes read it: any property, msg.oms among them. */
export type OmsMessage = NodeMessage & Msg;

/** A Node-RED message read as an OMS message (typed, no cast). */
export function omsMessage(msg: NodeMessage): OmsMessage {
  return msg;
}

/**
 * Settles the order's import ledger entry in a write of its own: for a copy that went on
 * untracked (held elsewhere). A custody step settles it in its own transaction (Handoff.settle).
 */
export async function settleOrder(store: OmsStore, msg: Msg): Promise<void> {
  const key = envelopeOf(msg).ledgerKey;
  if (key) await store.ledger.settle([key]);
}

/**
 * True when an output is wired, and only to nodes of `types` that write to the store `storeId`:
 * then what leaves by it is safe once those nodes have stored it.
 */
export function wiredOnlyToStoring(
  RED: NodeAPI,
  targets: readonly string[] | undefined,
  types: ReadonlySet<string>,
  storeId: string | undefined,
): boolean {
  return (
    (targets ?? []).length > 0 &&
    (targets ?? []).every((id) => {
      const target = RED.nodes.getNode(id) as CustodyNode | null;
      return target !== null && types.has(target.type) && target.omsStoreId === storeId;
    })
  );
}

interface FlowConfig {
  id: string;
  type: string;
  wires?: string[][];
  links?: string[];
  mode?: string;
}

let graph: Map<string, FlowConfig> | undefined;
const reach = new Map<string, boolean>();
let listening = false;

function flowGraph(RED: NodeAPI): Map<string, FlowConfig> {
  if (!listening) {
    listening = true;
    // A deploy may rewire anything: work the answers out again.
    RED.events.on('flows:started', () => {
      graph = undefined;
      reach.clear();
      direct.clear();
    });
  }
  if (!graph) {
    const nodes = new Map<string, FlowConfig>();
    RED.nodes.eachNode((config: object) => {
      const n = config as FlowConfig;
      nodes.set(n.id, n);
    });
    graph = nodes;
  }
  return graph;
}

/**
 * Whether a message leaving `nodeId` by `port` can reach a node that takes custody, through any
 * nodes that do not (change, switch, function, link out/in). If not, the order is at rest there.
 */
export function leadsToCustody(RED: NodeAPI, nodeId: string, port: number): boolean {
  const key = `${nodeId}:${port}`;
  const known = reach.get(key);
  if (known !== undefined) return known;
  const nodes = flowGraph(RED);
  const seen = new Set<string>();
  const queue = [...(nodes.get(nodeId)?.wires?.[port] ?? [])];
  let found = false;
  while (queue.length > 0 && !found) {
    const id = queue.shift() as string;
    if (seen.has(id)) continue;
    seen.add(id);
    const n = nodes.get(id);
    if (!n) continue;
    if (CUSTODY_TYPES.has(n.type)) found = true;
    else {
      for (const out of n.wires ?? []) queue.push(...out);
      if (n.type === 'link out' && n.mode !== 'return') queue.push(...(n.links ?? []));
    }
  }
  reach.set(key, found);
  return found;
}

/** Unique per runtime start (random) and per handoff (a counter): cheap, and never reused. */
const tokenPrefix = randomBytes(6).toString('base64url');
let tokenCount = 0;

const direct = new Map<string, boolean>();

/** Whether every node wired to `port` of `nodeId` takes custody itself (and there is one). */
export function wiredStraightTo(RED: NodeAPI, nodeId: string, port: number): boolean {
  const key = `${nodeId}:${port}`;
  const known = direct.get(key);
  if (known !== undefined) return known;
  const nodes = flowGraph(RED);
  const targets = nodes.get(nodeId)?.wires?.[port] ?? [];
  const answer = targets.length > 0 && targets.every((id) => CUSTODY_TYPES.has(nodes.get(id)?.type ?? ''));
  direct.set(key, answer);
  return answer;
}

export function newToken(): string {
  tokenCount++;
  return `${tokenPrefix}.${tokenCount.toString(36)}`;
}

export function markerOf(msg: Msg): CustodyMarker | undefined {
  return envelopeOf(msg).custody;
}

export function orderRefOf(msg: Msg): string | undefined {
  return envelopeOf(msg).orderRef || undefined;
}

/** Sets msg.oms.custody; returns the token the message carried before. */
function stamp(msg: Msg, holder: string, token: string): string | undefined {
  const oms = envelopeOf(msg);
  setEnvelope(msg, oms, { custody: { token, holder } satisfies CustodyMarker });
  return oms.custody?.token;
}

export interface CustodyOptions {
  /**
   * A step that is idempotent to run again and keeps no state of its own (address, fraud, route,
   * allocate): when its output goes straight into custody nodes, the order stays under the
   * checkpoint it arrived with until the next node takes it by that token; a crash in between
   * runs this step again. Saves writing the message once more per hop.
   */
  rerunnable?: boolean;
  /** A store write forced on the order whatever holds it (an analyst's decision, a replay). */
  force?: boolean;
  kind?: CustodyKind;
  ref?: number;
}

/** One node's side of custody: stale copies, and the step that hands an order on. */
export class CustodyHand {
  constructor(
    private readonly RED: NodeAPI,
    private readonly node: Node,
    private readonly context: () => { store: OmsStore; owner: string; leaseMs: number } | undefined,
  ) {}

  /**
   * True when the store holds the order under another token than this copy carries: drop it.
   * A copy that came `straight` from the OMS node that sent it (`arrive`) is not looked up: that
   * node's handoff, or its own arrival, found the token current a moment ago, and each write
   * further on compares and sets it, so a copy overtaken in that moment at worst runs an
   * idempotent step once more before its write is refused.
   */
  async isStale(msg: Msg, straight = false): Promise<boolean> {
    if (straight) return false;
    const marker = markerOf(msg);
    const orderRef = orderRefOf(msg);
    const ctx = this.context();
    if (!marker || !orderRef || !ctx) return false;
    return (await ctx.store.custody.tokenOf(orderRef)) !== marker.token;
  }

  /**
   * The custody step for `msg` leaving by `port` (stamped with a new token): a checkpoint when
   * the output leads to another custody node, else at rest ('end'), or released when the order
   * reached a final state at the end of the flow. Undefined without an order ref or a store.
   */
  step(msg: Msg, port: number, options: CustodyOptions = {}): CustodyStep | undefined {
    const orderRef = orderRefOf(msg);
    const ctx = this.context();
    if (!orderRef || !ctx) return undefined;
    const resumable = leadsToCustody(this.RED, this.node.id, port);
    const { state: known, ledgerKey: settle } = envelopeOf(msg);
    const token = newToken();
    const expect = stamp(msg, this.node.id, token);
    if (!resumable && !options.kind && known && isOrderState(known) && isTerminal(known)) {
      return {
        release: { orderRef, expect: options.force ? undefined : expect, holder: this.node.id, settle },
      };
    }
    const now = Date.now();
    const handoff: Handoff = {
      orderRef,
      holder: this.node.id,
      kind: options.kind ?? (resumable ? 'checkpoint' : 'end'),
      port,
      // At rest ('end') or held by a record of its own, the message is not needed to resume it.
      message:
        resumable && !options.kind ? encodeMessage(msg, orderJson(msg.payload, this.node.id)) : undefined,
      ref: options.ref,
      token,
      expect,
      force: options.force,
      state: known,
      owner: ctx.owner,
      at: now,
      leaseUntil: now + ctx.leaseMs,
      // The order is safely taken once this commits: its import ledger entry settles with it.
      settle,
    };
    return { handoff };
  }

  /**
   * The order stays with this node under the same `token`, now as a checkpoint of `message` (an
   * encoded message, stored as it is: the resumer stamps the row's token on it) on `port` — an
   * oms-retry whose step completed without an OMS node taking the order yet.
   */
  keep(message: string, orderRef: string, port: number, token: string): CustodyStep | undefined {
    const ctx = this.context();
    if (!ctx) return undefined;
    const now = Date.now();
    return {
      handoff: {
        orderRef,
        holder: this.node.id,
        kind: 'checkpoint',
        port,
        message,
        token,
        expect: token,
        owner: ctx.owner,
        at: now,
        leaseUntil: now + ctx.leaseMs,
      },
    };
  }

  /**
   * Whether a step that is idempotent to run again leaves the order under the checkpoint `msg`
   * arrived with when it sends it by `port`: it arrived under custody and every node on that
   * output takes custody itself, by that token (CustodyOptions.rerunnable). A lifecycle move
   * stays too: run again from that checkpoint, it is decided from the state the message carries,
   * not from the one the earlier run left (TransitionContext.carried).
   */
  stays(msg: Msg, port: number): boolean {
    return markerOf(msg) !== undefined && wiredStraightTo(this.RED, this.node.id, port);
  }

  /**
   * The step of a write that leaves the order under the checkpoint `msg` came with (see `stays`),
   * noting the state the message leaves in.
   */
  stayStep(msg: Msg): CustodyStep | undefined {
    const marker = markerOf(msg);
    const { orderRef, state } = envelopeOf(msg);
    return marker && orderRef ? { stay: { orderRef, expect: marker.token, state } } : undefined;
  }

  /**
   * Vouches for the checked order in `msg` to the node on `port` when it is one OMS node
   * (lib/order/vouch). Not to several: Node-RED gives all but one a copy, and the vouch for the
   * others would stay on the object that goes on.
   */
  vouch(msg: Msg, port: number): void {
    vouchFor(msg.payload, this.node.id, this.soleTarget(port));
  }

  /**
   * `msg` comes in: what lib/order/vouch keeps of its order holds only if it came straight from an
   * OMS node. True when it did: the very message that node checked and sent, its envelope too.
   */
  arrive(msg: Msg): boolean {
    return arrive(msg.payload, this.node.id);
  }

  /** A node that forwards the order unread passes on what was vouched for to it. */
  passVouch(msg: Msg, port: number): void {
    passVouch(msg.payload, this.node.id, this.soleTarget(port));
  }

  /**
   * The one OMS node wired to `port`, read from this node's own wires: those Node-RED sends on
   * (during a deploy, the new flow graph may already wire this port elsewhere).
   */
  private soleTarget(port: number): string | undefined {
    const wires = (this.node as Node & { wires?: string[][] }).wires?.[port];
    if (wires?.length !== 1) return undefined;
    const type = this.RED.nodes.getNode(wires[0])?.type;
    return type !== undefined && CUSTODY_TYPES.has(type) ? wires[0] : undefined;
  }

  /** Whether what leaves by `port` can reach another custody node. */
  leads(port: number): boolean {
    return leadsToCustody(this.RED, this.node.id, port);
  }

  /**
   * Hands `msg` on by `port` in a write of its own. False for a stale copy (not to be sent);
   * a copy that enters while another holds the order goes on without custody.
   */
  async pass(msg: Msg, port: number, options: CustodyOptions = {}): Promise<boolean> {
    const ctx = this.context();
    const before = markerOf(msg);
    if (options.rerunnable && this.stays(msg, port)) return true;
    const step = this.step(msg, port, options);
    if (!step || !ctx) return true;
    if ('release' in step) {
      const { orderRef, expect, holder } = step.release;
      return (await ctx.store.custody.release(orderRef, expect, holder)) || expect === undefined;
    }
    if (!('handoff' in step)) return true;
    const result = await ctx.store.custody.handOff(step.handoff);
    if (result.ok) return true;
    if (result.reason === 'another') {
      // Not this copy's to hold (an order already in custody, imported again): it goes on untracked.
      setEnvelope(msg, envelopeOf(msg), { custody: before });
      return true;
    }
    return false;
  }

  /** Hands the one message of `outputs` on and sends it; a stale copy is dropped. */
  async send(
    send: (msgs: Array<NodeMessage | null>) => void,
    outputs: Array<NodeMessage | null>,
    options: CustodyOptions = {},
  ): Promise<boolean> {
    const port = outputs.findIndex((m) => m !== null);
    const msg = outputs[port];
    if (!msg) return false;
    if (!(await this.pass(msg, port, options))) return false;
    this.vouch(msg, port);
    send(outputs);
    return true;
  }
}

/** What a node that writes checkpoints does when the resumer hands one back. */
export type Resume = (port: number, msg: Msg) => void;

const holders = new Map<string, Resume>();

export function registerHolder(node: Node, resume?: Resume): void {
  const send: Resume =
    resume ??
    ((port, msg) => {
      const outputs: Array<NodeMessage | null> = [];
      for (let i = 0; i < port; i++) outputs.push(null);
      outputs.push(msg);
      node.send(outputs);
    });
  holders.set(node.id, send);
  node.on('close', () => {
    if (holders.get(node.id) === send) holders.delete(node.id);
  });
}

export function holderOf(id: string): Resume | undefined {
  return holders.get(id);
}

/** The custody hand of a node writing to the oms-store `storeId` (or the one deployed store). */
export function custodyFor(RED: NodeAPI, node: Node, storeId: string | undefined): CustodyHand {
  return new CustodyHand(RED, node, () => {
    const storeNode = findStore(storeId || undefined);
    return storeNode?.store
      ? { store: storeNode.store, owner: storeNode.owner, leaseMs: storeNode.leaseMs }
      : undefined;
  });
}

type Send = (msgs: NodeMessage | Array<NodeMessage | null>) => void;
type Done = (err?: Error) => void;

/**
 * The input handler of a node that takes orders: a stale copy is dropped before `handler` sees
 * it; what `handler` sends is handed on in the store first, and its `done` waits for that, so a
 * Complete node (and the oms-retry behind it) only hears of the step once the next holder has it.
 */
export function onOrders(
  node: Node,
  custody: CustodyHand,
  handler: (msg: OmsMessage, send: Send, done: Done) => void,
  options: CustodyOptions = { rerunnable: true },
): void {
  node.on('input', (msg, send, done) => {
    const record = omsMessage(msg);
    const straight = custody.arrive(record);
    try {
      // Checked once as it comes in (a bad one goes to Catch, named); straight from an OMS node, it was.
      if (straight) envelopeOf(record);
      else readEnvelope(record);
    } catch (err) {
      done(err as Error);
      return;
    }
    custody.isStale(record, straight).then(
      (stale) => {
        if (stale) {
          takeVouch(record.payload, node.id); // not read: not left on the object either
          return done();
        }
        let sending: Promise<unknown> = Promise.resolve();
        const handOn: Send = (outputs) => {
          const list = Array.isArray(outputs) ? outputs : [outputs];
          sending = sending.then(() => custody.send(send, list, options));
        };
        handler(record, handOn, (err) => {
          sending.then(
            () => done(err),
            (failed: Error) => done(err ?? failed),
          );
        });
      },
      (err: Error) => done(err),
    );
  });
}
