// Strategy conditions: a field path into the canonical order, an operator and a value.
import type { Condition } from './config';

/**
 * The values a path names. `a.b[0].c` names at most one value; `lines[*].sku` names one per line.
 * Missing steps (and null) yield nothing, so a condition on an absent field sees no value.
 */
export function resolvePath(root: unknown, path: string): unknown[] {
  let current: unknown[] = [root];
  const steps = path.match(/[^.[\]]+|\[(?:\d+|\*)\]/g) ?? [];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const value of current) {
      if (value === null || typeof value !== 'object') continue;
      if (step === '[*]') {
        if (Array.isArray(value)) next.push(...(value as unknown[]));
        else next.push(...(Object.values(value) as unknown[]));
      } else if (step.startsWith('[')) {
        if (Array.isArray(value)) next.push(value[Number(step.slice(1, -1))]);
      } else if (Object.hasOwn(value, step)) {
        next.push((value as Record<string, unknown>)[step]);
      }
    }
    current = next.filter((v) => v !== undefined && v !== null);
  }
  return current;
}

function numeric(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** Equality that lets a numeric custom attribute ("5") equal the number 5. */
function equal(actual: unknown, expected: unknown): boolean {
  if (actual === expected) return true;
  if (typeof actual === 'number' || typeof expected === 'number') {
    const a = numeric(actual);
    const b = numeric(expected);
    return a !== undefined && b !== undefined && a === b;
  }
  return false;
}

/** -1, 0, 1, or undefined when the two cannot be ordered (numbers first, else text). */
function compare(actual: unknown, expected: unknown): number | undefined {
  const a = numeric(actual);
  const b = numeric(expected);
  if (a !== undefined && b !== undefined) return Math.sign(a - b);
  if (typeof actual === 'string' && typeof expected === 'string') {
    return actual < expected ? -1 : actual > expected ? 1 : 0;
  }
  return undefined;
}

function holdsFor(condition: Condition, actual: unknown): boolean {
  switch (condition.op) {
    case 'eq':
      return equal(actual, condition.value);
    case 'ne':
      return !equal(actual, condition.value);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const c = compare(actual, condition.value);
      if (c === undefined) return false;
      return condition.op === 'gt'
        ? c > 0
        : condition.op === 'gte'
          ? c >= 0
          : condition.op === 'lt'
            ? c < 0
            : c <= 0;
    }
    case 'in':
      return condition.value.some((v) => equal(actual, v));
    case 'notIn':
      return !condition.value.some((v) => equal(actual, v));
    case 'contains':
      if (typeof actual === 'string') return actual.includes(String(condition.value));
      if (Array.isArray(actual)) return actual.some((v) => equal(v, condition.value));
      return false;
    case 'exists':
      return true;
  }
}

/**
 * Whether a condition holds on the order. With several values (a `[*]` path) scope 'any' (the
 * default) needs one to match and 'all' needs every one. With no value: `exists` is false (true
 * for `value: false`), `ne` and `notIn` hold, every other operator fails.
 */
export function conditionHolds(condition: Condition, root: unknown): boolean {
  const values = resolvePath(root, condition.path);
  if (condition.op === 'exists') return values.length > 0 === (condition.value ?? true);
  if (values.length === 0) return condition.op === 'ne' || condition.op === 'notIn';
  return condition.scope === 'all'
    ? values.every((v) => holdsFor(condition, v))
    : values.some((v) => holdsFor(condition, v));
}

function show(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : (JSON.stringify(value) ?? String(value));
}

/** "totals.grandTotal gte 50000 (found 1999)" for backorder reasons and explanations. */
export function describeCondition(condition: Condition, root: unknown): string {
  const values = resolvePath(root, condition.path);
  const expected = condition.op === 'exists' ? '' : ` ${show(condition.value)}`;
  const found =
    values.length === 0
      ? 'absent'
      : values.length === 1
        ? show(values[0])
        : `[${values.slice(0, 5).map(show).join(', ')}${values.length > 5 ? ', …' : ''}]`;
  const scope = condition.scope === 'all' ? ' (all)' : '';
  return `${condition.path} ${condition.op}${expected}${scope} (found ${found})`;
}
