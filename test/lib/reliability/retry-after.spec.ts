import assert from 'node:assert/strict';
import { parseHttpDate, parseRetryAfter } from '../../../lib/reliability/retry-after';

// 1994-11-06T08:49:00Z: 37 s before the RFC 9110 example date.
const NOW = Date.UTC(1994, 10, 6, 8, 49, 0);
const EXAMPLE = Date.UTC(1994, 10, 6, 8, 49, 37);

describe('lib/reliability/retry-after', () => {
  it('reads delay-seconds, including decimals and surrounding spaces', () => {
    assert.equal(parseRetryAfter('7', NOW), 7000);
    assert.equal(parseRetryAfter(' 120 ', NOW), 120_000);
    assert.equal(parseRetryAfter('0', NOW), 0);
    assert.equal(parseRetryAfter('1.5', NOW), 1500);
    assert.equal(parseRetryAfter(7, NOW), 7000);
  });

  it('reads the three HTTP-date forms as UTC', () => {
    assert.equal(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', NOW), 37_000);
    assert.equal(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', NOW), 37_000);
    assert.equal(parseRetryAfter('Sun Nov  6 08:49:37 1994', NOW), 37_000);
    assert.equal(parseHttpDate('sun, 06 nov 1994 08:49:37 gmt', NOW), EXAMPLE);
  });

  it('resolves RFC 850 two-digit years to at most 50 years ahead', () => {
    const now2025 = Date.UTC(2025, 0, 1);
    assert.equal(
      new Date(parseHttpDate('Friday, 01-Nov-30 00:00:00 GMT', now2025) ?? 0).getUTCFullYear(),
      2030,
    );
    assert.equal(
      new Date(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', now2025) ?? 0).getUTCFullYear(),
      1994,
    );
  });

  it('accepts ISO 8601 only with an explicit zone', () => {
    assert.equal(parseRetryAfter('1994-11-06T08:49:37Z', NOW), 37_000);
    assert.equal(parseRetryAfter('1994-11-06T09:49:37+01:00', NOW), 37_000);
    assert.equal(parseRetryAfter('1994-11-06T08:49:37', NOW), undefined);
  });

  it('gives 0 for a date in the past', () => {
    assert.equal(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', EXAMPLE + 60_000), 0);
    assert.equal(parseRetryAfter(new Date(NOW - 1), NOW), 0);
  });

  it('gives undefined for garbage', () => {
    for (const v of [
      'soon',
      '',
      '-5',
      '1e3',
      '5 s',
      'Sun, 31 Feb 1994 08:49:37 GMT',
      'Sun, 06 Nov 1994 25:49:37 GMT',
      'Sun, 06 Foo 1994 08:49:37 GMT',
      'Sun, 06 Nov 1994 08:49:37 CET',
      NaN,
      -1,
      Infinity,
      null,
      undefined,
      {},
      true,
    ]) {
      assert.equal(parseRetryAfter(v, NOW), undefined, `for ${String(v)}`);
    }
  });

  it('uses the first value of a repeated header', () => {
    assert.equal(parseRetryAfter(['3', '10'], NOW), 3000);
    assert.equal(parseRetryAfter(['Sun, 06 Nov 1994 08:49:37 GMT'], NOW), 37_000);
    assert.equal(parseRetryAfter([], NOW), undefined);
  });
});
