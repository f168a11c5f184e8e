// oms-fraud-check: screens an order — the analyst's rules first (lib/fraud, docs/fraud.md), then,
// for what the rules neither reject nor let through, the fraud provider. Outputs: 1 accept,
// 2 review (held in the store until the provider's webhook or an analyst decides; then it leaves
// by 1 or 3), 3 reject. msg.oms.fraud explains every decision.
import { OmsError } from '../../lib/errors';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import {
  evaluateFraud,
  needsHistory,
  parseFraudConfig,
  recordOrder,
  type FraudConfig,
  type FraudDecision,
  type FraudResult,
} from '../../lib/fraud';
import {
  decideScreening,
  parseFailOpenLimits,
  rulesSettle,
  type OutagePolicy,
  type ProviderOutcome,
} from '../../lib/fraud/decision';
import { FraudProviderError } from '../../lib/fraud/provider';
import { screeningRequest } from '../../lib/fraud/screening';
import { OrderSchema, type Order } from '../../lib/order/model';
import { peerCodeClassifier } from '../../lib/reliability';
import { decodeMessage, encodeMessage, type Hold } from '../../lib/store';
import type { FraudProviderNode, HoldOwner } from '../shared/fraud-provider-node';
import { publish, type HoldTarget } from '../shared/admin-api';
import { custodyFor, onOrders, registerHolder } from '../shared/custody';
import { throttleStatus } from '../shared/status';
import { StoreUnavailableError, type StoreNode } from '../shared/store-registry';
import { formatTemplate } from '../shared/template';

interface FraudCheckNodeDef extends NodeDef {
  store: string;
  rules: string;
  provider?: string;
  /** When the provider is down or slow: 'review' (hold), 'open' (accept below a limit) or 'closed' (reject). */
  failPolicy?: string;
  /** 'open' only: currency → amount in minor units below which an order is accepted. */
  failOpenLimits?: string;
  /** Seconds the provider has for one order, retries included. */
  providerTimeout?: string | number;
  callbackUrl?: string;
}

/** The lifecycle move each output asks of an oms-lifecycle node with an empty move. */
const TRANSITION: Record<FraudDecision, string> = { accept: 'Validated', review: 'hold', reject: 'reject' };

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
    const policy: OutagePolicy =
      config.failPolicy === 'open' || config.failPolicy === 'closed' ? config.failPolicy : 'review';
    const timeoutMs = Math.max(1, Number(config.providerTimeout) || 10) * 1000;
    const counts = { accept: 0, review: 0, reject: 0, held: 0 };
    if (config.provider && !provider) node.warn(t('errors.noProvider'));
    const status = throttleStatus(node);
    node.on('close', () => status.stop());

    let rules: FraudConfig | undefined;
    let configError: string | undefined;
    const parsed = parseFraudConfig(config.rules);
    if ('errors' in parsed) {
      configError = parsed.errors.map((e) => `${e.path || '(root)'}: ${e.message}`).join('; ');
      node.error(t('errors.config', { errors: configError }));
    } else rules = parsed.config;
    let openLimits: Record<string, number> = {};
    if (policy === 'open') {
      const parsedLimits = parseFailOpenLimits(config.failOpenLimits);
      if ('limits' in parsedLimits) openLimits = parsedLimits.limits;
      else {
        configError = t('errors.failOpenLimits', { message: parsedLimits.error });
        node.error(configError);
      }
    }
    if (configError) status.now({ fill: 'red', shape: 'ring', text: t('status.badConfig') });
    else if (!storeNode) status.now({ fill: 'red', shape: 'ring', text: t('status.noStore') });

    // Orders held before a restart are still held: count them.
    const heldBefore = storeNode?.lease();
    if (heldBefore) {
      heldBefore.store.holds
        .list({ nodeId: node.id }, { offset: 0, limit: 1 })
        .then((page) => {
          counts.held += page.total;
          if (page.total > 0) show();
        })
        .catch(() => undefined)
        .finally(() => heldBefore.release());
    }

    const show = (): void =>
      status.show(() => ({
        fill: counts.held > 0 ? 'yellow' : 'green',
        shape: 'dot',
        text: t('status.counts', counts),
      }));

    function lease() {
      const held = storeNode?.lease();
      if (!held) throw new StoreUnavailableError(t('status.noStore'));
      return held;
    }

    /** Asks the provider: its answer, or why there is none (the policy then decides). */
    async function askProvider(client: FraudProviderNode['client'], order: Order): Promise<ProviderOutcome> {
      try {
        const answer = await client.screen(screeningRequest(order, config.callbackUrl || undefined), {
          signal: AbortSignal.timeout(timeoutMs),
        });
        return { answer };
      } catch (err) {
        const e = err as Error & { code?: string };
        // Refused credentials are the account's fault, not an outage: Catch, then a dead letter.
        if (e instanceof FraudProviderError && e.code === 'OMS_FRAUD_AUTH') throw e;
        return {
          error: { code: e.code ?? e.name, message: e.message },
          cannotScreen: e instanceof FraudProviderError && e.code === 'OMS_FRAUD_BAD_REQUEST',
        };
      }
    }

    async function screen(msg: Record<string, unknown>): Promise<FraudDecision> {
      if (!rules) throw new OmsError(t('errors.config', { errors: configError ?? '' }), 'OMS_FRAUD_CONFIG');
      const order = OrderSchema.safeParse(msg.payload);
      if (!order.success)
        throw new OmsError(
          t('errors.notAnOrder', { issue: order.error.issues[0]?.message ?? '' }),
          'OMS_BAD_INPUT',
        );
      const held = lease();
      try {
        const now = Date.now();
        const history = held.store.fraud;
        const result: FraudResult = await evaluateFraud(
          order.data,
          rules,
          needsHistory(rules) ? history : undefined,
          now,
        );
        await recordOrder(order.data, history, now);
        const outcome =
          provider && !rulesSettle(result) ? await askProvider(provider.client, order.data) : undefined;
        const final = decideScreening(result, outcome, {
          kind: provider?.client.settings.kind ?? '',
          policy,
          openLimits,
          currency: order.data.currency,
          total: order.data.totals.grandTotal,
        });
        const decision = final.decision;
        const answer = outcome && 'answer' in outcome ? outcome.answer : undefined;
        const fraud: Record<string, unknown> = {
          decision,
          score: result.score,
          fired: result.fired,
          decidedBy: final.decidedBy,
          summary: result.summary,
          reviewAt: result.reviewAt,
          rejectAt: result.rejectAt,
          ...(final.provider ? { provider: final.provider } : {}),
          at: new Date(now).toISOString(),
        };
        const oms = (msg.oms && typeof msg.oms === 'object' ? msg.oms : {}) as Record<string, unknown>;
        msg.oms = { ...oms, fraud, transition: TRANSITION[decision] };
        if (decision === 'review') {
          const hold = await held.store.holds.add({
            nodeId: node.id,
            orderRef: order.data.orderRef,
            score: result.score,
            reasons: { fired: result.fired, provider: fraud.provider, decidedBy: fraud.decidedBy },
            provider: answer ? provider?.client.settings.kind : undefined,
            providerRef: answer?.pending ? answer.providerRef : undefined,
            template: formatTemplate(oms.template),
            correlationId: typeof oms.correlationId === 'string' ? oms.correlationId : undefined,
            createdAt: now,
            message: encodeMessage(msg),
          });
          fraud.holdId = hold.id;
          // Screened again while held (a replay): the same hold, updated, not a second one.
          if (hold.createdAt === now) counts.held++;
          publish(RED, held.store.location);
        }
        return decision;
      } finally {
        held.release();
      }
    }

    /** Sends a held order on, once decided (by the provider's webhook or an analyst). */
    async function decide(
      hold: Hold,
      decision: 'accepted' | 'rejected',
      by: string,
      reason?: string,
    ): Promise<boolean> {
      // Read the held message before deciding: an order decided but never sent on would be lost.
      const msg = decodeMessage(hold.message ?? '');
      const held = lease();
      try {
        const final: FraudDecision = decision === 'accepted' ? 'accept' : 'reject';
        // The decision and the order's checkpoint on its way out are stored together: a decided
        // order is resumed from there after a crash, never left behind.
        const decided = await held.store.holds.decide(hold.id, decision, Date.now(), by, reason, (done) => {
          const oms = (msg.oms ?? {}) as Record<string, unknown>;
          msg.oms = {
            ...oms,
            fraud: {
              ...(oms.fraud as Record<string, unknown>),
              decision: final,
              decidedBy: by,
              decidedAt: new Date(done.decidedAt ?? Date.now()).toISOString(),
              summary: `${final} (decided by ${by}${reason ? `: ${reason}` : ''}) — held as: ${String((oms.fraud as { summary?: unknown } | undefined)?.summary ?? '')}`,
              ...(reason ? { reason } : {}),
              heldFor: hold.id,
            },
            transition: TRANSITION[final],
          };
          return custody.step(msg, final === 'accept' ? 0 : 2, { force: true });
        });
        if (!decided) return false;
        msg._msgid = RED.util.generateId();
        counts.held = Math.max(0, counts.held - 1);
        counts[final]++;
        node.send(final === 'accept' ? [msg, null, null] : [null, null, msg]);
        show();
        publish(RED, held.store.location);
        node.log(t('log.decided', { order: hold.orderRef, decision: final, by }));
        return true;
      } finally {
        held.release();
      }
    }

    const target: HoldTarget & HoldOwner = {
      async decideHold(id, decision, by, reason) {
        const held = lease();
        let hold: Hold | undefined;
        try {
          hold = await held.store.holds.get(id);
        } finally {
          held.release();
        }
        if (!hold || hold.nodeId !== node.id || hold.status !== 'held') return false;
        return decide(hold, decision, by, reason);
      },
      async decideByProviderRef(providerRef, decision, by, reason) {
        const held = lease();
        let hold: Hold | undefined;
        try {
          hold = await held.store.holds.heldByProviderRef(providerRef);
        } finally {
          held.release();
        }
        if (!hold || hold.nodeId !== node.id) return false;
        return decide(hold, decision, by, reason);
      },
    };
    Object.assign(node, target);
    const unsubscribe = provider?.subscribe(target);
    node.on('close', () => unsubscribe?.());

    onOrders(node, custody, (msg, send, done) => {
      const record = msg;
      screen(record).then(
        (decision) => {
          counts[decision]++;
          send(
            decision === 'accept'
              ? [msg, null, null]
              : decision === 'review'
                ? [null, msg, null]
                : [null, null, msg],
          );
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
