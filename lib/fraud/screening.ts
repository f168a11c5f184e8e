// What a fraud provider is told of an order (lib/fraud/provider.ts ScreeningRequest): never a
// card number — the token and the last four only.
import type { Order } from '../order/model';
import { deliveryAddress } from '../routing/geo';
import type { ScreeningRequest } from './provider';

/** What the provider needs to know of an order (never a card number: token, BIN-less last four). */
export function screeningRequest(order: Order, callbackUrl?: string): ScreeningRequest {
  const card = order.payments.find((p) => p.card)?.card;
  const products = order.lines.filter((l) => l.kind === 'product');
  return {
    orderRef: order.orderRef,
    amount: order.totals.grandTotal,
    currency: order.currency,
    email: order.customer.email ?? '',
    ...(order.remoteHost ? { ip: order.remoteHost } : {}),
    ...(order.customer.billingAddress?.countryCode
      ? { billingCountry: order.customer.billingAddress.countryCode }
      : {}),
    ...(deliveryAddress(order)?.countryCode ? { shippingCountry: deliveryAddress(order)?.countryCode } : {}),
    ...(card?.token ? { cardToken: card.token } : {}),
    ...(card?.last4 ? { cardLast4: card.last4 } : {}),
    ...(order.customer.customerNo ? { customerNo: order.customer.customerNo } : {}),
    items: products.map((l) => ({
      sku: l.sku,
      ...(l.name ? { name: l.name } : {}),
      quantity: l.quantity,
      unitPrice: l.quantity > 0 ? Math.round(l.grossPrice / l.quantity) : l.grossPrice,
    })),
    createdAt: order.createdAt,
    ...(callbackUrl ? { callbackUrl } : {}),
  };
}
