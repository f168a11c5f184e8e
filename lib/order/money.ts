// Exact money: decimal text from the wire becomes an integer count of the currency's minor
// units (10699 = 106.99 USD). Only string and integer operations: no float ever holds money.

export type MoneyParse = { ok: true; value: number } | { ok: false; reason: string };

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * Parses decimal text ("106.99", "-5", "12.500", and for JSON numbers "1e2") into minor units of a
 * currency with `exponent` decimal places. Digits beyond the exponent must be zeros: 10.999 USD is
 * an error, never a rounding.
 */
export function parseMoney(text: string, exponent: number, allowExponent = false): MoneyParse {
  const match = DECIMAL.exec(text.trim());
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) {
    return { ok: false, reason: `"${text}" is not a decimal number` };
  }
  const [, sign, intPart, fracPart = '', exp] = match;
  if (exp !== undefined && !allowExponent) return { ok: false, reason: `"${text}" is not a plain decimal` };
  let digits = intPart + fracPart;
  let scale = fracPart.length - (exp ? Number(exp) : 0); // value = digits * 10^-scale
  if (scale < 0) {
    digits += '0'.repeat(-scale);
    scale = 0;
  }
  if (scale > exponent) {
    const dropped = digits.slice(digits.length - (scale - exponent));
    if (/[^0]/.test(dropped)) {
      return { ok: false, reason: `"${text}" has more than ${exponent} decimal places` };
    }
    digits = digits.slice(0, digits.length - (scale - exponent));
  } else {
    digits += '0'.repeat(exponent - scale);
  }
  const value = Number(digits.replace(/^0+(?=\d)/, '') || '0');
  if (!Number.isSafeInteger(value)) return { ok: false, reason: `"${text}" is too large` };
  return { ok: true, value: sign === '-' && value !== 0 ? -value : value };
}

/**
 * A JSON number as the API sent it. `String(n)` gives the shortest text that reads back as the
 * same double, i.e. the decimal the sender wrote (29.99 -> "29.99"), which is then parsed exactly.
 */
export function parseJsonMoney(value: unknown, exponent: number): MoneyParse {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { ok: false, reason: `${String(value)} is not a finite number` };
    return parseMoney(String(value), exponent, true);
  }
  if (typeof value === 'string') return parseMoney(value, exponent, true);
  return { ok: false, reason: `${JSON.stringify(value)} is not a number` };
}

/** Minor units back to decimal text with exactly `exponent` places (10699, 2 -> "106.99"). */
export function formatMoney(minor: number, exponent: number): string {
  const negative = minor < 0;
  const digits = String(Math.abs(minor)).padStart(exponent + 1, '0');
  const text = exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
  return negative ? `-${text}` : text;
}

/** Minor units as a JSON number in major units (for JSON APIs that carry doubles). */
export function moneyToJsonNumber(minor: number, exponent: number): number {
  return Number(formatMoney(minor, exponent));
}
