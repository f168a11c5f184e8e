// Order states and their audit trail.
import type { CustodyStep } from './custody';

export interface AuditEntry {
  id: number;
  orderRef: string;
  at: number;
  /** 'transition' moved the order; 'refused' was an illegal move; others record operator actions. */
  kind:
    | 'transition'
    | 'refused'
    | 'dead-letter'
    | 'replay'
    | 'discard'
    | 'note'
    | 'hold'
    | 'decision'
    /** The state set back to the one the order's message carries on (see TransitionContext.carried). */
    | 'realign';
  from?: string;
  to?: string;
  event?: string;
  nodeId?: string;
  template?: string;
  correlationId?: string;
  detail?: unknown;
}

export type NewAuditEntry = Omit<AuditEntry, 'id'>;

export interface OrderRecord {
  orderRef: string;
  state: string;
  updatedAt: number;
  createdAt: number;
}

/** Decides a move from the current state; runs inside the store's transaction, so it must be pure. */
export type StateDecision =
  | { ok: true; to: string; event: string; idempotent?: boolean }
  | { ok: false; to?: string; event?: string; reason: string };

export interface TransitionContext {
  orderRef: string;
  at: number;
  nodeId?: string;
  template?: string;
  correlationId?: string;
  detail?: unknown;
  /**
   * The custody token and state of the message that asks for the move. When the store holds the
   * order under that token and its custody row knows another state (moves that stayed under the
   * token set it), the steps after that checkpoint are running again (a resumed copy): the move
   * is decided from the message's state and overwrites what the earlier run left, which no
   * durable step took on. The next handoff under the token realigns a state left behind.
   */
  carried?: { token: string; state?: string };
}

export interface TransitionOutcome {
  from?: string;
  decision: StateDecision;
  audit: AuditEntry;
}

export interface Orders {
  /** Reads the state, applies `decide`, writes the new state and the audit entry, atomically. */
  /** `custody` is worked out from the outcome and applied in the same transaction. */
  transition(
    context: TransitionContext,
    decide: (current?: string) => StateDecision,
    custody?: (outcome: TransitionOutcome) => CustodyStep | undefined,
  ): Promise<TransitionOutcome>;
  get(orderRef: string): Promise<OrderRecord | undefined>;
  trail(orderRef: string, limit?: number): Promise<AuditEntry[]>;
  appendAudit(entry: NewAuditEntry): Promise<AuditEntry>;
}
