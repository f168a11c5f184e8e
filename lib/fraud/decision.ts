// The final screening decision (docs/fraud.md): the rules' result, then the provider's answer, or,
// when the provider could not answer, the node's policy. Kept apart from the node so each way an
// order can be decided is tested without a runtime.
import type { FraudResult } from './evaluate';
import type { ProviderDecision } from './provider';
import type { FraudDecision } from './rules';

/** What to do when the provider is down or slow. */
export type OutagePolicy = 'review' | 'open' | 'closed';

export const SEVERITY: Readonly<Record<FraudDecision, number>> = { accept: 0, review: 1, reject: 2 };

/** What became of asking the provider. */
export type ProviderOutcome =
  | { answer: ProviderDecision }
  /** No usable answer. `cannotScreen`: the provider refused this order's request (no e-mail, say). */
  | { error: { code: string; message: string }; cannotScreen?: boolean };

export interface ScreeningDecision {
  decision: FraudDecision;
  decidedBy: string;
  /** For msg.oms.fraud.provider: the answer, or the error and the policy applied. */
  provider?: Record<string, unknown>;
}

/** Whether the rules settled the order alone: a reject, or an accept by a rule of their own. */
export function rulesSettle(result: FraudResult): boolean {
  return (
    result.decision === 'reject' || (result.decision === 'accept' && result.decidedBy.startsWith('rule'))
  );
}

/**
 * `{"EUR": 20000}`: currency codes and positive amounts in minor units, below which fail-open
 * accepts. An error sentence when the text is not that.
 */
export function parseFailOpenLimits(
  text: string | undefined,
): { limits: Record<string, number> } | { error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text?.trim() || '{}');
  } catch (err) {
    return { error: (err as Error).message };
  }
  const valid =
    parsed !== null &&
    typeof parsed === 'object' &&
    !Array.isArray(parsed) &&
    Object.entries(parsed).every(
      ([k, v]) => /^[A-Z]{3}$/.test(k) && Number.isInteger(v) && (v as number) > 0,
    );
  return valid
    ? { limits: parsed as Record<string, number> }
    : { error: 'expected {"EUR": 20000, ...}: currency codes and amounts in minor units' };
}

/** The rules' decision combined with the provider's outcome (undefined: the provider was not asked). */
export function decideScreening(
  result: FraudResult,
  outcome: ProviderOutcome | undefined,
  options: {
    kind: string;
    policy: OutagePolicy;
    openLimits: Record<string, number>;
    currency: string;
    total: number;
  },
): ScreeningDecision {
  const rules: ScreeningDecision = { decision: result.decision, decidedBy: result.decidedBy };
  if (!outcome) return rules;
  if ('answer' in outcome) {
    const { answer } = outcome;
    const provider = {
      decision: answer.decision,
      pending: answer.pending,
      score: answer.score,
      reasons: answer.reasons,
      providerRef: answer.providerRef,
    };
    // The more severe decision wins.
    return SEVERITY[answer.decision] > SEVERITY[result.decision]
      ? { decision: answer.decision, decidedBy: `provider:${options.kind}`, provider }
      : { ...rules, provider };
  }
  const policy: OutagePolicy = outcome.cannotScreen ? 'review' : options.policy;
  const limit = options.openLimits[options.currency];
  const fallback: FraudDecision =
    policy === 'closed'
      ? 'reject'
      : policy === 'review'
        ? 'review'
        : typeof limit === 'number' && options.total < limit
          ? 'accept'
          : 'review';
  const provider = { error: outcome.error, policy };
  return SEVERITY[fallback] >= SEVERITY[result.decision]
    ? { decision: fallback, decidedBy: `policy ${policy} (provider unavailable)`, provider }
    : { ...rules, provider };
}
