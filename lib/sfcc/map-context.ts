// Shared by the XML and JSON mappers: exact money parsing with a finding per bad field, and the
// completion of net/tax/gross blocks, so both formats report problems in the same words.
import { currencyMinorUnits } from '../order/iso';
import { formatMoney, parseJsonMoney, parseMoney } from '../order/money';
import type { CustomAttributes, DeclaredAmounts, OrderIssue } from '../order/model';

export interface Amounts {
  netPrice: number;
  tax: number;
  grossPrice: number;
}

export class MapContext {
  readonly issues: OrderIssue[] = [];
  /** Minor-unit digits of the order currency; 2 while the currency is unknown, to go on checking. */
  readonly exponent: number;

  constructor(currency: string | undefined) {
    this.exponent = (currency ? currencyMinorUnits(currency) : undefined) ?? 2;
  }

  issue(path: string, rule: string, message: string): void {
    this.issues.push({ path, rule, message });
  }

  /** Decimal text (XML) or JSON number to minor units; undefined (with a finding) when invalid. */
  money(raw: unknown, path: string, what: string): number | undefined {
    if (raw === undefined || raw === null) return undefined;
    const parsed =
      typeof raw === 'string' ? parseMoney(raw, this.exponent) : parseJsonMoney(raw, this.exponent);
    if (parsed.ok) return parsed.value;
    this.issue(path, 'money', `${what}: ${parsed.reason}`);
    return undefined;
  }

  number(raw: unknown, path: string, what: string): number | undefined {
    if (raw === undefined || raw === null || raw === '') return undefined;
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw.trim()) : NaN;
    if (Number.isFinite(n)) return n;
    this.issue(path, 'number', `${what}: ${JSON.stringify(raw)} is not a number`);
    return undefined;
  }

  integer(raw: unknown, path: string, what: string): number | undefined {
    const n = this.number(raw, path, what);
    if (n === undefined || Number.isInteger(n)) return n;
    this.issue(path, 'integer', `${what}: ${n} is not a whole number`);
    return undefined;
  }

  /**
   * Net, tax and gross of one block. A missing part is derived from the other two (gross = net +
   * tax); a block given whole must add up; one that cannot be completed is a finding.
   */
  amounts(declared: DeclaredAmounts, path: string, what: string): Amounts | undefined {
    let { net, tax, gross } = declared;
    const known = [net, tax, gross].filter((v) => v !== undefined).length;
    if (known === 3) {
      if ((net as number) + (tax as number) !== gross) {
        this.issue(
          path,
          'amounts.reconcile',
          `${what}: net price ${this.show(net)} + tax ${this.show(tax)} is not the gross price ${this.show(gross)}`,
        );
      }
    } else if (known === 2) {
      if (gross === undefined) gross = (net as number) + (tax as number);
      else if (net === undefined) net = gross - (tax as number);
      else tax = gross - net;
    } else if (net !== undefined && net === 0) {
      tax = 0;
      gross = 0;
    } else if (gross !== undefined && gross === 0) {
      tax = 0;
      net = 0;
    } else {
      this.issue(path, 'required', `${what}: needs at least two of net price, tax and gross price`);
      return undefined;
    }
    return { netPrice: net as number, tax: tax as number, grossPrice: gross as number };
  }

  show(minor: number | undefined): string {
    return minor === undefined ? '(none)' : formatMoney(minor, this.exponent);
  }
}

/** Adds one custom attribute value, merging xml:lang variants into a map keyed by language. */
export function addCustomValue(
  target: CustomAttributes,
  id: string,
  value: string | string[],
  lang: string | undefined,
): void {
  const existing = target[id];
  if (lang === undefined) {
    if (existing !== undefined && typeof existing === 'object' && !Array.isArray(existing)) {
      existing.default = value;
    } else {
      target[id] = value;
    }
    return;
  }
  if (existing === undefined) target[id] = { [lang]: value };
  else if (typeof existing === 'string' || Array.isArray(existing))
    target[id] = { default: existing, [lang]: value };
  else existing[lang] = value;
}
