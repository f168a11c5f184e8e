// oms-fraud-check: screens an order — the analyst's rules first (lib/fraud, docs/fraud.md), then,
// for what the rules neither reject nor let through, the fraud provider. Outputs: 1 accept,
// 2 review (held in the store until the provider's webhook or an analyst decides; then it leaves
// by 1 or 3), 3 reject. msg.oms.fraud explains every decision. The use case: lib/fraud/check.ts.
import { envelopeOf, formatTemplate } from '../../lib/order/envelope';
import { OmsError } from '../../lib/errors';
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import type { FraudDecision } from '../../lib/fraud';
import * as check from '../../lib/fraud/check';
import { peerCodeClassifier } from '../../lib/reliability';
import { decodeMessage, type Hold, type OmsStore } from '../../lib/store';
import type { FraudProviderNode, HoldOwner } from '../shared/fraud-provider-node';
import { publish, type HoldTarget } from '../shared/admin-api';
import { custodyFor, onOrders, registerHolder } from '../shared/custody';
import { throttleStatus } from '../shared/status';
import { StoreUnavailableError, type StoreNode } from '../shared/store-registry';

interface FraudCheckNodeDef extends NodeDef, check.FraudCheckConfig {
  store: string;
  provider?: string;
}

const PORT: Record<FraudDecision, number> = { accept: 0, review: 1, reject: 2 };

const outputs = (decision: FraudDecision, msg: NodeMessage): Array<NodeMessage | null> =>
  [0, 1, 2].map((port) => (port === PORT[decision] ? msg : null));

peerCodeClassifier.register({ OMS_FRAUD_CONFIG: 'permanent' }, [], 'Fraud check');

export = function register(RED: NodeAPI): void {
  const t = (key: string, params?: Record<string, string | number>): string =>
    RED._(`oms-fraud-check.${key}`, params);

  function OmsFraudCheck(this: Node, config: FraudCheckNodeDef): void {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- closures below outlive `this`
    const node = this;
    const storeNode = RED.nodes.getNode(config.store) as StoreNode | null;
    const custody = custodyFor(RED, node, config.store);
    registerHolder(node);
    const provider = config.provider
      ? (RED.nodes.getNode(config.provider) as FraudProviderNode | null)
      : null;
    const counts = { accept: 0, review: 0, reject: 0, held: 0 };
    if (config.provider && !provider) node.warn(t('errors.noProvider'));
    const status = throttleStatus(node);
    node.on('close', () => status.stop());

    const settings = check.fraudCheckSettings(config);
    const { rules, rulesError, limitsError } = settings;
    if (rulesError !== undefined) node.error(t('errors.config', { errors: rulesError }));
    // When both are wrong, the limits' error is the one a screening reports.
    const configError =
      limitsError === undefined ? rulesError : t('errors.failOpenLimits', { message: limitsError });
    if (limitsError !== undefined) node.error(configError);
    if (configError) status.now({ fill: 'red', shape: 'ring', text: t('status.badConfig') });
    else if (!storeNode) status.now({ fill: 'red', shape: 'ring', text: t('status.noStore') });

    const show = (): void =>
      status.show(() => ({
        fill: counts.held > 0 ? 'yellow' : 'green',
        shape: 'dot',
        text: t('status.counts', counts),
      }));

    // Orders held before a restart are still held: count them (no store yet: none to count).
    withStore((store) => check.countHeld(store.holds, node.id))
      .then((total) => {
        counts.held += total;
        if (total > 0) show();
      })
      .catch(() => undefined);

    /** `work` with the store leased: a redeploy closes it only after. */
    async function withStore<T>(work: (store: OmsStore) => Promise<T>): Promise<T> {
      const held = storeNode?.lease();
      if (!held) throw new StoreUnavailableError(t('status.noStore'));
      return work(held.store).finally(() => held.release());
    }

    async function screen(msg: Record<string, unknown>): Promise<FraudDecision> {
      if (!rules) throw new OmsError(t('errors.config', { errors: configError ?? '' }), 'OMS_FRAUD_CONFIG');
      const read = check.orderOf(msg.payload);
      if ('issue' in read) throw new OmsError(t('errors.notAnOrder', read), 'OMS_BAD_INPUT');
      return withStore(async (store) => {
        const template = formatTemplate(envelopeOf(msg));
        const context = { store, provider: provider?.client, nodeId: node.id, template, now: Date.now() };
        const screened = await check.screenOrder(msg, read.order, { ...settings, rules }, context);
        if (screened.hold?.added) counts.held++;
        if (screened.hold) publish(RED, store.location);
        return screened.decision;
      });
    }

    /** Sends a held order on, once decided (by the provider's webhook or an analyst). */
    async function decide(hold: Hold | undefined, decision: check.HeldDecision, by: string, reason?: string) {
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
        counts.held = Math.max(0, counts.held - 1);
        counts[final]++;
        node.send(outputs(final, msg));
        show();
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
    node.on('close', () => unsubscribe?.());

    onOrders(node, custody, (msg, send, done) => {
      screen(msg).then(
        (decision) => {
          counts[decision]++;
          send(outputs(decision, msg));
          show();
          done();
        },
        (err: Error & { code?: string }) => {
          status.now({ fill: 'red', shape: 'ring', text: err.code ?? 'error' });
          done(err);
        },
      );
    });
  }

  RED.nodes.registerType('oms-fraud-check', OmsFraudCheck);
};
