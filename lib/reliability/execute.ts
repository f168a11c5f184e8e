// In-process retry loop for peer clients: per-attempt timeout, breaker, backoff between attempts.
// The decisions come from the pure decideRetry; only waiting and cancelling live here.

import { CircuitOpenError, type CircuitBreaker } from './breaker';
import { classifyError, type Classification, type Classifier } from './classify';
import { decideRetry, formatDuration, type GiveUpReason, type RetryPolicy } from './policy';

export interface RetryInfo {
  /** The attempt that failed, 1-based. */
  attempt: number;
  error: unknown;
  classification: Classification;
  delayMs: number;
  dueAt: number;
  explanation: string;
}

export interface WithRetryOptions {
  policy: RetryPolicy;
  classifier?: Classifier;
  /** Consulted before each attempt; told the outcome of each attempt it allowed. */
  breaker?: CircuitBreaker;
  /** Cancels the whole operation: rejects promptly with an AbortError. */
  signal?: AbortSignal;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
  random?: () => number;
  onRetry?: (info: RetryInfo) => void;
  /** Per attempt; 0 or absent = no timeout. */
  timeoutMs?: number;
}

/** An attempt ran past `timeoutMs`; retryable (recognised by code after Node-RED copies it). */
export class AttemptTimeoutError extends Error {
  override name = 'TimeoutError';
  readonly code = 'OMS_TIMEOUT';
  readonly retryable = true;
  constructor(
    readonly timeoutMs: number,
    readonly attempt: number,
  ) {
    super(`attempt ${attempt} timed out after ${formatDuration(timeoutMs)}`);
  }
}

/** Retries were given up on a retryable error; `cause` is the last error. */
export class RetryExhaustedError extends Error {
  override name = 'RetryExhaustedError';
  readonly code = 'OMS_RETRY_EXHAUSTED';
  // The last error was retryable: a later, flow-level retry (oms-retry) may still succeed.
  readonly retryable = true;
  constructor(
    message: string,
    readonly attempts: number,
    readonly classification: Classification,
    readonly reason: Exclude<GiveUpReason, 'permanent'>,
    cause: unknown,
  ) {
    super(message, { cause });
  }
}

/** The operation was cancelled through the caller's signal. */
export class AbortError extends Error {
  override name = 'AbortError';
  readonly code = 'ABORT_ERR';
  constructor(reason?: unknown) {
    super('the operation was aborted', reason === undefined ? undefined : { cause: reason });
  }
}

// setTimeout fires at once for delays above 2^31-1 ms, so long waits are chained.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Waits `ms`, rejecting with AbortError as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortError(signal.reason));
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    let remaining = Math.max(0, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortError(signal?.reason));
    };
    const step = (): void => {
      if (remaining <= 0) {
        signal?.removeEventListener('abort', onAbort);
        resolve();
        return;
      }
      const chunk = Math.min(remaining, MAX_TIMER_MS);
      remaining -= chunk;
      timer = setTimeout(step, chunk);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    step();
  });
}

/** Runs one attempt, rejecting on per-attempt timeout or external abort even if fn ignores its signal. */
function runAttempt<T>(
  fn: (attempt: number, signal: AbortSignal) => Promise<T>,
  attempt: number,
  timeoutMs: number,
  outer?: AbortSignal,
): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      cleanup();
      const error = new AbortError(outer?.reason);
      controller.abort(error);
      reject(error);
    };
    outer?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs > 0) {
      timer = setTimeout(
        () => {
          cleanup();
          const error = new AttemptTimeoutError(timeoutMs, attempt);
          controller.abort(error);
          reject(error);
        },
        Math.min(timeoutMs, MAX_TIMER_MS),
      );
    }
    // A late settlement after timeout/abort is ignored (the promise is already settled), and the
    // extra handlers keep it from surfacing as an unhandled rejection.
    Promise.resolve()
      .then(() => fn(attempt, controller.signal))
      .then(
        (value) => {
          cleanup();
          resolve(value);
        },
        (error: unknown) => {
          cleanup();
          reject(error);
        },
      );
  });
}

function annotatePermanent(error: unknown, attempts: number, classification: Classification): void {
  if (typeof error !== 'object' || error === null) return;
  try {
    Object.assign(error, { retryable: false, attempts, classification });
  } catch {
    // Frozen or exotic error objects are rethrown as they are.
  }
}

/**
 * Calls `fn` until it succeeds or the policy gives up. A permanent error is rethrown as is,
 * annotated with `retryable = false` and `attempts`; running out of attempts or time throws a
 * RetryExhaustedError whose cause is the last error. The deadline counts from the first attempt.
 * An open breaker counts as a failed attempt (fn is not called) and waits for its next trial.
 */
export async function withRetry<T>(
  fn: (attempt: number, signal: AbortSignal) => Promise<T>,
  options: WithRetryOptions,
): Promise<T> {
  const { policy, classifier, breaker, signal } = options;
  const now = options.now ?? Date.now;
  const wait = options.sleep ?? sleep;
  const startedAt = now();
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw new AbortError(signal.reason);
    let error: unknown;
    let classification: Classification;
    const permit = breaker ? breaker.canRequest() : { allowed: true as const };
    if (!permit.allowed) {
      error = new CircuitOpenError(permit.retryInMs, breaker?.name);
      classification = classifyError(error, now(), classifier);
    } else {
      try {
        const result = await runAttempt(fn, attempt, options.timeoutMs ?? 0, signal);
        breaker?.onSuccess();
        return result;
      } catch (e) {
        // Cancellation is the caller's decision, not the peer's failure: no breaker, no retry.
        if (signal?.aborted) throw e instanceof AbortError ? e : new AbortError(signal.reason);
        error = e;
        classification = classifyError(error, now(), classifier);
        breaker?.onFailure(classification);
      }
    }
    const decision = decideRetry({
      policy,
      attempt,
      firstFailureAt: startedAt,
      now: now(),
      error,
      classification,
      random: options.random,
    });
    if (!decision.retry) {
      if (decision.reason === 'permanent') {
        annotatePermanent(error, attempt, classification);
        throw error;
      }
      throw new RetryExhaustedError(decision.explanation, attempt, classification, decision.reason, error);
    }
    options.onRetry?.({
      attempt,
      error,
      classification,
      delayMs: decision.delayMs,
      dueAt: decision.dueAt,
      explanation: decision.explanation,
    });
    await wait(decision.delayMs, signal);
  }
}
