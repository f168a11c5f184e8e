// SFCC order.xsd <order> element -> canonical order draft. Elements are looked up by name, never
// by position (price-adjustments sit last in product-lineitem but first in shipping-lineitem), and
// unknown elements are ignored so that newer export versions keep working.
import type {
  Address,
  Adjustment,
  CustomAttributes,
  DeclaredAmounts,
  Line,
  OrderAdjustment,
  Payment,
  Shipment,
  ShippingCharge,
} from '../order/model';
import { lastFour } from '../order/card';
import type { OrderDraft, MappedOrder } from '../order/draft';
import { MapContext, addCustomValue } from './map-context';
import { XmlElement, child, childrenNamed, textOf } from './xml-stream';

function bool(text: string | undefined): boolean | undefined {
  return text === undefined ? undefined : text === 'true' || text === '1';
}

function customAttributes(el: XmlElement | undefined): CustomAttributes {
  const out: CustomAttributes = {};
  for (const ca of childrenNamed(child(el, 'custom-attributes'), 'custom-attribute')) {
    const id = ca.attrs['attribute-id'];
    if (!id) continue;
    const values = childrenNamed(ca, 'value');
    const value = values.length > 0 ? values.map((v) => v.text) : ca.text;
    addCustomValue(out, id, value, ca.attrs['xml:lang']);
  }
  return out;
}

function address(el: XmlElement | undefined): Address | undefined {
  if (!el) return undefined;
  const a: Address = {
    firstName: textOf(el, 'first-name'),
    lastName: textOf(el, 'last-name'),
    company: textOf(el, 'company-name'),
    line1: textOf(el, 'address1'),
    line2: textOf(el, 'address2'),
    city: textOf(el, 'city'),
    postalCode: textOf(el, 'postal-code'),
    stateCode: textOf(el, 'state-code'),
    countryCode: textOf(el, 'country-code'),
    phone: textOf(el, 'phone'),
  };
  return a;
}

function declared(ctx: MapContext, el: XmlElement | undefined, at: string, what: string): DeclaredAmounts {
  return {
    net: ctx.money(textOf(el, 'net-price'), at, `${what} net-price`),
    tax: ctx.money(textOf(el, 'tax'), at, `${what} tax`),
    gross: ctx.money(textOf(el, 'gross-price'), at, `${what} gross-price`),
  };
}

function adjustments(
  ctx: MapContext,
  el: XmlElement | undefined,
  at: string,
  what: string,
  offset = 0,
): Adjustment[] {
  const out: Adjustment[] = [];
  childrenNamed(child(el, 'price-adjustments'), 'price-adjustment').forEach((pa, i) => {
    const p = `${at}[${offset + i}]`;
    const label = `${what} price-adjustment ${i + 1}`;
    const amounts = ctx.amounts(declared(ctx, pa, p, label), p, label);
    const promotionId = textOf(pa, 'promotion-id');
    if (!promotionId) ctx.issue(`${p}.promotionId`, 'required', `${label}: promotion-id is missing`);
    if (!amounts || !promotionId) return;
    out.push({
      promotionId,
      campaignId: textOf(pa, 'campaign-id'),
      couponCode: textOf(pa, 'coupon-id'),
      reasonCode: textOf(pa, 'reason-code'),
      text: textOf(pa, 'lineitem-text'),
      manual: bool(textOf(pa, 'manual')),
      ...amounts,
    });
  });
  return out;
}

export function mapXmlOrder(el: XmlElement): MappedOrder {
  const currency = textOf(el, 'currency');
  const ctx = new MapContext(currency);
  const orderRef = el.attrs['order-no']?.trim() ?? '';
  const taxationText = textOf(el, 'taxation');
  const taxation = taxationText === 'net' || taxationText === 'gross' ? taxationText : undefined;
  if (taxationText && !taxation)
    ctx.issue('taxation', 'enum', `taxation "${taxationText}" is neither net nor gross`);

  const lines: Line[] = [];
  const charges: ShippingCharge[] = [];
  const productEls = childrenNamed(child(el, 'product-lineitems'), 'product-lineitem');
  productEls.forEach((pl, i) => {
    const p = `lines[${lines.length}]`;
    const sku = textOf(pl, 'product-id') ?? '';
    const label = `product-lineitem ${i + 1}${sku ? ` (${sku})` : ''}`;
    const quantity = ctx.number(textOf(pl, 'quantity'), `${p}.quantity`, `${label} quantity`);
    const amounts = ctx.amounts(declared(ctx, pl, p, label), p, label);
    const basePrice = ctx.money(textOf(pl, 'base-price'), `${p}.unitPrice`, `${label} base-price`);
    const lineRef = textOf(pl, 'position') ?? String(i + 1);
    const shipmentRef = textOf(pl, 'shipment-id');
    lines.push({
      lineRef,
      kind: 'product',
      sku,
      name: textOf(pl, 'product-name'),
      quantity: quantity as number,
      unitPrice: basePrice as number,
      ...(amounts as { netPrice: number; tax: number; grossPrice: number }),
      taxRate: ctx.number(textOf(pl, 'tax-rate'), `${p}.taxRate`, `${label} tax-rate`) as number,
      shipmentRef,
      gift: bool(textOf(pl, 'gift')),
      giftMessage: textOf(pl, 'gift-message'),
      adjustments: adjustments(ctx, pl, `${p}.adjustments`, label),
      customAttributes: customAttributes(pl),
    });
    childrenNamed(child(pl, 'option-lineitems'), 'option-lineitem').forEach((ol, j) => {
      const op = `lines[${lines.length}]`;
      const optionId = textOf(ol, 'option-id') ?? '';
      const olabel = `${label} option-lineitem ${j + 1}`;
      const oamounts = ctx.amounts(declared(ctx, ol, op, olabel), op, olabel);
      lines.push({
        lineRef: `${lineRef}.${j + 1}`,
        kind: 'option',
        sku: textOf(ol, 'product-id') ?? `${optionId}:${textOf(ol, 'value-id') ?? ''}`,
        name: textOf(ol, 'lineitem-text'),
        quantity: quantity as number,
        unitPrice: ctx.money(textOf(ol, 'base-price'), `${op}.unitPrice`, `${olabel} base-price`) as number,
        ...(oamounts as { netPrice: number; tax: number; grossPrice: number }),
        // option-lineitem has no tax-rate of its own: it is taxed like its product
        taxRate: ctx.number(textOf(pl, 'tax-rate'), `${op}.taxRate`, `${olabel} tax-rate`) as number,
        shipmentRef,
        parentLineRef: lineRef,
        adjustments: adjustments(ctx, ol, `${op}.adjustments`, olabel),
        customAttributes: customAttributes(ol),
      });
    });
    const surcharge = child(pl, 'shipping-lineitem');
    if (surcharge) {
      const cp = `shippingCharges[${charges.length}]`;
      const clabel = `${label} shipping-lineitem`;
      charges.push({
        chargeRef: `${lineRef}:surcharge`,
        shipmentRef,
        lineRef,
        ...(ctx.amounts(declared(ctx, surcharge, cp, clabel), cp, clabel) as {
          netPrice: number;
          tax: number;
          grossPrice: number;
        }),
        taxRate: ctx.number(textOf(surcharge, 'tax-rate'), `${cp}.taxRate`, `${clabel} tax-rate`) ?? 0,
        adjustments: adjustments(ctx, surcharge, `${cp}.adjustments`, clabel),
      });
    }
  });

  childrenNamed(child(el, 'giftcertificate-lineitems'), 'giftcertificate-lineitem').forEach((gl, i) => {
    const p = `lines[${lines.length}]`;
    const label = `giftcertificate-lineitem ${i + 1}`;
    const amounts = ctx.amounts(declared(ctx, gl, p, label), p, label);
    const price = amounts ? (taxation === 'net' ? amounts.netPrice : amounts.grossPrice) : undefined;
    lines.push({
      lineRef: `gc-${i + 1}`,
      kind: 'giftCertificate',
      // giftcertificate-id is the certificate's redemption code: a secret, never copied
      sku: 'GIFT_CERTIFICATE',
      name: textOf(gl, 'lineitem-text') ?? textOf(gl, 'message'),
      quantity: 1,
      unitPrice: (ctx.money(textOf(gl, 'base-price'), `${p}.unitPrice`, `${label} base-price`) ??
        price) as number,
      ...(amounts as { netPrice: number; tax: number; grossPrice: number }),
      taxRate: 0,
      shipmentRef: textOf(gl, 'shipment-id'),
      recipientEmail: textOf(gl, 'recipient-email'),
      adjustments: [],
      customAttributes: customAttributes(gl),
    });
  });

  childrenNamed(child(el, 'shipping-lineitems'), 'shipping-lineitem').forEach((sl, i) => {
    const p = `shippingCharges[${charges.length}]`;
    const label = `shipping-lineitem ${i + 1}`;
    charges.push({
      chargeRef: textOf(sl, 'item-id') ?? 'STANDARD_SHIPPING',
      shipmentRef: textOf(sl, 'shipment-id'),
      ...(ctx.amounts(declared(ctx, sl, p, label), p, label) as {
        netPrice: number;
        tax: number;
        grossPrice: number;
      }),
      taxRate: ctx.number(textOf(sl, 'tax-rate'), `${p}.taxRate`, `${label} tax-rate`) as number,
      adjustments: adjustments(ctx, sl, `${p}.adjustments`, label),
    });
  });

  const shipments: Shipment[] = childrenNamed(child(el, 'shipments'), 'shipment').map((s) => ({
    shipmentRef: s.attrs['shipment-id']?.trim() ?? '',
    method: textOf(s, 'shipping-method'),
    address: address(child(s, 'shipping-address')),
    status: textOf(child(s, 'status'), 'shipping-status')?.toUpperCase(),
    trackingNumber: textOf(s, 'tracking-number'),
    gift: bool(textOf(s, 'gift')),
    giftMessage: textOf(s, 'gift-message'),
    customAttributes: customAttributes(s),
  }));

  const totals = child(el, 'totals');
  const merchandiseAdjustments = adjustments(
    ctx,
    child(totals, 'merchandize-total'),
    'orderAdjustments',
    'order merchandise',
  ).map((a) => ({ ...a, scope: 'merchandise' as const }));
  const orderAdjustments: OrderAdjustment[] = [
    ...merchandiseAdjustments,
    ...adjustments(
      ctx,
      child(totals, 'shipping-total'),
      'orderAdjustments',
      'order shipping',
      childrenNamed(child(child(totals, 'merchandize-total'), 'price-adjustments'), 'price-adjustment')
        .length,
    ).map((a) => ({ ...a, scope: 'shipping' as const })),
  ];

  const payments: Payment[] = [];
  childrenNamed(child(el, 'payments'), 'payment').forEach((pe, i) => {
    const p = `payments[${i}]`;
    const amount = ctx.money(textOf(pe, 'amount'), `${p}.amount`, `payment ${i + 1} amount`);
    const instrument = paymentInstrument(ctx, pe, p);
    payments.push({
      ...instrument,
      amount: amount as number,
      ...paymentTransaction(pe),
      // instrument-level (OrderPaymentInstrument) and payment-level (PaymentTransaction) attributes
      customAttributes: { ...instrument.customAttributes, ...customAttributes(pe) },
    });
  });

  const customer = child(el, 'customer');
  const guest = bool(textOf(customer, 'guest'));
  const status = child(el, 'status');
  const draft: OrderDraft = {
    orderRef,
    createdAt: textOf(el, 'order-date'),
    currency,
    taxation,
    locale: textOf(el, 'customer-locale'),
    channel: textOf(el, 'channel-type'),
    remoteHost: textOf(el, 'remoteHost'),
    status: {
      order: textOf(status, 'order-status')?.toUpperCase(),
      shipping: textOf(status, 'shipping-status')?.toUpperCase(),
      payment: textOf(status, 'payment-status')?.toUpperCase(),
      confirmation: textOf(status, 'confirmation-status')?.toUpperCase(),
      export: textOf(status, 'export-status')?.toUpperCase(),
    },
    customer: {
      customerNo: textOf(customer, 'customer-no'),
      name: textOf(customer, 'customer-name'),
      email: textOf(customer, 'customer-email'),
      guest: guest ?? textOf(customer, 'customer-no') === undefined,
      billingAddress: address(child(customer, 'billing-address')),
    },
    lines,
    shipments,
    shippingCharges: charges,
    orderAdjustments,
    payments,
    customAttributes: customAttributes(el),
  };
  return {
    draft,
    issues: ctx.issues,
    exponent: ctx.exponent,
    declared: {
      merchandise: declared(
        ctx,
        child(totals, 'merchandize-total'),
        'totals.merchandise',
        'merchandize-total',
      ),
      adjustedMerchandise: declared(
        ctx,
        child(totals, 'adjusted-merchandize-total'),
        'totals.merchandise',
        'adjusted-merchandize-total',
      ),
      shipping: declared(ctx, child(totals, 'shipping-total'), 'totals.shipping', 'shipping-total'),
      adjustedShipping: declared(
        ctx,
        child(totals, 'adjusted-shipping-total'),
        'totals.shipping',
        'adjusted-shipping-total',
      ),
      order: declared(ctx, child(totals, 'order-total'), 'totals.grandTotal', 'order-total'),
    },
  };
}

const INSTRUMENTS: Record<string, string> = {
  'credit-card': 'CREDIT_CARD',
  'bank-transfer': 'BANK_TRANSFER',
  bml: 'BML',
  'gift-certificate': 'GIFT_CERTIFICATE',
  'dw-apple-pay': 'DW_APPLE_PAY',
  'dw-android-pay': 'DW_ANDROID_PAY',
  'salesforce-payments': 'SALESFORCE_PAYMENTS',
};

function paymentInstrument(
  ctx: MapContext,
  pe: XmlElement,
  at: string,
): Pick<Payment, 'method' | 'card'> & {
  customAttributes: CustomAttributes;
} {
  for (const inst of pe.children) {
    if (inst.name === 'custom-method') {
      return { method: textOf(inst, 'method-name') ?? 'CUSTOM', customAttributes: customAttributes(inst) };
    }
    const method = INSTRUMENTS[inst.name];
    if (!method) continue;
    let cardEl: XmlElement | undefined = inst;
    if (inst.name === 'salesforce-payments') cardEl = child(inst, 'card');
    const number = textOf(cardEl, 'card-number');
    const brand = textOf(cardEl, 'card-type') ?? textOf(cardEl, 'brand');
    const card =
      number !== undefined || brand !== undefined || textOf(cardEl, 'card-token') !== undefined
        ? {
            brand,
            last4: textOf(cardEl, 'last-4') ?? (number ? lastFour(number) : undefined),
            token: textOf(cardEl, 'card-token'),
            expMonth: ctx.integer(
              textOf(cardEl, 'expiration-month'),
              `${at}.card.expMonth`,
              'expiration-month',
            ),
            expYear: ctx.integer(textOf(cardEl, 'expiration-year'), `${at}.card.expYear`, 'expiration-year'),
            holder: textOf(cardEl, 'card-holder'),
          }
        : undefined;
    return { method, card, customAttributes: customAttributes(inst) };
  }
  return { method: 'UNKNOWN', customAttributes: {} };
}

function paymentTransaction(
  pe: XmlElement,
): Pick<Payment, 'processor' | 'transactionId' | 'transactionType'> {
  return {
    processor: textOf(pe, 'processor-id'),
    transactionId: textOf(pe, 'transaction-id'),
    transactionType: textOf(pe, 'transaction-type'),
  };
}

/** Where the payment's card number is, to check it for a clear PAN before it is dropped. */
export function xmlCardNumbers(el: XmlElement): string[] {
  const out: string[] = [];
  for (const pe of childrenNamed(child(el, 'payments'), 'payment')) {
    for (const inst of pe.children) {
      const n = textOf(inst, 'card-number');
      if (n) out.push(n);
    }
  }
  return out;
}
