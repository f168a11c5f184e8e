// oms-dead-letter: parks a failed message durably (from oms-retry's exhausted output or a Catch
// node); the OMS sidebar or the admin API replays it, and it leaves this node's output again.
import { join } from 'node:path';
import type { NodeAPI } from 'node-red';
import { OmsError } from '../../lib/errors';
import {
  appendFallback,
  letterFor,
  releaseExhausted,
  replayMessage,
} from '../../lib/reliability/dead-letter';
import { CustodyConflict, decodeMessage, type DeadLetter } from '../../lib/store';
import { publish, type ReplayTarget } from '../shared/admin-api';
import { omsMessage, settleOrder, type OmsMessage } from '../shared/custody';
import { defineOmsNode, type OmsNodeConfig } from '../shared/oms-node';

/** When even the store fails, the letter goes here, one JSON line each: never dropped. */
const FALLBACK_FILE = 'oms-dead-letters.fallback.jsonl';

export = function register(RED: NodeAPI): void {
  defineOmsNode<OmsNodeConfig>(RED, {
    type: 'oms-dead-letter',
    // a replayed letter's checkpoint is resumed by sending it again (the default)
    setup({ node: base, t, custody, ...ctx }) {
      const node = base as typeof base & ReplayTarget;
      // The count is the store's: parked letters of this node, whoever parked or replayed them.
      ctx.statusFrom(async () => {
        const store = ctx.storeNode()?.store;
        if (!store) return { fill: 'red', shape: 'ring', text: t('status.noStore') };
        const parked = (await store.deadLetters.list({ nodeId: node.id }, { offset: 0, limit: 1 })).total;
        return {
          fill: parked > 0 ? 'yellow' : 'green',
          shape: 'dot',
          text: t('status.parked', { count: parked }),
        };
      });

      async function park(record: OmsMessage): Promise<void> {
        const { letter, oms, readable } = letterFor(record, node.id, Date.now(), t('errors.noError'));
        try {
          await ctx.withStore(async (store) => {
            let saved: DeadLetter;
            try {
              const step = readable ? custody.step(record, 0, { kind: 'dead-letter' }) : undefined;
              saved = await store.deadLetters.add(letter, step);
            } catch (err) {
              if (!(err instanceof CustodyConflict)) throw err;
              // A stale copy (the order moved on since): nothing to park, and its retry record goes.
              if (err.result.reason === 'stale') return releaseExhausted(store, oms);
              saved = await store.deadLetters.add(letter); // held elsewhere: parked untracked
            }
            if (readable) await settleOrder(store, record);
            await releaseExhausted(store, oms);
            ctx.count('parked');
            publish(RED, store.location);
            node.log(
              t('log.parked', {
                id: saved.id,
                order: letter.orderRef ?? '-',
                code: letter.error.code ?? '-',
              }),
            );
          });
        } catch (err) {
          const userDir = (RED.settings as { userDir?: string }).userDir ?? process.cwd();
          const file = join(userDir, FALLBACK_FILE);
          appendFallback(file, letter, err as Error);
          ctx.status.now({ fill: 'red', shape: 'ring', text: t('status.fallback') });
          throw new OmsError(
            t('errors.fallback', { file, message: (err as Error).message }),
            'OMS_DEAD_LETTER_FALLBACK',
          );
        }
      }

      node.on('input', (msg, _send, done) => {
        const record = omsMessage(msg);
        custody.arrive(record);
        park(record).then(
          () => done(),
          (err: Error) => done(err),
        );
      });

      node.replayDeadLetter = async (letter: DeadLetter, by: string): Promise<boolean> => {
        if (!ctx.storeNode()?.store) return false;
        return ctx.withStore(async (store) => {
          const msg = decodeMessage(letter.message ?? '{}');
          msg._msgid = RED.util.generateId();
          const replay = { deadLetterId: letter.id, by, count: letter.replays + 1, at: Date.now() };
          replayMessage(msg, replay, letter.orderRef !== undefined);
          // Replayed and handed on together: a crash after this resumes the order from here.
          const step = custody.step(msg, 0, { force: true });
          if (!(await store.deadLetters.markReplayed(letter.id, Date.now(), by, step))) return false;
          node.send(msg);
          node.refreshDeadLetterCount();
          return true;
        });
      };
      node.refreshDeadLetterCount = () => ctx.refresh();
      ctx.refresh();
    },
  });
};
