// oms-address-check: validates and normalises the shipping addresses of an order — local checks
// first (postcode formats, required fields per country), then the address provider if one is
// chosen. Outputs: 1 valid, 2 corrected (msg.payload carries the corrected addresses; the
// changes are listed), 3 invalid (with the reasons). Provider outages go to Catch.
import { envelopeOf, setEnvelope } from '../../lib/order/envelope';
import { OmsError } from '../../lib/errors';
import type { NodeAPI, NodeMessage } from 'node-red';
import { checkOrderAddresses } from '../../lib/address/check';
import { ADDRESS_FIELDS, type AddressField } from '../../lib/address/rules';
import type { AddressVerdict } from '../../lib/address/provider';
import { checkOrder, markChecked } from '../../lib/order/vouch';
import { peerCodeClassifier } from '../../lib/reliability';
import { isCountryCode } from '../../lib/order/iso';
import type { AddressProviderNode } from '../shared/address-provider-node';
import { defineOmsNode, type OmsNodeConfig } from '../shared/oms-node';

interface AddressCheckNodeDef extends OmsNodeConfig {
  provider?: string;
  /** Comma-separated fields required on top of each country's (e.g. "firstName,lastName"). */
  requireFields?: string;
  /** Filled in when an address has no country (a single-country shop). */
  defaultCountry?: string;
  /** Seconds the provider has for one order, retries included. */
  timeout?: string | number;
}

const OUTPUT: Record<AddressVerdict, number> = { valid: 0, corrected: 1, invalid: 2 };

peerCodeClassifier.register({ OMS_ADDRESS_TIMEOUT: 'retryable' }, [], 'Address check');

export = function register(RED: NodeAPI): void {
  defineOmsNode<AddressCheckNodeDef>(RED, {
    type: 'oms-address-check',
    counters: ['valid', 'corrected', 'invalid'],
    warnOn: ['invalid'],
    setup({ node, config, t, ...ctx }) {
      const provider = config.provider
        ? (RED.nodes.getNode(config.provider) as AddressProviderNode | null)
        : null;
      const timeoutMs = Math.max(1, Number(config.timeout) || 20) * 1000;
      const named = (config.requireFields ?? '')
        .split(',')
        .map((f) => f.trim())
        .filter((f) => f !== '');
      const require = named.filter((f): f is AddressField =>
        (ADDRESS_FIELDS as readonly string[]).includes(f),
      );
      for (const unknown of named.filter((f) => !require.includes(f as AddressField)))
        node.warn(t('errors.requireField', { field: unknown, fields: ADDRESS_FIELDS.join(', ') }));
      if (config.provider && !provider) node.warn(t('errors.noProvider'));
      const defaultCountry = (config.defaultCountry ?? '').trim().toUpperCase();
      if (defaultCountry && !isCountryCode(defaultCountry))
        node.warn(t('errors.defaultCountry', { value: defaultCountry }));
      ctx.onOrders((msg, send, done) => {
        const record = msg;
        const order = checkOrder(record.payload, node.id);
        if ('issue' in order) return done(new OmsError(t('errors.notAnOrder', order), 'OMS_BAD_INPUT'));
        checkOrderAddresses(order.order, provider?.client, {
          require,
          ...(defaultCountry && isCountryCode(defaultCountry) ? { defaultCountryCode: defaultCountry } : {}),
          signal: AbortSignal.timeout(timeoutMs),
        }).then(
          (result) => {
            record.payload = markChecked(result.order);
            setEnvelope(record, envelopeOf(record), {
              address: {
                status: result.status,
                shipments: result.shipments,
                checkedBy: provider ? `local rules and ${provider.label}` : 'local rules',
                at: new Date().toISOString(),
              },
            });
            const out: Array<NodeMessage | null> = [null, null, null];
            out[OUTPUT[result.status]] = msg;
            send(out);
            ctx.count(result.status);
            done();
          },
          (failure: Error & { code?: string }) => {
            // The node's own time ran out: say so, with the order (retryable, like any timeout).
            const err =
              failure.name === 'AbortError' || failure.name === 'TimeoutError'
                ? new OmsError(
                    t('errors.timeout', { order: order.order.orderRef, seconds: timeoutMs / 1000 }),
                    'OMS_ADDRESS_TIMEOUT',
                  )
                : failure;
            ctx.failed(err);
            done(err);
          },
        );
      });
    },
  });
};
