// SCAPI (camelCase) and OCAPI (snake_case) order documents -> canonical order draft. OCAPI's
// order document is the snake_case twin of SCAPI's, so OCAPI keys are turned into camelCase
// first and one mapper serves both. Custom attributes are the `c_` properties at every level.
import type {
  Address,
  Adjustment,
  CustomAttributes,
  DeclaredAmounts,
  Line,
  Payment,
  ShippingCharge,
} from '../order/model';
import type { MappedOrder, OrderDraft } from '../order/draft';
import { MapContext, addCustomValue } from './map-context';

type Json = Record<string, unknown>;

export type JsonFormat = 'ocapi' | 'scapi';

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined =>
  typeof v === 'string'
    ? v.trim() === ''
      ? undefined
      : v.trim()
    : typeof v === 'number'
      ? String(v)
      : undefined;
const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : []);
const upper = (v: unknown): string | undefined => str(v)?.toUpperCase();

/** SCAPI/OCAPI channel types are lower case; the canonical order keeps order.xsd's spelling. */
const CHANNELS = new Map(
  [
    'Storefront',
    'CallCenter',
    'Marketplace',
    'DSS',
    'Store',
    'Pinterest',
    'Twitter',
    'FacebookAds',
    'Subscriptions',
    'OnlineReservation',
    'CustomerServiceCenter',
    'InstagramCommerce',
    'Google',
    'TikTok',
    'Snapchat',
    'WhatsApp',
    'YouTube',
    'ChatGPT',
    'Gemini',
  ].map((c) => [c.toLowerCase(), c]),
);
const channel = (v: unknown): string | undefined => {
  const s = str(v);
  return s === undefined ? undefined : (CHANNELS.get(s.toLowerCase()) ?? s);
};

/** snake_case keys to camelCase, recursively; `c_` custom keys keep their attribute id as is. */
export function camelize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelize);
  if (!isObject(value)) return value;
  const out: Json = {};
  for (const [key, v] of Object.entries(value)) {
    const name = key.startsWith('c_') ? key : key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    out[name] = key.startsWith('c_') ? v : camelize(v);
  }
  return out;
}

/** Which API shape a JSON order document has, from its order number key. */
export function jsonOrderFormat(doc: unknown): JsonFormat | undefined {
  if (!isObject(doc)) return undefined;
  if ('orderNo' in doc) return 'scapi';
  if ('order_no' in doc) return 'ocapi';
  return undefined;
}

function customAttributes(obj: Json | undefined): CustomAttributes {
  const out: CustomAttributes = {};
  if (!obj) return out;
  for (const [key, v] of Object.entries(obj)) {
    if (!key.startsWith('c_') || v === null || v === undefined) continue;
    const value = Array.isArray(v)
      ? v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)))
      : typeof v === 'string'
        ? v
        : JSON.stringify(v);
    addCustomValue(out, key.slice(2), value, undefined);
  }
  return out;
}

function address(a: unknown): Address | undefined {
  if (!isObject(a)) return undefined;
  return {
    firstName: str(a.firstName),
    lastName: str(a.lastName),
    company: str(a.companyName),
    line1: str(a.address1),
    line2: str(a.address2),
    city: str(a.city),
    postalCode: str(a.postalCode),
    stateCode: str(a.stateCode),
    countryCode: str(a.countryCode),
    phone: str(a.phone),
  };
}

export function mapJsonOrder(input: Json, format: JsonFormat): MappedOrder {
  const doc = (format === 'ocapi' ? camelize(input) : input) as Json;
  const currency = str(doc.currency);
  const ctx = new MapContext(currency);
  const taxation = doc.taxation === 'net' || doc.taxation === 'gross' ? doc.taxation : undefined;
  if (doc.taxation !== undefined && !taxation) {
    ctx.issue('taxation', 'enum', `taxation ${JSON.stringify(doc.taxation)} is neither net nor gross`);
  }

  /** Net/tax/gross of an item; `price` is in the order's taxation basis when the parts are missing. */
  const amountsOf = (item: Json, at: string, what: string): DeclaredAmounts => {
    const d: DeclaredAmounts = {
      net: ctx.money(item.netPrice, at, `${what} netPrice`),
      tax: ctx.money(item.tax, at, `${what} tax`),
      gross: ctx.money(item.grossPrice, at, `${what} grossPrice`),
    };
    const price = ctx.money(item.price, at, `${what} price`);
    if (price !== undefined && taxation === 'net' && d.net === undefined) d.net = price;
    if (price !== undefined && taxation === 'gross' && d.gross === undefined) d.gross = price;
    return d;
  };
  const adjustments = (items: unknown, at: string, what: string): Adjustment[] => {
    const out: Adjustment[] = [];
    list(items).forEach((pa, i) => {
      const p = `${at}[${i}]`;
      const label = `${what} price adjustment ${i + 1}`;
      const amounts = ctx.amounts(amountsOf(pa, p, label), p, label);
      const promotionId = str(pa.promotionId);
      if (!promotionId) ctx.issue(`${p}.promotionId`, 'required', `${label}: promotionId is missing`);
      if (!amounts || !promotionId) return;
      out.push({
        promotionId,
        campaignId: str(pa.campaignId),
        couponCode: str(pa.couponCode),
        reasonCode: str(pa.reasonCode),
        text: str(pa.itemText),
        manual: typeof pa.manual === 'boolean' ? pa.manual : undefined,
        ...amounts,
      });
    });
    return out;
  };
  const full = (a: ReturnType<MapContext['amounts']>) =>
    a as { netPrice: number; tax: number; grossPrice: number };

  const lines: Line[] = [];
  const surchargeOwner = new Map<string, string>();
  list(doc.productItems).forEach((item, i) => {
    const p = `lines[${lines.length}]`;
    const sku = str(item.productId) ?? '';
    const label = `product item ${i + 1}${sku ? ` (${sku})` : ''}`;
    const lineRef = str(item.position) ?? str(item.itemId) ?? String(i + 1);
    const quantity = ctx.number(item.quantity, `${p}.quantity`, `${label} quantity`);
    const shipmentRef = str(item.shipmentId);
    const shippingItemId = str(item.shippingItemId);
    if (shippingItemId) surchargeOwner.set(shippingItemId, lineRef);
    lines.push({
      lineRef,
      kind: 'product',
      sku,
      name: str(item.productName) ?? str(item.itemText),
      quantity: quantity as number,
      unitPrice: ctx.money(item.basePrice, `${p}.unitPrice`, `${label} basePrice`) as number,
      ...full(ctx.amounts(amountsOf(item, p, label), p, label)),
      taxRate: ctx.number(item.taxRate, `${p}.taxRate`, `${label} taxRate`) as number,
      shipmentRef,
      gift: bool(item.gift),
      giftMessage: str(item.giftMessage),
      adjustments: adjustments(item.priceAdjustments, `${p}.adjustments`, label),
      customAttributes: customAttributes(item),
    });
    list(item.optionItems).forEach((opt, j) => {
      const op = `lines[${lines.length}]`;
      const olabel = `${label} option item ${j + 1}`;
      lines.push({
        lineRef: `${lineRef}.${j + 1}`,
        kind: 'option',
        sku: str(opt.productId) ?? `${str(opt.optionId) ?? ''}:${str(opt.optionValueId) ?? ''}`,
        name: str(opt.itemText) ?? str(opt.productName),
        quantity: quantity as number,
        unitPrice: ctx.money(opt.basePrice, `${op}.unitPrice`, `${olabel} basePrice`) as number,
        ...full(ctx.amounts(amountsOf(opt, op, olabel), op, olabel)),
        taxRate: (ctx.number(opt.taxRate, `${op}.taxRate`, `${olabel} taxRate`) ??
          ctx.number(item.taxRate, `${op}.taxRate`, `${olabel} taxRate`)) as number,
        shipmentRef,
        parentLineRef: lineRef,
        adjustments: adjustments(opt.priceAdjustments, `${op}.adjustments`, olabel),
        customAttributes: customAttributes(opt),
      });
    });
  });
  list(doc.giftCertificateItems).forEach((gc, i) => {
    const p = `lines[${lines.length}]`;
    const label = `gift certificate item ${i + 1}`;
    const declared = amountsOf(gc, p, label);
    // Gift certificates carry no tax; OCAPI gives only `amount`.
    const only = declared.gross ?? declared.net ?? ctx.money(gc.amount, p, `${label} amount`);
    const amounts = ctx.amounts(
      declared.tax === undefined && only !== undefined ? { net: only, tax: 0, gross: only } : declared,
      p,
      label,
    );
    lines.push({
      lineRef: `gc-${i + 1}`,
      kind: 'giftCertificate',
      sku: 'GIFT_CERTIFICATE',
      name: str(gc.itemText) ?? str(gc.message),
      quantity: 1,
      unitPrice: (ctx.money(gc.basePrice, `${p}.unitPrice`, `${label} basePrice`) ??
        (amounts && (taxation === 'net' ? amounts.netPrice : amounts.grossPrice))) as number,
      ...full(amounts),
      taxRate: 0,
      shipmentRef: str(gc.shipmentId),
      recipientEmail: str(gc.recipientEmail),
      adjustments: [],
      customAttributes: customAttributes(gc),
    });
  });

  const charges: ShippingCharge[] = list(doc.shippingItems).map((si, i) => {
    const p = `shippingCharges[${i}]`;
    const label = `shipping item ${i + 1}`;
    const itemId = str(si.itemId);
    const owner = itemId ? surchargeOwner.get(itemId) : undefined;
    return {
      chargeRef: owner ? `${owner}:surcharge` : (itemId ?? 'STANDARD_SHIPPING'),
      shipmentRef: str(si.shipmentId),
      lineRef: owner,
      ...full(ctx.amounts(amountsOf(si, p, label), p, label)),
      taxRate: ctx.number(si.taxRate, `${p}.taxRate`, `${label} taxRate`) as number,
      adjustments: adjustments(si.priceAdjustments, `${p}.adjustments`, label),
    };
  });

  const payments: Payment[] = list(doc.paymentInstruments).map((pi, i) => {
    const p = `payments[${i}]`;
    const tx = isObject(pi.paymentTransaction) ? pi.paymentTransaction : {};
    const card = isObject(pi.paymentCard) ? pi.paymentCard : undefined;
    const masked = str(card?.maskedNumber);
    return {
      method: str(pi.paymentMethodId) ?? 'UNKNOWN',
      amount: ctx.money(tx.amount ?? pi.amount, `${p}.amount`, `payment ${i + 1} amount`) as number,
      processor: str(tx.paymentProcessorId) ?? str(pi.paymentProcessorId),
      transactionId: str(tx.transactionId),
      card: card
        ? {
            brand: str(card.cardType),
            last4: str(card.numberLastDigits) ?? (masked ? masked.replace(/\D/g, '').slice(-4) : undefined),
            token: str(card.creditCardToken),
            expMonth: ctx.integer(card.expirationMonth, `${p}.card.expMonth`, 'expirationMonth'),
            expYear: ctx.integer(card.expirationYear, `${p}.card.expYear`, 'expirationYear'),
            holder: str(card.holder),
          }
        : undefined,
      customAttributes: { ...customAttributes(pi), ...customAttributes(tx) },
    };
  });

  const customer = isObject(doc.customerInfo) ? doc.customerInfo : {};
  const draft: OrderDraft = {
    orderRef: str(doc.orderNo) ?? '',
    createdAt: str(doc.creationDate),
    currency,
    taxation,
    locale: str(doc.customerLocale),
    channel: channel(doc.channelType),
    remoteHost: str(doc.remoteHost),
    status: {
      order: upper(doc.status),
      shipping: upper(doc.shippingStatus),
      payment: upper(doc.paymentStatus),
      confirmation: upper(doc.confirmationStatus),
      export: upper(doc.exportStatus),
    },
    customer: {
      customerNo: str(customer.customerNo),
      name: str(customer.customerName),
      email: str(customer.email),
      guest: bool(customer.guest) ?? str(customer.customerNo) === undefined,
      billingAddress: address(doc.billingAddress),
    },
    lines,
    shipments: list(doc.shipments).map((s) => ({
      shipmentRef: str(s.shipmentId) ?? '',
      method: isObject(s.shippingMethod) ? str(s.shippingMethod.id) : undefined,
      address: address(s.shippingAddress),
      status: upper(s.shippingStatus),
      trackingNumber: str(s.trackingNumber),
      gift: bool(s.gift),
      giftMessage: str(s.giftMessage),
      customAttributes: customAttributes(s),
    })),
    shippingCharges: charges,
    orderAdjustments: adjustments(doc.orderPriceAdjustments, 'orderAdjustments', 'order').map((a) => ({
      ...a,
      scope: 'merchandise' as const,
    })),
    payments,
    customAttributes: customAttributes(doc),
  };
  // Sub-totals are in the taxation basis (net or gross); the order total always includes tax.
  const basis = (v: unknown, at: string, what: string): DeclaredAmounts | undefined => {
    const m = ctx.money(v, at, what);
    if (m === undefined || !taxation) return undefined;
    return taxation === 'net' ? { net: m } : { gross: m };
  };
  return {
    draft,
    issues: ctx.issues,
    exponent: ctx.exponent,
    siteId: str(doc.siteId),
    declared: {
      merchandiseAfterItemDiscounts: basis(doc.productSubTotal, 'totals.merchandise', 'productSubTotal'),
      adjustedMerchandise: basis(doc.productTotal, 'totals.merchandise', 'productTotal'),
      adjustedShipping: basis(doc.shippingTotal, 'totals.shipping', 'shippingTotal'),
      order: {
        gross: ctx.money(doc.orderTotal, 'totals.grandTotal', 'orderTotal'),
        tax: ctx.money(doc.taxTotal, 'totals.tax', 'taxTotal'),
      },
    },
  };
}

/** Card numbers in a JSON document's payment cards, to check them for a clear PAN. */
export function jsonCardNumbers(doc: Json): string[] {
  const out: string[] = [];
  for (const pi of list(doc.paymentInstruments ?? doc.payment_instruments)) {
    const card = pi.paymentCard ?? pi.payment_card;
    if (!isObject(card)) continue;
    for (const key of ['maskedNumber', 'masked_number', 'number']) {
      const n = str(card[key]);
      if (n) out.push(n);
    }
  }
  return out;
}
