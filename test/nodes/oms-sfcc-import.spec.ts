import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { NodeMessage } from 'node-red';
import importNode from '../../nodes/oms-sfcc-import/oms-sfcc-import';
import { generateOrder } from '../../lib/sfcc/generate';
import { renderScapiOrder } from '../../lib/sfcc/render';
import { coreNode, helper, nodeRedVersion } from '../helpers/runtime';
import { fixture } from '../helpers/paths';

type Msg = NodeMessage & {
  oms?: Record<string, unknown>;
  error?: { message: string; source: { id: string } };
};

type FlowNode = { id: string; type: string; [key: string]: unknown };

const flow = (extra: FlowNode[] = [], format = 'auto'): FlowNode[] => [
  { id: 't1', type: 'tab', env: [{ name: 'OMS_TEMPLATE', type: 'str', value: 'sfcc-import@1.0.0' }] },
  {
    id: 'imp',
    z: 't1',
    type: 'oms-sfcc-import',
    name: 'import',
    format,
    wires: [['valid'], ['rejected'], ['summary']],
  },
  { id: 'valid', z: 't1', type: 'helper' },
  { id: 'rejected', z: 't1', type: 'helper' },
  { id: 'summary', z: 't1', type: 'helper' },
  ...extra,
];

/** Collects what reaches the three outputs until the summary arrives. */
function outputs(): Promise<{ valid: Msg[]; rejected: Msg[]; summary: Msg }> {
  const valid: Msg[] = [];
  const rejected: Msg[] = [];
  helper.getNode('valid').on('input', (m: Msg) => valid.push(m));
  helper.getNode('rejected').on('input', (m: Msg) => rejected.push(m));
  return new Promise((resolve) => {
    helper
      .getNode('summary')
      .on('input', (m: Msg) => setImmediate(() => resolve({ valid, rejected, summary: m })));
  });
}

/** Loads the flow with a Catch node; resolves with the first message it catches. */
async function loadWithCatch(): Promise<{ caught: Promise<Msg> }> {
  const catcher = { id: 'c1', z: 't1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] };
  await helper.load(
    [importNode, coreNode('common/25-catch.js')],
    flow([catcher, { id: 'caught', z: 't1', type: 'helper' }]),
  );
  // wrapped: an async function returning a bare promise would wait for the catch itself
  return {
    caught: new Promise<Msg>((resolve) => helper.getNode('caught').on('input', (m: Msg) => resolve(m))),
  };
}

describe(`oms-sfcc-import node (Node-RED ${nodeRedVersion})`, function () {
  beforeEach(function (done) {
    helper.startServer(done);
  });
  afterEach(function (done) {
    helper.unload().then(
      () => helper.stopServer(done),
      (err: Error) => done(err),
    );
  });

  it('loads with its name and the OMS defaults', async () => {
    await helper.load(importNode, flow());
    const n = helper.getNode('imp');
    assert.equal(n.name, 'import');
    assert.equal(n.type, 'oms-sfcc-import');
  });

  it('streams msg.filename and sends one message per order, rejections and one summary', async () => {
    await helper.load(importNode, flow());
    const got = outputs();
    helper.getNode('imp').receive({ filename: fixture('edge-cases.xml'), topic: 'nightly' });
    const { valid, rejected, summary } = await got;
    assert.deepEqual(
      valid.map((m) => (m.payload as { orderRef: string }).orderRef),
      ['EDGE-0001', 'EDGE-0002', 'EDGE-0005'],
    );
    const first = valid[0];
    assert.equal(first.topic, 'nightly');
    assert.equal((first.payload as { totals: { grandTotal: number } }).totals.grandTotal, 15154);
    const oms = first.oms as Record<string, unknown>;
    assert.equal(oms.orderRef, 'EDGE-0001');
    assert.equal(oms.state, 'Created');
    assert.equal(oms.attempts, 0);
    assert.deepEqual(oms.template, { name: 'sfcc-import', version: '1.0.0' });
    assert.match(String(oms.correlationId), /^[0-9a-f-]{36}$/);
    assert.notEqual(oms.correlationId, valid[1].oms?.correlationId);
    assert.equal(oms.batchId, valid[1].oms?.batchId);
    assert.deepEqual(valid[1].oms?.flags, ['CARD_NUMBER_MASKED']);
    assert.deepEqual(
      rejected.map((m) => (m.payload as { orderRef: string }).orderRef),
      ['EDGE-0003', 'EDGE-0004', 'EDGE-0001'],
    );
    const bad = rejected[0].payload as { errors: Array<{ path: string; rule: string; message: string }> };
    assert.ok(bad.errors.some((e) => e.rule === 'quantity.positive' && e.path === 'lines[0].quantity'));
    assert.deepEqual(
      (rejected[2].payload as { errors: Array<{ rule: string }> }).errors.map((e) => e.rule),
      ['duplicate'],
    );
    const s = summary.payload as Record<string, unknown>;
    assert.equal(summary.filename, fixture('edge-cases.xml'));
    assert.deepEqual(
      [s.orders, s.accepted, s.rejected, s.duplicates, s.flagged, s.format],
      [6, 3, 3, 1, 1, 'xml'],
    );
    assert.equal(typeof s.durationMs, 'number');
    // The summary lists the rejected orders too, for an error report beside the file.
    assert.deepEqual(
      (s.rejections as Array<{ orderRef: string; errors: unknown[] }>).map((r) => [
        r.orderRef,
        r.errors.length > 0,
      ]),
      [
        ['EDGE-0003', true],
        ['EDGE-0004', true],
        ['EDGE-0001', true],
      ],
    );
    assert.doesNotMatch(JSON.stringify([valid, rejected, summary]), /4111 1111 1111 1111|4111111111111111/);
  });

  it('accepts an XML string, a Buffer and SCAPI JSON objects as payload', async () => {
    await helper.load(importNode, flow());
    const xml = readFileSync(fixture('edge-cases.xml'), 'utf8');
    let got = outputs();
    helper.getNode('imp').receive({ payload: Buffer.from(xml) });
    assert.equal((await got).valid.length, 3);
    await helper.unload();
    await helper.load(importNode, flow());
    got = outputs();
    const docs = [1, 2].map((n) => renderScapiOrder(generateOrder(n)));
    helper.getNode('imp').receive({ payload: docs });
    const { valid, summary } = await got;
    assert.deepEqual(
      valid.map((m) => m.oms?.orderRef),
      ['00000001', '00000002'],
    );
    assert.equal((summary.payload as { format: string }).format, 'scapi');
  });

  it('sends a truncated file to Catch with its code, after the orders before the break', async () => {
    const { caught } = await loadWithCatch();
    const got = outputs();
    const xml = readFileSync(fixture('edge-cases.xml'), 'utf8');
    helper
      .getNode('imp')
      .receive({ payload: xml.slice(0, xml.indexOf('<order order-no="EDGE-0003">') + 100) });
    const { valid, summary } = await got;
    assert.equal(valid.length, 2);
    assert.equal((summary.payload as { error: { code: string } }).error.code, 'XML_TRUNCATED');
    const m = await caught;
    assert.equal(m.error?.source.id, 'imp');
    assert.match(m.error?.message ?? '', /ends before its last element is closed/);
  });

  it('reports a message without payload or filename through done(err)', async () => {
    const { caught } = await loadWithCatch();
    helper.getNode('imp').receive({ payload: 42 });
    const m = await caught;
    // the test runtime returns catalog keys untranslated (test/catalog.spec.ts checks the texts)
    assert.match(m.error?.message ?? '', /oms-sfcc-import\.errors\.noInput/);
  });

  it('shows the counts in its status', async () => {
    await helper.load(importNode, flow());
    const statuses: Array<{ text?: string; fill?: string }> = [];
    const n = helper.getNode('imp');
    const original = n.status.bind(n);
    n.status = (s) => {
      if (typeof s === 'object') statuses.push({ text: String(s.text), fill: s.fill });
      return original(s);
    };
    const got = outputs();
    n.receive({ filename: fixture('edge-cases.xml') });
    await got;
    await new Promise((r) => setImmediate(r));
    const last = statuses[statuses.length - 1];
    assert.equal(last.fill, 'yellow');
    assert.match(last.text ?? '', /oms-sfcc-import\.status\.counts/);
  });
});
