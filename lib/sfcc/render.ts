// Canonical order -> SFCC formats: the order.xsd XML element (in schema sequence order, so the
// output validates), and the SCAPI (camelCase) and OCAPI (snake_case) JSON documents. Used by the
// sample generator and the sandbox; the inverse of xml-order.ts / json-order.ts.
import { currencyMinorUnits } from '../order/iso';
import { formatMoney, moneyToJsonNumber } from '../order/money';
import type { Address, Adjustment, CustomAttributes, Line, Order, ShippingCharge } from '../order/model';
import { type AmountSum as Sum, orderSums, sumAmounts } from '../order/totals';

export const ORDER_NAMESPACE = 'http://www.demandware.com/xml/impex/order/2006-10-31';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escAttr = (s: string): string => esc(s).replace(/"/g, '&quot;');

class XmlWriter {
  out = '';
  constructor(private readonly exponent: number) {}
  el(name: string, value: string | number | boolean | undefined): void {
    if (value === undefined) return;
    this.out += `<${name}>${esc(String(value))}</${name}>`;
  }
  money(name: string, minor: number | undefined): void {
    if (minor !== undefined) this.out += `<${name}>${formatMoney(minor, this.exponent)}</${name}>`;
  }
  amounts(a: Sum, basePrice?: number, text?: string): void {
    this.money('net-price', a.netPrice);
    this.money('tax', a.tax);
    this.money('gross-price', a.grossPrice);
    this.money('base-price', basePrice);
    this.el('lineitem-text', text);
  }
  open(name: string, attrs = ''): void {
    this.out += `<${name}${attrs}>`;
  }
  close(name: string): void {
    this.out += `</${name}>`;
  }
  custom(attrs: CustomAttributes): void {
    const ids = Object.keys(attrs);
    if (ids.length === 0) return;
    this.open('custom-attributes');
    for (const id of ids) {
      const v = attrs[id];
      const one = (value: string | string[], lang?: string): void => {
        const l = lang && lang !== 'default' ? ` xml:lang="${escAttr(lang)}"` : '';
        this.open('custom-attribute', ` attribute-id="${escAttr(id)}"${l}`);
        if (Array.isArray(value)) for (const x of value) this.el('value', x);
        else this.out += esc(value);
        this.close('custom-attribute');
      };
      if (typeof v === 'string' || Array.isArray(v)) one(v);
      else for (const [lang, value] of Object.entries(v)) one(value, lang);
    }
    this.close('custom-attributes');
  }
  adjustments(list: readonly Adjustment[]): void {
    if (list.length === 0) return;
    this.open('price-adjustments');
    for (const a of list) {
      this.open('price-adjustment');
      this.amounts(a, undefined, a.text);
      this.el('promotion-id', a.promotionId);
      this.el('campaign-id', a.campaignId);
      this.el('coupon-id', a.couponCode);
      this.el('reason-code', a.reasonCode);
      if (a.manual) this.el('manual', true);
      this.close('price-adjustment');
    }
    this.close('price-adjustments');
  }
  address(name: string, a: Address | undefined): void {
    if (!a) return;
    this.open(name);
    this.el('first-name', a.firstName);
    this.el('last-name', a.lastName);
    this.el('company-name', a.company);
    this.el('address1', a.line1);
    this.el('address2', a.line2);
    this.el('city', a.city);
    this.el('postal-code', a.postalCode);
    this.el('state-code', a.stateCode);
    this.el('country-code', a.countryCode);
    this.el('phone', a.phone);
    this.close(name);
  }
  total(name: string, a: Sum, adjustments: readonly Adjustment[] = []): void {
    this.open(name);
    this.amounts(a);
    this.adjustments(adjustments);
    this.close(name);
  }
}

/** One <order> element, in order.xsd sequence order. */
export function renderOrderXml(order: Order): string {
  const exponent = currencyMinorUnits(order.currency) ?? 2;
  const w = new XmlWriter(exponent);
  w.open('order', ` order-no="${escAttr(order.orderRef)}"`);
  w.el('order-date', order.createdAt);
  w.el('created-by', 'storefront');
  w.el('currency', order.currency);
  w.el('customer-locale', order.locale);
  w.el('taxation', order.taxation);
  w.el('invoice-no', `INV-${order.orderRef}`);
  w.open('customer');
  w.el('guest', order.customer.guest);
  w.el('customer-no', order.customer.customerNo);
  w.el('customer-name', order.customer.name);
  w.el('customer-email', order.customer.email);
  w.address('billing-address', order.customer.billingAddress);
  w.close('customer');
  w.open('status');
  w.el('order-status', order.status.order);
  w.el('shipping-status', order.status.shipping);
  w.el('confirmation-status', order.status.confirmation);
  w.el('payment-status', order.status.payment);
  w.el('export-status', order.status.export);
  w.close('status');
  w.el('channel-type', order.channel);

  const products = order.lines.filter((l) => l.kind === 'product');
  const options = (parent: Line): Line[] =>
    order.lines.filter((l) => l.kind === 'option' && l.parentLineRef === parent.lineRef);
  const surcharge = (parent: Line): ShippingCharge | undefined =>
    order.shippingCharges.find((c) => c.lineRef === parent.lineRef);
  w.open('product-lineitems');
  for (const l of products) {
    w.open('product-lineitem');
    w.amounts(l, l.unitPrice, l.name);
    w.el('position', l.lineRef);
    w.el('product-id', l.sku);
    w.el('product-name', l.name);
    w.out += `<quantity unit="">${l.quantity}</quantity>`;
    w.el('tax-rate', l.taxRate);
    w.el('shipment-id', l.shipmentRef);
    const opts = options(l);
    if (opts.length > 0) {
      w.open('option-lineitems');
      for (const o of opts) {
        w.open('option-lineitem');
        w.amounts(o, o.unitPrice, o.name);
        const [optionId] = o.sku.split(':');
        w.el('option-id', optionId);
        w.el('value-id', 'yes');
        w.el('product-id', o.sku);
        w.custom(o.customAttributes);
        w.adjustments(o.adjustments);
        w.close('option-lineitem');
      }
      w.close('option-lineitems');
    }
    const s = surcharge(l);
    if (s) {
      w.open('shipping-lineitem');
      w.amounts(s, undefined, 'Item shipping surcharge');
      w.out += `<quantity unit="">${l.quantity}</quantity>`;
      w.el('tax-rate', s.taxRate);
      w.el('type', 'surcharge');
      w.adjustments(s.adjustments);
      w.close('shipping-lineitem');
    }
    w.el('gift', l.gift);
    w.el('gift-message', l.giftMessage);
    w.custom(l.customAttributes);
    w.adjustments(l.adjustments);
    w.close('product-lineitem');
  }
  w.close('product-lineitems');
  const gcs = order.lines.filter((l) => l.kind === 'giftCertificate');
  if (gcs.length > 0) {
    w.open('giftcertificate-lineitems');
    for (const g of gcs) {
      w.open('giftcertificate-lineitem');
      w.amounts(g, g.unitPrice, g.name);
      if (g.sku !== 'GIFT_CERTIFICATE') w.el('giftcertificate-id', g.sku);
      w.el('recipient-email', g.recipientEmail);
      w.el('shipment-id', g.shipmentRef);
      w.custom(g.customAttributes);
      w.close('giftcertificate-lineitem');
    }
    w.close('giftcertificate-lineitems');
  }
  const shipping = order.shippingCharges.filter((c) => c.lineRef === undefined);
  w.open('shipping-lineitems');
  for (const c of shipping) {
    w.open('shipping-lineitem');
    w.amounts(c, undefined, 'Shipping');
    w.adjustments(c.adjustments);
    w.el('item-id', c.chargeRef);
    w.el('shipment-id', c.shipmentRef);
    w.el('tax-rate', c.taxRate);
    w.close('shipping-lineitem');
  }
  w.close('shipping-lineitems');
  w.open('shipments');
  for (const s of order.shipments) {
    w.open('shipment', ` shipment-id="${escAttr(s.shipmentRef)}"`);
    if (s.status) {
      w.open('status');
      w.el('shipping-status', s.status);
      w.close('status');
    }
    w.el('shipping-method', s.method);
    w.el('tracking-number', s.trackingNumber);
    w.address('shipping-address', s.address);
    w.el('gift', s.gift);
    w.el('gift-message', s.giftMessage);
    w.custom(s.customAttributes);
    w.close('shipment');
  }
  w.close('shipments');
  const t = orderSums(order);
  w.open('totals');
  w.total(
    'merchandize-total',
    t.merch,
    order.orderAdjustments.filter((a) => a.scope === 'merchandise'),
  );
  w.total('adjusted-merchandize-total', t.adjustedMerch);
  w.total(
    'shipping-total',
    t.ship,
    order.orderAdjustments.filter((a) => a.scope === 'shipping'),
  );
  w.total('adjusted-shipping-total', t.adjustedShip);
  w.total('order-total', t.order);
  w.close('totals');
  w.open('payments');
  for (const p of order.payments) {
    w.open('payment');
    if (p.method === 'CREDIT_CARD') {
      w.open('credit-card');
      w.el('card-type', p.card?.brand);
      if (p.card?.last4) w.el('card-number', `************${p.card.last4}`);
      w.el('card-holder', p.card?.holder);
      w.el('card-token', p.card?.token);
      w.el('expiration-month', p.card?.expMonth);
      w.el('expiration-year', p.card?.expYear);
      w.close('credit-card');
    } else if (p.method === 'GIFT_CERTIFICATE') {
      w.open('gift-certificate');
      w.close('gift-certificate');
    } else {
      w.open('custom-method');
      w.el('method-name', p.method);
      w.close('custom-method');
    }
    w.money('amount', p.amount);
    w.el('processor-id', p.processor);
    w.el('transaction-id', p.transactionId);
    w.el('transaction-type', p.transactionType);
    w.custom(p.customAttributes);
    w.close('payment');
  }
  w.close('payments');
  w.el('remoteHost', order.remoteHost);
  w.custom(order.customAttributes);
  w.close('order');
  return w.out;
}

export function xmlHeader(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<orders xmlns="${ORDER_NAMESPACE}">\n`;
}

export function xmlFooter(): string {
  return '</orders>\n';
}

type Json = Record<string, unknown>;

function customJson(attrs: CustomAttributes): Json {
  const out: Json = {};
  for (const [id, v] of Object.entries(attrs)) {
    // JSON APIs carry one value per attribute: the default (unlocalised) variant.
    out[`c_${id}`] = typeof v === 'string' || Array.isArray(v) ? v : (v.default ?? Object.values(v)[0]);
  }
  return out;
}

/** The SCAPI Orders `Order` document (camelCase, money as JSON numbers). */
export function renderScapiOrder(order: Order): Json {
  const exponent = currencyMinorUnits(order.currency) ?? 2;
  const num = (minor: number): number => moneyToJsonNumber(minor, exponent);
  const basis = (a: Sum): number => num(order.taxation === 'net' ? a.netPrice : a.grossPrice);
  const amounts = (a: Sum): Json => ({
    netPrice: num(a.netPrice),
    tax: num(a.tax),
    grossPrice: num(a.grossPrice),
    price: basis(a),
  });
  const adjustments = (list: readonly Adjustment[]): Json[] =>
    list.map((a) => ({
      promotionId: a.promotionId,
      campaignId: a.campaignId,
      couponCode: a.couponCode,
      reasonCode: a.reasonCode,
      itemText: a.text,
      ...amounts(a),
    }));
  const address = (a: Address | undefined): Json | undefined =>
    a && {
      firstName: a.firstName,
      lastName: a.lastName,
      companyName: a.company,
      address1: a.line1,
      address2: a.line2,
      city: a.city,
      postalCode: a.postalCode,
      stateCode: a.stateCode,
      countryCode: a.countryCode,
      phone: a.phone,
    };
  const t = orderSums(order);
  const products = order.lines.filter((l) => l.kind === 'product');
  return {
    orderNo: order.orderRef,
    creationDate: order.createdAt,
    currency: order.currency,
    taxation: order.taxation,
    customerLocale: order.locale,
    channelType: order.channel?.toLowerCase(),
    status: order.status.order?.toLowerCase(),
    shippingStatus: order.status.shipping?.toLowerCase(),
    paymentStatus: order.status.payment?.toLowerCase(),
    confirmationStatus: order.status.confirmation?.toLowerCase(),
    exportStatus: order.status.export?.toLowerCase(),
    customerInfo: {
      customerNo: order.customer.customerNo,
      customerName: order.customer.name,
      email: order.customer.email,
      guest: order.customer.guest,
    },
    billingAddress: address(order.customer.billingAddress),
    productItems: products.map((l) => {
      const surcharge = order.shippingCharges.find((c) => c.lineRef === l.lineRef);
      return {
        itemId: `pli-${l.lineRef}`,
        position: Number(l.lineRef),
        productId: l.sku,
        productName: l.name,
        itemText: l.name,
        quantity: l.quantity,
        basePrice: num(l.unitPrice),
        ...amounts(l),
        priceAfterItemDiscount: basis(sumAmounts([l], l.adjustments)),
        taxRate: l.taxRate,
        shipmentId: l.shipmentRef,
        shippingItemId: surcharge ? `sli-${l.lineRef}-surcharge` : undefined,
        priceAdjustments: adjustments(l.adjustments),
        optionItems: order.lines
          .filter((o) => o.kind === 'option' && o.parentLineRef === l.lineRef)
          .map((o) => ({
            optionId: o.sku.split(':')[0],
            optionValueId: 'yes',
            productId: o.sku,
            itemText: o.name,
            basePrice: num(o.unitPrice),
            ...amounts(o),
            taxRate: o.taxRate,
            priceAdjustments: adjustments(o.adjustments),
          })),
        ...customJson(l.customAttributes),
      };
    }),
    giftCertificateItems: order.lines
      .filter((l) => l.kind === 'giftCertificate')
      .map((g) => ({
        giftCertificateItemId: `gc-${g.lineRef}`,
        itemText: g.name,
        recipientEmail: g.recipientEmail,
        shipmentId: g.shipmentRef,
        basePrice: num(g.unitPrice),
        ...amounts(g),
      })),
    shippingItems: order.shippingCharges.map((c) => ({
      itemId: c.lineRef ? `sli-${c.lineRef}-surcharge` : c.chargeRef,
      shipmentId: c.shipmentRef,
      type: c.lineRef ? 'surcharge' : 'fixed_price',
      ...amounts(c),
      taxRate: c.taxRate,
      priceAdjustments: adjustments(c.adjustments),
    })),
    orderPriceAdjustments: adjustments(order.orderAdjustments),
    shipments: order.shipments.map((s) => ({
      shipmentId: s.shipmentRef,
      shippingMethod: s.method ? { id: s.method } : undefined,
      shippingAddress: address(s.address),
      shippingStatus: s.status?.toLowerCase(),
      trackingNumber: s.trackingNumber,
      gift: s.gift,
      giftMessage: s.giftMessage,
      ...customJson(s.customAttributes),
    })),
    paymentInstruments: order.payments.map((p, i) => ({
      paymentInstrumentId: `pi-${i + 1}`,
      paymentMethodId: p.method,
      paymentCard: p.card
        ? {
            cardType: p.card.brand,
            maskedNumber: p.card.last4 ? `************${p.card.last4}` : undefined,
            numberLastDigits: p.card.last4,
            holder: p.card.holder,
            expirationMonth: p.card.expMonth,
            expirationYear: p.card.expYear,
            creditCardToken: p.card.token,
          }
        : undefined,
      paymentTransaction: {
        amount: num(p.amount),
        transactionId: p.transactionId,
        ...customJson(p.customAttributes),
      },
    })),
    productSubTotal: basis(sumAmounts([t.merch, t.lineAdj])),
    productTotal: basis(t.adjustedMerch),
    shippingTotal: basis(t.adjustedShip),
    merchandizeTotalTax: num(t.merch.tax),
    adjustedMerchandizeTotalTax: num(t.adjustedMerch.tax),
    shippingTotalTax: num(t.ship.tax),
    adjustedShippingTotalTax: num(t.adjustedShip.tax),
    taxTotal: num(order.totals.tax),
    orderTotal: num(order.totals.grandTotal),
    remoteHost: order.remoteHost,
    ...customJson(order.customAttributes),
  };
}

function snake(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snake);
  if (typeof value !== 'object' || value === null) return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    out[k.startsWith('c_') ? k : k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = k.startsWith('c_')
      ? v
      : snake(v);
  }
  return out;
}

/** The OCAPI order document: SCAPI's twin in snake_case. */
export function renderOcapiOrder(order: Order): Json {
  return snake(renderScapiOrder(order)) as Json;
}
