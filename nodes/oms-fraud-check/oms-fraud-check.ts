// oms-fraud-check: screens an order — the analyst's rules first (lib/fraud, docs/fraud.md), then,
// for what the rules neither reject nor let through, the fraud provider. Outputs: 1 accept,
// 2 review (held in the store until the provider's webhook or an analyst decides; then it leaves
// by 1 or 3), 3 reject. msg.oms.fraud explains every decision. The use case: lib/fraud/check.ts.
import { envelopeOf, formatTemplate } from '../../lib/order/envelope';
import { OmsError } from '../../lib/errors';
import type { NodeAPI, NodeMessage } from 'node-red';
import type { FraudDecision } from '../../lib/fraud';
import * as check from '../../lib/fraud/check';
import { checkOrder } from '../../lib/order/vouch';
import { peerCodeClassifier } from '../../lib/reliability';
import { decodeMessage, type Hold } from '../../lib/store';
import type { FraudProviderNode, HoldOwner } from '../shared/fraud-provider-node';
import { publish, type HoldTarget } from '../shared/admin-api';
import { defineOmsNode, type OmsNodeConfig } from '../shared/oms-node';

interface FraudCheckNodeDef extends OmsNodeConfig, check.FraudCheckConfig {
  provider?: string;
}

const PORT: Record<FraudDecision, number> = { accept: 0, review: 1, reject: 2 };

const outputs = (decision: FraudDecision, msg: NodeMessage): Array<NodeMessage | null> =>
  [0, 1, 2].map((port) => (port === PORT[decision] ? msg : null));

peerCodeClassifier.register({ OMS_FRAUD_CONFIG: 'permanent' }, [], 'Fraud check');

export = function register(RED: NodeAPI): void {
  defineOmsNode<FraudCheckNodeDef>(RED, {
    type: 'oms-fraud-check',
    counters: ['accept', 'review', 'reject'],
    setup({ node, config, t, custody, withStore, ...ctx }) {
      const provider = config.provider
        ? (RED.nodes.getNode(config.provider) as FraudProviderNode | null)
        : null;
      if (config.provider && !provider) node.warn(t('errors.noProvider'));

      const settings = check.fraudCheckSettings(config);
      const { rules, rulesError, limitsError } = settings;
      if (rulesError !== undefined) node.error(t('errors.config', { errors: rulesError }));
      // When both are wrong, the limits' error is the one a screening reports.
      const configError =
        limitsError === undefined ? rulesError : t('errors.failOpenLimits', { message: limitsError });
      if (limitsError !== undefined) node.error(configError);
      if (configError) ctx.status.now({ fill: 'red', shape: 'ring', text: t('status.badConfig') });
      else if (!ctx.storeNode()) ctx.status.now({ fill: 'red', shape: 'ring', text: t('status.noStore') });

      // Held orders are the store's (held before a restart, or by another runtime, included).
      ctx.statusFrom(async (counts) => {
        const held = await withStore((store) => check.countHeld(store.holds, node.id)).catch(() => 0);
        return {
          fill: held > 0 ? 'yellow' : 'green',
          shape: 'dot',
          text: t('status.counts', { ...counts, held }),
        };
      });
      if (!configError) ctx.refresh();

      async function screen(msg: Record<string, unknown>): Promise<FraudDecision> {
        if (!rules) throw new OmsError(t('errors.config', { errors: configError ?? '' }), 'OMS_FRAUD_CONFIG');
        const read = checkOrder(msg.payload, node.id);
        if ('issue' in read) throw new OmsError(t('errors.notAnOrder', read), 'OMS_BAD_INPUT');
        msg.payload = read.order;
        return withStore(async (store) => {
          const template = formatTemplate(envelopeOf(msg));
          const context = { store, provider: provider?.client, nodeId: node.id, template, now: Date.now() };
          const screened = await check.screenOrder(msg, read.order, { ...settings, rules }, context);
          if (screened.hold) publish(RED, store.location);
          return screened.decision;
        });
      }

      /** Sends a held order on, once decided (by the provider's webhook or an analyst). */
      async function decide(
        hold: Hold | undefined,
        decision: check.HeldDecision,
        by: string,
        reason?: string,
      ) {
        if (!hold) return false;
        // Read the held message before deciding: an order decided but never sent on would be lost.
        const msg = decodeMessage(hold.message ?? '');
        return withStore(async (store) => {
          const decided = { decision, by, reason, now: Date.now() };
          const final = await check.decideHeld(store.holds, hold, msg, decided, (out, to) =>
            custody.step(out, PORT[to], { force: true }),
          );
          if (!final) return false;
          msg._msgid = RED.util.generateId();
          node.send(outputs(final, msg));
          ctx.count(final);
          publish(RED, store.location);
          node.log(t('log.decided', { order: hold.orderRef, decision: final, by }));
          return true;
        });
      }

      const target: HoldTarget & HoldOwner = {
        decideHold: async (id, ...rest) =>
          decide(await withStore((s) => check.heldBy(s.holds, node.id, id)), ...rest),
        decideByProviderRef: async (ref, ...rest) =>
          decide(await withStore((s) => check.heldByProviderRef(s.holds, node.id, ref)), ...rest),
      };
      Object.assign(node, target);
      const unsubscribe = provider?.subscribe(target);
      ctx.onClose(() => unsubscribe?.());

      ctx.onOrders((msg, send, done) => {
        screen(msg).then(
          (decision) => {
            send(outputs(decision, msg));
            ctx.count(decision);
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
