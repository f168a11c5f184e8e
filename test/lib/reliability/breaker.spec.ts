import assert from 'node:assert/strict';
import {
  BreakerRegistry,
  CircuitBreaker,
  CircuitOpenError,
  type BreakerOptions,
  type BreakerState,
} from '../../../lib/reliability/breaker';
import type { Classification } from '../../../lib/reliability/classify';

const DOWN: Classification = { kind: 'retryable', reason: 'HTTP 503' };
const BAD_REQUEST: Classification = { kind: 'permanent', reason: 'HTTP 400' };

function setup(options: BreakerOptions = {}): {
  breaker: CircuitBreaker;
  clock: { t: number };
  changes: string[];
} {
  const clock = { t: 1_000_000 };
  const changes: string[] = [];
  const breaker = new CircuitBreaker({
    now: () => clock.t,
    onStateChange: (from: BreakerState, to: BreakerState) => changes.push(`${from}->${to}`),
    ...options,
  });
  return { breaker, clock, changes };
}

function fail(breaker: CircuitBreaker, times: number, c: Classification = DOWN): void {
  for (let i = 0; i < times; i++) breaker.onFailure(c);
}

describe('lib/reliability/breaker', () => {
  it('opens once the window has enough calls and the failure ratio is reached', () => {
    const { breaker, changes } = setup();
    fail(breaker, 4);
    assert.equal(breaker.state, 'closed');
    assert.deepEqual(breaker.canRequest(), { allowed: true });
    fail(breaker, 1);
    assert.equal(breaker.state, 'open');
    assert.deepEqual(changes, ['closed->open']);
  });

  it('weighs failures against successes', () => {
    const { breaker } = setup();
    for (let i = 0; i < 3; i++) breaker.onSuccess();
    fail(breaker, 2);
    assert.equal(breaker.state, 'closed'); // 2 of 5 = 40 %
    fail(breaker, 1);
    assert.equal(breaker.state, 'open'); // 3 of 6 = 50 %
  });

  it('refuses calls while open and tells how long to wait', () => {
    const { breaker, clock } = setup();
    fail(breaker, 5);
    clock.t += 12_000;
    assert.deepEqual(breaker.canRequest(), { allowed: false, retryInMs: 18_000 });
    const snap = breaker.snapshot();
    assert.equal(snap.state, 'open');
    assert.equal(snap.openedAt, 1_000_000);
    assert.equal(snap.nextTrialAt, 1_030_000);
  });

  it('goes closed -> open -> half-open -> closed', () => {
    const { breaker, clock, changes } = setup();
    fail(breaker, 5);
    clock.t += 30_000;
    assert.deepEqual(breaker.canRequest(), { allowed: true });
    assert.equal(breaker.state, 'half-open');
    // only one trial at a time
    const second = breaker.canRequest();
    assert.equal(second.allowed, false);
    breaker.onSuccess();
    assert.equal(breaker.state, 'closed');
    assert.deepEqual(changes, ['closed->open', 'open->half-open', 'half-open->closed']);
    // history was forgotten: four new failures do not reopen it
    fail(breaker, 4);
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.snapshot().failures, 4);
  });

  it('re-opens when the half-open trial fails', () => {
    const { breaker, clock, changes } = setup();
    fail(breaker, 5);
    clock.t += 30_000;
    assert.equal(breaker.canRequest().allowed, true);
    breaker.onFailure(DOWN);
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.snapshot().openedAt, 1_030_000);
    assert.deepEqual(breaker.canRequest(), { allowed: false, retryInMs: 30_000 });
    assert.deepEqual(changes, ['closed->open', 'open->half-open', 'half-open->open']);
  });

  it('allows halfOpenMaxCalls trials at once', () => {
    const { breaker, clock } = setup({ halfOpenMaxCalls: 2 });
    fail(breaker, 5);
    clock.t += 30_000;
    assert.equal(breaker.canRequest().allowed, true);
    assert.equal(breaker.canRequest().allowed, true);
    assert.equal(breaker.canRequest().allowed, false);
    assert.equal(breaker.snapshot().trialsInFlight, 2);
  });

  it('lets another trial through when one never reports back', () => {
    const { breaker, clock } = setup();
    fail(breaker, 5);
    clock.t += 30_000;
    assert.equal(breaker.canRequest().allowed, true);
    clock.t += 29_999;
    assert.equal(breaker.canRequest().allowed, false);
    clock.t += 1;
    assert.equal(breaker.canRequest().allowed, true);
  });

  it('is not tripped by permanent (4xx) failures', () => {
    const { breaker } = setup();
    fail(breaker, 20, BAD_REQUEST);
    assert.equal(breaker.state, 'closed');
    fail(breaker, 19);
    assert.equal(breaker.state, 'closed'); // 19 of 39
    fail(breaker, 1);
    assert.equal(breaker.state, 'open'); // 20 of 40
  });

  it('a permanent failure during half-open closes it (the peer answered)', () => {
    const { breaker, clock } = setup();
    fail(breaker, 5);
    clock.t += 30_000;
    breaker.canRequest();
    breaker.onFailure(BAD_REQUEST);
    assert.equal(breaker.state, 'closed');
  });

  it('forgets failures that left the rolling window', () => {
    const { breaker, clock } = setup();
    fail(breaker, 4);
    clock.t += 20_000;
    fail(breaker, 1);
    assert.equal(breaker.state, 'closed');
    assert.deepEqual([breaker.snapshot().requests, breaker.snapshot().failures], [1, 1]);
    fail(breaker, 4);
    assert.equal(breaker.state, 'open');
  });

  it('keeps working when the state-change callback throws', () => {
    const { breaker } = setup({
      onStateChange: () => {
        throw new Error('status display broke');
      },
    });
    fail(breaker, 5);
    assert.equal(breaker.state, 'open');
  });

  it('can be reset by an operator', () => {
    const { breaker } = setup();
    fail(breaker, 5);
    breaker.reset();
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.canRequest().allowed, true);
  });

  it('keeps one breaker per endpoint in a registry', () => {
    const clock = { t: 0 };
    const changes: string[] = [];
    const registry = new BreakerRegistry({
      now: () => clock.t,
      minimumRequests: 1,
      onStateChange: (key, from, to) => changes.push(`${key}:${from}->${to}`),
    });
    const a = registry.get('fluent:https://a');
    assert.equal(registry.get('fluent:https://a'), a);
    const b = registry.get('wms:https://b');
    assert.notEqual(a, b);
    a.onFailure(DOWN);
    assert.equal(a.state, 'open');
    assert.equal(b.state, 'closed');
    assert.deepEqual(changes, ['fluent:https://a:closed->open']);
    assert.deepEqual(
      registry.snapshot().map((s) => [s.name, s.state]),
      [
        ['fluent:https://a', 'open'],
        ['wms:https://b', 'closed'],
      ],
    );
  });

  it('CircuitOpenError carries a code, retryable and the wait', () => {
    const e = new CircuitOpenError(4200, 'fluent:https://a');
    assert.equal(e.code, 'OMS_CIRCUIT_OPEN');
    assert.equal(e.retryable, true);
    assert.equal(e.retryAfterMs, 4200);
    assert.equal(e.message, 'circuit open for fluent:https://a; next trial in 4.2 s');
    assert.ok(Object.prototype.hasOwnProperty.call(e, 'code'), 'code must be own for Node-RED to copy it');
  });
});
