// oms-lifecycle: moves msg.oms.orderRef through the order state machine (docs/lifecycle.md),
// by event or by target state, checked and recorded in the store's audit trail.
// Outputs: 1 moved, 2 refused (an illegal transition, with from/to/rule/reason).
import type { NodeAPI } from 'node-red';
import { OmsError } from '../../lib/errors';
import { envelopeOf, formatTemplate, readEnvelope, setEnvelope } from '../../lib/order/envelope';
import {
  applyMove,
  isOrderEvent,
  isOrderState,
  lifecycleRecord,
  type TransitionResult,
} from '../../lib/order/lifecycle';
import { CustodyConflict, type OmsStore, type StateDecision, type TransitionContext } from '../../lib/store';
import { omsMessage, settleOrder, type OmsMessage } from '../shared/custody';
import { defineOmsNode, type OmsNodeConfig } from '../shared/oms-node';

interface LifecycleNodeDef extends OmsNodeConfig {
  /** 'event' or 'state'; what `value` names. */
  by: string;
  /** An event or state name; empty = taken from msg.oms.transition for each message. */
  value: string;
}

export = function register(RED: NodeAPI): void {
  defineOmsNode<LifecycleNodeDef>(RED, {
    type: 'oms-lifecycle',
    counters: ['moved', 'refused'],
    setup(ctx) {
      const { node, config, t, custody } = ctx;
      const by = config.by === 'state' ? 'state' : 'event';
      const fixed = (config.value ?? '').trim();
      if (fixed && !(by === 'state' ? isOrderState(fixed) : isOrderEvent(fixed))) {
        node.warn(t(by === 'state' ? 'errors.unknownState' : 'errors.unknownEvent', { value: fixed }));
      }
      let lastState = '';
      ctx.statusFrom((counts) => ({
        fill: (counts.refused ?? 0) > 0 ? 'yellow' : 'green',
        shape: 'dot',
        text: t('status.counts', { ...counts, state: lastState }),
      }));
      if (!ctx.storeNode()?.store) node.status({ fill: 'red', shape: 'ring', text: t('status.noStore') });

      /** The move, its audit entry and the order's custody step, in one transaction. */
      async function move(
        record: OmsMessage,
        store: OmsStore,
        straight: boolean,
      ): Promise<'moved' | 'refused' | 'stale'> {
        const oms = straight ? envelopeOf(record) : readEnvelope(record);
        const orderRef = oms.orderRef;
        if (!orderRef) throw new OmsError(t('errors.noOrderRef'), 'OMS_NO_ORDER_REF');
        const requested = fixed || (oms.transition ?? '').trim();
        if (!requested)
          throw new OmsError(t('errors.noTransition', { order: orderRef }), 'OMS_NO_TRANSITION');
        // A copy of an order that has moved on since it was sent (resumed twice): not again.
        if (await custody.isStale(record, straight)) return 'stale';
        let result: TransitionResult | undefined;
        // Without a fixed value, a state name in msg.oms.transition is a target, anything else an event.
        const asState = fixed ? by === 'state' : isOrderState(requested);
        const marker = oms.custody;
        const context = (tracked: boolean): TransitionContext => ({
          orderRef,
          at: Date.now(),
          nodeId: node.id,
          template: formatTemplate(oms),
          correlationId: oms.correlationId,
          // Run again from its checkpoint, the move starts from the state the message carries.
          ...(tracked && marker ? { carried: { token: marker.token, state: oms.state } } : {}),
        });
        const decide = (current?: string): StateDecision => {
          result = applyMove(current, requested, asState);
          return result.ok
            ? { ok: true, to: result.to, event: result.event, idempotent: result.idempotent }
            : { ok: false, to: result.to, event: result.event, reason: result.reason };
        };
        /** The message as it leaves (worked out inside the transaction); returns its output. */
        const leave = (at: string): number => {
          if (!result) return 1;
          const moved = result.ok;
          setEnvelope(record, oms, {
            lifecycle: lifecycleRecord(result, at),
            ...(result.ok ? { state: result.to, transition: undefined } : {}),
          });
          return moved ? 0 : 1;
        };
        // A committed custody step settled the order's import ledger entry in its transaction;
        // a refused one was undone with it. An order going straight on into custody nodes stays
        // under the checkpoint it arrived with, whose step settled the entry: the next node that
        // writes takes it by its token; run again from there, the move is decided from the
        // message's state (TransitionContext.carried), so it is idempotent on re-delivery.
        let stepped = false;
        let settled = false;
        try {
          await store.orders.transition(context(true), decide, (outcome) => {
            const port = leave(new Date(outcome.audit.at).toISOString());
            if (custody.stays(record, port)) {
              stepped = true;
              // The move commits alone, while the checkpoint still holds the order by its token.
              return custody.stayStep(record);
            }
            const step = custody.step(record, port);
            stepped = step !== undefined;
            return step;
          });
          settled = stepped;
        } catch (err) {
          if (err instanceof CustodyConflict && err.result.reason === 'stale') return 'stale';
          if (!(err instanceof CustodyConflict)) throw err;
          // Held by another step (the order entered again, e.g. re-imported): moved untracked.
          await store.orders.transition(context(false), decide);
          leave(new Date().toISOString());
          setEnvelope(record, readEnvelope(record), { custody: undefined });
        }
        if (!settled) await settleOrder(store, record);
        return result?.ok ? 'moved' : 'refused';
      }

      node.on('input', (msg, send, done) => {
        const record = omsMessage(msg);
        const straight = custody.arrive(record);
        ctx
          .withStore((store) => move(record, store, straight))
          .then(
            (outcome) => {
              if (outcome === 'stale') return done();
              custody.passVouch(record, outcome === 'moved' ? 0 : 1);
              send(outcome === 'moved' ? [msg, null] : [null, msg]);
              lastState = envelopeOf(record).state ?? '';
              ctx.count(outcome);
              done();
            },
            (err: Error) => {
              ctx.failed(err);
              done(err);
            },
          );
      });
    },
  });
};
