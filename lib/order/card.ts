// Card data hygiene (PCI): only brand, last four, token, expiry and holder may pass. Any run of
// 13-19 digits (spaces or dashes allowed between them) that passes the Luhn check is treated as a
// full card number and masked to its last four wherever it appears.

const CANDIDATE = /(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)/g;
const QUICK = /\d{4}/;

export function luhnValid(digits: string): boolean {
  let total = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    total += d;
    double = !double;
  }
  return total % 10 === 0;
}

/** Masks every Luhn-valid 13-19 digit run in `text`, keeping its last four digits. */
export function maskCardNumbers(text: string): { text: string; masked: number } {
  if (!QUICK.test(text)) return { text, masked: 0 };
  let masked = 0;
  const out = text.replace(CANDIDATE, (run) => {
    const digits = run.replace(/[ -]/g, '');
    if (digits.length < 13 || digits.length > 19 || !luhnValid(digits)) return run;
    masked++;
    return '*'.repeat(digits.length - 4) + digits.slice(-4);
  });
  return { text: out, masked };
}

/**
 * System-generated identifiers of the canonical order: a 13-19 digit EAN, tracking or transaction
 * number passes Luhn one time in ten, and masking it would corrupt the order.
 */
export const IDENTIFIER_KEYS: ReadonlySet<string> = new Set([
  'orderRef',
  'lineRef',
  'parentLineRef',
  'sku',
  'shipmentRef',
  'chargeRef',
  'customerNo',
  'transactionId',
  'trackingNumber',
  'promotionId',
  'campaignId',
]);

/**
 * Masks card numbers in every string of a JSON-like value, in place, and returns how many it
 * masked. Runs on each order at the edge, before anything can log, echo or send it.
 */
export function maskCardNumbersDeep(value: unknown, skip: ReadonlySet<string> = IDENTIFIER_KEYS): number {
  let masked = 0;
  const visit = (node: unknown): unknown => {
    if (typeof node === 'string') {
      const result = maskCardNumbers(node);
      masked += result.masked;
      return result.text;
    }
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) node[i] = visit(node[i]);
    } else if (node !== null && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      for (const key of Object.keys(record)) if (!skip.has(key)) record[key] = visit(record[key]);
    }
    return node;
  };
  visit(value);
  return masked;
}

/** The last four digits of a (masked or clear) card number, if it has four trailing digits. */
export function lastFour(cardNumber: string): string | undefined {
  const digits = cardNumber.replace(/\D/g, '');
  return digits.length >= 4 ? digits.slice(-4) : undefined;
}

/** True when the text shows more than four digits of a card number in clear and passes Luhn. */
export function isClearCardNumber(cardNumber: string): boolean {
  const digits = cardNumber.replace(/[ -]/g, '');
  return /^\d{13,19}$/.test(digits) && luhnValid(digits);
}
