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

class ImportError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly retryable = false,
  ) {
    super(message);
  }
}

export = function register(RED: NodeAPI): void {
  function OmsSfccImport(this: Node, config: ImportNodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const format: ImportFormat = FORMATS.includes(config.format) ? config.format : 'auto';
    const totals = { accepted: 0, rejected: 0 };
    let closing = false;
    let queue: Promise<void> = Promise.resolve();

    const showTotals = (fill: 'green' | 'yellow' | 'red' | 'blue', extra = ''): void => {
      node.status({
        fill,
        shape: 'dot',
        text: RED._('oms-sfcc-import.status.counts', { ...totals, extra }),
      });
    };

    async function run(
      msg: NodeMessageInFlow,
      send: (msgs: Array<NodeMessage | null>) => void,
      done: (err?: Error) => void,
    ): Promise<void> {
      const filename = typeof msg.filename === 'string' && msg.filename !== '' ? msg.filename : undefined;
      const payload = msg.payload;
      const usable =
        typeof payload === 'string' ||
        Buffer.isBuffer(payload) ||
        (typeof payload === 'object' && payload !== null);
      if (!filename && !usable) {
        done(new ImportError(RED._('oms-sfcc-import.errors.noInput'), 'OMS_BAD_INPUT'));
        return;
      }
      const template = parseTemplateRef(RED.util.evaluateNodeProperty('OMS_TEMPLATE', 'env', node, msg));
      const batchId = randomUUID();
      node.status({ fill: 'blue', shape: 'ring', text: RED._('oms-sfcc-import.status.importing') });
      const events = filename
        ? importFile(filename, { format })
        : importOrders(payload as ImportInput, { format });
      let summary: ImportSummary | undefined;
      let count = 0;
      for (;;) {
        const next = await events.next();
        if (next.done) {
          summary = next.value;
          break;
        }
        if (closing) return; // redeploy: the source file is untouched, nothing was acknowledged
        const event = next.value;
        if (event.type === 'accepted') {
          totals.accepted++;
          const { order } = event;
          const oms = createEnvelope({
            orderRef: order.orderRef,
            state: 'Created',
            template,
            source: order.source,
            flags: event.flags,
            batchId,
          });
          send([{ _msgid: RED.util.generateId(), topic: msg.topic, payload: order, oms }, null, null]);
        } else {
          totals.rejected++;
          const oms = createEnvelope({
            orderRef: event.orderRef,
            template,
            source: event.source,
            flags: event.flags,
            batchId,
          });
          const rejected = {
            orderRef: event.orderRef,
            errors: event.errors,
            position: event.position,
            order: event.partial,
          };
          send([null, { _msgid: RED.util.generateId(), topic: msg.topic, payload: rejected, oms }, null]);
        }
        if (++count % YIELD_EVERY === 0) {
          showTotals('blue', ` (${count})`);
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      msg.payload = { ...summary, batchId };
      send([null, null, msg]);
      if (summary.error) {
        showTotals('red', ` - ${summary.error.code}`);
        const where = summary.file ? ` ${summary.file}` : '';
        done(new ImportError(`SFCC import${where}: ${summary.error.message}`, summary.error.code));
        return;
      }
      showTotals(summary.rejected > 0 ? 'yellow' : 'green');
      done();
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
      queue.then(
        () => finished(),
        () => finished(),
      );
    });
  }

  RED.nodes.registerType('oms-sfcc-import', OmsSfccImport);
};
