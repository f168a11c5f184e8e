// oms-retry: a durable retry queue in front of a step that can fail. Output 1 sends to the step;
// its failures (Catch node, or a Complete node for HTTP statuses) come back into the input and
// are sent again after the policy's delay; output 2 is "exhausted". Every message is kept in
// the store from arrival until its outcome is known, so a crash or restart loses none.
import { randomUUID } from 'node:crypto';
import type { NodeAPI } from 'node-red';
import { DurableRetry, RetrySchedule, retrySettings, type RetrySettingsInput } from '../../lib/reliability';
import { omsMessage, registerHolder, settleOrder, wiredOnlyToStoring } from '../shared/custody';
import { defineOmsNode, type OmsNodeConfig } from '../shared/oms-node';
import { beating, DEAD_AFTER_MS } from '../shared/resumer';
import { StoreUnavailableError } from '../shared/store-registry';

/** Exhausted messages wait in the store only for these (they store what they receive). */
const DEAD_LETTER: ReadonlySet<string> = new Set(['oms-dead-letter']);

type RetryNodeDef = OmsNodeConfig & RetrySettingsInput;

export = function register(RED: NodeAPI): void {
  defineOmsNode<RetryNodeDef>(RED, {
    type: 'oms-retry',
    resume: false, // registered below, once the queue exists
    setup({ node, config, t, custody: hand, ...ctx }) {
      const settings = retrySettings(config);
      for (const problem of settings.problems) node.warn(problem);
      const lease = ctx.storeNode()?.lease();
      if (!lease) {
        node.status({ fill: 'red', shape: 'ring', text: t('status.noStore') });
        node.on('input', (_msg, _send, done) => done(new StoreUnavailableError(t('status.noStore'))));
        return;
      }
      const { store } = lease;
      // Each start of the node is a new owner of its records: the last one's in flight are taken over.
      const owner = randomUUID();
      let beat: { stop(): Promise<void> } | undefined;
      const queue = new DurableRetry({
        ...settings,
        queue: node.id,
        owner,
        deadAfterMs: DEAD_AFTER_MS,
        store: store.retries,
        send: (msg) => {
          hand.passVouch(msg, 0);
          node.send([msg, null]);
        },
        exhaust: (msg) => node.send([null, msg]),
        // Exhausted messages wait in the store while every node on output 2 is an oms-dead-letter on it.
        exhaustedAreTaken: () => wiredOnlyToStoring(RED, config.wires?.[1], DEAD_LETTER, config.store),
        stored: (msg) => settleOrder(store, msg),
        newMessageId: () => RED.util.generateId(),
        text: {
          notAcknowledged: (seconds) => t('errors.notAcknowledged', { seconds }),
          cutShort: (attempt, of) => t('errors.cutShort', { attempt, of }),
        },
        onGiveUp: (order, explanation) => node.warn(t('log.exhausted', { order, explanation })),
        custody: {
          take: (msg) => hand.step(msg, 0, { kind: 'retry' }),
          // The step completed and no OMS node took the order: done here, unless an OMS node
          // further on will (then it stays a checkpoint, resumed through this queue if lost).
          acknowledged: (record, token) =>
            record.orderRef === undefined
              ? undefined
              : hand.leads(0)
                ? hand.keep(record.message, record.orderRef, 0, token)
                : { release: { orderRef: record.orderRef, expect: token, holder: node.id } },
          leadsOn: () => hand.leads(0),
          givenUp: (msg) => hand.step(msg, 1),
          tokenOf: (orderRef) => store.custody.tokenOf(orderRef),
        },
      });
      const schedule = new RetrySchedule({
        queue,
        ackTimeoutMs: settings.ackTimeoutMs,
        begin: async () => {
          beat = await beating(store, owner);
        },
        changed: () => ctx.refresh(),
        resumed: (count) => node.log(t('log.resumed', { count })),
        failed: (err) => node.error(err.message),
      });
      // The counts come from the store, read only when the status is about to be sent.
      ctx.statusFrom(async () => {
        if (schedule.isClosing) return undefined;
        const { inflight, waiting } = await queue.counts();
        const exhausted = queue.exhausted;
        return {
          fill: exhausted > 0 ? 'yellow' : waiting > 0 ? 'blue' : 'green',
          shape: waiting + inflight > 0 ? 'ring' : 'dot',
          text: t('status.counts', { waiting, inflight, exhausted }),
        };
      });
      // A checkpoint of this queue comes back as a new message (the step is run again).
      registerHolder(node, (_port, msg) => {
        schedule.receive(msg).catch((err: Error) => node.error(err.message));
      });

      node.on('input', (msg, _send, done) => {
        const record = omsMessage(msg);
        hand.arrive(record);
        schedule.receive(record).then(
          () => done(),
          (err: Error) => done(err),
        );
      });

      ctx.onClose(async (removed) => {
        await schedule.close();
        await beat?.stop();
        if (removed) {
          const { inflight, waiting } = await store.retries
            .counts(node.id)
            .catch(() => ({ inflight: 0, waiting: 0 }));
          if (inflight + waiting > 0) node.warn(t('log.removedWithPending', { count: inflight + waiting }));
        }
        lease.release();
      });
    },
  });
};
