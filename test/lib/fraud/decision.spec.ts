// The final screening decision: rules, provider answer, outage policy, fail-open limits.
import assert from 'node:assert/strict';
import {
  decideScreening,
  parseFailOpenLimits,
  rulesSettle,
  type OutagePolicy,
  type ProviderOutcome,
} from '../../../lib/fraud/decision';
import type { FraudResult } from '../../../lib/fraud';
import type { FraudDecision } from '../../../lib/fraud/rules';

const result = (decision: FraudDecision, decidedBy = 'score'): FraudResult => ({
  decision,
  score: 0,
  fired: [],
  reviewAt: 50,
  rejectAt: 100,
  decidedBy,
  rulesChecked: 1,
  summary: '',
});
const answer = (decision: FraudDecision, pending = false): ProviderOutcome => ({
  answer: { decision, pending, reasons: ['r'], providerRef: 'p1', score: 10 },
});
const down: ProviderOutcome = { error: { code: 'HTTP_503', message: 'down' } };
const options = (policy: OutagePolicy, total = 5000) => ({
  kind: 'generic',
  policy,
  openLimits: { EUR: 10000 },
  currency: 'EUR',
  total,
});

describe('fraud screening decision', () => {
  it('lets the rules settle a reject and an accept of their own, nothing else', () => {
    assert.equal(rulesSettle(result('reject')), true);
    assert.equal(rulesSettle(result('accept', 'rule "VIP"')), true);
    assert.equal(rulesSettle(result('accept')), false);
    assert.equal(rulesSettle(result('review', 'rule "big"')), false);
  });

  it('keeps the rules when the provider was not asked', () => {
    assert.deepEqual(decideScreening(result('review'), undefined, options('closed')), {
      decision: 'review',
      decidedBy: 'score',
    });
  });

  it('takes the more severe of the rules and the provider', () => {
    const up = decideScreening(result('accept'), answer('reject'), options('review'));
    assert.equal(up.decision, 'reject');
    assert.equal(up.decidedBy, 'provider:generic');
    assert.equal(up.provider?.providerRef, 'p1');
    const kept = decideScreening(result('review'), answer('accept'), options('review'));
    assert.equal(kept.decision, 'review');
    assert.equal(kept.decidedBy, 'score');
    const held = decideScreening(result('accept'), answer('review', true), options('review'));
    assert.deepEqual([held.decision, held.provider?.pending], ['review', true]);
  });

  it('applies the policy when the provider is down', () => {
    assert.equal(decideScreening(result('accept'), down, options('review')).decision, 'review');
    assert.equal(decideScreening(result('accept'), down, options('closed')).decision, 'reject');
    const open = decideScreening(result('accept'), down, options('open', 9999));
    assert.deepEqual([open.decision, open.decidedBy], ['accept', 'policy open (provider unavailable)']);
    assert.equal(decideScreening(result('accept'), down, options('open', 10000)).decision, 'review');
    const usd = decideScreening(result('accept'), down, { ...options('open', 1), currency: 'USD' });
    assert.equal(usd.decision, 'review', 'no limit for the currency: held');
    // The policy never softens what the rules decided.
    assert.equal(decideScreening(result('review'), down, options('open', 1)).decision, 'review');
    assert.deepEqual(decideScreening(result('accept'), down, options('closed')).provider, {
      error: down.error,
      policy: 'closed',
    });
  });

  it('holds an order the provider cannot screen, whatever the policy', () => {
    const refused: ProviderOutcome = {
      error: { code: 'OMS_FRAUD_BAD_REQUEST', message: 'no e-mail' },
      cannotScreen: true,
    };
    const d = decideScreening(result('accept'), refused, options('open', 1));
    assert.deepEqual([d.decision, d.provider?.policy], ['review', 'review']);
  });

  it('reads fail-open limits, or says what is wrong with them', () => {
    assert.deepEqual(parseFailOpenLimits('{"EUR": 20000}'), { limits: { EUR: 20000 } });
    assert.deepEqual(parseFailOpenLimits(''), { limits: {} });
    assert.ok('error' in parseFailOpenLimits('null'));
    assert.ok('error' in parseFailOpenLimits('{"euro": 1}'));
    assert.ok('error' in parseFailOpenLimits('{"EUR": 12.5}'));
    assert.match((parseFailOpenLimits('{') as { error: string }).error, /JSON/);
  });
});
