import assert from 'node:assert/strict';
import { formatMoney, parseJsonMoney, parseMoney } from '../../../lib/order/money';

describe('lib/order/money', () => {
  it('parses decimal text exactly into minor units', () => {
    assert.deepEqual(parseMoney('106.99', 2), { ok: true, value: 10699 });
    assert.deepEqual(parseMoney('0.1', 2), { ok: true, value: 10 });
    assert.deepEqual(parseMoney('-10.73', 2), { ok: true, value: -1073 });
    assert.deepEqual(parseMoney(' 5 ', 2), { ok: true, value: 500 });
    assert.deepEqual(parseMoney('.5', 2), { ok: true, value: 50 });
    assert.deepEqual(parseMoney('1980', 0), { ok: true, value: 1980 });
    assert.deepEqual(parseMoney('1.234', 3), { ok: true, value: 1234 });
    assert.deepEqual(parseMoney('12.500', 2), { ok: true, value: 1250 });
    assert.deepEqual(parseMoney('-0.00', 2), { ok: true, value: 0 });
  });

  it('keeps sums exact where floats drift (0.1 + 0.2)', () => {
    const a = parseMoney('0.1', 2);
    const b = parseMoney('0.2', 2);
    assert.ok(a.ok && b.ok);
    assert.equal(formatMoney(a.value + b.value, 2), '0.30');
  });

  it('refuses digits beyond the currency exponent instead of rounding', () => {
    const r = parseMoney('10.999', 2);
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, /more than 2 decimal places/);
    assert.equal(parseMoney('1.5', 0).ok, false);
  });

  it('refuses text that is not a plain decimal', () => {
    for (const bad of ['', 'abc', '1,50', '1.2.3', '1e2', '--1', '.'])
      assert.equal(parseMoney(bad, 2).ok, false, bad);
    assert.equal(parseMoney('99999999999999999', 2).ok, false);
  });

  it('reads JSON numbers through their shortest decimal text', () => {
    assert.deepEqual(parseJsonMoney(29.99, 2), { ok: true, value: 2999 });
    assert.deepEqual(parseJsonMoney(110.24, 2), { ok: true, value: 11024 });
    assert.deepEqual(parseJsonMoney(0.3, 2), { ok: true, value: 30 });
    assert.deepEqual(parseJsonMoney(1e2, 2), { ok: true, value: 10000 });
    assert.deepEqual(parseJsonMoney('4.95', 2), { ok: true, value: 495 });
    assert.equal(parseJsonMoney(0.1 + 0.2, 2).ok, false); // 0.30000000000000004 is not a price
    assert.equal(parseJsonMoney(Number.NaN, 2).ok, false);
    assert.equal(parseJsonMoney(true, 2).ok, false);
  });

  it('formats minor units back to decimal text', () => {
    assert.equal(formatMoney(10699, 2), '106.99');
    assert.equal(formatMoney(-5, 2), '-0.05');
    assert.equal(formatMoney(1980, 0), '1980');
    assert.equal(formatMoney(1, 3), '0.001');
  });
});
