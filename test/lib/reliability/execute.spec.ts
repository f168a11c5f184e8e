import assert from 'node:assert/strict';
import { CircuitBreaker, CircuitOpenError } from '../../../lib/reliability/breaker';
import {
  AbortError,
  AttemptTimeoutError,
  RetryExhaustedError,
  sleep,
  withRetry,
  type RetryInfo,
  type WithRetryOptions,
} from '../../../lib/reliability/execute';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../../../lib/reliability/policy';

const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, initialDelayMs: 100, jitter: 'none', attempts: 4 };
const reset = (): Error => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
const http = (status: number): Error => Object.assign(new Error(`HTTP ${status}`), { status });

/** A fake clock whose sleep records the delay and advances time instead of waiting. */
function fakeTime(): {
  clock: { t: number };
  delays: number[];
  options: Pick<WithRetryOptions, 'now' | 'sleep'>;
} {
  const clock = { t: 0 };
  const delays: number[] = [];
  return {
    clock,
    delays,
    options: {
      now: () => clock.t,
      sleep: async (ms) => {
        delays.push(ms);
        clock.t += ms;
      },
    },
  };
}

/** Fails with the given errors in turn, then returns 'ok'. */
function failing(...errors: Error[]): { fn: (attempt: number) => Promise<string>; calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    fn: async (attempt) => {
      calls.push(attempt);
      const e = errors[calls.length - 1];
      if (e) throw e;
      return 'ok';
    },
  };
}

describe('lib/reliability/execute', () => {
  it('succeeds after transient failures, backing off between attempts', async () => {
    const time = fakeTime();
    const { fn, calls } = failing(reset(), http(503));
    const retries: RetryInfo[] = [];
    const result = await withRetry(fn, { policy, ...time.options, onRetry: (i) => retries.push(i) });
    assert.equal(result, 'ok');
    assert.deepEqual(calls, [1, 2, 3]);
    assert.deepEqual(time.delays, [100, 200]);
    assert.deepEqual(
      retries.map((r) => [r.attempt, r.classification.reason, r.delayMs, r.dueAt]),
      [
        [1, 'ECONNRESET', 100, 100],
        [2, 'HTTP 503', 200, 300],
      ],
    );
    assert.match(retries[1].explanation, /attempt 2 of 4 failed with HTTP 503/);
  });

  it('applies jitter from the injected random', async () => {
    const time = fakeTime();
    const { fn } = failing(reset(), reset());
    await withRetry(fn, { policy: { ...policy, jitter: 'full' }, ...time.options, random: () => 0.5 });
    assert.deepEqual(time.delays, [50, 100]);
  });

  it('honours Retry-After from the error', async () => {
    const time = fakeTime();
    const { fn } = failing(Object.assign(http(429), { headers: { 'Retry-After': '3' } }));
    await withRetry(fn, { policy, ...time.options });
    assert.deepEqual(time.delays, [3000]);
  });

  it('stops at once on a permanent error and rethrows it annotated', async () => {
    const time = fakeTime();
    const original = http(400);
    const { fn, calls } = failing(original);
    await assert.rejects(withRetry(fn, { policy, ...time.options }), (e: unknown) => {
      assert.equal(e, original);
      assert.equal((e as { retryable?: boolean }).retryable, false);
      assert.equal((e as { attempts?: number }).attempts, 1);
      return true;
    });
    assert.deepEqual(calls, [1]);
    assert.deepEqual(time.delays, []);
  });

  it('throws RetryExhaustedError with the last error when attempts run out', async () => {
    const time = fakeTime();
    const last = http(503);
    const { fn, calls } = failing(reset(), reset(), reset(), last);
    await assert.rejects(withRetry(fn, { policy, ...time.options }), (e: unknown) => {
      assert.ok(e instanceof RetryExhaustedError);
      assert.equal(e.code, 'OMS_RETRY_EXHAUSTED');
      assert.equal(e.reason, 'attempts-exhausted');
      assert.equal(e.attempts, 4);
      assert.equal(e.cause, last);
      assert.equal(e.classification.reason, 'HTTP 503');
      assert.match(e.message, /attempt 4 of 4 failed with HTTP 503/);
      return true;
    });
    assert.equal(calls.length, 4);
    assert.deepEqual(time.delays, [100, 200, 400]);
  });

  it('gives up when the next wait would pass the deadline', async () => {
    const time = fakeTime();
    const { fn, calls } = failing(reset(), reset(), reset());
    await assert.rejects(
      withRetry(fn, { policy: { ...policy, deadlineMs: 250 }, ...time.options }),
      (e: unknown) => {
        assert.ok(e instanceof RetryExhaustedError);
        assert.equal(e.reason, 'deadline-exceeded');
        assert.equal(e.attempts, 2);
        return true;
      },
    );
    assert.deepEqual(calls, [1, 2]);
  });

  it('handles a function that throws synchronously', async () => {
    const time = fakeTime();
    let n = 0;
    const result = await withRetry(
      () => {
        n += 1;
        if (n === 1) throw reset();
        return Promise.resolve(n);
      },
      { policy, ...time.options },
    );
    assert.equal(result, 2);
  });

  it('times out an attempt, aborts its signal and retries', async () => {
    const time = fakeTime();
    const signals: AbortSignal[] = [];
    const result = await withRetry(
      (attempt, signal) => {
        signals.push(signal);
        // the first attempt hangs and ignores its signal; only the timeout can end it
        return attempt === 1 ? new Promise<string>(() => undefined) : Promise.resolve('second');
      },
      { policy, ...time.options, timeoutMs: 10 },
    );
    assert.equal(result, 'second');
    assert.equal(signals[0].aborted, true);
    assert.ok(signals[0].reason instanceof AttemptTimeoutError);
    assert.equal(signals[1].aborted, false);
  });

  it('reports a timeout as OMS_TIMEOUT when it is the last attempt', async () => {
    const time = fakeTime();
    await assert.rejects(
      withRetry(() => new Promise<never>(() => undefined), {
        policy: { ...policy, attempts: 1 },
        ...time.options,
        timeoutMs: 5,
      }),
      (e: unknown) => {
        assert.ok(e instanceof RetryExhaustedError);
        assert.ok(e.cause instanceof AttemptTimeoutError);
        assert.equal(e.cause.code, 'OMS_TIMEOUT');
        assert.equal(e.classification.kind, 'retryable');
        return true;
      },
    );
  });

  it('rejects promptly with AbortError when the caller aborts during an attempt', async () => {
    const controller = new AbortController();
    let attemptSignal: AbortSignal | undefined;
    const running = withRetry(
      (_attempt, signal) => {
        attemptSignal = signal;
        setImmediate(() => controller.abort());
        return new Promise<never>(() => undefined); // ignores its signal
      },
      { policy, signal: controller.signal },
    );
    await assert.rejects(running, (e: unknown) => e instanceof AbortError && e.name === 'AbortError');
    assert.equal(attemptSignal?.aborted, true);
  });

  it('rejects promptly with AbortError when the caller aborts during the backoff wait', async () => {
    const controller = new AbortController();
    let calls = 0;
    const running = withRetry(
      async () => {
        calls += 1;
        throw reset();
      },
      {
        policy: { ...policy, initialDelayMs: 3_600_000, maxDelayMs: 3_600_000, deadlineMs: 0 },
        signal: controller.signal,
        onRetry: () => setImmediate(() => controller.abort()),
      },
    );
    await assert.rejects(running, AbortError);
    assert.equal(calls, 1);
  });

  it('does not call fn at all when already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    let calls = 0;
    await assert.rejects(
      withRetry(
        async () => {
          calls += 1;
        },
        { policy, signal: controller.signal },
      ),
      AbortError,
    );
    assert.equal(calls, 0);
  });

  it('short-circuits while the breaker is open', async () => {
    const time = fakeTime();
    const breaker = new CircuitBreaker({ now: () => time.clock.t, minimumRequests: 1 });
    breaker.onFailure();
    let calls = 0;
    const fn = async (): Promise<string> => {
      calls += 1;
      return 'ok';
    };
    await assert.rejects(
      withRetry(fn, { policy: { ...policy, attempts: 1 }, breaker, ...time.options }),
      (e: unknown) => {
        assert.ok(e instanceof RetryExhaustedError);
        assert.ok(e.cause instanceof CircuitOpenError);
        assert.equal(e.classification.reason, 'circuit open');
        return true;
      },
    );
    assert.equal(calls, 0);
    // with another attempt left it waits for the next trial, and the trial's success closes it
    time.clock.t += 10_000;
    assert.equal(await withRetry(fn, { policy, breaker, ...time.options }), 'ok');
    assert.deepEqual(time.delays, [20_000]);
    assert.equal(calls, 1);
    assert.equal(breaker.state, 'closed');
  });

  it('reports outcomes to the breaker: network failures trip it, a 400 does not', async () => {
    const time = fakeTime();
    const breaker = new CircuitBreaker({ now: () => time.clock.t, minimumRequests: 2 });
    const opts = { policy: { ...policy, attempts: 1 }, breaker, ...time.options };
    await assert.rejects(withRetry(() => Promise.reject(http(400)), opts));
    await assert.rejects(withRetry(() => Promise.reject(http(404)), opts));
    assert.equal(breaker.state, 'closed');
    await assert.rejects(withRetry(() => Promise.reject(reset()), opts));
    await assert.rejects(withRetry(() => Promise.reject(reset()), opts));
    assert.equal(breaker.state, 'open');
  });

  it('sleep resolves, and rejects at once on an aborted signal', async () => {
    await sleep(0);
    const controller = new AbortController();
    const waiting = sleep(3_600_000, controller.signal);
    controller.abort();
    await assert.rejects(waiting, AbortError);
  });
});
