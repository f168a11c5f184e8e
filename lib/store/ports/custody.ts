// Custody (docs/reliability.md): which one place holds each order that is not in a final state.
// One row per order. Every durable step hands the order on by writing the row, compare-and-set on
// the token the message carries, so a stale copy of an order (a resumed duplicate, a late answer)
// can never take custody back from the step that holds it now. Resumable checkpoints whose lease
// lapsed, or whose owner (a runtime) stopped beating, are claimed by one resumer and sent again.

/**
 * - checkpoint: the message as it left a step, on an output that leads to another durable step;
 *   resumed (sent again from that step) when its lease lapses before the next step takes it;
 * - end: the message as it left the last durable step of the wired flow (at rest in its state);
 * - retry / dead-letter: an oms-retry record or a parked letter holds it (`ref` is its id).
 */
export type CustodyKind = 'checkpoint' | 'end' | 'retry' | 'dead-letter';

export const CUSTODY_KINDS: readonly CustodyKind[] = ['checkpoint', 'end', 'retry', 'dead-letter'];

/** What travels in msg.oms.custody: the token of the row the message was sent from. */
export interface CustodyMarker {
  token: string;
  holder: string;
}

export interface Handoff {
  orderRef: string;
  /** The node that holds the order from now on. */
  holder: string;
  kind: CustodyKind;
  /** The output the message left by (checkpoint, end). */
  port?: number;
  /** The encoded message (lib/store/message-codec), for checkpoint and end. */
  message?: string;
  /** The record that holds it (retry id, dead-letter id). */
  ref?: number;
  /** The new row's token (the message carries it from now on). */
  token: string;
  /**
   * The token of the message being handed on. Undefined: the order enters without one (a new
   * order, a re-import) — it takes the row only when there is none, when this holder wrote it, or
   * when the order is at rest ('end'); never from an order in flight.
   */
  expect?: string;
  /** A decision that takes the order whatever holds it now (an analyst, a replay). */
  force?: boolean;
  /** The lifecycle state, for the operator's view. */
  state?: string;
  /** Runtime that wrote it; its checkpoints are claimable as soon as it stops beating. */
  owner: string;
  at: number;
  /** A checkpoint is resumed after this (epoch ms). */
  leaseUntil: number;
  /**
   * The import ledger key of the order (msg.oms.ledgerKey): settled in the same transaction when
   * the handoff succeeds, since the order is then safely taken (docs/store.md, settling).
   */
  settle?: string;
}

/**
 * What a port write does to custody in the same transaction: hand the order on, release it, or
 * leave it where it is (`stay`: a step that goes on under the checkpoint its message came with,
 * which must still hold the order under that token; `state`, when given, is the order's state
 * the step leaves it in, kept on the custody row). A refused step throws CustodyConflict and
 * undoes the whole write.
 */
export type CustodyStep =
  | { handoff: Handoff }
  | { release: { orderRef: string; expect?: string; holder: string; settle?: string } }
  | { stay: { orderRef: string; expect: string; state?: string } };

export type HandoffResult =
  | { ok: true }
  /** stale: the order moved on since this copy left (or was released); another: held elsewhere. */
  | { ok: false; reason: 'stale' | 'another'; holder?: string; kind?: CustodyKind };

export interface CustodyRecord {
  orderRef: string;
  holder: string;
  kind: CustodyKind;
  port?: number;
  ref?: number;
  token: string;
  state?: string;
  owner: string;
  leaseUntil: number;
  /** Resumptions since the order last moved on. */
  resumes: number;
  updatedAt: number;
  /** Set when resumption kept failing: the operator sees it, nothing resumes it any more. */
  stalledAt?: number;
  stalledReason?: string;
  /** Only from get() and claimDue(). */
  message?: string;
}

export interface CustodyFilter {
  kind?: CustodyKind;
  stalled?: boolean;
  holder?: string;
  orderRef?: string;
}

export interface CustodyCounts {
  checkpoint: number;
  end: number;
  retry: number;
  'dead-letter': number;
  stalled: number;
}

/** Thrown by a port write that carried a handoff the store refused: nothing of the write is kept. */
export class CustodyConflict extends Error {
  readonly code = 'OMS_CUSTODY_CONFLICT';
  constructor(
    readonly orderRef: string,
    readonly result: Extract<HandoffResult, { ok: false }>,
  ) {
    super(
      `Order ${orderRef}: this copy is ${result.reason === 'stale' ? 'stale' : 'not the one in custody'}` +
        (result.holder ? ` (held by ${result.holder}${result.kind ? `, ${result.kind}` : ''})` : ''),
    );
    this.name = 'CustodyConflict';
  }
}

export interface Custody {
  /** Writes the row for `h.orderRef` when the compare-and-set allows it. */
  handOff(h: Handoff): Promise<HandoffResult>;
  /** Several handoffs in one commit, each decided on its own. */
  handOffMany(hs: readonly Handoff[]): Promise<HandoffResult[]>;
  /**
   * The order left the pack's care (final state at the end of the flow): the row goes, and a
   * retry record it held the order by, as a handoff would supersede it.
   */
  release(orderRef: string, expect: string | undefined, holder: string): Promise<boolean>;
  get(orderRef: string): Promise<CustodyRecord | undefined>;
  /** The token of the row, read without a write (a stale copy is dropped on arrival). */
  tokenOf(orderRef: string): Promise<string | undefined>;
  /**
   * Claims up to `limit` checkpoints to resume: not stalled, and their lease lapsed or their owner
   * stopped beating for `deadAfterMs`. Each claimed row gets `owner`, a new lease and one more
   * resumption; its token stays, so the resumed copy and a late original race fairly.
   */
  claimDue(
    owner: string,
    now: number,
    leaseMs: number,
    deadAfterMs: number,
    limit: number,
  ): Promise<CustodyRecord[]>;
  markStalled(orderRef: string, token: string, at: number, reason: string): Promise<boolean>;
  /** An operator's retry of a stalled order: resumed at the next scan, counting from zero. */
  unstall(orderRef: string, at: number): Promise<boolean>;
  list(
    filter: CustodyFilter,
    page: { offset: number; limit: number },
  ): Promise<{ items: CustodyRecord[]; total: number }>;
  counts(): Promise<CustodyCounts>;
  /** A runtime is alive (its checkpoints are not claimable before their lease). */
  heartbeat(owner: string, at: number): Promise<void>;
  /** A runtime stops: its checkpoints are claimable at once. */
  leave(owner: string): Promise<void>;
}
