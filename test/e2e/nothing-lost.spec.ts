// End to end, the reliability promise: a real Node-RED process takes 1,000 orders over HTTP and
// pushes them through oms-retry into a sandbox peer that fails 30% of calls (5xx, connection
// resets, 429 with Retry-After) and rejects a known 2% for good. The process is killed with
// SIGKILL mid-run and started again on the same user dir. At the end every order was accepted by
// the peer exactly once (idempotency key) or is parked in the dead-letter queue with its reason:
// none missing, none twice.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { seededUnit, startHttpPeer, type HttpPeer } from '../../sandbox/http-peer';
import { repoRoot } from '../helpers/paths';
import { freePort, waitFor } from '../helpers/started-runtime';

const ORDERS = 1000;
const PERMANENT_SHARE = 0.02;
const PRODUCERS = 16;
const KILL_AFTER_ACKS = 300;
const SEED = 'nothing-lost-1';
const PEER_URL_ENV = 'OMS_E2E_PEER_URL';

const refs = Array.from({ length: ORDERS }, (_, i) => `E2E-${String(i + 1).padStart(4, '0')}`);
/** 2%, chosen by the seed: the refs with the lowest draws. */
const permanent = new Set(
  [...refs]
    .sort((a, b) => seededUnit(SEED, 'permanent', a) - seededUnit(SEED, 'permanent', b))
    .slice(0, Math.round(ORDERS * PERMANENT_SHARE)),
);

const SETTINGS = `module.exports = {
  uiHost: '127.0.0.1',
  flowFile: 'flows.json',
  credentialSecret: 'oms-e2e-nothing-lost',
  logging: { console: { level: 'info', metric: false, audit: false } },
  telemetry: { enabled: false, updateNotification: false },
  editorTheme: { palette: { catalogues: [] } },
};
`;

// Function node bodies (Node-RED runs them in its sandbox).
const ENVELOPE = `const ref = msg.payload && msg.payload.orderRef;
if (typeof ref !== 'string' || ref === '') {
  msg.statusCode = 400;
  msg.payload = { error: 'orderRef is required' };
  return [null, msg];
}
msg.oms = { orderRef: ref, correlationId: 'e2e-' + ref };
return [msg, null];`;
const PREPARE_CALL = `msg.url = env.get('${PEER_URL_ENV}') + '/orders';
msg.method = 'POST';
msg.headers = { 'Idempotency-Key': msg.oms.orderRef, 'content-type': 'application/json' };
return msg;`;
/** The peer's own error ({code, message}) becomes msg.error, so a dead letter says why. */
const PEER_ERROR = `const body = msg.payload;
if (typeof msg.statusCode === 'number' && msg.statusCode >= 400 && body && typeof body === 'object' && typeof body.code === 'string') {
  msg.error = { message: body.message || ('HTTP ' + msg.statusCode), code: body.code };
}
return msg;`;

type FlowNode = Record<string, unknown> & { id: string; type: string };

/**
 * http in → envelope (msg.oms) → oms-retry ─1→ prepare call → http request
 *                                           └1→ first pass only (msg.res) → http response 202
 *                                           ─2→ oms-dead-letter
 * http request's outcome comes back into oms-retry: Complete (statuses, via the peer's error
 * body) and Catch (network errors).
 */
function flows(storeFile: string): FlowNode[] {
  const z = 'nl-tab';
  const at = (x: number, y: number) => ({ z, x, y });
  return [
    { id: z, type: 'tab', label: 'Nothing lost (e2e)', disabled: false, info: '' },
    { id: 'nl-store', type: 'oms-store', name: 'e2e store', path: storeFile, retentionDays: 30 },
    {
      id: 'nl-in',
      type: 'http in',
      ...at(120, 100),
      name: 'POST /orders',
      url: '/orders',
      method: 'post',
      upload: false,
      swaggerDoc: '',
      wires: [['nl-envelope']],
    },
    {
      id: 'nl-envelope',
      type: 'function',
      ...at(300, 100),
      name: 'msg.oms from the order',
      func: ENVELOPE,
      outputs: 2,
      timeout: 0,
      noerr: 0,
      initialize: '',
      finalize: '',
      libs: [],
      wires: [['nl-retry'], ['nl-bad-request']],
    },
    {
      id: 'nl-bad-request',
      type: 'http response',
      ...at(500, 40),
      name: 'bad request',
      statusCode: '',
      headers: {},
      wires: [],
    },
    {
      id: 'nl-retry',
      type: 'oms-retry',
      ...at(500, 100),
      name: 'to the peer',
      store: 'nl-store',
      attempts: 10,
      initialDelay: 0.05,
      multiplier: 2,
      maxDelay: 1,
      deadline: 10,
      jitter: true,
      requireAck: true,
      ackTimeout: 30,
      permanentCodes: '',
      retryableCodes: '',
      wires: [['nl-prepare', 'nl-first-pass'], ['nl-dead']],
    },
    {
      id: 'nl-prepare',
      type: 'function',
      ...at(700, 100),
      name: 'peer call',
      func: PREPARE_CALL,
      outputs: 1,
      timeout: 0,
      noerr: 0,
      initialize: '',
      finalize: '',
      libs: [],
      wires: [['nl-request']],
    },
    {
      id: 'nl-request',
      type: 'http request',
      ...at(900, 100),
      name: 'POST peer /orders',
      method: 'use',
      ret: 'obj',
      paytoqs: 'ignore',
      url: '',
      tls: '',
      persist: false,
      proxy: '',
      insecureHTTPParser: false,
      authType: '',
      senderr: false,
      headers: [],
      wires: [[]],
    },
    {
      id: 'nl-request-done',
      type: 'complete',
      ...at(700, 200),
      name: 'call finished',
      scope: ['nl-request'],
      uncaught: false,
      wires: [['nl-peer-error']],
    },
    {
      id: 'nl-peer-error',
      type: 'function',
      ...at(900, 200),
      name: "peer's error body → msg.error",
      func: PEER_ERROR,
      outputs: 1,
      timeout: 0,
      noerr: 0,
      initialize: '',
      finalize: '',
      libs: [],
      wires: [['nl-retry']],
    },
    {
      id: 'nl-request-failed',
      type: 'catch',
      ...at(700, 260),
      name: 'call failed',
      scope: ['nl-request'],
      uncaught: false,
      wires: [['nl-retry']],
    },
    {
      id: 'nl-first-pass',
      type: 'switch',
      ...at(700, 40),
      name: 'first pass (msg.res)',
      property: 'res',
      propertyType: 'msg',
      rules: [{ t: 'nnull' }],
      checkall: 'true',
      repair: false,
      outputs: 1,
      wires: [['nl-accepted']],
    },
    {
      id: 'nl-accepted',
      type: 'http response',
      ...at(900, 40),
      name: '202 stored',
      statusCode: '202',
      headers: {},
      wires: [],
    },
    {
      id: 'nl-dead',
      type: 'oms-dead-letter',
      ...at(700, 320),
      name: 'parked',
      store: 'nl-store',
      wires: [[]],
    },
  ];
}

/** Makes the pack visible to Node-RED as if installed, the way scripts/start.js does. */
function installPack(userDir: string): void {
  const modules = path.join(userDir, 'node_modules');
  mkdirSync(modules, { recursive: true });
  symlinkSync(repoRoot, path.join(modules, 'node-red-contrib-oms'), 'junction');
  writeFileSync(
    path.join(userDir, 'package.json'),
    JSON.stringify({
      name: 'oms-e2e-user-dir',
      private: true,
      dependencies: { 'node-red-contrib-oms': 'file:..' },
    }),
  );
}

interface NodeRed {
  child: ChildProcess;
  exited: Promise<void>;
}

function launchNodeRed(
  userDir: string,
  port: number,
  peerUrl: string,
  onLog: (text: string) => void,
): NodeRed {
  const red = require.resolve('node-red/red.js', { paths: [repoRoot] });
  const child = spawn(process.execPath, [red, '--userDir', userDir, '--port', String(port)], {
    cwd: repoRoot,
    env: { ...process.env, [PEER_URL_ENV]: peerUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => onLog(d.toString()));
  child.stderr?.on('data', (d: Buffer) => onLog(d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, exited };
}

/** Read-only looks into the store file, from outside the runtime (it may be dead). */
function readStore<T>(file: string, read: (db: Database.Database) => T): T {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

interface ParkedLetter {
  id: number;
  orderRef?: string;
  status: string;
  attempts: number;
  error: { message: string; code?: string; status?: number };
}

async function parkedLetters(base: string): Promise<ParkedLetter[]> {
  const out: ParkedLetter[] = [];
  for (let offset = 0; ; offset += 500) {
    const res = await fetch(`${base}/oms/dead-letters?status=parked&limit=500&offset=${offset}`);
    if (!res.ok) throw new Error(`GET /oms/dead-letters: ${res.status} ${await res.text()}`);
    const page = (await res.json()) as { items: ParkedLetter[]; total: number };
    out.push(...page.items);
    if (page.items.length === 0 || out.length >= page.total) return out;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The promise's value, or a failure saying `what` when it takes longer than `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what())), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Why a POST did not get its 202: the status, or the socket error code. */
function failureOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string } }).cause;
  return cause?.code ?? (err as Error).name ?? 'error';
}

describe('nothing lost: 1,000 orders, a failing peer and a SIGKILL mid-run', function () {
  this.timeout(180000);
  let dir: string;
  let peer: HttpPeer | undefined;
  let runtime: NodeRed | undefined;
  let log = '';
  /** Set when the test ends: producers still retrying give up. */
  let stopping = false;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'oms-nothing-lost-'));
  });
  let keep = false;
  afterEach(function () {
    keep = this.currentTest?.state === 'failed';
  });
  after(async () => {
    stopping = true;
    if (runtime && runtime.child.exitCode === null && runtime.child.signalCode === null) {
      runtime.child.kill('SIGTERM');
      await within(runtime.exited, 10000, () => 'Node-RED did not stop').catch(() => undefined);
      if (runtime.child.exitCode === null && runtime.child.signalCode === null) runtime.child.kill('SIGKILL');
    }
    await peer?.close();
    if (keep) {
      writeFileSync(path.join(dir, 'node-red.log'), log);
      console.log(`      kept ${dir} (user dir, store, node-red.log) for a look`);
    } else {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every order is accepted by the peer exactly once or parked with its reason', async () => {
    const startedAt = Date.now();
    peer = await startHttpPeer({
      failureRate: 0.3,
      permanentRefs: permanent,
      retryAfterSeconds: 1,
      seed: SEED,
    });
    const userDir = path.join(dir, 'user');
    const storeFile = path.join(dir, 'store', 'oms.db');
    mkdirSync(userDir, { recursive: true });
    installPack(userDir);
    writeFileSync(path.join(userDir, 'settings.js'), SETTINGS);
    writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows(storeFile), null, 2));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const append = (text: string): void => {
      log += text;
    };
    const tail = (): string => log.split('\n').slice(-60).join('\n');

    runtime = launchNodeRed(userDir, port, peer.url, append);
    await waitFor('Node-RED', async () => ((await fetch(`${base}/flows`)).ok ? true : undefined)).catch(
      (err: Error) => {
        throw new Error(`${err.message}\n${tail()}`);
      },
    );

    // Producers: each order is POSTed until Node-RED answers 202 (stored by oms-retry).
    const ackedAt = new Map<string, number>();
    const posts = new Map<string, number>();
    /** Refs whose POST failed after it may have reached Node-RED (not a refused connection). */
    const uncertain = new Set<string>();
    const failures: Record<string, number> = {};
    /** Per order, what its POSTs met, with the time since the start. */
    const history = new Map<string, string[]>();
    const remember = (ref: string, what: string): void => {
      history.set(ref, [...(history.get(ref) ?? []), `${what} at ${Date.now() - startedAt} ms`]);
    };
    let next = 0;
    let onAck: (() => void) | undefined;
    const produce = async (): Promise<void> => {
      while (next < refs.length) {
        const ref = refs[next++];
        for (;;) {
          if (stopping) return;
          posts.set(ref, (posts.get(ref) ?? 0) + 1);
          let why: string;
          try {
            const res = await fetch(`${base}/orders`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ orderRef: ref, amount: { value: 1000 + next, currency: 'EUR' } }),
              signal: AbortSignal.timeout(15000),
            });
            await res.arrayBuffer();
            if (res.status === 202) {
              remember(ref, '202');
              ackedAt.set(ref, Date.now());
              onAck?.();
              break;
            }
            why = `HTTP ${res.status}`;
            if (res.status !== 404) uncertain.add(ref);
          } catch (err) {
            why = failureOf(err);
            if (why !== 'ECONNREFUSED') uncertain.add(ref);
          }
          remember(ref, why);
          failures[why] = (failures[why] ?? 0) + 1;
          await sleep(100);
        }
      }
    };
    const enoughAcked = new Promise<void>((resolve) => {
      onAck = () => {
        if (ackedAt.size >= KILL_AFTER_ACKS) resolve();
      };
    });
    const producers = Promise.all(Array.from({ length: PRODUCERS }, produce));

    // SIGKILL the Node-RED process itself mid-run.
    await enoughAcked;
    const killedAt = Date.now();
    runtime.child.kill('SIGKILL');
    await runtime.exited;
    assert.equal(runtime.child.signalCode, 'SIGKILL');
    const ackedBeforeKill = new Set(ackedAt.keys());
    const acceptedAtKill = new Set(peer.stats().accepted.keys());
    const calledBeforeKill = new Set(peer.stats().callsByKey.keys());
    const storedAtKill = readStore(storeFile, retryRecordsEver);
    const pendingAtKill = readStore(storeFile, (db) =>
      (db.prepare('SELECT order_ref AS ref FROM retries').all() as Array<{ ref: string | null }>).map(
        (r) => r.ref,
      ),
    );
    const ackedNotAccepted = [...ackedBeforeKill].filter(
      (ref) => !acceptedAtKill.has(ref) && !permanent.has(ref),
    );
    log += `\n----- SIGKILL at ${killedAt - startedAt} ms, restart follows -----\n`;

    await sleep(500); // down for a while: producers meet refused connections
    const restartedAt = Date.now();
    runtime = launchNodeRed(userDir, port, peer.url, append);
    await within(producers, 90000, () => `producers still without a 202 after 90 s\n${tail()}`);
    const allAckedAt = Date.now();

    // Settled: nothing pending in oms-retry, and every order accounted for.
    let letters: ParkedLetter[] = [];
    let pending = -1;
    await waitFor(
      'every order to be accepted or parked',
      async () => {
        pending = readStore(
          storeFile,
          (db) => (db.prepare('SELECT count(*) AS n FROM retries').get() as { n: number }).n,
        );
        if (pending > 0) return undefined;
        letters = await parkedLetters(base);
        const accepted = peer?.stats().accepted ?? new Map<string, unknown>();
        const parked = new Set(letters.map((l) => l.orderRef));
        return refs.every((ref) => accepted.has(ref) || parked.has(ref)) ? true : undefined;
      },
      120000,
    ).catch((err: Error) => {
      const accepted = peer?.stats().accepted ?? new Map<string, unknown>();
      const parked = new Set(letters.map((l) => l.orderRef));
      const missing = refs.filter((ref) => !accepted.has(ref) && !parked.has(ref));
      throw new Error(
        `${err.message}: ${pending} pending in oms-retry, ${missing.length} missing (${missing.slice(0, 20).join(', ')})\n${tail()}`,
      );
    });
    const settledAt = Date.now();

    const stats = peer.stats();
    const accepted = stats.accepted;
    const parkedRefs = letters.map((l) => l.orderRef ?? `<no ref: letter ${l.id}>`);
    const parked = new Set(parkedRefs);
    const twice = [...new Set(parkedRefs.filter((ref, i) => parkedRefs.indexOf(ref) !== i))];

    // The numbers first, so that a failure below comes with them.
    const stored = readStore(storeFile, retryRecordsEver);
    const resentAfterRestart = stats.log.filter(
      (c) =>
        c.at >= restartedAt &&
        c.key !== undefined &&
        calledBeforeKill.has(c.key) &&
        !acceptedAtKill.has(c.key),
    ).length;
    const replaysAfterRestart = stats.log.filter((c) => c.at >= restartedAt && c.outcome === 'replay').length;
    const outcomes = Object.entries(stats.outcomes)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    const ms = (t: number): string => `${t - startedAt} ms`;
    console.log(
      `      ${accepted.size} accepted + ${parked.size} parked of ${ORDERS} orders; ` +
        `peer calls ${stats.calls} (${outcomes}), replays ${stats.replays} (${replaysAfterRestart} after the restart); ` +
        `at the kill: ${ackedBeforeKill.size} acknowledged, ${storedAtKill} stored, ${pendingAtKill.length} pending, ` +
        `${ackedNotAccepted.length} acknowledged but not yet accepted; ` +
        `${resentAfterRestart} calls after the restart for orders unfinished at the kill; ` +
        `${stored} messages stored by oms-retry for ${ORDERS} orders; ` +
        `${[...posts.values()].reduce((n, c) => n + c, 0)} POSTs by producers (failed: ${JSON.stringify(failures)}, ` +
        `${uncertain.size} with an unknown outcome); ` +
        `kill at ${ms(killedAt)}, restart at ${ms(restartedAt)}, all 202 at ${ms(allAckedAt)}, settled at ${ms(settledAt)}`,
    );

    // None missing, none twice.
    assert.equal(ackedAt.size, ORDERS, 'every order got its 202');
    const union = new Set([...accepted.keys(), ...parked]);
    assert.deepEqual([...union].sort(), [...refs].sort(), 'accepted ∪ parked = the orders sent');
    const both = [...parked].filter((ref) => accepted.has(ref));
    assert.deepEqual(both, [], 'no order both accepted and parked');
    assert.deepEqual(
      twice,
      [],
      'no order parked twice:\n' +
        twice
          .map((ref) => {
            const ids = letters.filter((l) => l.orderRef === ref).map((l) => l.id);
            return `  ${ref}: letters ${ids.join(', ')}; producer: ${(history.get(ref) ?? []).join(', ')}`;
          })
          .join('\n'),
    );
    // Accepted exactly once: under its own key, and no order under two keys.
    for (const [key, order] of accepted) {
      assert.equal((order.body as { orderRef?: string }).orderRef, key, 'accepted under its own key');
    }
    assert.equal(stats.outcomes.accepted + countNewAfterReset(stats), accepted.size);

    // The permanent 2% are parked with the peer's reason; nothing else is.
    assert.deepEqual(
      [...parked].sort(),
      [...permanent].sort(),
      'exactly the permanently rejected orders are parked',
    );
    for (const letter of letters) {
      assert.equal(letter.error.status, 422, `${letter.orderRef}: ${JSON.stringify(letter.error)}`);
      assert.equal(letter.error.code, 'ORDER_REJECTED');
      assert.match(letter.error.message, /rejected by the peer/);
    }
    assert.equal(
      existsSync(path.join(userDir, 'oms-dead-letters.fallback.jsonl')),
      false,
      'no fallback file',
    );

    // The kill really happened mid-run.
    assert.ok(
      pendingAtKill.length > 0 || ackedNotAccepted.length > 0,
      'at the kill, stored orders were still on their way to the peer',
    );
  });
});

/** How many messages oms-retry has stored, ever (its rows' autoincrement counter). */
function retryRecordsEver(db: Database.Database): number {
  const row = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'retries'").get() as
    { seq: number } | undefined;
  return row?.seq ?? 0;
}

/** Orders first taken by a call whose answer was then lost (reset after accepting). */
function countNewAfterReset(stats: ReturnType<HttpPeer['stats']>): number {
  let n = 0;
  for (const [key, order] of stats.accepted) {
    const call = stats.log.find((c) => c.key === key && c.call === order.call);
    if (call?.outcome === 'reset-after-accept') n++;
  }
  return n;
}
