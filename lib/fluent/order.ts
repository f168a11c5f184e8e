// The canonical order to Fluent's createOrder / createCustomer inputs (fluent-wms-fraud-payment.md
// §2). Money leaves minor units only here, as Fluent's Float. Cards: only brand and token pass.
import { currencyMinorUnits } from '../order/iso';
import type { Address, Order, Payment, Shipment } from '../order/model';
import { moneyToJsonNumber } from '../order/money';

export interface FluentOrderOptions {
  retailerId: string;
  /** The product catalogue the SKUs live in (Fluent recommends always passing it). */
  productCatalogueRef: string;
  /** Shipping methods that mean click & collect (matched case-insensitively). */
  clickAndCollectMethods?: RegExp;
}

const CLICK_AND_COLLECT = /pick.?up|click|collect|in.?store|bopis/i;

export interface CustomerInput {
  username: string;
  firstName: string;
  lastName?: string;
  primaryEmail: string;
  primaryPhone?: string;
  timezone: string;
  promotionOptIn: boolean;
  retailer: { id: string };
}

/** The store a click & collect shipment goes to: a custom attribute SFCC sites commonly use. */
function pickupStore(shipment: Shipment | undefined): string | undefined {
  const attrs = shipment?.customAttributes ?? {};
  for (const key of ['storeId', 'fromStoreId', 'pickupStoreId', 'pickupLocationRef']) {
    const value = attrs[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

/** HD or CC, from the first shipment: a pickup method or a store attribute means click & collect. */
export function orderType(
  order: Order,
  options: Pick<FluentOrderOptions, 'clickAndCollectMethods'> = {},
): 'HD' | 'CC' {
  const shipment = order.shipments[0];
  const pattern = options.clickAndCollectMethods ?? CLICK_AND_COLLECT;
  return pickupStore(shipment) || (shipment?.method && pattern.test(shipment.method)) ? 'CC' : 'HD';
}

function splitName(name: string | undefined, address?: Address): { first: string; last?: string } {
  if (address?.firstName || address?.lastName) {
    return {
      first: address.firstName ?? address.lastName ?? '',
      last: address.firstName ? address.lastName : undefined,
    };
  }
  const parts = (name ?? '').trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return { first: '-' };
  return {
    first: parts.slice(0, -1).join(' ') || parts[0],
    last: parts.length > 1 ? parts[parts.length - 1] : undefined,
  };
}

export function customerInput(order: Order, retailerId: string): CustomerInput {
  const email = order.customer.email ?? '';
  const name = splitName(order.customer.name, order.customer.billingAddress);
  return {
    username: email,
    firstName: name.first,
    ...(name.last ? { lastName: name.last } : {}),
    primaryEmail: email,
    ...(order.customer.billingAddress?.phone ? { primaryPhone: order.customer.billingAddress.phone } : {}),
    timezone: 'UTC',
    promotionOptIn: false,
    retailer: { id: retailerId },
  };
}

function paymentMethod(payment: Payment): string {
  const m = payment.method.toUpperCase().replace(/[^A-Z]/g, '');
  if (m.includes('GIFT')) return 'GIFTCARD';
  if (m.includes('CARD') || payment.card) return 'CREDITCARD';
  return m || 'OTHER';
}

export function createOrderInput(
  order: Order,
  customerId: string,
  options: FluentOrderOptions,
): Record<string, unknown> {
  const exponent = currencyMinorUnits(order.currency) ?? 2;
  const money = (minor: number): number => moneyToJsonNumber(minor, exponent);
  const type = orderType(order, options);
  const shipment = order.shipments[0];
  const address = shipment?.address;
  const products = order.lines.filter((line) => line.kind === 'product');
  const fulfilmentChoice: Record<string, unknown> = {
    deliveryType: /express|overnight|next.?day/i.test(shipment?.method ?? '') ? 'EXPRESS' : 'STANDARD',
    fulfilmentType: type === 'CC' ? 'CC_PFS' : 'HD_WH',
    currency: order.currency,
    fulfilmentPrice: money(order.totals.shipping),
  };
  if (type === 'CC') fulfilmentChoice.pickupLocationRef = pickupStore(shipment);
  if (type === 'HD' && address) {
    fulfilmentChoice.deliveryAddress = {
      ref: `${order.orderRef}-${shipment?.shipmentRef ?? 'ship'}`,
      name: [address.firstName, address.lastName].filter(Boolean).join(' ') || order.customer.name,
      ...(address.company ? { companyName: address.company } : {}),
      street: [address.line1, address.line2].filter(Boolean).join(', '),
      city: address.city,
      ...(address.stateCode ? { state: address.stateCode } : {}),
      postcode: address.postalCode,
      country: address.countryCode,
    };
  }
  return {
    ref: order.orderRef,
    type,
    retailer: { id: options.retailerId },
    customer: { id: customerId },
    totalPrice: money(order.totals.grandTotal),
    totalTaxPrice: money(order.totals.tax),
    items: products.map((line) => ({
      ref: line.lineRef,
      productRef: line.sku,
      productCatalogueRef: options.productCatalogueRef,
      quantity: line.quantity,
      price: money(line.unitPrice),
      paidPrice: money(line.quantity > 0 ? Math.round(line.netPrice / line.quantity) : 0),
      taxPrice: money(line.tax),
      totalPrice: money(line.grossPrice),
      totalTaxPrice: money(line.tax),
      currency: order.currency,
    })),
    fulfilmentChoice,
    financialTransactions: order.payments.map((payment, i) => ({
      ref: payment.transactionId ?? `${order.orderRef}-payment-${i + 1}`,
      type: (payment.transactionType ?? 'AUTHORIZATION').toUpperCase(),
      amount: money(payment.amount),
      currency: order.currency,
      paymentMethod: paymentMethod(payment),
      ...(payment.card?.brand ? { cardType: payment.card.brand.toUpperCase() } : {}),
      ...(payment.transactionId ? { externalTransactionId: payment.transactionId } : {}),
      // The processor's token, never a card number (the import masked any it found).
      ...(payment.card?.token ? { externalTransactionCode: payment.card.token } : {}),
      ...(payment.processor ? { paymentProvider: payment.processor } : {}),
    })),
    attributes: [
      { name: 'sourceSystem', type: 'STRING', value: order.source.system },
      ...(order.source.siteId ? [{ name: 'sfccSiteId', type: 'STRING', value: order.source.siteId }] : []),
    ],
  };
}
