// Validation of a mapped order: the schema (zod), then the business rules every later step relies
// on, then exact reconciliation of the totals. Every finding names the field (path), the rule and
// says what is wrong in words an analyst can act on.
import { markChecked } from './vouch';
import type { MappedOrder } from './draft';
import { currencyMinorUnits, isCountryCode } from './iso';
import { formatMoney } from './money';
import { type AmountSum, canonicalTotals, orderSums, sumAmounts } from './totals';
import {
  type Address,
  type DeclaredAmounts,
  type Order,
  type OrderIssue,
  type OrderSource,
  type Totals,
  OrderSchema,
} from './model';

const DraftSchema = OrderSchema.omit({ totals: true });

export type ValidationResult = { ok: true; order: Order } | { ok: false; errors: OrderIssue[] };

const DATE_TIME = /^-?\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** SFCC never exports orders in these states; seeing one means the export is wrong. */
const NOT_EXPORTABLE = new Set(['CREATED', 'FAILED']);

function pathOf(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const s of segments) out += typeof s === 'number' ? `[${s}]` : out ? `.${String(s)}` : String(s);
  return out;
}

export function validateOrder(mapped: MappedOrder, source: OrderSource): ValidationResult {
  const errors: OrderIssue[] = [...mapped.issues];
  const reported = (at: string): boolean =>
    errors.some((e) => at === e.path || at.startsWith(`${e.path}.`) || at.startsWith(`${e.path}[`));
  const parsed = DraftSchema.safeParse({ ...mapped.draft, source });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const at = pathOf(issue.path);
      // A field the mapper already reported (bad money, missing block) is not reported twice.
      if (reported(at)) continue;
      const missing = issue.code === 'invalid_type' && issue.message.includes('undefined');
      errors.push({
        path: at,
        rule: missing ? 'required' : `schema.${issue.code}`,
        message: missing ? `${at} is missing` : `${at}: ${issue.message}`,
      });
    }
  }
  // The business rules run even when the shape is broken, so that one pass reports everything;
  // they skip fields already reported and guard against the holes the findings describe.
  const readable = errors.length === 0;
  const found = new Set(errors.map((e) => e.path));
  const order = parsed.success ? parsed.data : ({ ...mapped.draft, source } as Omit<Order, 'totals'>);
  const rule = (path: string, name: string, message: string): void => {
    if (!found.has(path)) errors.push({ path, rule: name, message });
  };

  if (!order.orderRef || order.orderRef.trim() !== order.orderRef || order.orderRef.length > 50) {
    rule('orderRef', 'required', 'order-no must be 1-50 characters without surrounding spaces');
  }
  if (!order.createdAt) rule('createdAt', 'required', 'order-date is missing');
  else if (!DATE_TIME.test(order.createdAt) || Number.isNaN(Date.parse(order.createdAt))) {
    rule('createdAt', 'datetime', `order-date "${order.createdAt}" is not an ISO 8601 date-time`);
  } else {
    // A date-time without an offset is read as UTC, never as the server's local time.
    const zoned = /(Z|[+-]\d\d:\d\d)$/.test(order.createdAt) ? order.createdAt : `${order.createdAt}Z`;
    order.createdAt = new Date(zoned).toISOString();
  }
  if (!order.currency) rule('currency', 'required', 'currency is missing');
  else if (currencyMinorUnits(order.currency) === undefined) {
    rule('currency', 'currency.iso4217', `currency "${order.currency}" is not an active ISO 4217 code`);
  }
  if (order.status.order && NOT_EXPORTABLE.has(order.status.order)) {
    rule(
      'status.order',
      'status.exportable',
      `order status ${order.status.order} is never exported by SFCC; the order is not placed`,
    );
  }
  if (!order.customer.email) rule('customer.email', 'required', 'customer-email is missing');
  else if (!EMAIL.test(order.customer.email)) {
    rule('customer.email', 'email', `customer-email "${order.customer.email}" is not an e-mail address`);
  }
  checkAddress(order.customer.billingAddress, 'customer.billingAddress', rule);

  const shipmentRefs = new Set<string>();
  order.shipments.forEach((s, i) => {
    if (!s.shipmentRef)
      rule(`shipments[${i}].shipmentRef`, 'required', `shipment ${i + 1} has no shipment-id`);
    else if (shipmentRefs.has(s.shipmentRef)) {
      rule(`shipments[${i}].shipmentRef`, 'shipment.unique', `shipment-id "${s.shipmentRef}" is used twice`);
    }
    shipmentRefs.add(s.shipmentRef);
    checkAddress(s.address, `shipments[${i}].address`, rule);
  });

  if (order.lines.length === 0)
    rule('lines', 'required', 'the order has no product or gift certificate lines');
  const shipped = new Set<string>();
  order.lines.forEach((l, i) => {
    const at = `lines[${i}]`;
    const what = `line ${l.lineRef}${l.sku ? ` (${l.sku})` : ''}`;
    if (!l.sku) rule(`${at}.sku`, 'required', `${what}: product-id is missing`);
    if (!(l.quantity > 0))
      rule(`${at}.quantity`, 'quantity.positive', `${what}: quantity ${l.quantity} is not > 0`);
    if (!(l.taxRate >= 0 && l.taxRate < 1)) {
      rule(
        `${at}.taxRate`,
        'taxRate.range',
        `${what}: tax-rate ${l.taxRate} is not a fraction between 0 and 1`,
      );
    }
    if (l.kind !== 'giftCertificate' && !l.shipmentRef) {
      rule(`${at}.shipmentRef`, 'required', `${what}: shipment-id is missing`);
    } else if (l.shipmentRef && !shipmentRefs.has(l.shipmentRef)) {
      rule(
        `${at}.shipmentRef`,
        'shipment.reference',
        `${what}: shipment "${l.shipmentRef}" is not in the order`,
      );
    }
    if (l.kind !== 'giftCertificate' && l.shipmentRef) shipped.add(l.shipmentRef);
  });
  order.shippingCharges.forEach((c, i) => {
    if (c.shipmentRef && !shipmentRefs.has(c.shipmentRef)) {
      rule(
        `shippingCharges[${i}].shipmentRef`,
        'shipment.reference',
        `shipping charge ${c.chargeRef}: shipment "${c.shipmentRef}" is not in the order`,
      );
    }
  });
  order.shipments.forEach((s, i) => {
    if (shipped.has(s.shipmentRef) && !s.address?.countryCode) {
      rule(
        `shipments[${i}].address.countryCode`,
        'required',
        `shipment ${s.shipmentRef} carries products but has no shipping country`,
      );
    }
  });

  if (!readable) return { ok: false, errors };
  const totals = reconcile(order, mapped, rule);
  const paid = order.payments.reduce((s, p) => s + p.amount, 0);
  if (totals.grandTotal > 0 && paid < totals.grandTotal) {
    const exp = mapped.exponent;
    rule(
      'payments',
      'payments.cover',
      `payments add up to ${formatMoney(paid, exp)} but the order total is ${formatMoney(totals.grandTotal, exp)}`,
    );
  }
  if (errors.length > 0) return { ok: false, errors };
  // Checked: zod's copy of the draft with the totals worked out here (lib/order/vouch).
  return { ok: true, order: markChecked({ ...order, totals, source }) };
}

function checkAddress(
  address: Address | undefined,
  at: string,
  rule: (path: string, name: string, message: string) => void,
): void {
  if (address?.countryCode !== undefined && !isCountryCode(address.countryCode)) {
    rule(
      `${at}.countryCode`,
      'country.iso3166',
      `country-code "${address.countryCode}" is not an ISO 3166-1 alpha-2 code`,
    );
  }
}

/** Adds up lines, charges and adjustments exactly and checks them against the declared totals. */
function reconcile(
  order: Omit<Order, 'totals'>,
  mapped: MappedOrder,
  rule: (path: string, name: string, message: string) => void,
): Totals {
  const sums = orderSums(order);
  const { merch, lineAdj, ship, shipAdj, adjustedMerch, adjustedShip } = sums;
  const field = { gross: 'grossPrice', net: 'netPrice' } as const;

  const exp = mapped.exponent;
  const d = mapped.declared;
  const check = (
    declared: DeclaredAmounts | undefined,
    accepted: AmountSum[],
    path: string,
    name: string,
    what: string,
    from: string,
  ): void => {
    if (!declared) return;
    const parts = (['gross', 'net'] as const).filter((k) => declared[k] !== undefined);
    if (parts.length === 0) return;
    const k = parts[0];
    if (accepted.some((s) => s[field[k]] === declared[k])) return;
    rule(
      path,
      name,
      `${what} ${k} ${formatMoney(declared[k] as number, exp)} does not match ${from}, ` +
        `which add up to ${formatMoney(accepted[accepted.length - 1][field[k]], exp)}`,
    );
  };
  // SFCC documents merchandize-total as before all discounts; some exports include item-level ones.
  check(
    d.merchandise,
    [merch, sumAmounts([merch, lineAdj])],
    'totals.merchandise',
    'totals.merchandise',
    'merchandise total',
    'the product lines',
  );
  check(
    d.merchandiseAfterItemDiscounts,
    [sumAmounts([merch, lineAdj])],
    'totals.merchandise',
    'totals.merchandise',
    'product subtotal',
    'the product lines and their discounts',
  );
  check(
    d.adjustedMerchandise,
    [adjustedMerch],
    'totals.merchandise',
    'totals.adjustedMerchandise',
    'adjusted merchandise total',
    'the product lines and all merchandise discounts',
  );
  check(
    d.shipping,
    [ship, sumAmounts([ship, shipAdj])],
    'totals.shipping',
    'totals.shipping',
    'shipping total',
    'the shipping line items',
  );
  check(
    d.adjustedShipping,
    [adjustedShip],
    'totals.shipping',
    'totals.adjustedShipping',
    'adjusted shipping total',
    'the shipping line items and shipping discounts',
  );
  check(
    d.order,
    [sums.order],
    'totals.grandTotal',
    'totals.order',
    'order total',
    'merchandise, shipping and gift certificates after discounts',
  );
  const declaredOrder = d.order ?? {};
  if (
    declaredOrder.net !== undefined &&
    declaredOrder.tax !== undefined &&
    declaredOrder.gross !== undefined &&
    declaredOrder.net + declaredOrder.tax !== declaredOrder.gross
  ) {
    rule('totals.grandTotal', 'amounts.reconcile', 'order total: net price + tax is not the gross price');
  }

  return canonicalTotals(sums, declaredOrder);
}
