// The SFTP inbox through the runtime (issue 4, point 6), against the sandbox SFTP server (real SSH
// on 127.0.0.1, files on disk):
// 1. 100 export files, 3 of them malformed and 1 still being written: 97 archived, 3 in error/
//    with their reports, the growing one taken only once complete, every good order imported once;
// 2. the connection cut in the middle of a download: the file stays claimed, is downloaded again
//    by the next poll and its orders are imported exactly once;
// 3. two Node-RED processes polling one inbox: every file processed by exactly one of them, every
//    order imported by exactly one of them.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import sftpInNode from '../../nodes/oms-sftp-in/oms-sftp-in';
import sftpServerNode from '../../nodes/oms-sftp-server/oms-sftp-server';
import type { SftpServerNode } from '../../nodes/shared/sftp-server-node';
import { xmlFooter, xmlHeader } from '../../lib/sfcc/render';
import { startSftpServer, type SftpSandbox } from '../../sandbox/sftp-server';
import { repoRoot } from '../helpers/paths';
import { helper } from '../helpers/runtime';
import {
  coreNodes,
  eachWithRuntime,
  omsNodes,
  storeConfig,
  until,
  type FlowNode,
  type Msg,
  type TestDir,
} from '../helpers/oms-runtime';
import {
  archived,
  exportXml,
  filesIn,
  growFile,
  orderXml,
  range,
  refOf,
  tally,
  twice,
} from '../helpers/sftp-flow';
import { freePort, waitFor } from '../helpers/started-runtime';

const USER = 'sfcc';
const PASSWORD = 'export';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Finished {
  file: string;
  to: 'archive' | 'error';
  remotePath: string;
  reportPath?: string;
}

interface Report {
  file: string;
  from: string;
  orders?: number;
  accepted?: number;
  rejected?: number;
  fileError?: { code: string; message: string };
  rejections?: Array<{ orderRef: string; errors: Array<{ path?: string }> }>;
}

describe('SFTP inbox through the runtime (sandbox SFTP server)', function () {
  this.timeout(60000);
  let dir: TestDir;
  let sftp: SftpSandbox;
  let inbox: string;
  const current = eachWithRuntime('oms-sftp-inbox-e2e-');
  beforeEach(async () => {
    dir = current();
    inbox = path.join(dir.dir, 'sftp-root', 'inbox');
    mkdirSync(inbox, { recursive: true });
    sftp = await startSftpServer({
      root: path.join(dir.dir, 'sftp-root'),
      users: [{ username: USER, password: PASSWORD }],
    });
  });
  afterEach(async () => {
    await sftp.close();
  });

  /** sftp-in → import (with a store) → summary back into sftp-in; every output to a helper node. */
  async function load(inConfig: Record<string, unknown>): Promise<void> {
    const flow: FlowNode[] = [
      { id: 't1', type: 'tab' },
      storeConfig(dir.storeFile),
      {
        id: 'server',
        type: 'oms-sftp-server',
        host: '127.0.0.1',
        port: sftp.port,
        username: USER,
        hostFingerprint: sftp.hostKeyFingerprint,
      },
      {
        id: 'in',
        z: 't1',
        type: 'oms-sftp-in',
        server: 'server',
        dir: '/inbox',
        pattern: '*.xml',
        interval: 1,
        instance: 'runtime-a',
        ...inConfig,
        wires: [['imp'], ['finished']],
      },
      {
        id: 'imp',
        z: 't1',
        type: 'oms-sfcc-import',
        store: 'store',
        format: 'auto',
        wires: [['valid'], ['rejected'], ['in'], ['duplicate']],
      },
      { id: 'valid', z: 't1', type: 'helper' },
      { id: 'rejected', z: 't1', type: 'helper' },
      { id: 'duplicate', z: 't1', type: 'helper' },
      { id: 'finished', z: 't1', type: 'helper' },
    ];
    await helper.load([...omsNodes(), ...coreNodes(), sftpServerNode, sftpInNode], flow, {
      server: { password: PASSWORD },
    });
  }

  /** Every message reaching these helper nodes, from now on. */
  function record(...ids: string[]): Record<string, Msg[]> {
    const out: Record<string, Msg[]> = {};
    for (const id of ids) {
      const got: Msg[] = [];
      out[id] = got;
      helper.getNode(id).on('input', (msg: Msg) => got.push(msg));
    }
    return out;
  }

  /** When the node listed the inbox (one listing per poll that got that far). */
  function listingsOf(remoteDir: string): number[] {
    const connection = (helper.getNode('server') as unknown as SftpServerNode).connection;
    const list = connection.list.bind(connection);
    const at: number[] = [];
    connection.list = (d: string) => {
      if (d === remoteDir) at.push(Date.now());
      return list(d);
    };
    return at;
  }

  const refsOf = (msgs: readonly Msg[]): string[] => msgs.map((m) => String(m.oms?.orderRef));
  const finishedOf = (msgs: readonly Msg[]): Finished[] => msgs.map((m) => m.payload as Finished);

  it('100 files, 3 malformed and 1 growing: 97 archived, 3 in error/ with reports, each order once', async () => {
    const startedAt = Date.now();
    const name = (k: number): string => `export-${String(k).padStart(3, '0')}.xml`;
    const TRUNCATED = 17;
    const NOT_XML = 42;
    const BAD_CURRENCY = 73;
    const GROWING = 100;
    const numbersOf = (k: number): number[] => range((k - 1) * 5 + 1, 5);
    const expected = new Set<string>();
    for (let k = 1; k <= 100; k++) {
      const numbers = numbersOf(k);
      const file = path.join(inbox, name(k));
      if (k === TRUNCATED) {
        // Cut in the middle of the 4th order: the 3 before it are complete (and imported).
        const fourth = orderXml(numbers[3]);
        writeFileSync(file, xmlHeader() + numbers.slice(0, 3).map(orderXml).join('') + fourth.slice(0, 300));
        numbers.slice(0, 3).forEach((n) => expected.add(refOf(n)));
      } else if (k === NOT_XML) {
        writeFileSync(
          file,
          `order-no;currency;total\n${numbers.map((n) => `${refOf(n)};EUR;10.00`).join('\n')}\n`,
        );
      } else if (k === BAD_CURRENCY) {
        const xml = numbers.map(orderXml);
        const bad = xml[2].replace('<currency>', '<currency>XX');
        assert.notEqual(bad, xml[2], 'the order has a currency to spoil');
        xml[2] = bad;
        writeFileSync(file, xmlHeader() + xml.join('') + xmlFooter());
        [0, 1, 3, 4].forEach((i) => expected.add(refOf(numbers[i])));
      } else if (k !== GROWING) {
        writeFileSync(file, exportXml(numbers));
        numbers.forEach((n) => expected.add(refOf(n)));
      }
    }
    // The growing file: its first order now, 15 more at 300 ms intervals, the footer with the last.
    const growingNumbers = range(1001, 16);
    const parts = growingNumbers.map((n, i) => (i === 0 ? xmlHeader() : '') + orderXml(n));
    parts[parts.length - 1] += xmlFooter();
    const growingFile = path.join(inbox, name(GROWING));
    writeFileSync(growingFile, parts[0]);
    growingNumbers.forEach((n) => expected.add(refOf(n)));

    await load({ completeness: 'stable', maxPerPoll: 20 });
    const listings = listingsOf('/inbox');
    const seen = record('valid', 'rejected', 'duplicate', 'finished');
    const growStartedAt = Date.now();
    const grown = growFile(growingFile, parts, 300);
    // And an Inject node asking for a poll every 100 ms meanwhile (any message without msg.sftp):
    // however close two polls come, a file that grew in the last interval is not complete.
    const onDemand = setInterval(() => helper.getNode('in').receive({ payload: 'poll now' }), 100);
    void grown.finally(() => clearInterval(onDemand));

    await until('100 files finished', () => seen.finished.length >= 100 || undefined, 45000).catch(
      (err: Error) => {
        throw new Error(`${err.message}: ${seen.finished.length} finished`);
      },
    );
    const growth = await grown;
    await sleep(1500); // a poll or more: a file finished twice would show now
    const took = Date.now() - startedAt;

    const finished = finishedOf(seen.finished);
    const valid = tally(refsOf(seen.valid));
    const toArchive = finished.filter((f) => f.to === 'archive');
    const toError = finished.filter((f) => f.to === 'error');
    const growingAt = finished.findIndex((f) => f.file === name(GROWING));
    const gaps = listings.slice(1).map((t, i) => t - listings[i]);
    console.log(
      `      100 files (${expected.size} good orders): ${toArchive.length} archived, ${toError.length} in error/; ` +
        `${seen.valid.length} orders imported, ${seen.rejected.length} rejected, ${seen.duplicate.length} duplicates; ` +
        `${listings.length} polls (shortest gap ${Math.min(...gaps)} ms), growing file complete after ` +
        `${growth.completeAt - growStartedAt} ms and finished ${growingAt + 1}th; ${took} ms`,
    );

    assert.equal(growth.goneAtPart, undefined, `the growing file was taken before part ${growth.goneAtPart}`);
    assert.equal(growth.appends, parts.length - 1);
    const whileGrowing = listings.filter((t) => t > growStartedAt && t < growth.completeAt).length;
    assert.ok(whileGrowing >= 2, `the inbox was polled ${whileGrowing} times while the file grew`);

    // Each file finished once: 97 archived, the 3 malformed ones in error/.
    assert.equal(finished.length, 100, 'one outcome per file');
    assert.deepEqual(twice(tally(finished.map((f) => f.file))), [], 'no file finished twice');
    assert.deepEqual(
      toError.map((f) => f.file).sort(),
      [name(TRUNCATED), name(NOT_XML), name(BAD_CURRENCY)],
      'the malformed files went to error/',
    );
    assert.equal(toArchive.length, 97);

    // On the server: nothing left in the inbox or processing/, 97 archived, 3 + 3 reports in error/.
    assert.deepEqual(filesIn(inbox), [], 'the inbox is empty');
    assert.deepEqual(filesIn(path.join(inbox, 'processing', 'runtime-a')), [], 'nothing left claimed');
    const inArchive = archived(inbox);
    assert.deepEqual(
      [...inArchive.keys()].sort(),
      range(1, 100)
        .filter((k) => ![TRUNCATED, NOT_XML, BAD_CURRENCY].includes(k))
        .map(name),
    );
    assert.ok(
      [...inArchive.values()].every((paths) => paths.length === 1),
      'each file archived once',
    );
    const errorDir = path.join(inbox, 'error');
    assert.deepEqual(
      filesIn(errorDir),
      [TRUNCATED, NOT_XML, BAD_CURRENCY]
        .sort((a, b) => a - b)
        .flatMap((k) => [name(k), `${name(k)}.report.json`]),
    );
    const report = (k: number): Report =>
      JSON.parse(readFileSync(path.join(errorDir, `${name(k)}.report.json`), 'utf8')) as Report;
    const truncated = report(TRUNCATED);
    assert.equal(truncated.file, name(TRUNCATED));
    assert.equal(truncated.from, `/inbox/${name(TRUNCATED)}`);
    assert.equal(truncated.fileError?.code, 'XML_TRUNCATED');
    assert.equal(truncated.accepted, 3, 'the complete orders before the cut were imported');
    const notXml = report(NOT_XML);
    assert.equal(notXml.fileError?.code, 'NOT_XML');
    assert.equal(notXml.accepted, 0);
    const badCurrency = report(BAD_CURRENCY);
    assert.equal(badCurrency.fileError, undefined);
    assert.equal(badCurrency.accepted, 4);
    assert.equal(badCurrency.rejected, 1);
    assert.equal(badCurrency.rejections?.length, 1);
    assert.equal(badCurrency.rejections?.[0].orderRef, refOf(numbersOf(BAD_CURRENCY)[2]));
    assert.ok(
      badCurrency.rejections?.[0].errors.some((e) => e.path === 'currency'),
      JSON.stringify(badCurrency.rejections),
    );

    // Every good order imported exactly once; the rejected one rejected once; no duplicates.
    assert.deepEqual(twice(valid), [], 'no order imported twice');
    assert.deepEqual([...valid.keys()].sort(), [...expected].sort(), 'the good orders, all of them');
    assert.deepEqual(refsOf(seen.rejected), [refOf(numbersOf(BAD_CURRENCY)[2])]);
    assert.equal(seen.duplicate.length, 0);

    // The growing file was taken complete: its archived bytes are the final file.
    const growingArchived = inArchive.get(name(GROWING))?.[0];
    assert.ok(growingArchived, 'the growing file was archived');
    assert.equal(readFileSync(growingArchived, 'utf8'), parts.join(''));
    const growingRefs = new Set(
      seen.valid.filter((m) => m.topic === name(GROWING)).map((m) => String(m.oms?.orderRef)),
    );
    assert.deepEqual([...growingRefs].sort(), growingNumbers.map(refOf));
  });

  it('a connection cut during a download: the file is downloaded again, its orders imported once', async () => {
    const startedAt = Date.now();
    const files: Record<string, number[]> = {
      'a.xml': range(2001, 3),
      'big.xml': range(3001, 400),
      'c.xml': range(4001, 3),
    };
    for (const [file, numbers] of Object.entries(files))
      writeFileSync(path.join(inbox, file), exportXml(numbers));
    const bigBytes = readFileSync(path.join(inbox, 'big.xml'));
    sftp.faults.setDropAfterBytes({ bytes: Math.floor(bigBytes.length / 2), match: /\/big\.xml$/, times: 1 });

    await load({ completeness: 'rename', maxPerPoll: 10 });
    const listings = listingsOf('/inbox');
    const seen = record('valid', 'rejected', 'duplicate', 'finished');
    const processing = path.join(inbox, 'processing', 'runtime-a');
    const localDir = path.join(dir.dir, 'oms-sftp', 'in');
    // At the failed poll (node.error and a red status, reported by the test helper as 'call:error'
    // and 'call:status'): what is where.
    const atFailure: Array<{ processing: string[]; inbox: string[]; local: string[] }> = [];
    const redStatus: string[] = [];
    const inNode = helper.getNode('in') as unknown as {
      on(event: 'call:error' | 'call:status', listener: (call: { args: unknown[] }) => void): void;
    };
    inNode.on('call:status', (call) => {
      const status = call.args[0] as { fill?: string; text?: string } | undefined;
      if (status?.fill === 'red') redStatus.push(String(status.text));
    });
    inNode.on('call:error', () => {
      atFailure.push({ processing: filesIn(processing), inbox: filesIn(inbox), local: filesIn(localDir) });
    });

    await until('3 files finished', () => seen.finished.length >= 3 || undefined, 30000).catch(
      (err: Error) => {
        throw new Error(
          `${err.message}: ${seen.finished.length} finished; failures ${JSON.stringify(atFailure)}`,
        );
      },
    );
    await sleep(1500);
    const finished = finishedOf(seen.finished);
    const valid = tally(refsOf(seen.valid));
    console.log(
      `      3 files (${bigBytes.length} bytes, ${Object.values(files).flat().length} orders), connection cut ` +
        `after ${Math.floor(bigBytes.length / 2)} bytes of big.xml: ${sftp.faults.drops()} drop, ` +
        `${atFailure.length} failed poll, ${listings.length} polls, ${seen.valid.length} orders imported; ` +
        `${Date.now() - startedAt} ms`,
    );

    assert.equal(sftp.faults.drops(), 1, 'the connection was cut once');
    assert.equal(atFailure.length, 1, `one failed poll: ${JSON.stringify(atFailure)}`);
    assert.deepEqual(redStatus, ['OMS_SFTP_CONNECTION'], 'the failed poll said why');
    // The cut download left the file claimed (not back in the inbox) and no partial local copy.
    assert.deepEqual(atFailure[0].processing, ['a.xml', 'big.xml']);
    assert.deepEqual(atFailure[0].inbox, ['c.xml']);
    assert.ok(
      atFailure[0].local.every((f) => !f.includes('big.xml')),
      `no partial download: ${atFailure[0].local.join(', ')}`,
    );

    assert.deepEqual(
      finished.map((f) => [f.file, f.to]),
      [
        ['a.xml', 'archive'],
        ['big.xml', 'archive'],
        ['c.xml', 'archive'],
      ],
    );
    const markers = seen.finished.map((m) => (m.sftp as { recovered: boolean }).recovered);
    assert.deepEqual(markers, [true, true, false], 'a.xml and big.xml were taken up again from processing/');

    assert.deepEqual(twice(valid), [], 'no order imported twice');
    assert.deepEqual([...valid.keys()].sort(), Object.values(files).flat().map(refOf).sort());
    assert.equal(seen.rejected.length, 0);
    assert.equal(seen.duplicate.length, 0);

    assert.deepEqual(filesIn(inbox), []);
    assert.deepEqual(filesIn(processing), []);
    const inArchive = archived(inbox);
    assert.deepEqual([...inArchive.keys()].sort(), ['a.xml', 'big.xml', 'c.xml']);
    assert.ok(readFileSync(inArchive.get('big.xml')?.[0] ?? '').equals(bigBytes), 'big.xml archived whole');
    assert.deepEqual(filesIn(localDir), [], 'no local copy left');
  });
});

// ---------------------------------------------------------------------------------------------
// Two Node-RED processes, one inbox

const SETTINGS = `module.exports = {
  uiHost: '127.0.0.1',
  flowFile: 'flows.json',
  credentialSecret: false,
  logging: { console: { level: 'info', metric: false, audit: false } },
  telemetry: { enabled: false, updateNotification: false },
  editorTheme: { palette: { catalogues: [] } },
};
`;

/** One line of JSON per message into `file` (function → file node). */
function jsonLines(id: string, z: string, file: string, body: string): FlowNode[] {
  return [
    {
      id: `${id}-line`,
      type: 'function',
      z,
      name: `${id} as a JSON line`,
      func: `msg.payload = JSON.stringify(${body});\nreturn msg;`,
      outputs: 1,
      timeout: 0,
      noerr: 0,
      initialize: '',
      finalize: '',
      libs: [],
      wires: [[`${id}-file`]],
    },
    {
      id: `${id}-file`,
      type: 'file',
      z,
      name: `${id}.jsonl`,
      filename: file,
      filenameType: 'str',
      appendNewline: true,
      createDir: true,
      overwriteFile: 'false',
      encoding: 'none',
      wires: [[]],
    },
  ];
}

/**
 * POST /sftp-poll → oms-sftp-in (a poll now) and 204; sftp-in → import (store) → summary back;
 * imported orders and finished files each logged to a JSON-lines file.
 */
function runtimeFlows(o: {
  instance: string;
  storeFile: string;
  ordersLog: string;
  finishedLog: string;
  sftp: SftpSandbox;
}): FlowNode[] {
  const z = 'tab';
  return [
    { id: z, type: 'tab', label: `SFTP inbox (${o.instance})`, disabled: false, info: '' },
    { id: 'e2e-store', type: 'oms-store', name: 'e2e store', path: o.storeFile, retentionDays: 30 },
    {
      id: 'server',
      type: 'oms-sftp-server',
      name: 'sandbox',
      host: '127.0.0.1',
      port: o.sftp.port,
      username: USER,
      hostFingerprint: o.sftp.hostKeyFingerprint,
    },
    {
      id: 'poll',
      type: 'http in',
      z,
      name: 'POST /sftp-poll',
      url: '/sftp-poll',
      method: 'post',
      upload: false,
      swaggerDoc: '',
      wires: [['in', 'polled']],
    },
    { id: 'polled', type: 'http response', z, name: '', statusCode: '204', headers: {}, wires: [] },
    {
      id: 'in',
      type: 'oms-sftp-in',
      z,
      name: 'inbox',
      server: 'server',
      dir: '/inbox',
      pattern: '*.xml',
      completeness: 'rename',
      interval: 1,
      maxPerPoll: 10,
      instance: o.instance,
      wires: [['imp'], ['finished-line']],
    },
    {
      id: 'imp',
      type: 'oms-sfcc-import',
      z,
      name: 'import',
      store: 'e2e-store',
      format: 'auto',
      wires: [['orders-line'], [], ['in'], []],
    },
    ...jsonLines('orders', z, o.ordersLog, '{ ref: msg.oms.orderRef, file: msg.topic }'),
    ...jsonLines('finished', z, o.finishedLog, '{ file: msg.payload.file, to: msg.payload.to }'),
  ];
}

interface Runtime {
  instance: string;
  base: string;
  storeFile: string;
  ordersLog: string;
  finishedLog: string;
  child: ChildProcess;
  exited: Promise<void>;
  log: () => string;
}

async function startRuntime(root: string, instance: string, sftp: SftpSandbox): Promise<Runtime> {
  const userDir = path.join(root, instance);
  mkdirSync(path.join(userDir, 'node_modules'), { recursive: true });
  symlinkSync(repoRoot, path.join(userDir, 'node_modules', 'node-red-contrib-oms'), 'junction');
  writeFileSync(
    path.join(userDir, 'package.json'),
    JSON.stringify({
      name: `oms-e2e-${instance}`,
      private: true,
      dependencies: { 'node-red-contrib-oms': '*' },
    }),
  );
  const paths = {
    storeFile: path.join(userDir, 'oms.db'),
    ordersLog: path.join(userDir, 'orders.jsonl'),
    finishedLog: path.join(userDir, 'finished.jsonl'),
  };
  writeFileSync(path.join(userDir, 'settings.js'), SETTINGS);
  writeFileSync(
    path.join(userDir, 'flows.json'),
    JSON.stringify(runtimeFlows({ instance, sftp, ...paths }), null, 2),
  );
  writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify({ server: { password: PASSWORD } }));
  const port = await freePort();
  const red = require.resolve('node-red/red.js', { paths: [repoRoot] });
  const child = spawn(process.execPath, [red, '--userDir', userDir, '--port', String(port)], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { instance, base: `http://127.0.0.1:${port}`, ...paths, child, exited, log: () => log };
}

async function stopRuntime(r: Runtime): Promise<void> {
  if (r.child.exitCode !== null || r.child.signalCode !== null) return;
  r.child.kill('SIGTERM');
  const timer = setTimeout(() => r.child.kill('SIGKILL'), 10000);
  await r.exited;
  clearTimeout(timer);
}

function readLines<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

/** The store's ledger, read-only: order number → times received. */
function ledgerOf(storeFile: string): Map<string, number> {
  const db = new Database(storeFile, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT order_no AS ref, seen_count AS seen FROM ledger').all() as Array<{
      ref: string;
      seen: number;
    }>;
    return new Map(rows.map((r) => [r.ref, r.seen]));
  } finally {
    db.close();
  }
}

describe('SFTP inbox: two Node-RED processes polling one inbox', function () {
  this.timeout(60000);
  let root: string;
  let sftp: SftpSandbox | undefined;
  let runtimes: Runtime[] = [];
  let keep = false;
  before(() => {
    root = mkdtempSync(path.join(tmpdir(), 'oms-sftp-two-runtimes-'));
  });
  afterEach(function () {
    keep = this.currentTest?.state === 'failed';
  });
  after(async () => {
    await Promise.all(runtimes.map(stopRuntime));
    await sftp?.close();
    if (keep) {
      for (const r of runtimes) writeFileSync(path.join(root, `${r.instance}.log`), r.log());
      console.log(`      kept ${root} (user dirs, stores, logs, the SFTP folder) for a look`);
    } else rmSync(root, { recursive: true, force: true });
  });

  it('every file is processed once, every order imported by exactly one runtime', async () => {
    const FILES = 50;
    const startedAt = Date.now();
    const inbox = path.join(root, 'sftp-root', 'inbox');
    mkdirSync(inbox, { recursive: true });
    sftp = await startSftpServer({
      root: path.join(root, 'sftp-root'),
      users: [{ username: USER, password: PASSWORD }],
    });
    const server = sftp;
    runtimes = await Promise.all(['runtime-a', 'runtime-b'].map((i) => startRuntime(root, i, server)));
    const tails = (): string =>
      runtimes.map((r) => `--- ${r.instance}\n${r.log().split('\n').slice(-30).join('\n')}`).join('\n');
    await Promise.all(
      runtimes.map((r) =>
        waitFor(`Node-RED ${r.instance}`, async () =>
          (await fetch(`${r.base}/flows`)).ok ? true : undefined,
        ),
      ),
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${tails()}`);
    });
    // Both have made their first poll (it creates their processing folder) and are idle.
    await waitFor('the first polls', async () =>
      runtimes.every((r) => existsSync(path.join(inbox, 'processing', r.instance))) ? true : undefined,
    );
    await sleep(500);
    const upAt = Date.now();

    // 50 files dropped the way producers do it (temporary name, then renamed), then a poll
    // asked of both at once: both list the same files and race for every claim.
    const name = (k: number): string => `drop-${String(k).padStart(3, '0')}.xml`;
    const ordersOf = (k: number): string[] => range(20000 + (k - 1) * 5 + 1, 5).map(refOf);
    for (let k = 1; k <= FILES; k++) {
      const temp = path.join(inbox, `.${name(k)}.part`);
      writeFileSync(temp, exportXml(range(20000 + (k - 1) * 5 + 1, 5)));
      renameSync(temp, path.join(inbox, name(k)));
    }
    const allOrders = range(1, FILES).flatMap(ordersOf);
    const polls = await Promise.all(runtimes.map((r) => fetch(`${r.base}/sftp-poll`, { method: 'POST' })));
    assert.deepEqual(
      polls.map((p) => p.status),
      [204, 204],
    );

    const processing = runtimes.map((r) => path.join(inbox, 'processing', r.instance));
    await waitFor(
      'every file archived and logged',
      async () => {
        const logged = runtimes.reduce((n, r) => n + readLines(r.finishedLog).length, 0);
        const orders = runtimes.reduce((n, r) => n + readLines(r.ordersLog).length, 0);
        return archived(inbox).size === FILES &&
          filesIn(inbox).length === 0 &&
          processing.every((p) => filesIn(p).length === 0) &&
          logged >= FILES &&
          orders >= allOrders.length
          ? true
          : undefined;
      },
      30000,
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}: ${archived(inbox).size} archived, inbox ${filesIn(inbox).join(', ')}\n${tails()}`,
      );
    });
    const settledAt = Date.now();
    await sleep(1500); // more polls: a file taken twice would show now
    await Promise.all(runtimes.map(stopRuntime));

    const finished = runtimes.map((r) => readLines<{ file: string; to: string }>(r.finishedLog));
    const orders = runtimes.map((r) => readLines<{ ref: string; file: string }>(r.ordersLog));
    const ledgers = runtimes.map((r) => ledgerOf(r.storeFile));
    const filesBy = finished.map((f) => f.map((x) => x.file));
    const alternations = range(1, FILES - 1).filter(
      (k) => filesBy[0].includes(name(k)) !== filesBy[0].includes(name(k + 1)),
    ).length;
    console.log(
      `      ${FILES} files, ${allOrders.length} orders, two processes: ` +
        runtimes
          .map((r, i) => `${r.instance} ${filesBy[i].length} files/${orders[i].length} orders`)
          .join(', ') +
        `, ${alternations} alternations between them in file order; ` +
        `all archived ${settledAt - upAt} ms after the drop; ${Date.now() - startedAt} ms in all`,
    );

    // Every file finished exactly once, by one runtime, and archived once.
    const allFiles = range(1, FILES).map(name);
    assert.deepEqual(twice(tally(filesBy.flat())), [], 'no file finished twice');
    assert.deepEqual([...filesBy.flat()].sort(), allFiles, 'every file finished');
    assert.ok(
      finished.flat().every((f) => f.to === 'archive'),
      'all archived',
    );
    assert.ok(
      filesBy.every((f) => f.length > 0),
      `both runtimes took files: ${filesBy.map((f) => f.length).join(' + ')}`,
    );
    const inArchive = archived(inbox);
    assert.deepEqual([...inArchive.keys()].sort(), allFiles);
    assert.ok(
      [...inArchive.values()].every((p) => p.length === 1),
      'each file archived once',
    );
    assert.deepEqual(filesIn(inbox), []);
    for (const p of processing) assert.deepEqual(filesIn(p), [], `${p} is empty`);
    assert.deepEqual(filesIn(path.join(inbox, 'error')), []);

    // Every order imported by exactly one runtime: the one that took its file.
    const refsBy = orders.map((o) => o.map((x) => x.ref));
    assert.deepEqual(twice(tally(refsBy.flat())), [], 'no order imported twice (by one runtime or both)');
    assert.deepEqual([...refsBy.flat()].sort(), allOrders, 'every order imported');
    runtimes.forEach((r, i) => {
      const expectedRefs = filesBy[i].flatMap((f) => ordersOf(Number(f.slice(5, 8)))).sort();
      assert.deepEqual([...refsBy[i]].sort(), expectedRefs, `${r.instance} imported the orders of its files`);
      assert.ok(
        orders[i].every((o) => filesBy[i].includes(o.file)),
        `${r.instance} imported only from files it took`,
      );
      // The store agrees: exactly these orders, each received once.
      assert.deepEqual([...ledgers[i].keys()].sort(), expectedRefs, `${r.instance} ledger`);
      assert.deepEqual(
        [...ledgers[i]].filter(([, seen]) => seen !== 1),
        [],
        `${r.instance}: each order received once`,
      );
    });
  });
});
