// Evaluates the fraud rules of rules.ts against one canonical order: which rules fired, why, the
// score and the decision. Velocity and first-time-customer rules read the store's history, so
// they hold across restarts; `recordOrder` adds the order to it afterwards.
import { createHash } from 'node:crypto';
import type { Address, Order } from '../order/model';
import { formatMoney } from '../order/money';
import { currencyMinorUnits } from '../order/iso';
import { conditionHolds, describeCondition } from '../routing/conditions';
import { deliveryAddress } from '../routing/geo';
import type { FraudHistory, Screening, VelocityEvent } from '../store/types';
import { DISPOSABLE_EMAIL_DOMAINS } from './disposable-domains';
import type { FraudConfig, FraudDecision, FraudRule, VelocityKey } from './rules';

export interface FiredRule {
  rule: string;
  type: FraudRule['type'];
  score: number;
  decision?: FraudDecision;
  /** A sentence an analyst can read: what was found, against what limit. */
  reason: string;
}

export interface FraudResult {
  decision: FraudDecision;
  score: number;
  fired: FiredRule[];
  reviewAt: number;
  rejectAt: number;
  /** 'score', or the rule whose hard decision settled it. */
  decidedBy: string;
  /** Enabled rules evaluated. */
  rulesChecked: number;
  summary: string;
}

export class FraudConfigError extends Error {
  readonly code = 'OMS_FRAUD_CONFIG';
}

const DAY_MINUTES = 1440;

/** A history key: the kind and a hash of the value, so the store keeps no e-mail or IP address. */
export function historyKey(kind: VelocityKey, value: string): string {
  return `${kind}:${createHash('sha256').update(value).digest('hex').slice(0, 32)}`;
}

function addressText(a: Address | undefined): string | undefined {
  if (!a?.line1 || !a.countryCode) return undefined;
  const norm = (s: string | undefined): string => (s ?? '').toLowerCase().replace(/\s+/g, ' ').trim();
  return [
    a.countryCode,
    (a.postalCode ?? '').replace(/\s+/g, '').toUpperCase(),
    norm(a.line1),
    norm(a.line2),
  ].join('|');
}

/** The history keys an order has, by kind (an order paid with two cards has two card keys). */
export function historyKeys(order: Order): Record<VelocityKey, string[]> {
  const email = order.customer.email?.trim().toLowerCase();
  const address = addressText(deliveryAddress(order));
  const tokens = new Set(order.payments.flatMap((p) => (p.card?.token ? [p.card.token] : [])));
  return {
    email: email ? [historyKey('email', email)] : [],
    cardToken: [...tokens].map((t) => historyKey('cardToken', t)),
    ip: order.remoteHost ? [historyKey('ip', order.remoteHost.trim())] : [],
    address: address ? [historyKey('address', address)] : [],
  };
}

/** Adds the order to the history (again for the same order: nothing changes). */
export async function recordOrder(
  order: Order,
  history: FraudHistory,
  at: number,
  screening?: Screening,
): Promise<void> {
  const events: VelocityEvent[] = Object.values(historyKeys(order))
    .flat()
    .map((key) => ({
      key,
      orderRef: order.orderRef,
      at,
      amount: order.totals.grandTotal,
      currency: order.currency,
    }));
  if (events.length > 0 || screening) await history.record(events, screening);
}

function money(minor: number, currency: string): string {
  return `${formatMoney(minor, currencyMinorUnits(currency) ?? 2)} ${currency}`;
}

function domainListed(domain: string, list: ReadonlySet<string>): boolean {
  const parts = domain.split('.');
  for (let i = 0; i < parts.length - 1; i++) if (list.has(parts.slice(i).join('.'))) return true;
  return false;
}

function windowText(minutes: number): string {
  if (minutes % DAY_MINUTES === 0) return `${minutes / DAY_MINUTES} day${minutes === DAY_MINUTES ? '' : 's'}`;
  if (minutes % 60 === 0) return `${minutes / 60} h`;
  return `${minutes} min`;
}

const KEY_WORDS: Record<VelocityKey, string> = {
  email: 'this e-mail',
  cardToken: 'this card',
  ip: 'this IP address',
  address: 'this shipping address',
};

type Check = (rule: FraudRule) => Promise<string | undefined> | string | undefined;

/** Why the rule fires for this order, or undefined when it does not. */
function checker(order: Order, history: FraudHistory | undefined, now: number): Check {
  const keys = historyKeys(order);
  const total = order.totals.grandTotal;
  const billing = order.customer.billingAddress;
  const shipping = deliveryAddress(order);
  const needHistory = (rule: FraudRule): FraudHistory => {
    if (!history)
      throw new FraudConfigError(
        `Rule "${rule.name}" (${rule.type}) counts earlier orders: the node needs a store`,
      );
    return history;
  };
  return async (rule) => {
    switch (rule.type) {
      case 'orderValue': {
        const threshold = rule.thresholds[order.currency];
        if (threshold === undefined || total < threshold) return undefined;
        return `order total ${money(total, order.currency)} is at or above ${money(threshold, order.currency)}`;
      }
      case 'addressMismatch': {
        if (!billing?.countryCode || !shipping?.countryCode) return undefined;
        if (billing.countryCode !== shipping.countryCode)
          return `billing country ${billing.countryCode}, shipping country ${shipping.countryCode}`;
        if (rule.compare !== 'postcode') return undefined;
        const code = (a: Address): string => (a.postalCode ?? '').replace(/\s+/g, '').toUpperCase();
        return code(billing) !== code(shipping)
          ? `billing postcode ${billing.postalCode ?? '(none)'}, shipping postcode ${shipping.postalCode ?? '(none)'}`
          : undefined;
      }
      case 'velocity': {
        const store = needHistory(rule);
        const since = now - rule.windowMinutes * 60_000;
        let worst: string | undefined;
        for (const key of keys[rule.key]) {
          const earlier = await store.count(key, since, order.currency, order.orderRef);
          if (rule.measure === 'orders') {
            const orders = earlier.orders + 1;
            if (rule.limit !== undefined && orders > rule.limit)
              worst = `${orders} orders with ${KEY_WORDS[rule.key]} in ${windowText(rule.windowMinutes)} (limit ${rule.limit})`;
          } else {
            const limit = rule.limits?.[order.currency];
            const amount = earlier.amount + total;
            if (limit !== undefined && amount > limit)
              worst = `${money(amount, order.currency)} with ${KEY_WORDS[rule.key]} in ${windowText(rule.windowMinutes)} (limit ${money(limit, order.currency)})`;
          }
          if (worst) return worst;
        }
        return undefined;
      }
      case 'country': {
        const candidates: Array<[string, string | undefined]> = [];
        if (rule.address !== 'billing')
          for (const s of order.shipments) candidates.push(['shipping', s.address?.countryCode]);
        if (rule.address !== 'shipping') candidates.push(['billing', billing?.countryCode]);
        for (const [which, country] of candidates) {
          if (!country) continue;
          if (rule.deny?.includes(country)) return `${which} country ${country} is on the deny list`;
          if (rule.allow && rule.allow.length > 0 && !rule.allow.includes(country))
            return `${which} country ${country} is not on the allow list`;
        }
        return undefined;
      }
      case 'emailDomain': {
        const email = order.customer.email?.trim().toLowerCase();
        const domain = email?.slice(email.lastIndexOf('@') + 1);
        if (!domain || !email?.includes('@')) return undefined;
        if (rule.disposable && domainListed(domain, DISPOSABLE_EMAIL_DOMAINS))
          return `e-mail domain ${domain} is a disposable e-mail service`;
        if (rule.domains && domainListed(domain, new Set(rule.domains)))
          return `e-mail domain ${domain} is on the rule's list`;
        return undefined;
      }
      case 'avsCvv': {
        const avsAttribute = rule.avsAttribute ?? 'avsResult';
        const cvvAttribute = rule.cvvAttribute ?? 'cvvResult';
        for (const [i, p] of order.payments.entries()) {
          const avs = p.customAttributes[avsAttribute];
          const cvv = p.customAttributes[cvvAttribute];
          if (typeof avs === 'string' && rule.avsCodes?.includes(avs.trim().toUpperCase()))
            return `payment ${i + 1} (${p.method}) has AVS result ${avs}`;
          if (typeof cvv === 'string' && rule.cvvCodes?.includes(cvv.trim().toUpperCase()))
            return `payment ${i + 1} (${p.method}) has CVV result ${cvv}`;
        }
        return undefined;
      }
      case 'firstTimeCustomer': {
        const store = needHistory(rule);
        const [email] = keys.email;
        if (!email) return undefined;
        const method = order.shipments[0]?.method ?? '';
        if (rule.shippingMethods && !new RegExp(rule.shippingMethods, 'i').test(method)) return undefined;
        if (await store.seen(email, order.orderRef)) return undefined;
        return rule.shippingMethods
          ? `first order from this e-mail, shipped ${method}`
          : 'first order from this e-mail';
      }
      case 'condition':
        return rule.when.every((c) => conditionHolds(c, order))
          ? rule.when.map((c) => describeCondition(c, order)).join(' and ')
          : undefined;
    }
  };
}

/** Evaluates every enabled rule in order. `history` is needed by velocity and first-time rules. */
export async function evaluateFraud(
  order: Order,
  config: FraudConfig,
  history?: FraudHistory,
  now: number = Date.now(),
): Promise<FraudResult> {
  const check = checker(order, history, now);
  const fired: FiredRule[] = [];
  let rulesChecked = 0;
  for (const rule of config.rules) {
    if (rule.enabled === false) continue;
    rulesChecked++;
    const reason = await check(rule);
    if (reason === undefined) continue;
    fired.push({
      rule: rule.name,
      type: rule.type,
      score: rule.score ?? 0,
      ...(rule.decision ? { decision: rule.decision } : {}),
      reason,
    });
  }
  const score = fired.reduce((sum, f) => sum + f.score, 0);
  // A rule's own decision wins over the score: accept first (an allow list), then reject, then
  // review — the priority Kount documents for rule actions.
  const hard = (d: FraudDecision): FiredRule | undefined => fired.find((f) => f.decision === d);
  let decision: FraudDecision;
  let decidedBy = 'score';
  const accept = hard('accept');
  const reject = hard('reject');
  const review = hard('review');
  if (accept) {
    decision = 'accept';
    decidedBy = `rule "${accept.rule}"`;
  } else if (reject) {
    decision = 'reject';
    decidedBy = `rule "${reject.rule}"`;
  } else if (score >= config.rejectAt) decision = 'reject';
  else if (review) {
    decision = 'review';
    decidedBy = `rule "${review.rule}"`;
  } else decision = score >= config.reviewAt ? 'review' : 'accept';
  const because =
    fired.length === 0 ? 'no rule fired' : fired.map((f) => `${f.rule}: ${f.reason}`).join('; ');
  const summary =
    `${decision} (score ${score}; review at ${config.reviewAt}, reject at ${config.rejectAt}; ` +
    `decided by ${decidedBy}) — ${because}`;
  return {
    decision,
    score,
    fired,
    reviewAt: config.reviewAt,
    rejectAt: config.rejectAt,
    decidedBy,
    rulesChecked,
    summary,
  };
}
