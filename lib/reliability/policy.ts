// Retry policy and the pure decision "retry this failure, and when?". No timers here: the
// oms-retry node persists attempts in the store and calls decideRetry after a restart too.

import { classifyError, type Classification, type Classifier } from './classify';

export interface RetryPolicy {
  /** Total executions including the first; 0 = unlimited (then the deadline bounds retries). */
  attempts: number;
  initialDelayMs: number;
  multiplier: number;
  maxDelayMs: number;
  /** Overall limit measured from the first failure (or first attempt); 0 = none. */
  deadlineMs: number;
  /** 'full' = uniform in [0, computed delay] (AWS "full jitter"); spreads retries of many orders. */
  jitter: 'full' | 'none';
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  attempts: 5,
  initialDelayMs: 1000,
  multiplier: 2,
  maxDelayMs: 60_000,
  deadlineMs: 3_600_000,
  jitter: 'full',
});

const FIELDS: Record<keyof RetryPolicy, string> = {
  attempts: 'a whole number, 0 or more (0 means unlimited)',
  initialDelayMs: 'a whole number of milliseconds, 0 or more',
  multiplier: 'a number, 1 or more (1 keeps the delay constant)',
  maxDelayMs: 'a whole number of milliseconds, 0 or more',
  deadlineMs: 'a whole number of milliseconds, 0 or more (0 means no deadline)',
  jitter: "'full' or 'none'",
};

function show(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}

/** Reads a number field; editor config arrives as strings, so numeric text is accepted. */
function readNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') return Number(value.trim());
  return undefined;
}

/**
 * Validates user config into a complete policy. Missing or empty fields take the default; each
 * invalid field takes the default too and adds a sentence naming the field to `problems`.
 */
export function normalizePolicy(partial: unknown): { policy: RetryPolicy; problems: string[] } {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY };
  const problems: string[] = [];
  if (partial === undefined || partial === null) return { policy, problems };
  if (typeof partial !== 'object' || Array.isArray(partial)) {
    problems.push(`The retry policy must be an object; got ${show(partial)}, so the defaults are used.`);
    return { policy, problems };
  }
  const input = partial as Record<string, unknown>;
  const numeric: Array<[Exclude<keyof RetryPolicy, 'jitter'>, boolean, number]> = [
    ['attempts', true, 0],
    ['initialDelayMs', true, 0],
    ['multiplier', false, 1],
    ['maxDelayMs', true, 0],
    ['deadlineMs', true, 0],
  ];
  for (const [field, integer, min] of numeric) {
    const raw = input[field];
    if (raw === undefined || raw === null || raw === '') continue;
    const n = readNumber(raw);
    if (n === undefined || !Number.isFinite(n) || n < min || (integer && !Number.isSafeInteger(n))) {
      problems.push(
        `${field} must be ${FIELDS[field]}; got ${show(raw)}, so the default ${DEFAULT_RETRY_POLICY[field]} is used.`,
      );
      continue;
    }
    policy[field] = n;
  }
  const jitter = input.jitter;
  if (jitter === 'full' || jitter === 'none') policy.jitter = jitter;
  else if (jitter !== undefined && jitter !== null && jitter !== '') {
    problems.push(
      `jitter must be ${FIELDS.jitter}; got ${show(jitter)}, so '${DEFAULT_RETRY_POLICY.jitter}' is used.`,
    );
  }
  for (const key of Object.keys(input)) {
    if (!Object.hasOwn(FIELDS, key)) problems.push(`Unknown retry policy field "${key}" is ignored.`);
  }
  if (policy.maxDelayMs < policy.initialDelayMs) {
    problems.push(
      `maxDelayMs (${policy.maxDelayMs}) must not be less than initialDelayMs (${policy.initialDelayMs}); ` +
        `maxDelayMs ${policy.initialDelayMs} is used.`,
    );
    policy.maxDelayMs = policy.initialDelayMs;
  }
  return { policy, problems };
}

/** initial × multiplier^(attempt-1), capped; compared in log space so huge attempts never overflow. */
function cappedExponential(policy: RetryPolicy, attempt: number): number {
  const { initialDelayMs: initial, maxDelayMs: cap, multiplier } = policy;
  if (!(initial > 0) || !(cap > 0)) return 0;
  const exponent = Number.isFinite(attempt) ? Math.max(0, Math.floor(attempt) - 1) : Number.MAX_SAFE_INTEGER;
  if (!(multiplier > 1) || exponent === 0) return Math.min(initial, cap);
  if (exponent * Math.log(multiplier) >= Math.log(cap / initial)) return cap;
  const delay = initial * multiplier ** exponent;
  return Number.isFinite(delay) ? Math.min(delay, cap) : cap;
}

/**
 * Delay before the next attempt after `attempt` (1-based) failed. With full jitter it is uniform
 * in [0, capped delay]; `random` is injectable so tests and replays are deterministic.
 */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const capped = cappedExponential(policy, attempt);
  if (policy.jitter !== 'full') return Math.round(capped);
  const r = random();
  // A random source outside [0, 1) must not push the delay past the cap or below zero.
  const unit = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1 - Number.EPSILON) : 0;
  return Math.floor(unit * capped);
}

/** "250 ms", "4.2 s", "1 min 30 s", "2 h 5 min". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return 'forever';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`;
  const totalSeconds = Math.round(ms / 1000);
  if (totalSeconds < 3600) {
    const s = totalSeconds % 60;
    return `${Math.floor(totalSeconds / 60)} min${s ? ` ${s} s` : ''}`;
  }
  const totalMinutes = Math.round(ms / 60_000);
  const m = totalMinutes % 60;
  return `${Math.floor(totalMinutes / 60)} h${m ? ` ${m} min` : ''}`;
}

export interface DecideRetryInput {
  policy: RetryPolicy;
  /** The attempt that just failed, 1-based. */
  attempt: number;
  /** When the first failure (or first attempt) happened; defaults to `now` (this is the first). */
  firstFailureAt?: number;
  now: number;
  error: unknown;
  /** Falls back to defaultClassifier when it returns undefined. */
  classifier?: Classifier;
  /** Skips classification when the caller has already classified `error`. */
  classification?: Classification;
  random?: () => number;
}

export type GiveUpReason = 'permanent' | 'attempts-exhausted' | 'deadline-exceeded';

export type RetryDecision =
  | {
      retry: true;
      delayMs: number;
      dueAt: number;
      /** Where the delay came from: computed backoff or the peer's Retry-After. */
      reason: 'backoff' | 'retry-after';
      classification: Classification;
      explanation: string;
    }
  | { retry: false; reason: GiveUpReason; classification: Classification; explanation: string };

function describeFailure(attempt: number, policy: RetryPolicy, c: Classification): string {
  const of = policy.attempts > 0 ? ` of ${policy.attempts}` : ' (no attempt limit)';
  const detail = c.detail ? `: ${c.detail}` : '';
  return `attempt ${attempt}${of} failed with ${c.reason} (${c.kind}${detail})`;
}

/** Pure: given the failed attempt, its error and the time, says whether and when to try again. */
export function decideRetry(input: DecideRetryInput): RetryDecision {
  const { policy, now, error } = input;
  const attempt = Number.isFinite(input.attempt)
    ? Math.max(1, Math.floor(input.attempt))
    : Number.MAX_SAFE_INTEGER;
  const firstFailureAt = input.firstFailureAt ?? now;
  const classification = input.classification ?? classifyError(error, now, input.classifier);
  const failure = describeFailure(attempt, policy, classification);
  if (classification.kind === 'permanent') {
    return { retry: false, reason: 'permanent', classification, explanation: `${failure}; not retrying` };
  }
  if (policy.attempts > 0 && attempt >= policy.attempts) {
    return {
      retry: false,
      reason: 'attempts-exhausted',
      classification,
      explanation: `${failure}; no attempts left`,
    };
  }
  // Retry-After is the peer's explicit wish, so it is honoured even above maxDelayMs; only the
  // deadline limits it.
  const fromPeer = classification.retryAfterMs !== undefined;
  const delayMs = fromPeer
    ? Math.max(0, Math.round(classification.retryAfterMs as number))
    : backoffDelay(policy, attempt, input.random);
  const dueAt = now + delayMs;
  if (policy.deadlineMs > 0 && dueAt > firstFailureAt + policy.deadlineMs) {
    const left = Math.max(0, firstFailureAt + policy.deadlineMs - now);
    return {
      retry: false,
      reason: 'deadline-exceeded',
      classification,
      explanation:
        `${failure}; the next try in ${formatDuration(delayMs)} would pass the ` +
        `${formatDuration(policy.deadlineMs)} deadline (${formatDuration(left)} left)`,
    };
  }
  return {
    retry: true,
    delayMs,
    dueAt,
    reason: fromPeer ? 'retry-after' : 'backoff',
    classification,
    explanation: `${failure}; next in ${formatDuration(delayMs)}${fromPeer ? ' as the peer asked (Retry-After)' : ''}`,
  };
}
