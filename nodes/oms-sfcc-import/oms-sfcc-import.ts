// oms-sfcc-import: SFCC order export (XML, OCAPI or SCAPI JSON) in, one message per order out.
// Outputs: 1 valid canonical orders, 2 rejected orders with their errors, 3 one summary per input,
// 4 already imported (with a store: orders imported before with the same content).
import { OmsError } from '../../lib/errors';
import { randomUUID } from 'node:crypto';
import type { NodeAPI, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';
import { envelopeOf, parseTemplateRef, setEnvelope } from '../../lib/order/envelope';
import type { OmsStore } from '../../lib/store';
import { CUSTODY_TYPES, omsMessage, orderRefOf, wiredOnlyToStoring } from '../shared/custody';
import { defineOmsNode, type OmsNodeConfig } from '../shared/oms-node';
import type { ImportFormat } from '../../lib/sfcc/import';
import { importBatch, importSource, toOutputs } from '../../lib/sfcc/import-batch';

/** Optional oms-store (`store`): with it, the idempotency ledger reports duplicates and updates. */
interface ImportNodeDef extends OmsNodeConfig {
  format: ImportFormat;
}

const FORMATS: readonly ImportFormat[] = ['auto', 'xml', 'ocapi', 'scapi'];
const FILLS = { complete: 'green', partial: 'yellow', failed: 'red' } as const;

type Send = (msgs: Array<NodeMessage | null>) => void;

export = function register(RED: NodeAPI): void {
  defineOmsNode<ImportNodeDef>(RED, {
    type: 'oms-sfcc-import',
    counters: ['accepted', 'rejected', 'alreadyImported'],
    // A checkpoint of an accepted order is resumed by sending it on output 1 again (the default).
    setup({ node, config, t, ...ctx }) {
      const format: ImportFormat = FORMATS.includes(config.format) ? config.format : 'auto';
      if (format !== config.format) node.warn(t('errors.badFormat', { value: String(config.format) }));
      let closing = false;
      let queue: Promise<void> = Promise.resolve();

      // Without a store of its own it keeps no ledger and no custody (not even the one deployed store's).
      const custody = config.store ? ctx.custody : undefined;
      if (config.store && !ctx.storeNode())
        node.status({ fill: 'red', shape: 'ring', text: t('status.noStore') });
      const importing = (count: number): void =>
        node.status({ fill: 'blue', shape: 'ring', text: t('status.importing', { count }) });
      /** The status of the last input (its counts); the store keeps the totals. */
      let last: NodeStatus | undefined;
      ctx.statusFrom(() => last);

      /**
       * Orders on output 1 are settled by the durable step they go to when every node wired there
       * stores them (oms-lifecycle, oms-retry, oms-dead-letter on the same store); otherwise the
       * batch settles them when the file has been read.
       */
      function custodyDownstream(): boolean {
        return wiredOnlyToStoring(RED, config.wires?.[0], CUSTODY_TYPES, config.store);
      }

      async function run(msg: NodeMessageInFlow, send: Send, done: (err?: Error) => void): Promise<void> {
        if (closing) return; // queued behind an import cut short by a redeploy
        const source = importSource(msg.filename, msg.payload);
        if (!source) {
          node.status({ fill: 'red', shape: 'ring', text: 'OMS_BAD_INPUT' });
          done(new OmsError(t('errors.noInput'), 'OMS_BAD_INPUT'));
          return;
        }
        try {
          if (config.store) await ctx.withStore((store) => importOne(msg, send, source.filename, store));
          else await importOne(msg, send, source.filename, undefined);
          done();
        } catch (err) {
          ctx.failed(err as Error);
          done(err as Error);
        }
      }

      async function importOne(
        msg: NodeMessageInFlow,
        send: Send,
        filename: string | undefined,
        store: OmsStore | undefined,
      ): Promise<void> {
        const template = parseTemplateRef(RED.util.evaluateNodeProperty('OMS_TEMPLATE', 'env', node, msg));

        /** Checkpoints of the accepted orders, in one commit, when output 1 leads to custody. */
        async function handOn(out: NodeMessage[]): Promise<void> {
          if (!custody || !store || out.length === 0 || !custody.leads(0)) return;
          const steps = out.map((m) => custody.step(omsMessage(m), 0));
          const handoffs = steps.flatMap((step) => (step && 'handoff' in step ? [step.handoff] : []));
          const results = await store.custody.handOffMany(handoffs);
          results.forEach((result, i) => {
            if (result.ok) return;
            // Held by a step already (an update or a redelivery of an order in flight): untracked.
            const m = out.find((o) => orderRefOf(omsMessage(o)) === handoffs[i].orderRef);
            if (m) setEnvelope(m, envelopeOf(m), { custody: undefined });
          });
        }

        importing(0);
        const result = await importBatch<NodeMessage>({
          filename,
          payload: msg.payload,
          format,
          template,
          batchId: randomUUID(),
          ledger: store?.ledger,
          message: (payload, oms) => ({ _msgid: RED.util.generateId(), topic: msg.topic, payload, oms }),
          send: (port, m) => {
            if (port === 0) custody?.vouch(omsMessage(m), 0);
            send(toOutputs(port, m));
          },
          handOff: handOn,
          progress: importing,
          stopped: () => closing, // a redeploy: stop reading
          settles: () => !custodyDownstream(),
        });
        if (!result) return;
        const { counts, summary } = result;
        msg.payload = result.payload;
        send([null, null, msg, null]);
        const extra =
          (counts.alreadyImported > 0 ? t('status.alreadyImported', { count: counts.alreadyImported }) : '') +
          (summary.error ? ` - ${summary.error.code}` : '');
        last = {
          fill: FILLS[result.outcome],
          shape: 'dot',
          text: t('status.counts', { accepted: counts.accepted, rejected: counts.rejected, extra }),
        };
        ctx.count('accepted', counts.accepted);
        ctx.count('rejected', counts.rejected);
        ctx.count('alreadyImported', counts.alreadyImported);
        ctx.status.now(last); // at once: the file is done
        if (result.error) throw new OmsError(result.error.message, result.error.code);
      }

      node.on('input', (msg, send, done) => {
        // One input at a time, in arrival order: a file's orders never interleave with the next one's.
        queue = queue.then(() =>
          run(msg, send, done).catch((err: unknown) => {
            done(err instanceof Error ? err : new Error(String(err)));
          }),
        );
      });
      ctx.onClose(() => {
        closing = true;
        return queue;
      });
    },
  });
};
