// The order lifecycle state machine (docs/lifecycle.md). TRANSITIONS is the single source of truth:
// allowed events and targets per state, terminal states and the diagram are all derived from it.

export const ORDER_STATES = [
  'Created',
  'Validated',
  'OnHold',
  'Rejected',
  'PaymentAuthorized',
  'Allocated',
  'Backordered',
  'ReleasedToWms',
  'PartiallyShipped',
  'Shipped',
  'Complete',
  'Cancelled',
  'Returned',
  'Refunded',
] as const;

export type OrderState = (typeof ORDER_STATES)[number];

export const ORDER_EVENTS = [
  'create',
  'validate',
  'hold',
  'release',
  'reject',
  'authorizePayment',
  'allocate',
  'backorder',
  'releaseToWms',
  'shipPartially',
  'ship',
  'complete',
  'cancel',
  'return',
  'refund',
] as const;

export type OrderEvent = (typeof ORDER_EVENTS)[number];

export interface Transition {
  event: OrderEvent;
  /** States the event may be applied in; empty means a new order that has no state yet. */
  from: readonly OrderState[];
  to: OrderState;
}

/** Every legal move. Each event appears once and leads to exactly one state. */
export const TRANSITIONS: ReadonlyArray<Transition> = Object.freeze([
  { event: 'create', from: [], to: 'Created' },
  { event: 'validate', from: ['Created'], to: 'Validated' },
  { event: 'hold', from: ['Validated'], to: 'OnHold' },
  { event: 'release', from: ['OnHold'], to: 'Validated' },
  { event: 'reject', from: ['Created', 'Validated', 'OnHold'], to: 'Rejected' },
  { event: 'authorizePayment', from: ['Validated'], to: 'PaymentAuthorized' },
  { event: 'allocate', from: ['PaymentAuthorized', 'Backordered'], to: 'Allocated' },
  { event: 'backorder', from: ['PaymentAuthorized', 'Allocated'], to: 'Backordered' },
  { event: 'releaseToWms', from: ['Allocated'], to: 'ReleasedToWms' },
  { event: 'shipPartially', from: ['ReleasedToWms', 'PartiallyShipped'], to: 'PartiallyShipped' },
  { event: 'ship', from: ['ReleasedToWms', 'PartiallyShipped'], to: 'Shipped' },
  { event: 'complete', from: ['Shipped'], to: 'Complete' },
  {
    event: 'cancel',
    from: [
      'Created',
      'Validated',
      'OnHold',
      'Rejected',
      'PaymentAuthorized',
      'Allocated',
      'Backordered',
      'ReleasedToWms',
    ],
    to: 'Cancelled',
  },
  { event: 'return', from: ['PartiallyShipped', 'Shipped', 'Complete'], to: 'Returned' },
  { event: 'refund', from: ['Returned'], to: 'Refunded' },
] satisfies Transition[]);

export type TransitionResult =
  | { ok: true; from: OrderState | undefined; to: OrderState; event: OrderEvent; idempotent?: boolean }
  | {
      ok: false;
      /** The state the order was in, as given (it may be an unknown name). */
      from: string | undefined;
      to?: string;
      event?: string;
      rule: 'unknown-state' | 'unknown-event' | 'illegal-transition' | 'terminal-state';
      reason: string;
    };

type Refusal = Extract<TransitionResult, { ok: false }>;

const STATE_SET: ReadonlySet<string> = new Set(ORDER_STATES);
const EVENT_SET: ReadonlySet<string> = new Set(ORDER_EVENTS);
const BY_EVENT: ReadonlyMap<OrderEvent, Transition> = new Map(TRANSITIONS.map((t) => [t.event, t]));

export function isOrderState(x: unknown): x is OrderState {
  return typeof x === 'string' && STATE_SET.has(x);
}

export function isOrderEvent(x: unknown): x is OrderEvent {
  return typeof x === 'string' && EVENT_SET.has(x);
}

/** Events that move an order out of `state` (undefined: a new order), in table order. */
export function allowedEvents(state: OrderState | undefined): OrderEvent[] {
  return TRANSITIONS.filter((t) => (state === undefined ? t.from.length === 0 : t.from.includes(state))).map(
    (t) => t.event,
  );
}

/** States an order in `state` may move to (undefined: a new order), without repeats, in table order. */
export function allowedTargets(state: OrderState | undefined): OrderState[] {
  const targets: OrderState[] = [];
  for (const event of allowedEvents(state)) {
    const to = (BY_EVENT.get(event) as Transition).to;
    if (!targets.includes(to)) targets.push(to);
  }
  return targets;
}

/** A terminal state has no outgoing move; only idempotent re-application succeeds there. */
export function isTerminal(state: OrderState): boolean {
  return allowedEvents(state).length === 0;
}

export const TERMINAL_STATES: readonly OrderState[] = Object.freeze(ORDER_STATES.filter(isTerminal));

const list = (names: readonly string[]): string => names.join(', ');
const quote = (x: unknown): string => (typeof x === 'string' ? `"${x}"` : String(x));

function refuse(fields: Omit<Refusal, 'ok'>): Refusal {
  const out: Refusal = { ok: false, from: fields.from, rule: fields.rule, reason: fields.reason };
  if (fields.to !== undefined) out.to = fields.to;
  if (fields.event !== undefined) out.event = fields.event;
  return out;
}

function unknownFrom(from: string, extra: { to?: string; event?: string }): Refusal {
  return refuse({
    from,
    ...extra,
    rule: 'unknown-state',
    reason: `Unknown current order state ${quote(from)}: known states are ${list(ORDER_STATES)}.`,
  });
}

/**
 * Applies `event` to an order in state `from` (undefined: a new order, for which only `create`
 * is legal). Re-applying the event that led to the current state succeeds with `idempotent: true`.
 */
export function applyEvent(from: string | undefined, event: string): TransitionResult {
  const t = isOrderEvent(event) ? BY_EVENT.get(event) : undefined;
  if (from !== undefined && !isOrderState(from)) return unknownFrom(from, { event, to: t?.to });
  if (t === undefined) {
    return refuse({
      from,
      event,
      rule: 'unknown-event',
      reason: `Unknown lifecycle event ${quote(event)}: known events are ${list(ORDER_EVENTS)}.`,
    });
  }
  if (from === undefined) {
    if (t.from.length === 0) return { ok: true, from, to: t.to, event: t.event };
    const first = TRANSITIONS.filter((x) => x.from.length === 0);
    return refuse({
      from,
      event,
      to: t.to,
      rule: 'illegal-transition',
      reason:
        `Cannot ${event} a new order: a new order must start in ` +
        `${list(first.map((x) => x.to))} (event ${list(first.map((x) => x.event))}).`,
    });
  }
  if (t.from.includes(from)) return { ok: true, from, to: t.to, event: t.event };
  if (t.to === from) return { ok: true, from, to: t.to, event: t.event, idempotent: true };
  if (isTerminal(from)) {
    return refuse({
      from,
      event,
      to: t.to,
      rule: 'terminal-state',
      reason: `Cannot ${event} order from ${from}: ${from} is a terminal state.`,
    });
  }
  const allowed =
    t.from.length === 0
      ? `${event} applies only to a new order that has no state yet`
      : `${event} is allowed from ${list(t.from)}`;
  return refuse({
    from,
    event,
    to: t.to,
    rule: 'illegal-transition',
    reason: `Cannot ${event} order from ${from}: ${allowed}.`,
  });
}

/**
 * Moves an order in state `from` to state `to` through the one event whose source states include
 * `from` and whose target is `to`. Asking for the state the order is already in succeeds with
 * `idempotent: true` unless that is itself a real move (PartiallyShipped: another partial shipment).
 */
export function applyTarget(from: string | undefined, to: string): TransitionResult {
  if (from !== undefined && !isOrderState(from)) return unknownFrom(from, { to });
  if (!isOrderState(to)) {
    return refuse({
      from,
      to,
      rule: 'unknown-state',
      reason: `Unknown target order state ${quote(to)}: known states are ${list(ORDER_STATES)}.`,
    });
  }
  const reachedFrom = TRANSITIONS.filter((t) => t.to === to);
  if (from === undefined) {
    const first = reachedFrom.find((t) => t.from.length === 0);
    if (first !== undefined) return { ok: true, from, to, event: first.event };
    return refuse({
      from,
      to,
      rule: 'illegal-transition',
      reason: `Cannot start a new order in ${to}: a new order must start in ${list(allowedTargets(undefined))}.`,
    });
  }
  const move = reachedFrom.find((t) => t.from.includes(from));
  if (move !== undefined) return { ok: true, from, to, event: move.event };
  const again = reachedFrom[0];
  if (to === from && again !== undefined) return { ok: true, from, to, event: again.event, idempotent: true };
  if (isTerminal(from)) {
    return refuse({
      from,
      to,
      rule: 'terminal-state',
      reason: `Cannot move order from ${from} to ${to}: ${from} is a terminal state.`,
    });
  }
  const sources = reachedFrom.flatMap((t) => t.from);
  const reached =
    sources.length === 0
      ? `${to} is only the first state of a new order`
      : `${to} is reached from ${list(sources)}`;
  return refuse({
    from,
    to,
    rule: 'illegal-transition',
    reason: `Cannot move order from ${from} to ${to}: ${reached}; from ${from} the order may move to ${list(allowedTargets(from))}.`,
  });
}

/** The lifecycle as a mermaid stateDiagram-v2 (docs/lifecycle.md holds exactly this text). */
export function mermaidDiagram(): string {
  const lines = ['stateDiagram-v2'];
  for (const t of TRANSITIONS) {
    const sources = t.from.length === 0 ? ['[*]'] : t.from;
    for (const s of sources) lines.push(`  ${s} --> ${t.to} : ${t.event}`);
  }
  for (const s of TERMINAL_STATES) lines.push(`  ${s} --> [*]`);
  return lines.join('\n');
}

/** A move asked for: a target state when `asState`, else an event. */
export function applyMove(
  current: string | undefined,
  requested: string,
  asState: boolean,
): TransitionResult {
  return asState ? applyTarget(current, requested) : applyEvent(current, requested);
}

/** msg.oms.lifecycle as a move leaves the node: what happened, or why it was refused. */
export function lifecycleRecord(result: TransitionResult, at: string): Record<string, unknown> {
  return result.ok
    ? {
        from: result.from ?? null,
        to: result.to,
        event: result.event,
        at,
        idempotent: result.idempotent === true,
      }
    : {
        from: result.from ?? null,
        to: result.to ?? null,
        event: result.event ?? null,
        at,
        rule: result.rule,
        reason: result.reason,
      };
}
