import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { OmsEnvelope } from '../../../lib/order/envelope';
import { generateOrder } from '../../../lib/sfcc/generate';
import {
  importBatch,
  importSource,
  IMPORT_OUTPUT,
  toOutputs,
  YIELD_EVERY,
  type ImportBatchOptions,
  type ImportPort,
} from '../../../lib/sfcc/import-batch';
import { renderScapiOrder } from '../../../lib/sfcc/render';
import type { LedgerReceipt, LedgerVerdict } from '../../../lib/store/types';
import { fixture } from '../../helpers/paths';

interface Msg {
  payload: unknown;
  oms: OmsEnvelope;
  handedOff?: boolean;
}

/** What the batch did, in the order it did it. */
type Step =
  | { kind: 'send'; port: ImportPort; msg: Msg }
  | { kind: 'handOff'; msgs: Msg[] }
  | { kind: 'receive'; receipts: readonly LedgerReceipt[] }
  | { kind: 'complete'; batchId: string; settle: boolean }
  | { kind: 'abandon'; batchId: string }
  | { kind: 'progress'; seen: number };

function harness(
  options: Partial<ImportBatchOptions<Msg>> & { verdict?: (r: LedgerReceipt) => LedgerVerdict },
  withLedger: boolean,
) {
  const steps: Step[] = [];
  const verdict = options.verdict ?? (() => ({ status: 'new' }) as const);
  const ledger = {
    receive: async (receipts: readonly LedgerReceipt[]) => {
      steps.push({ kind: 'receive', receipts });
      return receipts.map(verdict);
    },
    completeBatch: async (batchId: string, _at: number, settle: boolean) => {
      steps.push({ kind: 'complete', batchId, settle });
    },
    abandonBatch: async (batchId: string) => {
      steps.push({ kind: 'abandon', batchId });
    },
  };
  const run = importBatch<Msg>({
    format: 'auto',
    batchId: 'batch-1',
    ledger: withLedger ? ledger : undefined,
    message: (payload, oms) => ({ payload, oms }),
    send: (port, msg) => steps.push({ kind: 'send', port, msg }),
    handOff: async (msgs) => {
      for (const m of msgs) m.handedOff = true;
      steps.push({ kind: 'handOff', msgs });
    },
    progress: (seen) => steps.push({ kind: 'progress', seen }),
    stopped: () => false,
    settles: () => true,
    ...options,
  });
  return { steps, run };
}

const sends = (steps: Step[], port: ImportPort): Msg[] =>
  steps.flatMap((s) => (s.kind === 'send' && s.port === port ? [s.msg] : []));
const orderRefs = (msgs: Msg[]): string[] => msgs.map((m) => m.oms.orderRef);
const scapi = (count: number) =>
  Array.from({ length: count }, (_, i) => renderScapiOrder(generateOrder(i + 1, 3)));

describe('lib/sfcc/import-batch', () => {
  it('takes a file name first, else a payload that can hold orders', () => {
    assert.deepEqual(importSource('/in/a.xml', undefined), { filename: '/in/a.xml' });
    assert.deepEqual(importSource('', '<orders/>'), { filename: undefined });
    assert.deepEqual(importSource(undefined, Buffer.from('x')), { filename: undefined });
    assert.deepEqual(importSource(7, [{}]), { filename: undefined });
    assert.equal(importSource(undefined, 42), undefined);
    assert.equal(importSource('', null), undefined);
  });

  it('puts a message on one of the four outputs', () => {
    assert.deepEqual(toOutputs(IMPORT_OUTPUT.alreadyImported, 'm'), [null, null, null, 'm']);
    assert.deepEqual(toOutputs(IMPORT_OUTPUT.accepted, 'm'), ['m', null, null, null]);
  });

  it('without a ledger: routes accepted and rejected orders, each accepted one handed off alone', async () => {
    const { steps, run } = harness(
      { filename: fixture('edge-cases.xml'), template: { name: 't', version: '1' } },
      false,
    );
    const result = await run;
    assert.ok(result);
    assert.deepEqual(orderRefs(sends(steps, IMPORT_OUTPUT.accepted)), [
      'EDGE-0001',
      'EDGE-0002',
      'EDGE-0005',
    ]);
    assert.deepEqual(orderRefs(sends(steps, IMPORT_OUTPUT.rejected)), [
      'EDGE-0003',
      'EDGE-0004',
      'EDGE-0001',
    ]);
    assert.equal(sends(steps, IMPORT_OUTPUT.alreadyImported).length, 0);
    const handOffs = steps.filter((s) => s.kind === 'handOff');
    assert.deepEqual(
      handOffs.map((s) => orderRefs(s.msgs)),
      [['EDGE-0001'], ['EDGE-0002'], ['EDGE-0005']],
    );
    for (const m of sends(steps, IMPORT_OUTPUT.accepted)) {
      assert.equal(m.handedOff, true, 'handed off before it was sent');
      assert.equal(m.oms.state, 'Created');
      assert.equal(m.oms.batchId, 'batch-1');
      assert.deepEqual(m.oms.template, { name: 't', version: '1' });
      assert.equal(m.oms.ledgerKey, undefined);
    }
    const rejected = sends(steps, IMPORT_OUTPUT.rejected)[0];
    assert.equal(rejected.oms.state, undefined);
    assert.deepEqual(Object.keys(rejected.payload as object), ['orderRef', 'errors', 'position', 'order']);
    assert.ok(!steps.some((s) => s.kind === 'receive' || s.kind === 'complete'));
    assert.deepEqual(result.counts, {
      accepted: 3,
      rejected: 3,
      alreadyImported: 0,
      updates: 0,
      redeliveries: 0,
    });
    assert.equal(result.outcome, 'partial');
    assert.equal(result.error, undefined);
    const payload = result.payload as { batchId: string; rejections: unknown[]; alreadyImported?: number };
    assert.equal(payload.batchId, 'batch-1');
    assert.equal(payload.rejections.length, 3);
    assert.ok(!('alreadyImported' in payload), 'no ledger counts without a ledger');
    assert.equal((result.payload as { orders: number }).orders, 6);
  });

  it('with a ledger: asks about the accepted orders in chunks, one handoff each, before sending them', async () => {
    const count = 2 * YIELD_EVERY + 2;
    const { steps, run } = harness({ payload: scapi(count) }, true);
    const result = await run;
    assert.ok(result);
    const kinds = steps.filter((s) => s.kind !== 'send' && s.kind !== 'progress').map((s) => s.kind);
    assert.deepEqual(kinds, ['receive', 'handOff', 'receive', 'handOff', 'receive', 'handOff', 'complete']);
    const chunks = steps.flatMap((s) => (s.kind === 'receive' ? [s.receipts.length] : []));
    assert.deepEqual(chunks, [YIELD_EVERY, YIELD_EVERY, 2]);
    const first = steps.find((s) => s.kind === 'receive');
    assert.ok(first?.kind === 'receive');
    assert.equal(first.receipts[0].batchId, 'batch-1');
    assert.match(first.receipts[0].hash, /./, 'a content hash with a ledger');
    // Each chunk's orders are sent only after its handoff.
    const firstSend = steps.findIndex((s) => s.kind === 'send');
    assert.equal(steps[firstSend - 1].kind, 'handOff');
    assert.equal(sends(steps, IMPORT_OUTPUT.accepted).length, count);
    assert.deepEqual(
      steps.flatMap((s) => (s.kind === 'progress' ? [s.seen] : [])),
      [YIELD_EVERY, 2 * YIELD_EVERY],
    );
    assert.deepEqual(steps.at(-1), { kind: 'complete', batchId: 'batch-1', settle: true });
    assert.equal(result.outcome, 'complete');
    assert.deepEqual(
      [(result.payload as { alreadyImported: number }).alreadyImported, result.counts.accepted],
      [0, count],
    );
  });

  it('routes the verdicts: duplicates to output 4, updates and redeliveries flagged', async () => {
    const verdicts: LedgerVerdict[] = [
      { status: 'new' },
      { status: 'duplicate', firstSeenAt: 1, lastSeenAt: 2, seenCount: 2, batchId: 'old' },
      { status: 'update', previousHash: 'h', firstSeenAt: 1, seenCount: 1 },
      { status: 'redelivery', firstSeenAt: 1, previousBatchId: 'old' },
    ];
    let i = 0;
    const settles: boolean[] = [];
    const { steps, run } = harness(
      {
        payload: scapi(4),
        verdict: () => verdicts[i++],
        settles: () => {
          settles.push(false);
          return false;
        },
      },
      true,
    );
    const result = await run;
    assert.ok(result);
    const accepted = sends(steps, IMPORT_OUTPUT.accepted);
    const duplicates = sends(steps, IMPORT_OUTPUT.alreadyImported);
    assert.equal(accepted.length, 3);
    assert.equal(duplicates.length, 1);
    assert.equal(duplicates[0].handedOff, undefined, 'a duplicate is not handed off');
    assert.deepEqual(duplicates[0].oms.ledger, { ...verdicts[1], key: duplicates[0].oms.ledgerKey });
    assert.match(duplicates[0].oms.ledgerKey ?? '', /\//);
    assert.deepEqual(
      accepted.map((m) => m.oms.flags.filter((f) => f === 'UPDATED' || f === 'REDELIVERED')),
      [[], ['UPDATED'], ['REDELIVERED']],
    );
    assert.deepEqual(result.counts, {
      accepted: 3,
      rejected: 0,
      alreadyImported: 1,
      updates: 1,
      redeliveries: 1,
    });
    assert.equal(result.outcome, 'partial');
    assert.deepEqual(settles, [false]);
    assert.deepEqual(steps.at(-1), { kind: 'complete', batchId: 'batch-1', settle: false });
    const { payload } = result;
    assert.deepEqual([payload.alreadyImported, payload.updates, payload.redeliveries], [1, 1, 1]);
  });

  it('when stopped: abandons the batch, sends nothing more and returns no summary', async () => {
    let reads = 0;
    const { steps, run } = harness({ payload: scapi(10), stopped: () => ++reads > 3 }, true);
    assert.equal(await run, undefined);
    assert.deepEqual(steps.at(-1), { kind: 'abandon', batchId: 'batch-1' });
    assert.ok(!steps.some((s) => s.kind === 'complete' || s.kind === 'send'));
  });

  it('reports a file-level error with its code, after the orders before it', async () => {
    const xml = readFileSync(fixture('edge-cases.xml'), 'utf8');
    const truncated = xml.slice(0, xml.indexOf('<order order-no="EDGE-0003">') + 100);
    const { steps, run } = harness({ payload: truncated }, true);
    const result = await run;
    assert.ok(result);
    assert.equal(sends(steps, IMPORT_OUTPUT.accepted).length, 2);
    assert.equal(result.outcome, 'failed');
    assert.equal(result.error?.code, 'XML_TRUNCATED');
    assert.match(result.error?.message ?? '', /^SFCC import: .*ends before its last element is closed/);
    assert.equal(steps.at(-1)?.kind, 'complete', 'the batch still completes');
  });

  it('names the file in a file-level error', async () => {
    const { run } = harness({ filename: '/nonexistent/orders.xml' }, false);
    const result = await run;
    assert.equal(result?.error?.code, 'FILE_UNREADABLE');
    assert.match(result?.error?.message ?? '', /^SFCC import \/nonexistent\/orders\.xml: cannot read/);
  });
});
