// The fraud rules an analyst configures in oms-fraud-check (docs/fraud.md): a list of named rules,
// each with a condition, a score and optionally a hard decision. Cheap rules run before any
// provider is asked. The additive-score model and the rule kinds are common practice
// (../shared/domain/fluent-wms-fraud-payment.md §5): sum the scores of the rules that fire;
// at `reviewAt` the order is held for review, at `rejectAt` rejected; a hard decision overrides.
import { z } from 'zod';
import { parseJsonConfig, type ConfigError } from '../config/parse';
import { currencyMinorUnits, isCountryCode } from '../order/iso';
import { ConditionSchema } from '../routing/config';

export type FraudDecision = 'accept' | 'review' | 'reject';

export function isFraudDecision(value: string): value is FraudDecision {
  return value === 'accept' || value === 'review' || value === 'reject';
}

const Name = z.string({ error: 'must be a name' }).trim().min(1, 'must not be empty');
const Score = z
  .number({ error: 'must be a number (points added when the rule fires; may be negative)' })
  .finite();
const Decision = z.enum(['accept', 'review', 'reject'], {
  error: "must be 'accept', 'review' or 'reject'",
});
const Currency = z
  .string()
  .refine((c) => currencyMinorUnits(c) !== undefined, 'must be an ISO 4217 currency code such as "EUR"');
const Country = z
  .string()
  .refine(isCountryCode, 'must be an ISO 3166-1 alpha-2 country code in capitals, such as "DE"');
const MinorAmount = z
  .number({ error: 'must be an amount in minor units (100000 = 1,000.00 EUR)' })
  .int('must be a whole number of minor units (100000 = 1,000.00 EUR)')
  .positive('must be more than 0');
const PerCurrency = z
  .record(Currency, MinorAmount, {
    error: (issue) =>
      issue.code === 'invalid_type' ? 'must map currency codes to amounts in minor units' : undefined,
  })
  .refine((m) => Object.keys(m).length > 0, 'must name at least one currency');

const common = {
  name: Name,
  score: Score.optional(),
  decision: Decision.optional(),
  /** false: kept in the list but not evaluated. */
  enabled: z.boolean().optional(),
};

export const VelocityKeySchema = z.enum(['email', 'cardToken', 'ip', 'address'], {
  error: "must be 'email', 'cardToken', 'ip' or 'address'",
});

export const RuleSchema = z.discriminatedUnion(
  'type',
  [
    /** The order total at or above a threshold in its currency (currencies not listed never fire). */
    z.strictObject({ ...common, type: z.literal('orderValue'), thresholds: PerCurrency }),
    /** Billing and shipping addresses in different countries, or (postcode) different postcodes. */
    z.strictObject({
      ...common,
      type: z.literal('addressMismatch'),
      compare: z.enum(['country', 'postcode'], { error: "must be 'country' or 'postcode'" }),
    }),
    /** Orders (or their value) per email, card token, IP or shipping address within a window. */
    z
      .strictObject({
        ...common,
        type: z.literal('velocity'),
        key: VelocityKeySchema,
        measure: z.enum(['orders', 'value'], { error: "must be 'orders' or 'value'" }),
        windowMinutes: z.number({ error: 'must be a number of minutes' }).positive('must be more than 0'),
        /** measure 'orders': fires when this order makes more than `limit` in the window. */
        limit: z.number().int('must be a whole number of orders').positive('must be more than 0').optional(),
        /** measure 'value': fires when the window's total in the order currency, this order included, exceeds it. */
        limits: PerCurrency.optional(),
      })
      .superRefine((rule, ctx) => {
        if (rule.measure === 'orders' && rule.limit === undefined)
          ctx.addIssue({ code: 'custom', path: ['limit'], message: "is required when measure is 'orders'" });
        if (rule.measure === 'value' && rule.limits === undefined)
          ctx.addIssue({ code: 'custom', path: ['limits'], message: "is required when measure is 'value'" });
      }),
    /** Shipping or billing country on a deny list, or missing from an allow list. */
    z
      .strictObject({
        ...common,
        type: z.literal('country'),
        address: z.enum(['shipping', 'billing', 'either'], {
          error: "must be 'shipping', 'billing' or 'either'",
        }),
        deny: z.array(Country).optional(),
        allow: z.array(Country).optional(),
      })
      .refine((r) => (r.deny?.length ?? 0) + (r.allow?.length ?? 0) > 0, 'needs a deny or an allow list'),
    /** The e-mail's domain is a known disposable one, or on the list. */
    z
      .strictObject({
        ...common,
        type: z.literal('emailDomain'),
        disposable: z.boolean().optional(),
        domains: z.array(z.string().trim().toLowerCase().min(3)).optional(),
      })
      .refine(
        (r) => r.disposable === true || (r.domains?.length ?? 0) > 0,
        'needs disposable: true or domains',
      ),
    /** AVS or CVV result codes of a payment, from its custom attributes (the gateway's answer). */
    z
      .strictObject({
        ...common,
        type: z.literal('avsCvv'),
        avsAttribute: z.string().min(1).optional(),
        cvvAttribute: z.string().min(1).optional(),
        avsCodes: z.array(z.string().min(1)).optional(),
        cvvCodes: z.array(z.string().min(1)).optional(),
      })
      .refine((r) => (r.avsCodes?.length ?? 0) + (r.cvvCodes?.length ?? 0) > 0, 'needs avsCodes or cvvCodes'),
    /** No earlier order with this e-mail (counted in the store); optionally only with these shipping methods. */
    z.strictObject({
      ...common,
      type: z.literal('firstTimeCustomer'),
      shippingMethods: z
        .string()
        .refine((s) => {
          try {
            new RegExp(s, 'i');
            return true;
          } catch {
            return false;
          }
        }, 'must be a regular expression, such as "express|overnight"')
        .optional(),
    }),
    /** Any conditions on order fields (the routing condition language), all of which must hold. */
    z.strictObject({
      ...common,
      type: z.literal('condition'),
      when: z.array(ConditionSchema, { error: 'must be a list of conditions' }).min(1, 'needs a condition'),
    }),
  ],
  {
    error:
      "must be one of 'orderValue', 'addressMismatch', 'velocity', 'country', 'emailDomain', 'avsCvv', 'firstTimeCustomer', 'condition'",
  },
);

export const FraudConfigSchema = z
  .strictObject({
    version: z.literal(1, { error: 'must be 1' }),
    reviewAt: z.number({ error: 'must be a score' }).finite(),
    rejectAt: z.number({ error: 'must be a score' }).finite(),
    rules: z.array(RuleSchema, { error: 'must be a list of rules' }),
  })
  .superRefine((config, ctx) => {
    if (config.rejectAt <= config.reviewAt)
      ctx.addIssue({ code: 'custom', path: ['rejectAt'], message: 'must be above reviewAt' });
    const seen = new Map<string, number>();
    config.rules.forEach((rule, i) => {
      const first = seen.get(rule.name);
      if (first !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'name'],
          message: `"${rule.name}" is already the name of rules[${first}]; names must be unique`,
        });
      else seen.set(rule.name, i);
      if (rule.score === undefined && rule.decision === undefined)
        ctx.addIssue({ code: 'custom', path: ['rules', i], message: 'needs a score, a decision or both' });
    });
  });

export type FraudRule = z.infer<typeof RuleSchema>;
export type FraudRuleType = FraudRule['type'];
export type VelocityKey = z.infer<typeof VelocityKeySchema>;
export type FraudConfig = z.infer<typeof FraudConfigSchema>;

export function parseFraudConfig(json: unknown): { config: FraudConfig } | { errors: ConfigError[] } {
  return parseJsonConfig(FraudConfigSchema, json);
}

/** Rules that need the store's history (velocity, first-time customer). */
export function needsHistory(config: FraudConfig): boolean {
  return config.rules.some(
    (r) => r.enabled !== false && (r.type === 'velocity' || r.type === 'firstTimeCustomer'),
  );
}

/**
 * The worked example of docs/fraud.md and the node's default: high values held, big ones and
 * mismatched countries scored, velocity per e-mail and card, disposable e-mail, AVS/CVV
 * failures, a deny list; a known B2B domain let through.
 */
export const EXAMPLE_FRAUD_CONFIG: FraudConfig = {
  version: 1,
  reviewAt: 50,
  rejectAt: 100,
  rules: [
    {
      name: 'High value',
      type: 'orderValue',
      thresholds: { EUR: 100000, USD: 120000, GBP: 90000, JPY: 15000000 },
      score: 30,
    },
    {
      name: 'Very high value',
      type: 'orderValue',
      thresholds: { EUR: 500000, USD: 600000, GBP: 450000, JPY: 75000000 },
      decision: 'review',
    },
    { name: 'Billing and shipping countries differ', type: 'addressMismatch', compare: 'country', score: 25 },
    {
      name: 'Many orders per e-mail',
      type: 'velocity',
      key: 'email',
      measure: 'orders',
      windowMinutes: 60,
      limit: 3,
      score: 40,
    },
    {
      name: 'Card used for a lot in a day',
      type: 'velocity',
      key: 'cardToken',
      measure: 'value',
      windowMinutes: 1440,
      limits: { EUR: 300000, USD: 350000, GBP: 250000 },
      score: 40,
    },
    { name: 'Disposable e-mail', type: 'emailDomain', disposable: true, score: 35 },
    {
      name: 'AVS or CVV mismatch',
      type: 'avsCvv',
      avsCodes: ['N', 'A', 'Z'],
      cvvCodes: ['N'],
      score: 30,
    },
    {
      name: 'First order, express',
      type: 'firstTimeCustomer',
      shippingMethods: 'express|overnight|next.?day',
      score: 15,
    },
    {
      name: 'Sanctioned destinations',
      type: 'country',
      address: 'either',
      deny: ['KP', 'IR', 'SY', 'CU'],
      decision: 'reject',
    },
    {
      name: 'Trusted B2B customer',
      type: 'condition',
      when: [{ path: 'customer.email', op: 'contains', value: '@trusted-b2b.example' }],
      decision: 'accept',
      enabled: false,
    },
  ],
};
