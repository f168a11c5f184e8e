// What oms-fraud-check does, without Node-RED (docs/fraud.md): its settings read from the node's
// config; one order screened (rules, history, provider, outage policy) into msg.oms.fraud and,
// for a review, held in the store; a held order's message once decided. The node keeps custody,
// the store lease, status, sending and the translated texts.
import { envelopeOf, setEnvelope } from '../order/envelope';
import type { Order } from '../order/model';
import { encodeMessage, type CustodyStep, type FraudHistory, type Hold, type Holds } from '../store';
import {
  decideScreening,
  parseFailOpenLimits,
  rulesSettle,
  type OutagePolicy,
  type ProviderOutcome,
} from './decision';
import { evaluateFraud, recordOrder, type FraudResult } from './evaluate';
import { FraudProviderError, type ProviderDecision, type ScreeningRequest } from './provider';
import {
  isFraudDecision,
  needsHistory,
  parseFraudConfig,
  type FraudConfig,
  type FraudDecision,
} from './rules';
import { screeningRequest } from './screening';

/** The lifecycle move each output asks of an oms-lifecycle node with an empty move. */
export const TRANSITION: Readonly<Record<FraudDecision, string>> = {
  accept: 'Validated',
  review: 'hold',
  reject: 'reject',
};

/** The node's config fields the screening depends on, as the editor stores them. */
export interface FraudCheckConfig {
  rules: unknown;
  /** 'review' (hold), 'open' (accept below a limit) or 'closed' (reject); anything else: review. */
  failPolicy?: string;
  /** 'open' only: currency → amount in minor units below which an order is accepted. */
  failOpenLimits?: string;
  /** Seconds the provider has for one order, retries included (default 10, at least 1). */
  providerTimeout?: string | number;
  callbackUrl?: string;
}

export interface FraudCheckSettings {
  /** Undefined when the rules are invalid (`rulesError` says why): nothing can be screened. */
  rules?: FraudConfig;
  rulesError?: string;
  policy: OutagePolicy;
  openLimits: Record<string, number>;
  /** Why the fail-open limits are invalid (then none apply: every outage holds). */
  limitsError?: string;
  timeoutMs: number;
  callbackUrl?: string;
}

export function fraudCheckSettings(config: FraudCheckConfig): FraudCheckSettings {
  const policy: OutagePolicy =
    config.failPolicy === 'open' || config.failPolicy === 'closed' ? config.failPolicy : 'review';
  const settings: FraudCheckSettings = {
    policy,
    openLimits: {},
    timeoutMs: Math.max(1, Number(config.providerTimeout) || 10) * 1000,
    callbackUrl: config.callbackUrl || undefined,
  };
  const parsed = parseFraudConfig(config.rules);
  if ('errors' in parsed)
    settings.rulesError = parsed.errors.map((e) => `${e.path || '(root)'}: ${e.message}`).join('; ');
  else settings.rules = parsed.config;
  if (policy === 'open') {
    const limits = parseFailOpenLimits(config.failOpenLimits);
    if ('limits' in limits) settings.openLimits = limits.limits;
    else settings.limitsError = limits.error;
  }
  return settings;
}

/** A fraud provider as screening uses it (FraudProviderClient is one). */
export interface ScreeningProvider {
  readonly settings: { readonly kind: string };
  screen(request: ScreeningRequest, options: { signal?: AbortSignal }): Promise<ProviderDecision>;
}

/** Asks the provider: its answer, or why there is none (the policy then decides). */
export async function askProvider(
  provider: ScreeningProvider,
  order: Order,
  options: { timeoutMs: number; callbackUrl?: string },
): Promise<ProviderOutcome> {
  try {
    const answer = await provider.screen(screeningRequest(order, options.callbackUrl), {
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    return { answer };
  } catch (err) {
    const e = err as Error & { code?: string };
    // Refused credentials are the account's fault, not an outage: Catch, then a dead letter.
    if (e instanceof FraudProviderError && e.code === 'OMS_FRAUD_AUTH') throw e;
    return {
      error: { code: e.code ?? e.name, message: e.message },
      cannotScreen: e instanceof FraudProviderError && e.code === 'OMS_FRAUD_BAD_REQUEST',
    };
  }
}

export interface ScreeningContext {
  /** The store's fraud history and holds (the node holds a lease on the store meanwhile). */
  store: { fraud: FraudHistory; holds: Holds };
  provider?: ScreeningProvider;
  /** The screening node: the holder of the orders it holds. */
  nodeId: string;
  /** msg.oms.template as the audit trail keeps it ("name@version"), for a hold. */
  template?: string;
  now: number;
}

export interface Screened {
  decision: FraudDecision;
  /** The hold of an order under review; `added` false when it was held already (a replay). */
  hold?: { id: number; added: boolean };
}

/**
 * Screens one order: the rules (with the history, to which the order is then added), the
 * provider for what the rules do not settle, and the decision. msg.oms gets `fraud` and
 * `transition`; an order under review is held with its message as it is then. The decision is
 * stored under the order's custody token: run again from that checkpoint (a resumed copy), the
 * order is sent the same way, not screened again against a history that has moved on.
 */
export async function screenOrder(
  msg: Record<string, unknown>,
  order: Order,
  settings: FraudCheckSettings & { rules: FraudConfig },
  context: ScreeningContext,
): Promise<Screened> {
  const { rules } = settings;
  const { store, provider, now, nodeId } = context;
  const token = envelopeOf(msg).custody?.token;
  const before = token ? await store.fraud.screened(nodeId, order.orderRef, token) : undefined;
  if (before && isFraudDecision(before.decision)) {
    const fraud = { ...(before.fraud as Record<string, unknown>) };
    setEnvelope(msg, envelopeOf(msg), { fraud, transition: TRANSITION[before.decision] });
    return before.decision === 'review' ? hold(msg, order, fraud, context) : { decision: before.decision };
  }
  const result: FraudResult = await evaluateFraud(
    order,
    rules,
    needsHistory(rules) ? store.fraud : undefined,
    now,
  );
  const asking = provider !== undefined && !rulesSettle(result);
  // Counted by the orders screened while the provider answers this one.
  if (asking) await recordOrder(order, store.fraud, now);
  const outcome = asking ? await askProvider(provider, order, settings) : undefined;
  const final = decideScreening(result, outcome, {
    kind: provider?.settings.kind ?? '',
    policy: settings.policy,
    openLimits: settings.openLimits,
    currency: order.currency,
    total: order.totals.grandTotal,
  });
  const decision = final.decision;
  const fraud: Record<string, unknown> = {
    decision,
    score: result.score,
    fired: result.fired,
    decidedBy: final.decidedBy,
    summary: result.summary,
    reviewAt: result.reviewAt,
    rejectAt: result.rejectAt,
    ...(final.provider ? { provider: final.provider } : {}),
    at: new Date(now).toISOString(),
  };
  const screening = token
    ? { nodeId, orderRef: order.orderRef, token, decision, fraud: structuredClone(fraud), at: now }
    : undefined;
  if (asking) {
    if (screening) await store.fraud.record([], screening);
  } else await recordOrder(order, store.fraud, now, screening);
  setEnvelope(msg, envelopeOf(msg), { fraud, transition: TRANSITION[decision] });
  return decision === 'review' ? hold(msg, order, fraud, context) : { decision };
}

/** Holds an order under review with its message (screened again while held: the same hold). */
async function hold(
  msg: Record<string, unknown>,
  order: Order,
  fraud: Record<string, unknown>,
  context: ScreeningContext,
): Promise<Screened> {
  const { store, provider, now } = context;
  const asked = fraud.provider as { decision?: string; pending?: boolean; providerRef?: string } | undefined;
  const answered = asked?.decision !== undefined;
  const held = await store.holds.add({
    nodeId: context.nodeId,
    orderRef: order.orderRef,
    score: Number(fraud.score),
    reasons: { fired: fraud.fired, provider: fraud.provider, decidedBy: fraud.decidedBy },
    provider: answered ? provider?.settings.kind : undefined,
    providerRef: answered && asked.pending ? asked.providerRef : undefined,
    template: context.template,
    correlationId: envelopeOf(msg).correlationId,
    createdAt: now,
    message: encodeMessage(msg),
  });
  // The message sent on names its hold; the one held does not need to.
  fraud.holdId = held.id;
  // Screened again while held (a replay): the same hold, updated, not a second one.
  return { decision: 'review', hold: { id: held.id, added: held.createdAt === now } };
}

/** What a provider's webhook or an analyst decides of a held order. */
export type HeldDecision = 'accepted' | 'rejected';

/** How a decided hold leaves: accepted by output 1, rejected by output 3. */
export function heldDecision(decision: HeldDecision): FraudDecision {
  return decision === 'accepted' ? 'accept' : 'reject';
}

/** The held message (decoded) as it leaves once decided: msg.oms.fraud says by whom and why. */
export function markDecided(
  msg: Record<string, unknown>,
  decided: { holdId: number; decision: FraudDecision; by: string; reason?: string; at: number },
): void {
  const { decision, by, reason } = decided;
  const oms = envelopeOf(msg);
  const before = oms.fraud;
  setEnvelope(msg, oms, {
    fraud: {
      ...before,
      decision,
      decidedBy: by,
      decidedAt: new Date(decided.at).toISOString(),
      summary: `${decision} (decided by ${by}${reason ? `: ${reason}` : ''}) — held as: ${String(before?.summary ?? '')}`,
      ...(reason ? { reason } : {}),
      heldFor: decided.holdId,
    },
    transition: TRANSITION[decision],
  });
}

/**
 * Decides a held order, `msg` being its held message. The decision and the custody step of the
 * order on its way out (`handOn`, given the message marked decided) are stored in one write: a
 * decided order is resumed from there after a crash, never left behind. Undefined when it was
 * not held any more (a webhook and an analyst at once: the second finds it decided).
 */
export async function decideHeld(
  holds: Holds,
  hold: Pick<Hold, 'id'>,
  msg: Record<string, unknown>,
  decided: { decision: HeldDecision; by: string; reason?: string; now: number },
  handOn: (msg: Record<string, unknown>, decision: FraudDecision) => CustodyStep | undefined,
): Promise<FraudDecision | undefined> {
  const { by, reason } = decided;
  const final = heldDecision(decided.decision);
  const done = await holds.decide(hold.id, decided.decision, decided.now, by, reason, (held) => {
    markDecided(msg, { holdId: hold.id, decision: final, by, reason, at: held.decidedAt ?? Date.now() });
    return handOn(msg, final);
  });
  return done ? final : undefined;
}

/** The hold `id` when `nodeId` holds it and it is still undecided. */
export async function heldBy(holds: Holds, nodeId: string, id: number): Promise<Hold | undefined> {
  const hold = await holds.get(id);
  return hold && hold.nodeId === nodeId && hold.status === 'held' ? hold : undefined;
}

/** The undecided hold under the provider's reference, when `nodeId` holds it. */
export async function heldByProviderRef(
  holds: Holds,
  nodeId: string,
  providerRef: string,
): Promise<Hold | undefined> {
  const hold = await holds.heldByProviderRef(providerRef);
  return hold && hold.nodeId === nodeId ? hold : undefined;
}

/** How many orders `nodeId` holds (after a restart they are still held). */
export async function countHeld(holds: Holds, nodeId: string): Promise<number> {
  return (await holds.list({ nodeId }, { offset: 0, limit: 1 })).total;
}
