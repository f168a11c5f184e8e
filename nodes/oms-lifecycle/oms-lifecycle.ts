// oms-lifecycle: moves msg.oms.orderRef through the order state machine (docs/lifecycle.md),
// by event or by target state, checked and recorded in the store's audit trail.
// Outputs: 1 moved, 2 refused (an illegal transition, with from/to/rule/reason).
import { readEnvelope, setEnvelope, formatTemplate } from '../../lib/order/envelope';
import { OmsError } from '../../lib/errors';
import type { NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import {
  applyEvent,
  applyTarget,
  isOrderEvent,
  isOrderState,
  type TransitionResult,
} from '../../lib/order/lifecycle';
import { CustodyConflict, type StateDecision, type TransitionContext } from '../../lib/store';
import { custodyFor, registerHolder, settleOrder, type CustodyNode, omsMessage } from '../shared/custody';
import { throttleStatus } from '../shared/status';
import { StoreUnavailableError, type StoreNode } from '../shared/store-registry';

interface LifecycleNodeDef extends NodeDef {
  store: string;
  /** 'event' or 'state'; what `value` names. */
  by: string;
  /** An event or state name; empty = taken from msg.oms.transition for each message. */
  value: string;
}

export = function register(RED: NodeAPI): void {
  const t = (key: string, params?: Record<string, string | number>): string =>
    RED._(`oms-lifecycle.${key}`, params);

  function OmsLifecycle(this: CustodyNode, config: LifecycleNodeDef): void {
    RED.nodes.createNode(this, config);
    this.omsStoreId = config.store;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- closures below outlive `this`
    const node = this;
    const storeNode = RED.nodes.getNode(config.store) as StoreNode | null;
    const by = config.by === 'state' ? 'state' : 'event';
    const fixed = (config.value ?? '').trim();
    if (fixed && !(by === 'state' ? isOrderState(fixed) : isOrderEvent(fixed))) {
      node.warn(t(by === 'state' ? 'errors.unknownState' : 'errors.unknownEvent', { value: fixed }));
    }
    const counts = { moved: 0, refused: 0 };
    let lastState = '';
    const status = throttleStatus(node);
    node.on('close', () => status.stop());
    const custody = custodyFor(RED, node, config.store);
    registerHolder(node);
    if (!storeNode?.store) node.status({ fill: 'red', shape: 'ring', text: t('status.noStore') });

    async function move(msg: NodeMessageInFlow): Promise<'moved' | 'refused' | 'stale'> {
      const record = omsMessage(msg);
      const oms = readEnvelope(record);
      const orderRef = oms.orderRef;
      if (!orderRef) {
        throw new OmsError(t('errors.noOrderRef'), 'OMS_NO_ORDER_REF');
      }
      const requested = fixed || (oms.transition ?? '').trim();
      if (!requested) throw new OmsError(t('errors.noTransition', { order: orderRef }), 'OMS_NO_TRANSITION');
      const lease = storeNode?.lease();
      if (!lease) throw new StoreUnavailableError(t('status.noStore'));
      try {
        // A copy of an order that has moved on since it was sent (resumed twice): not again.
        if (await custody.isStale(record)) return 'stale';
        let result: TransitionResult | undefined;
        // Without a fixed value, a state name in msg.oms.transition is a target, anything else an event.
        const asState = fixed ? by === 'state' : isOrderState(requested);
        const context = (): TransitionContext => ({
          orderRef,
          at: Date.now(),
          nodeId: node.id,
          template: formatTemplate(oms),
          correlationId: oms.correlationId,
        });
        const decide = (current?: string): StateDecision => {
          result = asState ? applyTarget(current, requested) : applyEvent(current, requested);
          return result.ok
            ? { ok: true, to: result.to, event: result.event, idempotent: result.idempotent }
            : { ok: false, to: result.to, event: result.event, reason: result.reason };
        };
        // The message as it leaves, and its custody step, are worked out inside the transaction.
        const leave = (at: string): number => {
          if (result?.ok) {
            oms.state = result.to;
            oms.lifecycle = {
              from: result.from ?? null,
              to: result.to,
              event: result.event,
              at,
              idempotent: result.idempotent === true,
            };
            delete oms.transition;
            record.oms = oms;
            return 0;
          }
          const refusal = result as Extract<TransitionResult, { ok: false }>;
          oms.lifecycle = {
            from: refusal.from ?? null,
            to: refusal.to ?? null,
            event: refusal.event ?? null,
            at,
            rule: refusal.rule,
            reason: refusal.reason,
          };
          record.oms = oms;
          return 1;
        };
        try {
          await lease.store.orders.transition(context(), decide, (outcome) =>
            custody.step(record, leave(new Date(outcome.audit.at).toISOString())),
          );
        } catch (err) {
          if (err instanceof CustodyConflict && err.result.reason === 'stale') return 'stale';
          if (!(err instanceof CustodyConflict)) throw err;
          // Held by another step (the order entered again, e.g. re-imported): moved untracked.
          await lease.store.orders.transition(context(), decide);
          leave(new Date().toISOString());
          setEnvelope(record, oms, { custody: undefined });
        }
        await settleOrder(lease.store, record);
        return result?.ok ? 'moved' : 'refused';
      } finally {
        lease.release();
      }
    }

    node.on('input', (msg, send, done) => {
      move(msg).then(
        (outcome) => {
          if (outcome === 'stale') return done();
          counts[outcome]++;
          send(outcome === 'moved' ? [msg, null] : [null, msg]);
          lastState = (msg as { oms?: { state?: string } }).oms?.state ?? '';
          status.show(() => ({
            fill: counts.refused > 0 ? 'yellow' : 'green',
            shape: 'dot',
            text: t('status.counts', { ...counts, state: lastState }),
          }));
          done();
        },
        (err: Error) => {
          status.now({
            fill: 'red',
            shape: 'ring',
            text: (err as Error & { code?: string }).code ?? 'error',
          });
          done(err);
        },
      );
    });
  }

  RED.nodes.registerType('oms-lifecycle', OmsLifecycle);
};
