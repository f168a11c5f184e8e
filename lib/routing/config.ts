// The sourcing configuration: ordered strategies with conditions, a location group, criteria as
// tie-breakers, max split and a fallback (after Fluent Responsive Sourcing), safety-stock buffers
// (after HotWax's brokering safety stock). docs/routing.md explains every field.
import { z } from 'zod';
import { parseJsonConfig, pathText, type ConfigError } from '../config/parse';

export type { ConfigError } from '../config/parse';

/** The largest maxSplit accepted: the set search grows as C(locations, maxSplit). */
export const MAX_SPLIT_LIMIT = 10;

function strictly(values: readonly number[], direction: 1 | -1): boolean {
  return values.every((v, i) => i === 0 || (v - values[i - 1]) * direction > 0);
}

const text = z.string().min(1, 'must not be empty');
const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()], {
  error: 'must be a string, a number, true, false or null',
});
const texts = z.array(text).min(1, 'must list at least one value');

const PATH = /^[A-Za-z_$][\w$-]*(?:\[(?:\d+|\*)\]|\.[A-Za-z_$][\w$-]*)*$/;
const Path = z
  .string({ error: 'must be a field path such as totals.grandTotal' })
  .regex(
    PATH,
    'must be a field path such as totals.grandTotal, shipments[0].address.countryCode or lines[*].sku',
  );
const Scope = z.enum(['any', 'all'], { error: "must be 'any' or 'all'" }).optional();

const base = { path: Path, scope: Scope };
export const ConditionSchema = z.discriminatedUnion(
  'op',
  [
    z.strictObject({ ...base, op: z.enum(['eq', 'ne']), value: Scalar }),
    z.strictObject({
      ...base,
      op: z.enum(['gt', 'gte', 'lt', 'lte']),
      value: z.union([z.number(), z.string()], { error: 'must be a number or a string (a date, a code)' }),
    }),
    z.strictObject({
      ...base,
      op: z.enum(['in', 'notIn']),
      value: z.array(Scalar, { error: 'must be a list of values' }).min(1, 'must list at least one value'),
    }),
    z.strictObject({
      ...base,
      op: z.literal('contains'),
      value: z.union([z.string(), z.number()], { error: 'must be a string or a number' }),
    }),
    z.strictObject({
      ...base,
      op: z.literal('exists'),
      value: z.boolean({ error: 'must be true (the field is present) or false (absent)' }).optional(),
    }),
  ],
  { error: "must be one of 'eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'notIn', 'contains', 'exists'" },
);

const Km = z.number({ error: 'must be a number of kilometres' }).positive('must be more than 0 km');
const Percent = z
  .number({ error: 'must be a percentage from 0 to 100' })
  .min(0, 'must be a percentage from 0 to 100')
  .max(100, 'must be a percentage from 0 to 100');

export const CriterionSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('distance'),
      /** Locations farther than this (km) are excluded (Fluent locationDistanceExclusion). */
      max: Km.optional(),
      /** Ascending band edges in km: the score is the band index (locationDistanceBanded). */
      bands: z
        .array(Km)
        .min(1, 'must list at least one band edge')
        .refine((b) => strictly(b, 1), 'distance bands must be strictly ascending, e.g. [25, 100]')
        .optional(),
    }),
    z
      .strictObject({
        type: z.literal('availability'),
        /** 'most': fewest units short first; 'banded': by fill-percentage bands. */
        mode: z.enum(['most', 'banded'], { error: "must be 'most' or 'banded'" }).optional(),
        /** Descending fill percentages, e.g. [100, 50]: 0 = fills 100 %, 1 = at least 50 %, 2 = less. */
        bands: z
          .array(Percent)
          .min(1, 'must list at least one band edge')
          .refine(
            (b) => strictly(b, -1),
            'availability bands must be strictly descending percentages, e.g. [100, 50]',
          )
          .optional(),
        /** Locations that can fill less than this percentage of the order's units are excluded. */
        min: Percent.optional(),
      })
      .refine((c) => !(c.mode === 'most' && c.bands), {
        path: ['bands'],
        message: "bands apply only to mode 'banded'",
      }),
    z.strictObject({ type: z.literal('priority') }),
    z.strictObject({ type: z.literal('capacity') }),
    z.strictObject({
      type: z.literal('exclude'),
      locations: texts.optional(),
      types: texts.optional(),
      networks: texts.optional(),
    }),
  ],
  { error: "must be one of 'distance', 'availability', 'priority', 'capacity', 'exclude'" },
);

const Split = z
  .number({ error: `must be a whole number from 1 to ${MAX_SPLIT_LIMIT}` })
  .int(`must be a whole number from 1 to ${MAX_SPLIT_LIMIT}`)
  .min(1, `must be a whole number from 1 to ${MAX_SPLIT_LIMIT}`)
  .max(MAX_SPLIT_LIMIT, `must be a whole number from 1 to ${MAX_SPLIT_LIMIT}`);
const Units = z
  .number({ error: 'must be a whole number of units, 0 or more' })
  .int('must be a whole number of units, 0 or more')
  .min(0, 'must be a whole number of units, 0 or more');

export const StrategySchema = z.strictObject({
  name: text,
  status: z.enum(['ACTIVE', 'INACTIVE'], { error: "must be 'ACTIVE' or 'INACTIVE'" }).optional(),
  /** Every condition must hold for the strategy to apply. */
  when: z.array(ConditionSchema, { error: 'must be a list of conditions' }).optional(),
  /** The location group: a location in any of these networks is a candidate. */
  network: z.union([text, texts], { error: 'must be a network name or a list of them' }).optional(),
  locationTypes: texts.optional(),
  maxSplit: Split.optional(),
  /** Ordered tie-breakers, lower score first; each may also exclude locations. */
  criteria: z.array(CriterionSchema, { error: 'must be a list of criteria' }).optional(),
  commit: z
    .enum(['FULL_ONLY', 'ALLOW_PARTIAL'], { error: "must be 'FULL_ONLY' or 'ALLOW_PARTIAL'" })
    .optional(),
});

export const BuffersSchema = z.strictObject({
  default: Units.optional(),
  locations: z.record(z.string(), Units).optional(),
  networks: z.record(z.string(), Units).optional(),
  /** Percentage of on-hand held back on top of the unit buffer, rounded up. */
  percent: Percent.optional(),
});

export const RoutingConfigSchema = z
  .strictObject(
    {
      version: z.literal(1, { error: 'must be 1' }),
      maxSplit: Split.optional(),
      buffers: BuffersSchema.optional(),
      strategies: z.array(StrategySchema, { error: 'must be a list of strategies' }),
      fallback: StrategySchema.optional(),
      onNothing: z.literal('BACKORDER', { error: "must be 'BACKORDER'" }).optional(),
    },
    {
      error: (issue) => (issue.code === 'invalid_type' ? 'must be an object: the routing config' : undefined),
    },
  )
  .superRefine((config, ctx) => {
    if (config.strategies.length === 0 && !config.fallback) {
      ctx.addIssue({
        code: 'custom',
        path: ['strategies'],
        message: 'needs at least one strategy or a fallback',
      });
    }
    const seen = new Map<string, string>();
    const all: Array<[Strategy, Array<string | number>]> = config.strategies.map((s, i) => [
      s,
      ['strategies', i],
    ]);
    if (config.fallback) all.push([config.fallback, ['fallback']]);
    for (const [strategy, at] of all) {
      const first = seen.get(strategy.name);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [...at, 'name'],
          message: `"${strategy.name}" is already the name of ${first}; names must be unique`,
        });
      } else seen.set(strategy.name, pathText(at));
    }
  });

export type Condition = z.infer<typeof ConditionSchema>;
export type ConditionOp = Condition['op'];
export type Criterion = z.infer<typeof CriterionSchema>;
export type CriterionType = Criterion['type'];
export type Strategy = z.infer<typeof StrategySchema>;
export type Buffers = z.infer<typeof BuffersSchema>;
export type RoutingConfig = z.infer<typeof RoutingConfigSchema>;

/**
 * Validates a routing config (an object, or its JSON text as the editor's JSON field holds it).
 * Every problem comes back with a path the editor can point at; nothing is defaulted silently.
 */
export function parseRoutingConfig(json: unknown): { config: RoutingConfig } | { errors: ConfigError[] } {
  return parseJsonConfig(RoutingConfigSchema, json);
}

/**
 * The worked example of docs/routing.md: big German orders from the DC network (up to two
 * parcels), small orders from a store within 50 km, anything else from any active location with
 * partial commit; stores keep two units back, the DCs five percent.
 */
export const EXAMPLE_ROUTING_CONFIG: RoutingConfig = {
  version: 1,
  maxSplit: 1,
  buffers: {
    default: 0,
    networks: { STORES: 2 },
    locations: { 'STORE-BERLIN-MITTE': 3 },
    percent: 5,
  },
  strategies: [
    {
      name: 'Big DE orders from the DCs',
      when: [
        { path: 'shipments[0].address.countryCode', op: 'eq', value: 'DE' },
        { path: 'totals.grandTotal', op: 'gte', value: 50000 },
      ],
      network: 'DC',
      maxSplit: 2,
      criteria: [
        { type: 'availability', mode: 'most' },
        { type: 'distance', bands: [300, 600] },
        { type: 'priority' },
      ],
      commit: 'FULL_ONLY',
    },
    {
      name: 'Small orders from a store within 50 km',
      when: [{ path: 'totals.grandTotal', op: 'lt', value: 50000 }],
      network: 'STORES',
      locationTypes: ['STORE'],
      maxSplit: 1,
      criteria: [
        { type: 'distance', max: 50, bands: [10, 50] },
        { type: 'capacity' },
        { type: 'exclude', locations: ['STORE-OUTLET-ZWEIBRUECKEN'] },
        { type: 'priority' },
      ],
      commit: 'FULL_ONLY',
    },
  ],
  fallback: {
    name: 'Any location',
    maxSplit: 3,
    criteria: [{ type: 'availability', mode: 'most' }, { type: 'capacity' }, { type: 'distance' }],
    commit: 'ALLOW_PARTIAL',
  },
  onNothing: 'BACKORDER',
};
