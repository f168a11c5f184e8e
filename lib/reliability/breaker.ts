// Circuit breaker per peer endpoint: when most recent calls fail with retryable errors the peer
// is treated as down for a while, so hundreds of orders do not each wait out their own timeouts.

import type { Classification } from './classify';
import { formatDuration } from './policy';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Used in messages and CircuitOpenError, e.g. 'fluent:https://host'. */
  name?: string;
  /** Rolling window over which the failure ratio is measured. */
  windowMs?: number;
  /** Fewer calls than this in the window never open the circuit (one failure is not an outage). */
  minimumRequests?: number;
  /** Failed share of calls in the window (0..1) at or above which the circuit opens. */
  failureRatio?: number;
  /** How long the circuit stays open before trial calls are let through. */
  openMs?: number;
  /** Trial calls allowed at once while half-open. */
  halfOpenMaxCalls?: number;
  now?: () => number;
  onStateChange?: (from: BreakerState, to: BreakerState) => void;
}

export interface BreakerSnapshot {
  name?: string;
  state: BreakerState;
  /** Calls and failures counted in the current window. */
  requests: number;
  failures: number;
  openedAt?: number;
  nextTrialAt?: number;
  trialsInFlight: number;
}

export type BreakerPermit = { allowed: true } | { allowed: false; retryInMs: number };

export const DEFAULT_BREAKER_OPTIONS = Object.freeze({
  windowMs: 10_000,
  minimumRequests: 5,
  failureRatio: 0.5,
  openMs: 30_000,
  halfOpenMaxCalls: 1,
});

const BUCKETS = 10;
// While trials are running there is no better guess when to ask again than "shortly".
const TRIAL_BUSY_RETRY_MS = 1000;

/** Thrown (or reported) instead of calling a peer whose circuit is open. */
export class CircuitOpenError extends Error {
  override name = 'CircuitOpenError';
  // Own properties: Node-RED's msg.error copy keeps `code`, which the classifier reads.
  readonly code = 'OMS_CIRCUIT_OPEN';
  readonly retryable = true;
  constructor(
    readonly retryAfterMs: number,
    readonly endpoint?: string,
  ) {
    super(`circuit open${endpoint ? ` for ${endpoint}` : ''}; next trial in ${formatDuration(retryAfterMs)}`);
  }
}

interface Bucket {
  start: number;
  requests: number;
  failures: number;
}

export class CircuitBreaker {
  readonly name?: string;
  private readonly windowMs: number;
  private readonly bucketMs: number;
  private readonly minimumRequests: number;
  private readonly failureRatio: number;
  private readonly openMs: number;
  private readonly halfOpenMaxCalls: number;
  private readonly now: () => number;
  private readonly onStateChange?: (from: BreakerState, to: BreakerState) => void;

  private current: BreakerState = 'closed';
  private buckets: Bucket[] = [];
  private openedAt?: number;
  private trials: number[] = []; // start times of trial calls in flight

  constructor(options: BreakerOptions = {}) {
    const d = DEFAULT_BREAKER_OPTIONS;
    this.name = options.name;
    this.windowMs = positive(options.windowMs, d.windowMs);
    this.bucketMs = this.windowMs / BUCKETS;
    this.minimumRequests = Math.max(1, Math.floor(positive(options.minimumRequests, d.minimumRequests)));
    this.failureRatio = Math.min(1, positive(options.failureRatio, d.failureRatio));
    this.openMs = nonNegative(options.openMs, d.openMs);
    this.halfOpenMaxCalls = Math.max(1, Math.floor(positive(options.halfOpenMaxCalls, d.halfOpenMaxCalls)));
    this.now = options.now ?? Date.now;
    this.onStateChange = options.onStateChange;
  }

  get state(): BreakerState {
    return this.current;
  }

  /** Asks before calling the peer. A permit given while half-open is a trial: report its outcome. */
  canRequest(): BreakerPermit {
    const now = this.now();
    if (this.current === 'open') {
      const nextTrialAt = (this.openedAt ?? now) + this.openMs;
      if (now < nextTrialAt) return { allowed: false, retryInMs: nextTrialAt - now };
      this.transition('half-open');
    }
    if (this.current === 'half-open') {
      // A trial whose outcome never came back (caller crashed or forgot) must not block for ever.
      this.trials = this.trials.filter((startedAt) => now - startedAt < Math.max(this.openMs, 1));
      if (this.trials.length >= this.halfOpenMaxCalls) {
        return { allowed: false, retryInMs: Math.min(TRIAL_BUSY_RETRY_MS, Math.max(this.openMs, 1)) };
      }
      this.trials.push(now);
    }
    return { allowed: true };
  }

  onSuccess(): void {
    if (this.current === 'half-open') {
      this.close();
      return;
    }
    if (this.current === 'closed') this.record(false);
  }

  /**
   * Reports a failed call. Only retryable failures count: a permanent one (a 400, bad data) means
   * the peer answered, so it counts as a success for the peer's health.
   */
  onFailure(classification?: Classification): void {
    if (classification?.kind === 'permanent') {
      this.onSuccess();
      return;
    }
    if (this.current === 'half-open') {
      this.open();
      return;
    }
    if (this.current !== 'closed') return;
    this.record(true);
    const { requests, failures } = this.counts();
    if (requests >= this.minimumRequests && failures / requests >= this.failureRatio) this.open();
  }

  /** Forces the circuit closed and forgets history (e.g. an operator's "reset"). */
  reset(): void {
    this.close();
  }

  snapshot(): BreakerSnapshot {
    const { requests, failures } = this.counts();
    const snap: BreakerSnapshot = {
      state: this.current,
      requests,
      failures,
      trialsInFlight: this.trials.length,
    };
    if (this.name !== undefined) snap.name = this.name;
    if (this.openedAt !== undefined && this.current !== 'closed') {
      snap.openedAt = this.openedAt;
      snap.nextTrialAt = this.openedAt + this.openMs;
    }
    return snap;
  }

  private open(): void {
    this.openedAt = this.now();
    this.trials = [];
    this.transition('open');
  }

  private close(): void {
    this.openedAt = undefined;
    this.trials = [];
    this.buckets = [];
    this.transition('closed');
  }

  private transition(to: BreakerState): void {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    try {
      this.onStateChange?.(from, to);
    } catch {
      // A failing status/log callback must not change the outcome of the call being made.
    }
  }

  private record(failed: boolean): void {
    const now = this.now();
    this.prune(now);
    const start = Math.floor(now / this.bucketMs) * this.bucketMs;
    let bucket = this.buckets[this.buckets.length - 1];
    // A clock that steps back (injected or adjusted) reuses the newest bucket.
    if (!bucket || start > bucket.start) {
      bucket = { start, requests: 0, failures: 0 };
      this.buckets.push(bucket);
    }
    bucket.requests += 1;
    if (failed) bucket.failures += 1;
  }

  private prune(now: number): void {
    while (this.buckets.length > 0 && this.buckets[0].start + this.bucketMs <= now - this.windowMs) {
      this.buckets.shift();
    }
  }

  private counts(): { requests: number; failures: number } {
    this.prune(this.now());
    let requests = 0;
    let failures = 0;
    for (const b of this.buckets) {
      requests += b.requests;
      failures += b.failures;
    }
    return { requests, failures };
  }
}

function positive(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}

function nonNegative(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback;
}

export interface BreakerRegistryOptions extends Omit<BreakerOptions, 'name' | 'onStateChange'> {
  onStateChange?: (endpointKey: string, from: BreakerState, to: BreakerState) => void;
}

/** One breaker per endpoint key (e.g. 'fluent:https://host'), shared by every caller of that peer. */
export class BreakerRegistry {
  private readonly breakers = new Map<string, CircuitBreaker>();

  constructor(private readonly options: BreakerRegistryOptions = {}) {}

  get(endpointKey: string): CircuitBreaker {
    let breaker = this.breakers.get(endpointKey);
    if (!breaker) {
      const { onStateChange, ...rest } = this.options;
      breaker = new CircuitBreaker({
        ...rest,
        name: endpointKey,
        onStateChange: onStateChange ? (from, to) => onStateChange(endpointKey, from, to) : undefined,
      });
      this.breakers.set(endpointKey, breaker);
    }
    return breaker;
  }

  snapshot(): Array<BreakerSnapshot & { name: string }> {
    return [...this.breakers.entries()].map(([name, b]) => ({ ...b.snapshot(), name }));
  }
}
