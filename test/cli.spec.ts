// The `oms` command line, run as a user runs it: a separate process, exit codes, JSON lines.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fixture, repoRoot } from './helpers/paths';

const oms = path.join(repoRoot, 'dist', 'bin', 'oms.js');

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [oms, ...args], { encoding: 'utf8' });
  const lines = (text: string) =>
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    code: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    out: () => lines(r.stdout),
    err: () => lines(r.stderr),
  };
}

describe('oms command line', function () {
  this.timeout(60000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'oms-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('generate-orders then import: every order on stdout, exit 0', () => {
    const file = path.join(dir, 'orders.xml');
    const gen = run('generate-orders', '25', file, '--seed', '3');
    assert.equal(gen.code, 0, gen.stderr);
    const r = run('import', file);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const orders = r.out();
    assert.equal(orders.length, 25);
    assert.equal(orders[0].orderRef, '00000001');
    assert.equal(typeof (orders[0].totals as { grandTotal: number }).grandTotal, 'number');
  });

  it('exit 1 when some orders are rejected: rejections as {orderRef, errors} lines on stderr', () => {
    const r = run('import', fixture('edge-cases.xml'));
    assert.equal(r.code, 1);
    assert.deepEqual(
      r.out().map((o) => o.orderRef),
      ['EDGE-0001', 'EDGE-0002', 'EDGE-0005'],
    );
    const rejected = r.err();
    assert.deepEqual(
      rejected.map((o) => o.orderRef),
      ['EDGE-0003', 'EDGE-0004', 'EDGE-0001'],
    );
    assert.deepEqual(Object.keys(rejected[0]).sort(), ['errors', 'orderRef']);
    assert.doesNotMatch(r.stdout + r.stderr, /4111 1111 1111 1111|4111111111111111/);
  });

  it('exit 2 for a truncated file, after the complete orders before the break', () => {
    const text = readFileSync(fixture('edge-cases.xml'), 'utf8');
    const file = path.join(dir, 'cut.xml');
    writeFileSync(file, text.slice(0, text.indexOf('<order order-no="EDGE-0003">') + 50));
    const r = run('import', file);
    assert.equal(r.code, 2);
    assert.equal(r.out().length, 2);
    const [problem] = r.err();
    assert.equal(problem.file, file);
    assert.equal((problem.error as { code: string }).code, 'XML_TRUNCATED');
  });

  it('exit 2 for a file that is not XML or JSON, or cannot be read', () => {
    const csv = path.join(dir, 'orders.csv');
    writeFileSync(csv, 'order-no,total\n1,2\n');
    const r = run('import', csv);
    assert.equal(r.code, 2);
    assert.equal((r.err()[0].error as { code: string }).code, 'NOT_XML');
    const missing = run('import', path.join(dir, 'missing.xml'));
    assert.equal(missing.code, 2);
    assert.equal((missing.err()[0].error as { code: string }).code, 'FILE_UNREADABLE');
  });

  it('imports OCAPI and SCAPI JSON files', () => {
    for (const format of ['ocapi', 'scapi']) {
      const file = path.join(dir, `orders.${format}.json`);
      assert.equal(run('generate-orders', '10', file, '--format', format).code, 0);
      const r = run('import', file);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.out().length, 10);
      assert.equal((r.out()[0].source as { format: string }).format, format);
    }
  });

  it('explains its usage and exits 2 on wrong arguments', () => {
    for (const args of [[], ['import'], ['generate-orders', 'ten', 'x.xml'], ['frobnicate']]) {
      const r = run(...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stdout + r.stderr, /usage:/);
    }
  });
});
