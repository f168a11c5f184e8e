// oms-sfcc-import: SFCC order export (XML, OCAPI or SCAPI JSON) in, one message per order out.
// Outputs: 1 valid canonical orders, 2 rejected orders with their errors, 3 one summary per input.
import { randomUUID } from 'node:crypto';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { createEnvelope, parseTemplateRef } from '../../lib/order/envelope';
import {
  importFile,
  importOrders,
  type ImportFormat,
  type ImportInput,
  type ImportSummary,
} from '../../lib/sfcc/import';

interface ImportNodeDef extends NodeDef {
  format: ImportFormat;
}

/** Orders between pauses that let Node-RED deliver what was sent (keeps memory flat). */
const YIELD_EVERY = 64;
const FORMATS: readonly ImportFormat[] = ['auto', 'xml', 'ocapi', 'scapi'];

/** A failure Catch nodes see with msg.error.code set. */
class ImportError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

type Send = (msgs: Array<NodeMessage | null>) => void;

export = function register(RED: NodeAPI): void {
  const t = (key: string, params?: Record<string, string | number>): string =>
    RED._(`oms-sfcc-import.${key}`, params);

  function OmsSfccImport(this: Node, config: ImportNodeDef): void {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- closures below outlive `this`
    const node = this;
    const format: ImportFormat = FORMATS.includes(config.format) ? config.format : 'auto';
    if (format !== config.format) node.warn(t('errors.badFormat', { value: String(config.format) }));
    let closing = false;
    let queue: Promise<void> = Promise.resolve();

    async function run(msg: NodeMessageInFlow, send: Send, done: (err?: Error) => void): Promise<void> {
      if (closing) return; // queued behind an import cut short by a redeploy
      const filename = typeof msg.filename === 'string' && msg.filename !== '' ? msg.filename : undefined;
      const payload = msg.payload;
      const usable = typeof payload === 'string' || (typeof payload === 'object' && payload !== null);
      if (!filename && !usable) {
        node.status({ fill: 'red', shape: 'ring', text: 'OMS_BAD_INPUT' });
        done(new ImportError(t('errors.noInput'), 'OMS_BAD_INPUT'));
        return;
      }
      const template = parseTemplateRef(RED.util.evaluateNodeProperty('OMS_TEMPLATE', 'env', node, msg));
      const batchId = randomUUID();
      const counts = { accepted: 0, rejected: 0 };
      node.status({ fill: 'blue', shape: 'ring', text: t('status.importing', { count: 0 }) });
      const events = filename
        ? importFile(filename, { format })
        : importOrders(payload as ImportInput, { format });
      let summary: ImportSummary;
      try {
        for (;;) {
          const next = await events.next();
          if (next.done) {
            summary = next.value;
            break;
          }
          // Redeploy: stop reading. The file is untouched and nothing was acknowledged for it.
          if (closing) return;
          const event = next.value;
          const common = {
            template,
            source: event.type === 'accepted' ? event.order.source : event.source,
            flags: event.flags,
            batchId,
          };
          if (event.type === 'accepted') {
            counts.accepted++;
            const oms = createEnvelope({ ...common, orderRef: event.order.orderRef, state: 'Created' });
            send([
              { _msgid: RED.util.generateId(), topic: msg.topic, payload: event.order, oms },
              null,
              null,
            ]);
          } else {
            counts.rejected++;
            const oms = createEnvelope({ ...common, orderRef: event.orderRef });
            const payload = {
              orderRef: event.orderRef,
              errors: event.errors,
              position: event.position,
              order: event.partial,
            };
            send([null, { _msgid: RED.util.generateId(), topic: msg.topic, payload, oms }, null]);
          }
          if ((counts.accepted + counts.rejected) % YIELD_EVERY === 0) {
            node.status({
              fill: 'blue',
              shape: 'ring',
              text: t('status.importing', { count: counts.accepted + counts.rejected }),
            });
            await new Promise((resolve) => setImmediate(resolve));
          }
        }
      } finally {
        await events.return(undefined as never); // closes the file if the loop was left early
      }
      msg.payload = { ...summary, batchId };
      send([null, null, msg]);
      const fill = summary.error ? 'red' : summary.rejected > 0 ? 'yellow' : 'green';
      const extra = summary.error ? ` - ${summary.error.code}` : '';
      node.status({ fill, shape: 'dot', text: t('status.counts', { ...counts, extra }) });
      if (summary.error) {
        const where = summary.file ? ` ${summary.file}` : '';
        done(new ImportError(`SFCC import${where}: ${summary.error.message}`, summary.error.code));
      } else {
        done();
      }
    }

    node.on('input', (msg, send, done) => {
      // One input at a time, in arrival order: a file's orders never interleave with the next one's.
      queue = queue.then(() =>
        run(msg, send, done).catch((err: unknown) => {
          done(err instanceof Error ? err : new Error(String(err)));
        }),
      );
    });
    node.on('close', (_removed: boolean, finished: () => void) => {
      closing = true;
      queue.then(finished, finished);
    });
  }

  RED.nodes.registerType('oms-sfcc-import', OmsSfccImport);
};
