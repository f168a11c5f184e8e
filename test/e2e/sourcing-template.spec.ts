// Template sourcing-rules, as shipped, in a real runtime: the sample orders routed against the
// locations and stock the template carries, every order a plan or a backorder with its reasons.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import routeNode from '../../nodes/oms-route/oms-route';
import { writeSampleExport } from '../../lib/sfcc/export-file';
import { coreNode, helper } from '../helpers/runtime';
import { collect, eachWithRuntime, omsNodes, type FlowNode, type Msg } from '../helpers/oms-runtime';
import { currentTemplate } from '../helpers/templates';

const ORDERS = 200;

describe('template sourcing-rules in a real runtime', function () {
  this.timeout(60000);
  const current = eachWithRuntime('oms-sourcing-template-');
  afterEach(() => {
    delete process.env.OMS_SAMPLE_FILE;
  });

  it('routes each sample order to a plan or a backorder, explained', async () => {
    const file = path.join(current().dir, 'sample.xml');
    await writeSampleExport(file, ORDERS, { seed: 1 });
    process.env.OMS_SAMPLE_FILE = file;
    const flow = currentTemplate('sourcing-rules') as FlowNode[];
    // The debug nodes become helper nodes, so the test sees what the analyst sees in the sidebar.
    const watched = new Set(['oms-tpl-src-plan', 'oms-tpl-src-backorder', 'oms-tpl-src-rejected']);
    const nodes = flow.map((n) => (watched.has(n.id) ? { id: n.id, z: n.z, type: 'helper' } : n));
    await helper.load(
      [
        ...omsNodes(),
        routeNode,
        coreNode('common/20-inject.js'),
        coreNode('common/90-comment.js'),
        coreNode('function/15-change.js'),
      ],
      nodes,
    );
    const planned: Msg[] = [];
    const backordered: Msg[] = [];
    helper.getNode('oms-tpl-src-plan').on('input', (m: Msg) => planned.push(m));
    helper.getNode('oms-tpl-src-backorder').on('input', (m: Msg) => backordered.push(m));
    const rejected = collect('oms-tpl-src-rejected', 1, 1000).catch(() => []);
    helper.getNode('oms-tpl-src-inject').receive({ payload: Date.now() });
    const until = Date.now() + 30000;
    while (planned.length + backordered.length < ORDERS && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(await rejected, [], 'the sample has no rejected orders');
    assert.equal(planned.length + backordered.length, ORDERS);
    assert.ok(planned.length > ORDERS / 2, `${planned.length} planned`);
    assert.ok(backordered.length > 0, 'some orders ask only for the sold-out rain jacket');
    for (const msg of planned) {
      const routing = msg.oms?.routing as { outcome: string; strategy: string; locations: unknown[] };
      assert.match(routing.outcome, /^(allocated|partial)$/);
      assert.ok(routing.strategy, 'the strategy that chose is named');
      assert.ok(routing.locations.length >= 1 && routing.locations.length <= 3, 'max split 3');
    }
    for (const msg of backordered) {
      const routing = msg.oms?.routing as { outcome: string; tried: unknown[] };
      assert.equal(routing.outcome, 'backordered');
      assert.ok(routing.tried.length > 0, 'each strategy tried says why it could not');
    }
  });
});
