// oms-fluent-allocate: creates the order in Fluent exactly once (customer found or created;
// a duplicate ref is looked up and counts as created). Outputs: 1 created, 2 refused by Fluent
// (a permanent error, with its code); transient failures go to done(err) for retry and dead letters.
import { envelopeOf, setEnvelope } from '../../lib/order/envelope';
import { OmsError } from '../../lib/errors';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { allocateOrder } from '../../lib/fluent/allocate';
import { FluentError } from '../../lib/fluent/client';
import { OrderSchema, type Order } from '../../lib/order/model';
import type { FluentAccountNode } from '../shared/fluent-account-node';
import { custodyFor, onOrders, registerHolder } from '../shared/custody';
import { throttleStatus } from '../shared/status';

interface AllocateNodeDef extends NodeDef {
  /** The oms-store that keeps custody of the orders it sends (empty: the one deployed store). */
  store?: string;
  account: string;
  concurrency?: string | number;
}

export = function register(RED: NodeAPI): void {
  const t = (key: string, params?: Record<string, string | number>): string =>
    RED._(`oms-fluent-allocate.${key}`, params);

  function OmsFluentAllocate(this: Node, config: AllocateNodeDef): void {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- closures below outlive `this`
    const node = this;
    const account = RED.nodes.getNode(config.account) as FluentAccountNode | null;
    if (!account) node.status({ fill: 'red', shape: 'ring', text: t('status.noAccount') });
    const limit = Math.max(1, Number(config.concurrency) || 16);
    const counts = { created: 0, existing: 0, refused: 0, failed: 0 };
    let running = 0;
    const waiting: Array<() => void> = [];
    const status = throttleStatus(node);
    node.on('close', () => status.stop());
    const show = (): void =>
      status.show(() => ({
        fill: counts.failed + counts.refused > 0 ? 'yellow' : 'green',
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

    const custody = custodyFor(RED, node, config.store);
    registerHolder(node);
    onOrders(node, custody, (msg, send, done) => {
      const record = msg;
      if (!account) return done(new OmsError(t('status.noAccount'), 'OMS_FLUENT_CONFIG'));
      const parsed = OrderSchema.safeParse(record.payload);
      if (!parsed.success) {
        return done(
          new OmsError(
            t('errors.notAnOrder', { issue: parsed.error.issues[0]?.message ?? '' }),
            'OMS_BAD_INPUT',
          ),
        );
      }
      const order: Order = parsed.data;
      const oms = envelopeOf(record);
      slot(() =>
        allocateOrder(account.client, order, {
          retailerId: account.retailerId,
          productCatalogueRef: account.productCatalogueRef,
        }),
      ).then(
        (result) => {
          counts[result.created ? 'created' : 'existing']++;
          setEnvelope(record, oms, { fluent: result, transition: 'allocate' });
          show();
          send([msg, null]);
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
            counts.refused++;
            setEnvelope(record, oms, { fluent: { error: { code: err.code, message: err.message } } });
            show();
            send([null, msg]);
            done();
            return;
          }
          counts.failed++;
          show();
          done(err);
        },
      );
    });
    if (account) show();
  }

  RED.nodes.registerType('oms-fluent-allocate', OmsFluentAllocate);
};
