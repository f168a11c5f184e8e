import assert from 'node:assert/strict';
import { createOrderInput, customerInput, orderType } from '../../../lib/fluent/order';
import { fluentCodeIsRetryable } from '../../../lib/fluent/client';
import type { Order } from '../../../lib/order/model';
import { generateOrder } from '../../../lib/sfcc/generate';

const options = { retailerId: '1', productCatalogueRef: 'DEFAULT:1' };

describe('Fluent mapping of the canonical order', () => {
  it('maps product lines, money in major units, the delivery address and the customer', () => {
    const order = generateOrder(5, 11);
    const input = createOrderInput(order, 'c-9', options) as {
      ref: string;
      type: string;
      retailer: { id: string };
      customer: { id: string };
      totalPrice: number;
      items: Array<{
        ref: string;
        productRef: string;
        productCatalogueRef: string;
        quantity: number;
        totalPrice: number;
      }>;
      fulfilmentChoice: {
        deliveryAddress?: { country?: string; postcode?: string };
        fulfilmentPrice: number;
      };
      financialTransactions: Array<{ amount: number; currency: string }>;
    };
    assert.equal(input.ref, order.orderRef);
    assert.equal(input.type, 'HD');
    assert.deepEqual(input.retailer, { id: '1' });
    assert.deepEqual(input.customer, { id: 'c-9' });
    assert.equal(input.totalPrice, order.totals.grandTotal / 100);
    const products = order.lines.filter((l) => l.kind === 'product');
    assert.deepEqual(
      input.items.map((i) => [i.ref, i.productRef, i.productCatalogueRef, i.quantity, i.totalPrice]),
      products.map((l) => [l.lineRef, l.sku, 'DEFAULT:1', l.quantity, l.grossPrice / 100]),
    );
    assert.equal(input.fulfilmentChoice.deliveryAddress?.country, order.shipments[0].address?.countryCode);
    assert.equal(input.fulfilmentChoice.fulfilmentPrice, order.totals.shipping / 100);
    const paid = input.financialTransactions.reduce((sum, ft) => sum + Math.round(ft.amount * 100), 0);
    assert.equal(
      paid,
      order.payments.reduce((sum, p) => sum + p.amount, 0),
    );
    const customer = customerInput(order, '1');
    assert.equal(customer.primaryEmail, order.customer.email);
    assert.equal(customer.username, order.customer.email);
  });

  it('keeps card numbers out: only the brand and the processor token pass', () => {
    for (let n = 1; n <= 40; n++) {
      const order = generateOrder(n, 5);
      const text = JSON.stringify(createOrderInput(order, 'c', options));
      for (const p of order.payments) {
        if (p.card?.token) assert.ok(text.includes(p.card.token));
      }
      assert.doesNotMatch(text, /\b\d{13,19}\b/, `order ${order.orderRef} carries no card-like number`);
    }
  });

  it('chooses click & collect from a pickup method or a store attribute, with the store as pickup location', () => {
    const base = generateOrder(3, 2);
    const cc: Order = {
      ...base,
      shipments: [
        { ...base.shipments[0], method: 'Store Pickup', customAttributes: { storeId: 'STORE_12' } },
      ],
    };
    assert.equal(orderType(base), 'HD');
    assert.equal(orderType(cc), 'CC');
    const input = createOrderInput(cc, 'c', options) as {
      fulfilmentChoice: { pickupLocationRef?: string; deliveryAddress?: unknown };
    };
    assert.equal(input.fulfilmentChoice.pickupLocationRef, 'STORE_12');
    assert.equal(input.fulfilmentChoice.deliveryAddress, undefined);
  });

  it('classifies Fluent codes: C permanent except API limits, S/T transient except settings', () => {
    assert.equal(fluentCodeIsRetryable('C0121E'), false);
    assert.equal(fluentCodeIsRetryable('C0160E'), false);
    assert.equal(fluentCodeIsRetryable('C0001E'), false, 'query too complex does not pass');
    assert.equal(fluentCodeIsRetryable('C0011E'), true, 'rate limit');
    assert.equal(fluentCodeIsRetryable('S0002E'), true);
    assert.equal(fluentCodeIsRetryable('S0001E'), false);
    assert.equal(fluentCodeIsRetryable('T0100E'), true);
    assert.equal(fluentCodeIsRetryable('HTTP_503', 503), true);
    assert.equal(fluentCodeIsRetryable('HTTP_400', 400), false);
  });
});
