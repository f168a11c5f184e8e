// oms-fluent-allocate: creates the order in Fluent exactly once (customer found or created;
// a duplicate ref is looked up and counts as created). Outputs: 1 created, 2 refused by Fluent
// (a permanent error, with its code); transient failures go to done(err) for retry and dead letters.
import { envelopeOf, setEnvelope } from '../../lib/order/envelope';
import { OmsError } from '../../lib/errors';
import type { NodeAPI } from 'node-red';
import { allocateOrder } from '../../lib/fluent/allocate';
import { FluentError } from '../../lib/fluent/client';
import type { Order } from '../../lib/order/model';
import { checkOrder } from '../../lib/order/vouch';
import type { FluentAccountNode } from '../shared/fluent-account-node';
import { defineOmsNode, type OmsNodeConfig } from '../shared/oms-node';

interface AllocateNodeDef extends OmsNodeConfig {
  account: string;
  concurrency?: string | number;
}

export = function register(RED: NodeAPI): void {
  defineOmsNode<AllocateNodeDef>(RED, {
    type: 'oms-fluent-allocate',
    counters: ['created', 'existing', 'refused', 'failed'],
    setup({ node, config, t, ...ctx }) {
      const account = RED.nodes.getNode(config.account) as FluentAccountNode | null;
      if (!account) node.status({ fill: 'red', shape: 'ring', text: t('status.noAccount') });
      const limit = Math.max(1, Number(config.concurrency) || 16);
      let running = 0;
      const waiting: Array<() => void> = [];
      ctx.statusFrom((counts) => ({
        fill: (counts.failed ?? 0) + (counts.refused ?? 0) > 0 ? 'yellow' : 'green',
        shape: running > 0 ? 'ring' : 'dot',
        text: t('status.counts', { ...counts, running }),
      }));

      /** At most `limit` calls to Fluent at once; the others wait their turn in arrival order. */
      async function slot<T>(work: () => Promise<T>): Promise<T> {
        if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
        running++;
        try {
          return await work();
        } finally {
          running--;
          waiting.shift()?.();
        }
      }

      ctx.onOrders((msg, send, done) => {
        const record = msg;
        if (!account) return done(new OmsError(t('status.noAccount'), 'OMS_FLUENT_CONFIG'));
        const parsed = checkOrder(record.payload, node.id);
        if ('issue' in parsed) return done(new OmsError(t('errors.notAnOrder', parsed), 'OMS_BAD_INPUT'));
        const order: Order = parsed.order;
        record.payload = order;
        const oms = envelopeOf(record);
        slot(() =>
          allocateOrder(account.client, order, {
            retailerId: account.retailerId,
            productCatalogueRef: account.productCatalogueRef,
          }),
        ).then(
          (result) => {
            setEnvelope(record, oms, { fluent: result, transition: 'allocate' });
            send([msg, null]);
            ctx.count(result.created ? 'created' : 'existing');
            done();
          },
          (err: Error & { code?: string; retryable?: boolean }) => {
            // Only Fluent's own refusals of this order are a business outcome; a refused login or
            // an unexpected answer is the integration's problem and goes to Catch.
            if (
              err instanceof FluentError &&
              !err.retryable &&
              /^(C\d{4}[EW]|OMS_VALIDATION_.*)$/.test(err.code)
            ) {
              setEnvelope(record, oms, { fluent: { error: { code: err.code, message: err.message } } });
              send([null, msg]);
              ctx.count('refused');
              done();
              return;
            }
            ctx.count('failed');
            done(err);
          },
        );
      });
      if (account) ctx.refresh();
    },
  });
};
