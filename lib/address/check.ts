// Checks every shipping address of an order: the local rules first (rules.ts: formats and
// required fields per country, no network), then the provider for what passed them. The order
// comes back with the corrected addresses; each shipment says what changed and why.
import type { Address, Order } from '../order/model';
import type { AddressProviderClient, AddressVerdict } from './provider';
import { checkAddress, type CheckAddressOptions } from './rules';

export interface ShipmentAddressCheck {
  shipmentRef: string;
  status: AddressVerdict;
  /** Every change applied, local ones first; `source` says who made it. */
  changes: Array<{ field: string; from?: string; to?: string; source: 'local' | 'provider'; rule?: string }>;
  /** Why the address is invalid or was corrected: sentences naming the field and the rule. */
  reasons: string[];
  providerRef?: string;
}

export interface OrderAddressCheck {
  /** The worst of the shipments: invalid, else corrected, else valid. */
  status: AddressVerdict;
  shipments: ShipmentAddressCheck[];
  /** The order with the corrected addresses (invalid ones left as they came). */
  order: Order;
}

const RANK: Record<AddressVerdict, number> = { valid: 0, corrected: 1, invalid: 2 };

export async function checkOrderAddresses(
  order: Order,
  provider?: AddressProviderClient,
  options: CheckAddressOptions & { signal?: AbortSignal } = {},
): Promise<OrderAddressCheck> {
  const shipments: ShipmentAddressCheck[] = [];
  const corrected = new Map<string, Address>();
  for (const shipment of order.shipments) {
    if (!shipment.address) continue; // a shipment without an address (a gift certificate by e-mail)
    const local = checkAddress(shipment.address, options);
    const result: ShipmentAddressCheck = {
      shipmentRef: shipment.shipmentRef,
      status: 'valid',
      changes: local.changes.map((c) => ({ ...c, source: 'local' as const })),
      reasons: local.problems.map((p) => p.message),
    };
    if (!local.ok) result.status = 'invalid';
    else {
      let address = local.normalized;
      if (provider) {
        const answer = await provider.validate(address, { orderRef: order.orderRef, signal: options.signal });
        if (answer.providerRef) result.providerRef = answer.providerRef;
        result.changes.push(...answer.changes.map((c) => ({ ...c, source: 'provider' as const })));
        result.reasons.push(...answer.reasons);
        if (answer.status === 'invalid') {
          result.status = 'invalid';
          if (answer.reasons.length === 0)
            result.reasons.push('the address service refused the address without saying why');
        } else address = answer.address;
      }
      if (result.status !== 'invalid') {
        result.status = result.changes.length > 0 ? 'corrected' : 'valid';
        if (result.status === 'corrected') corrected.set(shipment.shipmentRef, address);
      }
    }
    shipments.push(result);
  }
  const status = shipments.reduce<AddressVerdict>(
    (worst, s) => (RANK[s.status] > RANK[worst] ? s.status : worst),
    'valid',
  );
  const updated: Order =
    corrected.size === 0
      ? order
      : {
          ...order,
          shipments: order.shipments.map((s) =>
            corrected.has(s.shipmentRef) ? { ...s, address: corrected.get(s.shipmentRef) } : s,
          ),
        };
  return { status, shipments, order: updated };
}
