import assert from 'node:assert/strict';
import {
  DEFAULT_RETRY_POLICY,
  backoffDelay,
  decideRetry,
  formatDuration,
  normalizePolicy,
  type RetryPolicy,
} from '../../../lib/reliability/policy';
import type { Classifier } from '../../../lib/reliability/classify';

const fixed: RetryPolicy = { ...DEFAULT_RETRY_POLICY, jitter: 'none' };
const http = (status: number, headers?: Record<string, string>): Error =>
  Object.assign(new Error(`HTTP ${status}`), { status, headers });

describe('lib/reliability/policy', () => {
  describe('normalizePolicy', () => {
    it('gives the defaults for missing config without problems', () => {
      assert.deepEqual(normalizePolicy(undefined), { policy: { ...DEFAULT_RETRY_POLICY }, problems: [] });
      assert.deepEqual(normalizePolicy({}).policy, {
        attempts: 5,
        initialDelayMs: 1000,
        multiplier: 2,
        maxDelayMs: 60000,
        deadlineMs: 3600000,
        jitter: 'full',
      });
    });

    it('accepts numbers and numeric editor strings', () => {
      const r = normalizePolicy({
        attempts: '3',
        initialDelayMs: 250,
        multiplier: '1.5',
        maxDelayMs: '',
        jitter: 'none',
      });
      assert.deepEqual(r.problems, []);
      assert.deepEqual(r.policy, {
        ...DEFAULT_RETRY_POLICY,
        attempts: 3,
        initialDelayMs: 250,
        multiplier: 1.5,
        jitter: 'none',
      });
    });

    it('explains each invalid field by name and falls back to its default', () => {
      const r = normalizePolicy({
        attempts: -1,
        initialDelayMs: 'abc',
        multiplier: 0.5,
        maxDelayMs: 1.5,
        deadlineMs: Infinity,
        jitter: 'half',
        atempts: 3,
      });
      assert.equal(r.problems.length, 7);
      for (const field of [
        'attempts',
        'initialDelayMs',
        'multiplier',
        'maxDelayMs',
        'deadlineMs',
        'jitter',
        'atempts',
      ]) {
        assert.ok(
          r.problems.some((p) => p.includes(field)),
          `no problem names ${field}`,
        );
      }
      assert.match(r.problems[0], /attempts must be a whole number.*got -1.*default 5/);
      assert.deepEqual(r.policy, { ...DEFAULT_RETRY_POLICY });
    });

    it('rejects fractional attempts but allows a fractional multiplier', () => {
      const r = normalizePolicy({ attempts: 2.5, multiplier: 1.25 });
      assert.equal(r.problems.length, 1);
      assert.match(r.problems[0], /^attempts/);
      assert.equal(r.policy.multiplier, 1.25);
    });

    it('raises maxDelayMs to initialDelayMs when it is smaller', () => {
      const r = normalizePolicy({ initialDelayMs: 5000, maxDelayMs: 1000 });
      assert.equal(r.problems.length, 1);
      assert.match(r.problems[0], /maxDelayMs \(1000\) must not be less than initialDelayMs \(5000\)/);
      assert.equal(r.policy.maxDelayMs, 5000);
    });

    it('rejects a non-object', () => {
      const r = normalizePolicy('fast');
      assert.equal(r.problems.length, 1);
      assert.match(r.problems[0], /must be an object/);
      assert.deepEqual(r.policy, { ...DEFAULT_RETRY_POLICY });
    });
  });

  describe('backoffDelay', () => {
    it('grows exponentially and stops at the cap', () => {
      const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((a) => backoffDelay(fixed, a));
      assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
      assert.equal(backoffDelay({ ...fixed, multiplier: 1.5, initialDelayMs: 100 }, 3), 225);
    });

    it('keeps full jitter inside [0, capped delay] with an injected random', () => {
      const full: RetryPolicy = { ...fixed, jitter: 'full' };
      assert.equal(
        backoffDelay(full, 3, () => 0),
        0,
      );
      assert.equal(
        backoffDelay(full, 3, () => 0.5),
        2000,
      );
      assert.equal(
        backoffDelay(full, 3, () => 0.999),
        3996,
      );
      const nearCap = backoffDelay(full, 50, () => 0.999);
      assert.ok(nearCap < 60000 && nearCap >= 59900, String(nearCap));
      // a broken random source cannot escape the bounds
      assert.ok(backoffDelay(full, 3, () => 1) < 4000);
      assert.equal(
        backoffDelay(full, 3, () => -3),
        0,
      );
      assert.equal(
        backoffDelay(full, 3, () => NaN),
        0,
      );
    });

    it('never gives NaN or Infinity for huge attempt numbers', () => {
      for (const a of [1e6, 2 ** 53, Number.MAX_VALUE, Infinity]) {
        assert.equal(backoffDelay(fixed, a), 60000, `attempt ${a}`);
      }
      assert.equal(backoffDelay({ ...fixed, multiplier: 1 }, Infinity), 1000);
      assert.equal(backoffDelay({ ...fixed, multiplier: 1e308 }, 3), 60000);
      assert.equal(backoffDelay({ ...fixed, initialDelayMs: 0 }, 1e9), 0);
      assert.equal(backoffDelay(fixed, NaN), 60000);
      assert.equal(backoffDelay(fixed, 0), 1000);
    });
  });

  describe('decideRetry', () => {
    const base = { policy: fixed, firstFailureAt: 0, now: 10_000 };

    it('retries a retryable error with the backoff delay and explains why', () => {
      const d = decideRetry({ ...base, attempt: 3, error: http(503) });
      assert.equal(d.retry, true);
      assert.ok(d.retry);
      assert.equal(d.delayMs, 4000);
      assert.equal(d.dueAt, 14_000);
      assert.equal(d.reason, 'backoff');
      assert.equal(d.classification.reason, 'HTTP 503');
      assert.equal(
        d.explanation,
        'attempt 3 of 5 failed with HTTP 503 (retryable: service unavailable); next in 4 s',
      );
    });

    it('uses the injected random for jitter', () => {
      const d = decideRetry({
        ...base,
        policy: DEFAULT_RETRY_POLICY,
        attempt: 3,
        error: http(500),
        random: () => 0.25,
      });
      assert.ok(d.retry);
      assert.equal(d.delayMs, 1000);
    });

    it('stops at once on a permanent error', () => {
      const d = decideRetry({ ...base, attempt: 1, error: http(400) });
      assert.equal(d.retry, false);
      assert.equal(d.reason, 'permanent');
      assert.equal(d.classification.kind, 'permanent');
      assert.match(
        d.explanation,
        /attempt 1 of 5 failed with HTTP 400 \(permanent: client error\); not retrying/,
      );
    });

    it('gives up when the attempts are used, and never with 0 = unlimited', () => {
      const d = decideRetry({ ...base, attempt: 5, error: http(503) });
      assert.equal(d.retry, false);
      assert.equal(d.reason, 'attempts-exhausted');
      assert.match(d.explanation, /attempt 5 of 5 .*no attempts left/);
      assert.equal(decideRetry({ ...base, attempt: 4, error: http(503) }).retry, true);
      const unlimited = decideRetry({
        ...base,
        policy: { ...fixed, attempts: 0, deadlineMs: 0 },
        attempt: 1e6,
        error: http(503),
      });
      assert.ok(unlimited.retry);
      assert.equal(unlimited.delayMs, 60000);
      assert.match(unlimited.explanation, /no attempt limit/);
    });

    it('gives up when the next try would pass the deadline', () => {
      const policy = { ...fixed, attempts: 0, deadlineMs: 60_000 };
      const ok = decideRetry({ policy, attempt: 2, firstFailureAt: 0, now: 57_000, error: http(503) });
      assert.ok(ok.retry);
      assert.equal(ok.dueAt, 59_000);
      const late = decideRetry({ policy, attempt: 2, firstFailureAt: 0, now: 58_001, error: http(503) });
      assert.equal(late.retry, false);
      assert.equal(late.reason, 'deadline-exceeded');
      assert.match(late.explanation, /would pass the 1 min deadline/);
      // no deadline: never exceeded
      assert.equal(
        decideRetry({
          policy: { ...policy, deadlineMs: 0 },
          attempt: 2,
          firstFailureAt: 0,
          now: 1e12,
          error: http(503),
        }).retry,
        true,
      );
    });

    it('defaults firstFailureAt to now', () => {
      const d = decideRetry({ policy: { ...fixed, deadlineMs: 1500 }, attempt: 1, now: 5, error: http(503) });
      assert.ok(d.retry);
      const d2 = decideRetry({ policy: { ...fixed, deadlineMs: 999 }, attempt: 1, now: 5, error: http(503) });
      assert.equal(d2.retry, false);
    });

    it('honours Retry-After above maxDelayMs but not past the deadline', () => {
      const error = http(429, { 'Retry-After': '120' });
      const d = decideRetry({ ...base, attempt: 1, error });
      assert.ok(d.retry);
      assert.equal(d.delayMs, 120_000);
      assert.equal(d.reason, 'retry-after');
      assert.match(d.explanation, /next in 2 min as the peer asked \(Retry-After\)/);
      const tooLate = decideRetry({ ...base, policy: { ...fixed, deadlineMs: 100_000 }, attempt: 1, error });
      assert.equal(tooLate.retry, false);
      assert.equal(tooLate.reason, 'deadline-exceeded');
    });

    it('uses a given classifier, and the default when it has no opinion', () => {
      const allPermanent: Classifier = () => ({ kind: 'permanent', reason: 'custom' });
      const d = decideRetry({ ...base, attempt: 1, error: http(503), classifier: allPermanent });
      assert.equal(d.reason, 'permanent');
      assert.equal(d.classification.reason, 'custom');
      const silent: Classifier = () => undefined;
      const d2 = decideRetry({ ...base, attempt: 1, error: http(404), classifier: silent });
      assert.equal(d2.reason, 'permanent');
      assert.equal(d2.classification.reason, 'HTTP 404');
    });

    it('uses a precomputed classification', () => {
      const d = decideRetry({
        ...base,
        attempt: 1,
        error: http(400),
        classification: { kind: 'retryable', reason: 'given', retryAfterMs: 5 },
      });
      assert.ok(d.retry);
      assert.equal(d.delayMs, 5);
    });
  });

  it('formats durations for explanations', () => {
    assert.equal(formatDuration(250), '250 ms');
    assert.equal(formatDuration(4200), '4.2 s');
    assert.equal(formatDuration(4000), '4 s');
    assert.equal(formatDuration(90_000), '1 min 30 s');
    assert.equal(formatDuration(3_600_000), '1 h');
    assert.equal(formatDuration(7_500_000), '2 h 5 min');
  });
});
