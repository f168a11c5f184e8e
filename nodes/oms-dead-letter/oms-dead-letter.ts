// oms-dead-letter: parks a failed message durably (from oms-retry's exhausted output or a Catch
// node); the OMS sidebar or the admin API replays it, and it leaves this node's output again.
import { readEnvelope, setEnvelope, type Envelope, formatTemplate } from '../../lib/order/envelope';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import {
  CustodyConflict,
  decodeMessage,
  encodeMessage,
  type DeadLetter,
  type OmsStore,
} from '../../lib/store';
import { publish, type ReplayTarget } from '../shared/admin-api';
import { custodyFor, registerHolder, settleOrder, type CustodyNode, omsMessage } from '../shared/custody';
import { errorInfoOf } from '../../lib/reliability';
import { throttleStatus } from '../shared/status';
import type { StoreNode } from '../shared/store-registry';

interface DeadLetterNodeDef extends NodeDef {
  store: string;
}

type DeadLetterNode = CustodyNode & ReplayTarget;

/** When even the store fails, the letter goes here, one JSON line each: never dropped. */
const FALLBACK_FILE = 'oms-dead-letters.fallback.jsonl';

export = function register(RED: NodeAPI): void {
  const t = (key: string, params?: Record<string, string | number>): string =>
    RED._(`oms-dead-letter.${key}`, params);

  function OmsDeadLetter(this: DeadLetterNode, config: DeadLetterNodeDef): void {
    RED.nodes.createNode(this, config);
    this.omsStoreId = config.store;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- closures below outlive `this`
    const node = this;
    const storeNode = RED.nodes.getNode(config.store) as StoreNode | null;
    let parked = 0;
    const custody = custodyFor(RED, node, config.store);
    registerHolder(node); // a replayed letter's checkpoint is resumed by sending it again
    const status = throttleStatus(node);
    node.on('close', () => status.stop());

    const showCount = async (): Promise<void> => {
      const lease = storeNode?.lease();
      if (!lease) {
        node.status({ fill: 'red', shape: 'ring', text: t('status.noStore') });
        return;
      }
      try {
        parked = (await lease.store.deadLetters.list({ nodeId: node.id }, { offset: 0, limit: 1 })).total;
        node.status({
          fill: parked > 0 ? 'yellow' : 'green',
          shape: 'dot',
          text: t('status.parked', { count: parked }),
        });
      } finally {
        lease.release();
      }
    };
    node.on('input', (msg, _send, done) => {
      park(msg).then(
        () => done(),
        (err: Error) => done(err),
      );
    });

    async function releaseRetryRecord(store: OmsStore, oms: Envelope): Promise<void> {
      const id = oms.retry?.id;
      if (id === undefined) return;
      const held = await store.retries.get(id);
      if (held?.state === 'exhausted') await store.retries.remove(id, held);
    }

    async function park(msg: NodeMessageInFlow): Promise<void> {
      const now = Date.now();
      const record = omsMessage(msg);
      // The last resort parks even a message whose msg.oms no step can read, as it came, untracked.
      let readable = true;
      let oms: Envelope = {};
      try {
        oms = readEnvelope(record);
      } catch {
        readable = false;
      }
      const retry = oms.retry;
      const error = errorInfoOf(record) ?? { message: t('errors.noError'), code: 'OMS_NO_ERROR' };
      // The message as it was before it failed: replay sends it without the error and the retry marker.
      const { error: _error, _msgid: _id, ...rest } = record;
      if (readable && record.oms !== undefined) setEnvelope(rest, oms, { retry: undefined });
      const letter = {
        nodeId: node.id,
        orderRef: oms.orderRef || undefined,
        correlationId: oms.correlationId,
        error,
        attempts: retry?.attempts ?? (oms.attempts !== undefined && oms.attempts > 0 ? oms.attempts : 1),
        firstFailureAt: retry?.firstFailureAt ?? now,
        lastFailureAt: retry?.lastFailureAt ?? now,
        template: formatTemplate(oms),
        createdAt: now,
        message: encodeMessage(rest),
      };
      const lease = storeNode?.lease();
      try {
        if (!lease) throw new Error(t('status.noStore'));
        let saved: DeadLetter;
        try {
          const step = readable ? custody.step(record, 0, { kind: 'dead-letter' }) : undefined;
          saved = await lease.store.deadLetters.add(letter, step);
        } catch (err) {
          if (!(err instanceof CustodyConflict)) throw err;
          // A stale copy (the order moved on since): nothing to park, and its retry record goes.
          if (err.result.reason === 'stale') {
            await releaseRetryRecord(lease.store, oms);
            return;
          }
          saved = await lease.store.deadLetters.add(letter); // held elsewhere: parked untracked
        }
        if (readable) await settleOrder(lease.store, record);
        // Parked: the oms-retry node that gave up on it can let go of its copy now.
        await releaseRetryRecord(lease.store, oms);
        parked++;
        status.show(() => ({ fill: 'yellow', shape: 'dot', text: t('status.parked', { count: parked }) }));
        publish(RED, lease.store.location);
        node.log(t('log.parked', { id: saved.id, order: letter.orderRef ?? '-', code: error.code ?? '-' }));
      } catch (err) {
        const userDir = (RED.settings as { userDir?: string }).userDir ?? process.cwd();
        const file = join(userDir, FALLBACK_FILE);
        appendFileSync(file, `${JSON.stringify({ ...letter, storeError: (err as Error).message })}\n`);
        status.now({ fill: 'red', shape: 'ring', text: t('status.fallback') });
        throw Object.assign(new Error(t('errors.fallback', { file, message: (err as Error).message })), {
          code: 'OMS_DEAD_LETTER_FALLBACK',
        });
      } finally {
        lease?.release();
      }
    }

    node.replayDeadLetter = async (letter: DeadLetter, by: string): Promise<boolean> => {
      const lease = storeNode?.lease();
      if (!lease) return false;
      try {
        const msg = decodeMessage(letter.message ?? '{}');
        msg._msgid = RED.util.generateId();
        if (letter.orderRef || msg.oms) {
          setEnvelope(msg, readEnvelope(msg), {
            attempts: 0,
            replay: { deadLetterId: letter.id, at: new Date().toISOString(), by, count: letter.replays + 1 },
          });
        }
        // Replayed and handed on together: a crash after this resumes the order from here.
        const step = custody.step(msg, 0, { force: true });
        if (!(await lease.store.deadLetters.markReplayed(letter.id, Date.now(), by, step))) return false;
        node.send(msg);
        node.refreshDeadLetterCount();
        return true;
      } finally {
        lease.release();
      }
    };
    node.refreshDeadLetterCount = () => {
      showCount().catch((err: Error) => node.warn(err.message));
    };
    node.refreshDeadLetterCount();
  }

  RED.nodes.registerType('oms-dead-letter', OmsDeadLetter);
};
