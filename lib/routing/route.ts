// The sourcing engine: which locations ship which lines of an order. Pure and deterministic: the
// same order, locations, inventory and config give the same plan whatever order the inputs are in.
//
// 1. Each ACTIVE primary strategy whose conditions hold, in order: candidates (location status,
//    network, type), criteria (each may exclude; scores are tie-breakers, lower first, then the
//    location ref), then the fewest-splits search: single locations, then pairs, ... up to maxSplit;
//    among sets of one size the first in ranking order. The first full plan wins.
// 2. Else the first primary with commit ALLOW_PARTIAL that can ship anything: its best partial plan
//    (most units within maxSplit, then fewest locations, then ranking order).
// 3. Else the fallback strategy: full plan, else partial when it allows.
// 4. Else a backorder naming each strategy and why it failed.
import type { Order } from '../order/model';
import type { Criterion, CriterionType, RoutingConfig, Strategy } from './config';
import { conditionHolds, describeCondition } from './conditions';
import { deliveryAddress, haversineKm, lookupPostcode, validPoint, type GeoPoint } from './geo';
import {
  availableToSell,
  bufferRule,
  type BufferRule,
  type InventoryPosition,
  type Location,
} from './inventory';

/**
 * Location sets (partial ones included) the search visits per strategy before it stops looking for
 * the best set and takes a greedy one.
 */
export const DEFAULT_SEARCH_LIMIT = 20_000;

export interface RouteOptions {
  /** The delivery point distances are measured from; wins over the postcode table. */
  origin?: GeoPoint;
  /** Postcode → coordinates ("DE:10115" or "10115"; prefixes with the country work as areas). */
  postcodes?: Readonly<Record<string, GeoPoint>>;
  /** Location sets visited per strategy; DEFAULT_SEARCH_LIMIT when absent. */
  searchLimit?: number;
}

export interface PlanLine {
  lineRef: string;
  sku: string;
  quantity: number;
}

export interface Fulfilment {
  locationRef: string;
  lines: PlanLine[];
}

/** One criterion's verdict on a location: lower scores rank first, null (unknown) ranks last. */
export interface CriterionScore {
  type: CriterionType;
  score: number | null;
  detail: string;
}

/** Why a location ships: its rank under the strategy's criteria and the stock it had to give. */
export interface LocationExplanation {
  locationRef: string;
  strategy: string;
  /** 1-based position in the strategy's ranking of candidate locations. */
  rank: number;
  candidates: number;
  criteria: CriterionScore[];
  /** Per product shipped: on-hand, reserved, units held back by buffers, and what was left to sell. */
  stock: Array<{
    sku: string;
    onHand: number;
    reserved: number;
    buffer: number;
    bufferFrom: BufferRule['source'];
    ats: number;
  }>;
}

export type ReasonCode = 'INACTIVE' | 'CONDITIONS' | 'NO_CANDIDATE' | 'SHORT' | 'MAX_SPLIT' | 'SEARCH_LIMIT';

/** Why a strategy did not source the whole order. */
export interface StrategyOutcome {
  strategy: string;
  fallback: boolean;
  code: ReasonCode;
  reason: string;
}

export interface RoutingPlan {
  kind: 'plan';
  /** The strategy that chose the locations; null when nothing needed sourcing. */
  strategy: string | null;
  fallback: boolean;
  /** False for a partial plan: `remainder` lists what is left unsourced. */
  complete: boolean;
  maxSplit: number;
  fulfilments: Fulfilment[];
  remainder: PlanLine[];
  explanation: LocationExplanation[];
  /** Strategies that came before and why they did not win (the winner too, for a partial plan). */
  tried: StrategyOutcome[];
  origin: (GeoPoint & { source: string }) | null;
  summary: string;
}

export interface RoutingBackorder {
  kind: 'backorder';
  reasons: StrategyOutcome[];
  remainder: PlanLine[];
  origin: (GeoPoint & { source: string }) | null;
  summary: string;
}

export type RoutingResult = RoutingPlan | RoutingBackorder;

interface Demand extends PlanLine {
  skuIndex: number;
}

interface Context {
  order: Order;
  lines: Demand[];
  skus: string[];
  need: number[];
  total: number;
  locations: Location[];
  buffers: BufferRule[];
  onHand: number[][];
  reserved: number[][];
  ats: number[][];
  /** Units of the order each location could ship on its own. */
  fill: number[];
  origin: (GeoPoint & { source: string }) | null;
  noOrigin: string;
  limit: number;
  config: RoutingConfig;
}

interface Ranked {
  loc: number;
  scores: CriterionScore[];
}

interface SetChoice {
  set: number[];
  units: number;
}

interface Ranking {
  maxSplit: number;
  ranked: Ranked[];
}

/** A strategy's verdict: the set shipping the whole order, or why not (and its best partial set). */
type Evaluation =
  | (Ranking & { full: number[] })
  | (Ranking & { full?: undefined; outcome: StrategyOutcome; best?: SetChoice });

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
const round = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;

function buildContext(
  order: Order,
  locations: readonly Location[],
  inventory: readonly InventoryPosition[],
  config: RoutingConfig,
  options: RouteOptions,
): Context {
  const skuIndex = new Map<string, number>();
  const lines: Demand[] = [];
  const need: number[] = [];
  for (const line of order.lines) {
    // Options ship with their product line and gift certificates are not stock: only product
    // lines are sourced.
    if (line.kind !== 'product' || !(line.quantity > 0)) continue;
    let j = skuIndex.get(line.sku);
    if (j === undefined) {
      j = need.length;
      skuIndex.set(line.sku, j);
      need.push(0);
    }
    need[j] += line.quantity;
    lines.push({ lineRef: line.lineRef, sku: line.sku, quantity: line.quantity, skuIndex: j });
  }
  const m = need.length;
  const seen = new Map<string, number>();
  const locs: Location[] = [];
  for (const location of locations) {
    if (seen.has(location.ref)) continue; // refs are unique; a repeated one is ignored
    seen.set(location.ref, locs.length);
    locs.push(location);
  }
  const onHand = locs.map(() => new Array<number>(m).fill(0));
  const reserved = locs.map(() => new Array<number>(m).fill(0));
  for (const p of inventory) {
    const l = seen.get(p.locationRef);
    const j = skuIndex.get(p.productRef);
    if (l === undefined || j === undefined) continue;
    if (Number.isFinite(p.onHand)) onHand[l][j] += p.onHand;
    if (p.reserved !== undefined && Number.isFinite(p.reserved)) reserved[l][j] += p.reserved;
  }
  const buffers = locs.map((loc) => bufferRule(loc, config.buffers));
  const ats = locs.map((_, l) =>
    need.map((_n, j) => availableToSell(onHand[l][j], reserved[l][j], buffers[l])),
  );
  const fill = ats.map((row) => row.reduce((sum, a, j) => sum + Math.min(need[j], a), 0));

  let origin: Context['origin'] = null;
  let noOrigin = '';
  if (validPoint(options.origin)) {
    origin = { lat: options.origin.lat, lon: options.origin.lon, source: 'options' };
  } else {
    const address = deliveryAddress(order);
    const found = options.postcodes ? lookupPostcode(options.postcodes, address) : undefined;
    if (found && validPoint(found.point)) {
      origin = { lat: found.point.lat, lon: found.point.lon, source: `postcode ${found.key}` };
    } else if (!options.postcodes) noOrigin = 'no delivery coordinates given';
    else if (!address?.postalCode) noOrigin = 'the delivery address has no postcode';
    else noOrigin = `postcode ${address.postalCode} is not in the postcode table`;
  }
  const limit =
    options.searchLimit !== undefined && options.searchLimit >= 1
      ? Math.floor(options.searchLimit)
      : DEFAULT_SEARCH_LIMIT;
  return {
    order,
    lines,
    skus: [...skuIndex.keys()],
    need,
    total: need.reduce((a, b) => a + b, 0),
    locations: locs,
    buffers,
    onHand,
    reserved,
    ats,
    fill,
    origin,
    noOrigin,
    limit,
    config,
  };
}

type Verdict = CriterionScore | { exclude: string };

function judge(ctx: Context, criterion: Criterion, l: number): Verdict {
  const location = ctx.locations[l];
  switch (criterion.type) {
    case 'distance': {
      const point = { lat: location.latitude ?? NaN, lon: location.longitude ?? NaN };
      const origin = ctx.origin;
      if (!origin || !validPoint(point)) {
        const unknown = origin ? 'the location has no coordinates' : ctx.noOrigin;
        if (criterion.max !== undefined) return { exclude: `distance unknown (${unknown})` };
        return { type: 'distance', score: null, detail: `distance unknown (${unknown}), ranked last` };
      }
      const km = round(haversineKm(origin, point), 3);
      if (criterion.max !== undefined && km > criterion.max) {
        return { exclude: `farther than ${criterion.max} km` };
      }
      if (!criterion.bands) return { type: 'distance', score: km, detail: `${round(km, 1)} km` };
      const band = criterion.bands.findIndex((edge) => km <= edge);
      const index = band < 0 ? criterion.bands.length : band;
      const edge =
        band < 0
          ? `over ${criterion.bands[criterion.bands.length - 1]} km`
          : `up to ${criterion.bands[band]} km`;
      return { type: 'distance', score: index, detail: `${round(km, 1)} km, band ${index} (${edge})` };
    }
    case 'availability': {
      const fill = ctx.fill[l];
      const percent = round((fill * 100) / ctx.total, 1);
      if (criterion.min !== undefined && fill * 100 < criterion.min * ctx.total) {
        return { exclude: `can fill less than ${criterion.min}% of the order` };
      }
      const fills = `fills ${fill} of ${plural(ctx.total, 'unit')} (${percent}%)`;
      if (criterion.mode === 'banded' || (criterion.mode === undefined && criterion.bands)) {
        const bands = criterion.bands ?? [100];
        const band = bands.findIndex((b) => fill * 100 >= b * ctx.total);
        const index = band < 0 ? bands.length : band;
        const edge = band < 0 ? `under ${bands[bands.length - 1]}%` : `at least ${bands[band]}%`;
        return { type: 'availability', score: index, detail: `${fills}, band ${index} (${edge})` };
      }
      return { type: 'availability', score: ctx.total - fill, detail: `${fills}, ${ctx.total - fill} short` };
    }
    case 'priority':
      return location.priority !== undefined && Number.isFinite(location.priority)
        ? { type: 'priority', score: location.priority, detail: `priority ${location.priority}` }
        : { type: 'priority', score: null, detail: 'no priority, ranked last' };
    case 'capacity': {
      const capacity = location.dailyCapacity;
      if (capacity === undefined || !Number.isFinite(capacity)) {
        return { type: 'capacity', score: 0, detail: 'no daily capacity set' };
      }
      const used = location.ordersToday ?? 0;
      if (used >= capacity) return { exclude: 'at daily capacity' };
      return {
        type: 'capacity',
        score: round(used / capacity, 4),
        detail: `${used} of ${capacity} orders today`,
      };
    }
    case 'exclude':
      if (criterion.locations?.includes(location.ref)) return { exclude: 'excluded by ref' };
      if (criterion.types?.includes(location.type)) return { exclude: `excluded type ${location.type}` };
      for (const network of location.networks) {
        if (criterion.networks?.includes(network)) return { exclude: `excluded network ${network}` };
      }
      return { type: 'exclude', score: 0, detail: 'not excluded' };
  }
}

function compareRanked(ctx: Context, a: Ranked, b: Ranked): number {
  for (let i = 0; i < a.scores.length; i++) {
    const x = a.scores[i].score;
    const y = b.scores[i].score;
    if (x === y) continue;
    if (x === null) return 1;
    if (y === null) return -1;
    return x < y ? -1 : 1;
  }
  const ra = ctx.locations[a.loc].ref;
  const rb = ctx.locations[b.loc].ref;
  return ra < rb ? -1 : ra > rb ? 1 : 0;
}

/** Candidates in ranking order, or the exclusions (label → count) when none is left. */
function rank(ctx: Context, strategy: Strategy): { ranked: Ranked[]; excluded: Map<string, number> } {
  const excluded = new Map<string, number>();
  const out = (label: string): void => {
    excluded.set(label, (excluded.get(label) ?? 0) + 1);
  };
  const networks =
    strategy.network === undefined
      ? undefined
      : Array.isArray(strategy.network)
        ? strategy.network
        : [strategy.network];
  const ranked: Ranked[] = [];
  next: for (let l = 0; l < ctx.locations.length; l++) {
    const location = ctx.locations[l];
    if (location.status !== undefined && location.status !== 'ACTIVE') {
      out('inactive');
      continue;
    }
    if (networks && !location.networks.some((n) => networks.includes(n))) {
      out(`not in network ${networks.join('/')}`);
      continue;
    }
    if (strategy.locationTypes && !strategy.locationTypes.includes(location.type)) {
      out(`not of type ${strategy.locationTypes.join('/')}`);
      continue;
    }
    const scores: CriterionScore[] = [];
    for (const criterion of strategy.criteria ?? []) {
      const verdict = judge(ctx, criterion, l);
      if ('exclude' in verdict) {
        out(verdict.exclude);
        continue next;
      }
      scores.push(verdict);
    }
    ranked.push({ loc: l, scores });
  }
  ranked.sort((a, b) => compareRanked(ctx, a, b));
  return { ranked, excluded };
}

/** Units of the order a set of locations can ship together. */
function unitsOf(ctx: Context, set: readonly number[]): number {
  let units = 0;
  for (let j = 0; j < ctx.need.length; j++) {
    let have = 0;
    for (const l of set) have += ctx.ats[l][j];
    units += Math.min(ctx.need[j], have);
  }
  return units;
}

/**
 * Fewest-splits search over `useful` (locations in ranking order): sets of 1, then 2, ... up to
 * maxSplit locations, each size in lexicographic ranking order. Stops at the first set shipping
 * `target` units (the most any set can); otherwise keeps the first set shipping the most.
 *
 * Depth-first with two prunings that never change the answer: a location adding nothing to the
 * locations before it is skipped (the set without it ships as much with fewer locations, so it
 * came earlier), and a branch is cut when even the best remaining additions (the sum of their
 * gains bounds what they add together) could not beat the best set found. After `limit` visited
 * sets (partial sets included) it stops and reports `capped`.
 */
function search(
  ctx: Context,
  useful: readonly number[],
  maxSplit: number,
  target: number,
): { best?: SetChoice; capped: boolean } {
  const { need, ats } = ctx;
  const n = useful.length;
  const m = need.length;
  const sums = new Array<number>(m).fill(0);
  const chosen: number[] = [];
  let best: SetChoice | undefined;
  let visited = 0;
  let capped = false;
  const gainOf = (l: number): number => {
    let gain = 0;
    for (let j = 0; j < m; j++) {
      if (sums[j] < need[j]) gain += Math.min(need[j], sums[j] + ats[l][j]) - sums[j];
    }
    return gain;
  };
  // Returns true to stop: the target reached or the limit hit.
  const visit = (start: number, units: number, left: number): boolean => {
    if (++visited > ctx.limit) {
      capped = true;
      return true;
    }
    if (left === 0) {
      if (!best || units > best.units) best = { set: chosen.map((p) => useful[p]), units };
      return units >= target;
    }
    const gains: number[] = [];
    for (let p = start; p < n; p++) gains.push(gainOf(useful[p]));
    if (best) {
      const top = [...gains].sort((a, b) => b - a);
      let bound = units;
      for (let i = 0; i < left && i < top.length; i++) bound += top[i];
      if (bound <= best.units) return false;
    }
    for (let p = start; p <= n - left; p++) {
      const gain = gains[p - start];
      if (gain === 0) continue;
      const l = useful[p];
      for (let j = 0; j < m; j++) sums[j] += ats[l][j];
      chosen.push(p);
      const stop = visit(p + 1, units + gain, left - 1);
      chosen.pop();
      for (let j = 0; j < m; j++) sums[j] -= ats[l][j];
      if (stop) return true;
    }
    return false;
  };
  for (let size = 1; size <= Math.min(maxSplit, n); size++) if (visit(0, 0, size)) break;
  return { best, capped };
}

/** When the search is capped: add the location adding the most units, best-ranked on ties. */
function greedy(ctx: Context, useful: readonly number[], maxSplit: number): SetChoice {
  const chosen: number[] = [];
  let units = 0;
  while (chosen.length < maxSplit) {
    let pick = -1;
    let pickUnits = units;
    for (const l of useful) {
      if (chosen.includes(l)) continue;
      const u = unitsOf(ctx, [...chosen, l]);
      if (u > pickUnits) {
        pick = l;
        pickUnits = u;
      }
    }
    if (pick < 0) break;
    chosen.push(pick);
    units = pickUnits;
    if (units === ctx.total) break;
  }
  const order = new Map(useful.map((l, i) => [l, i]));
  chosen.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
  return { set: chosen, units };
}

function evaluate(ctx: Context, strategy: Strategy, fallback: boolean): Evaluation {
  const outcome = (code: ReasonCode, reason: string): StrategyOutcome => ({
    strategy: strategy.name,
    fallback,
    code,
    reason,
  });
  const skip = (code: ReasonCode, reason: string): Evaluation => ({
    maxSplit: 0,
    ranked: [],
    outcome: outcome(code, reason),
  });
  if (strategy.status === 'INACTIVE') return skip('INACTIVE', 'strategy is INACTIVE');
  const failed = (strategy.when ?? []).find((c) => !conditionHolds(c, ctx.order));
  if (failed) return skip('CONDITIONS', `conditions not met: ${describeCondition(failed, ctx.order)}`);
  const { ranked, excluded } = rank(ctx, strategy);
  if (ranked.length === 0) {
    const why = [...excluded]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([label, n]) => `${n} ${label}`)
      .join(', ');
    return skip('NO_CANDIDATE', `no candidate location (${why || 'no locations given'})`);
  }
  const maxSplit = strategy.maxSplit ?? ctx.config.maxSplit ?? 1;
  const useful = ranked.filter((r) => ctx.fill[r.loc] > 0).map((r) => r.loc);
  // Most units any set could ship: the order's units, capped per product by the candidates' stock.
  const shortages: string[] = [];
  let target = 0;
  for (let j = 0; j < ctx.need.length; j++) {
    let have = 0;
    for (const l of useful) have += ctx.ats[l][j];
    target += Math.min(ctx.need[j], have);
    if (have < ctx.need[j]) {
      shortages.push(
        `short of ${ctx.skus[j]} by ${ctx.need[j] - have} (${ctx.need[j]} ordered, ${have} available at ` +
          `${plural(ranked.length, 'candidate location')})`,
      );
    }
  }
  const short =
    shortages.length === 0
      ? undefined
      : outcome(
          'SHORT',
          (shortages.length > 5
            ? [...shortages.slice(0, 5), `${shortages.length - 5} more`]
            : shortages
          ).join('; '),
        );
  // A short strategy that may not commit partially needs no search.
  if (short && strategy.commit !== 'ALLOW_PARTIAL') return { maxSplit, ranked, outcome: short };
  const found = search(ctx, useful, maxSplit, target);
  let best = found.best;
  if (found.capped) {
    const g = greedy(ctx, useful, maxSplit);
    if (!best || g.units > best.units) best = g;
  }
  if (best && best.units === ctx.total) return { maxSplit, ranked, full: best.set };
  const bestText = best
    ? `best: ${best.units} of ${ctx.total} units from ${plural(best.set.length, 'location')}`
    : 'no candidate has any of it';
  const result =
    short ??
    (found.capped
      ? outcome(
          'SEARCH_LIMIT',
          `no whole-order set found within the search limit of ${ctx.limit} location sets (${bestText})`,
        )
      : outcome(
          'MAX_SPLIT',
          `no set of up to ${plural(maxSplit, 'location')} holds the whole order (${bestText})`,
        ));
  return { maxSplit, ranked, outcome: result, best: best && best.units > 0 ? best : undefined };
}

function allocate(
  ctx: Context,
  set: readonly number[],
): { shipments: Array<{ loc: number; lines: PlanLine[] }>; remainder: PlanLine[] } {
  const left = set.map((l) => ctx.ats[l].slice());
  const shipments = set.map((loc) => ({ loc, lines: [] as PlanLine[] }));
  const remainder: PlanLine[] = [];
  for (const line of ctx.lines) {
    let remaining = line.quantity;
    for (let s = 0; s < set.length && remaining > 0; s++) {
      const take = Math.min(remaining, left[s][line.skuIndex]);
      if (take <= 0) continue;
      shipments[s].lines.push({ lineRef: line.lineRef, sku: line.sku, quantity: take });
      left[s][line.skuIndex] -= take;
      remaining -= take;
    }
    if (remaining > 0) remainder.push({ lineRef: line.lineRef, sku: line.sku, quantity: remaining });
  }
  return { shipments: shipments.filter((f) => f.lines.length > 0), remainder };
}

function plan(
  ctx: Context,
  strategy: Strategy,
  fallback: boolean,
  ranking: Ranking,
  set: readonly number[],
  tried: StrategyOutcome[],
): RoutingPlan {
  const { shipments, remainder } = allocate(ctx, set);
  const position = new Map(ranking.ranked.map((r, i) => [r.loc, i]));
  const fulfilments = shipments.map((s): Fulfilment => ({
    locationRef: ctx.locations[s.loc].ref,
    lines: s.lines,
  }));
  const explanation = shipments.map(({ loc, lines }): LocationExplanation => {
    const i = position.get(loc) ?? 0;
    const skus = [...new Set(lines.map((line) => line.sku))];
    return {
      locationRef: ctx.locations[loc].ref,
      strategy: strategy.name,
      rank: i + 1,
      candidates: ranking.ranked.length,
      criteria: ranking.ranked[i].scores,
      stock: skus.map((sku) => {
        const j = ctx.skus.indexOf(sku);
        const onHand = ctx.onHand[loc][j];
        const reserved = ctx.reserved[loc][j];
        const ats = ctx.ats[loc][j];
        const buffer = Math.max(0, onHand - Math.max(0, reserved) - ats);
        return { sku, onHand, reserved, buffer, bufferFrom: ctx.buffers[loc].source, ats };
      }),
    };
  });
  const shippedUnits = ctx.total - remainder.reduce((sum, r) => sum + r.quantity, 0);
  const refs = fulfilments.map((f) => f.locationRef).join(', ');
  const complete = remainder.length === 0;
  const head = `${fallback ? 'Fallback' : 'Strategy'} "${strategy.name}"`;
  const from = `from ${plural(fulfilments.length, 'location')} (${refs})`;
  const summary = complete
    ? `${head} ships the whole order (${plural(ctx.total, 'unit')}) ${from}`
    : `${head} ships ${shippedUnits} of ${plural(ctx.total, 'unit')} ${from}; ${ctx.total - shippedUnits} unsourced`;
  return {
    kind: 'plan',
    strategy: strategy.name,
    fallback,
    complete,
    maxSplit: ranking.maxSplit,
    fulfilments,
    remainder,
    explanation,
    tried,
    origin: ctx.origin,
    summary,
  };
}

/**
 * Sources an order: a plan (locations, lines, quantities; partial when a strategy allows it) or a
 * backorder with each strategy's reason. `config` must have passed parseRoutingConfig.
 */
export function routeOrder(
  order: Order,
  locations: readonly Location[],
  inventory: readonly InventoryPosition[],
  config: RoutingConfig,
  options: RouteOptions = {},
): RoutingResult {
  const ctx = buildContext(order, locations, inventory, config, options);
  if (ctx.lines.length === 0) {
    return {
      kind: 'plan',
      strategy: null,
      fallback: false,
      complete: true,
      maxSplit: 0,
      fulfilments: [],
      remainder: [],
      explanation: [],
      tried: [],
      origin: ctx.origin,
      summary: 'Nothing to source: the order has no product lines',
    };
  }
  const tried: StrategyOutcome[] = [];
  let partial: { strategy: Strategy; ranking: Ranking; set: number[] } | undefined;
  for (const strategy of config.strategies) {
    const evaluation = evaluate(ctx, strategy, false);
    if (evaluation.full) return plan(ctx, strategy, false, evaluation, evaluation.full, tried);
    tried.push(evaluation.outcome);
    if (!partial && strategy.commit === 'ALLOW_PARTIAL' && evaluation.best) {
      partial = { strategy, ranking: evaluation, set: evaluation.best.set };
    }
  }
  if (partial) return plan(ctx, partial.strategy, false, partial.ranking, partial.set, tried);
  if (config.fallback) {
    const strategy = config.fallback;
    const evaluation = evaluate(ctx, strategy, true);
    if (evaluation.full) return plan(ctx, strategy, true, evaluation, evaluation.full, tried);
    tried.push(evaluation.outcome);
    if (strategy.commit === 'ALLOW_PARTIAL' && evaluation.best) {
      return plan(ctx, strategy, true, evaluation, evaluation.best.set, tried);
    }
  }
  return {
    kind: 'backorder',
    reasons: tried,
    remainder: ctx.lines.map((l) => ({ lineRef: l.lineRef, sku: l.sku, quantity: l.quantity })),
    origin: ctx.origin,
    summary: `Backordered: ${tried.map((t) => `"${t.strategy}" ${t.reason}`).join('; ')}`,
  };
}

/** What msg.oms.routing carries: the outcome, who chose, why, and what every strategy said. */
export interface RoutingExplanation {
  outcome: 'allocated' | 'partial' | 'backordered';
  strategy: string | null;
  fallback: boolean;
  summary: string;
  locations: LocationExplanation[];
  tried: StrategyOutcome[];
  origin: (GeoPoint & { source: string }) | null;
}

export function explainRouting(result: RoutingResult): RoutingExplanation {
  if (result.kind === 'backorder') {
    return {
      outcome: 'backordered',
      strategy: null,
      fallback: false,
      summary: result.summary,
      locations: [],
      tried: result.reasons,
      origin: result.origin,
    };
  }
  return {
    outcome: result.complete ? 'allocated' : 'partial',
    strategy: result.strategy,
    fallback: result.fallback,
    summary: result.summary,
    locations: result.explanation,
    tried: result.tried,
    origin: result.origin,
  };
}
