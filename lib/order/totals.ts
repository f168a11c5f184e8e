// Exact sums of an order's amount blocks, shared by validation (reconciliation), the renderers
// (declared totals of generated files) and the sample generator.
import type { Order, Totals } from './model';

export interface AmountSum {
  netPrice: number;
  tax: number;
  grossPrice: number;
}

export function sumAmounts(...groups: ReadonlyArray<readonly AmountSum[]>): AmountSum {
  const s = { netPrice: 0, tax: 0, grossPrice: 0 };
  for (const items of groups) {
    for (const i of items) {
      s.netPrice += i.netPrice;
      s.tax += i.tax;
      s.grossPrice += i.grossPrice;
    }
  }
  return s;
}

export interface OrderSums {
  /** Product and option lines before discounts. */
  merch: AmountSum;
  lineAdj: AmountSum;
  orderMerchAdj: AmountSum;
  ship: AmountSum;
  shipAdj: AmountSum;
  orderShipAdj: AmountSum;
  gc: AmountSum;
  adjustedMerch: AmountSum;
  adjustedShip: AmountSum;
  /** What the customer pays: adjusted merchandise + adjusted shipping + gift certificates. */
  order: AmountSum;
}

export function orderSums(order: Pick<Order, 'lines' | 'shippingCharges' | 'orderAdjustments'>): OrderSums {
  const merchLines = order.lines.filter((l) => l.kind !== 'giftCertificate');
  const merch = sumAmounts(merchLines);
  const lineAdj = sumAmounts(...order.lines.map((l) => l.adjustments));
  const orderMerchAdj = sumAmounts(order.orderAdjustments.filter((a) => a.scope === 'merchandise'));
  const ship = sumAmounts(order.shippingCharges);
  const shipAdj = sumAmounts(...order.shippingCharges.map((c) => c.adjustments));
  const orderShipAdj = sumAmounts(order.orderAdjustments.filter((a) => a.scope === 'shipping'));
  const gc = sumAmounts(order.lines.filter((l) => l.kind === 'giftCertificate'));
  const adjustedMerch = sumAmounts([merch, lineAdj, orderMerchAdj]);
  const adjustedShip = sumAmounts([ship, shipAdj, orderShipAdj]);
  return {
    merch,
    lineAdj,
    orderMerchAdj,
    ship,
    shipAdj,
    orderShipAdj,
    gc,
    adjustedMerch,
    adjustedShip,
    order: sumAmounts([adjustedMerch, adjustedShip, gc]),
  };
}

/** The canonical totals; the order's tax and total as declared by the source where it declares them. */
export function canonicalTotals(s: OrderSums, declared: { tax?: number; gross?: number } = {}): Totals {
  return {
    merchandise: s.merch.grossPrice,
    shipping: s.ship.grossPrice,
    discount: -sumAmounts([s.lineAdj, s.shipAdj, s.orderMerchAdj, s.orderShipAdj]).grossPrice,
    giftCertificates: s.gc.grossPrice,
    tax: declared.tax ?? s.order.tax,
    grandTotal: declared.gross ?? s.order.grossPrice,
  };
}
