// Retry-After (RFC 9110 §10.2.3): either delay-seconds or an HTTP-date. Dates are parsed by hand
// rather than with Date.parse, because Date.parse reads the zone-less asctime form as local time
// and is lenient enough to turn garbage into a date.

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH = '(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';

// Sun, 06 Nov 1994 08:49:37 GMT
const IMF_FIXDATE = new RegExp(`^[a-z]{3},\\s+(\\d{1,2})\\s+${MONTH}\\s+(\\d{4})\\s+${TIME}\\s+GMT$`, 'i');
// Sunday, 06-Nov-94 08:49:37 GMT
const RFC850 = new RegExp(`^[a-z]+,\\s+(\\d{1,2})-${MONTH}-(\\d{2})\\s+${TIME}\\s+GMT$`, 'i');
// Sun Nov  6 08:49:37 1994 (always UTC per RFC 9110)
const ASCTIME = new RegExp(`^[a-z]{3}\\s+${MONTH}\\s+(\\d{1,2})\\s+${TIME}\\s+(\\d{4})$`, 'i');
// Not an HTTP-date, but some peers send ISO 8601; accepted only with an explicit zone.
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;
const SECONDS = /^\d+(\.\d+)?$/;

function utc(
  year: number,
  monthName: string,
  day: number,
  h: number,
  m: number,
  s: number,
): number | undefined {
  const month = MONTHS.indexOf(monthName.toLowerCase());
  if (month < 0 || day < 1 || day > 31 || h > 23 || m > 59 || s > 60) return undefined;
  const t = Date.UTC(year, month, day, h, m, Math.min(s, 59));
  // Date.UTC rolls 31 Feb into March; a date that rolled is not a real date.
  return new Date(t).getUTCDate() === day ? t : undefined;
}

/** Parses an HTTP-date (IMF-fixdate, RFC 850 or asctime) into epoch ms, or undefined. */
export function parseHttpDate(text: string, now: number): number | undefined {
  const s = text.trim();
  let m = IMF_FIXDATE.exec(s);
  if (m) return utc(Number(m[3]), m[2], Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  m = RFC850.exec(s);
  if (m) {
    // RFC 9110 §5.6.7: a two-digit year more than 50 years ahead means the most recent past one.
    const thisYear = new Date(now).getUTCFullYear();
    let year = thisYear - (thisYear % 100) + Number(m[3]);
    if (year > thisYear + 50) year -= 100;
    return utc(year, m[2], Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  }
  m = ASCTIME.exec(s);
  if (m) return utc(Number(m[6]), m[1], Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]));
  if (ISO_WITH_ZONE.test(s)) {
    const t = Date.parse(s);
    return Number.isFinite(t) ? t : undefined;
  }
  return undefined;
}

/**
 * Turns a Retry-After value into a delay in ms from `now`: delay-seconds (decimals accepted) or an
 * HTTP-date. A date in the past gives 0; garbage gives undefined. A repeated header (array) uses
 * its first value. A number is read as seconds, as in the header.
 */
export function parseRetryAfter(value: unknown, now: number): number | undefined {
  if (Array.isArray(value)) return value.length > 0 ? parseRetryAfter(value[0], now) : undefined;
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined;
  }
  if (value instanceof Date) {
    const t = value.getTime();
    return Number.isFinite(t) ? Math.max(0, t - now) : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (SECONDS.test(text)) {
    const ms = Math.round(Number(text) * 1000);
    return Number.isFinite(ms) ? ms : undefined;
  }
  const at = parseHttpDate(text, now);
  return at === undefined ? undefined : Math.max(0, at - now);
}
