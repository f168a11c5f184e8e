// Custody proven on the shipped templates (docs/reliability.md): each template that carries
// orders runs as shipped in a real Node-RED process, its sandbox peers outside that process, fed
// a known set of orders with transient peer faults; Node-RED is killed with SIGKILL at seeded
// random moments while orders are in flight, several times, and started again on the same user
// dir. At the end every order is in a final state, at rest where the template ends, held or
// parked with a reason: none lost, none stuck, none created twice in any peer.
// OMS_CRASH_ORDERS, OMS_CRASH_KILLS and OMS_CRASH_SEED change the run (npm run soak repeats it).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { seededUnit, startHttpPeer, type HttpPeer } from '../../sandbox/http-peer';
import type { FluentSandbox } from '../../sandbox/fluent/server';
import { sandboxEnv, startSandboxPeers } from '../../sandbox/peers';
import { archived, exportXml, range, refOf, tally, twice } from '../helpers/sftp-flow';
import { freePort, waitFor } from '../helpers/started-runtime';
import { launchNodeRed, prepareUserDir, type NodeRedProcess } from '../helpers/template-process';

const ORDERS = Number(process.env.OMS_CRASH_ORDERS) || 300;
/** A hundred orders an export file. */
const filesFor = (orders: number): number => Math.max(1, Math.ceil(orders / 100));
const KILLS = Number(process.env.OMS_CRASH_KILLS) || 3;
const SEED = process.env.OMS_CRASH_SEED ?? 'crash-1';
/** Refused by Fluent for good: parked with Fluent's code, never created. */
const REFUSED = [7, 150].filter((n) => n <= ORDERS).map(refOf);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface View {
  states: Map<string, string>;
  parked: Map<string, string | null>;
  custody: Array<{
    ref: string;
    kind: string;
    holder: string;
    stalled: number | null;
    reason: string | null;
  }>;
  retries: number;
  ledger: Map<string, number>;
}

function readView(file: string): View | undefined {
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch {
    return undefined;
  }
  try {
    const rows = <T>(sql: string): T[] => db.prepare(sql).all() as T[];
    return {
      states: new Map(
        rows<{ ref: string; state: string }>('SELECT order_ref AS ref, state FROM orders').map((r) => [
          r.ref,
          r.state,
        ]),
      ),
      parked: new Map(
        rows<{ ref: string; code: string | null }>(
          "SELECT order_ref AS ref, error_code AS code FROM dead_letters WHERE status = 'parked'",
        ).map((r) => [r.ref, r.code]),
      ),
      custody: rows(
        'SELECT order_ref AS ref, kind, holder, stalled_at AS stalled, stalled_reason AS reason FROM custody',
      ),
      retries: (db.prepare('SELECT count(*) AS n FROM retries').get() as { n: number }).n,
      ledger: new Map(
        rows<{ no: string; n: number }>('SELECT order_no AS no, seen_count AS n FROM ledger').map((r) => [
          r.no,
          r.n,
        ]),
      ),
    };
  } catch {
    return undefined; // a table not there yet (the store is being created)
  } finally {
    db.close();
  }
}

interface Peers {
  /** The stand-in peer of template retry-dead-letter, outside Node-RED (OMS_EXAMPLE_PEER_URL). */
  http: HttpPeer;
  fluent: FluentSandbox;
  env: Record<string, string>;
  close(): Promise<void>;
}

/** The sandboxes npm start runs (sandbox/peers.ts), with faults, and the export files in the inbox. */
async function startPeers(dir: string, port: number, orders: number): Promise<Peers> {
  const peers = await startSandboxPeers({
    dir,
    feedEveryMs: 0,
    fraudWebhookUrl: `http://127.0.0.1:${port}/oms/fraud/webhook`,
    fluent: {
      faults: {
        errorRate: 0.05,
        rateLimitRate: 0.03,
        retryAfterSeconds: 1,
        lostReplyRate: 0.05,
        rejectRefs: new Map(REFUSED.map((ref) => [ref, 'C0160E'])),
        seed: 11,
      },
    },
    // These orders are not reviewed by amount: the fraud mix has its own test.
    fraud: { reviewAbove: {} },
  });
  const inbox = path.join(peers.sftp.root, 'inbox');
  const files = filesFor(orders);
  const per = Math.ceil(orders / files);
  for (let f = 0; f < files; f++) {
    const count = Math.min(per, orders - f * per);
    if (count > 0)
      writeFileSync(path.join(inbox, `export-${f + 1}.xml`), exportXml(range(1 + f * per, count)));
  }
  const http = await startHttpPeer({
    failureRate: 0.4,
    retryAfterSeconds: 1,
    seed: SEED,
    permanentRefs: (ref) => ref.endsWith('13'),
  });
  return {
    http,
    fluent: peers.sandboxes.fluent,
    env: { ...sandboxEnv(peers), OMS_EXAMPLE_PEER_URL: `${http.url}/orders` },
    close: async () => {
      await Promise.all([http.close(), peers.stop()]);
    },
  };
}

interface CrashRun {
  view: View;
  peers: Peers;
  inbox: string;
  /** Orders not yet where they end, at each kill. */
  inFlightAtKills: number[];
  log: string;
}

/**
 * Runs `template` with SIGKILLs at seeded moments until `settled` holds for the store's view,
 * then hands the final view to `check` (peers still up).
 */
async function crashRun(
  template: string,
  orders: number,
  /** Sends the orders in after each start (templates not fed from the SFTP inbox). */
  feed: ((base: string, peers: Peers) => Promise<void>) | undefined,
  settled: (v: View, peers: Peers, inbox: string) => boolean,
  inFlight: (v: View, peers: Peers) => number,
  check: (run: CrashRun) => void | Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), `oms-crash-${template}-`));
  const userDir = path.join(dir, 'user');
  const port = await freePort();
  const peers = await startPeers(path.join(dir, 'peers'), port, orders);
  let log = '';
  const append = (text: string): void => {
    log += text;
  };
  const storeFile = path.join(userDir, 'oms', 'oms.db');
  prepareUserDir(userDir, [template]);
  let runtime: NodeRedProcess | undefined;
  const inFlightAtKills: number[] = [];
  let ok = false;
  try {
    for (let k = 0; k <= KILLS; k++) {
      runtime = launchNodeRed(userDir, port, peers.env, append);
      await runtime.ready;
      if (k === 0) await feed?.(`http://127.0.0.1:${port}`, peers);
      if (k === KILLS) break;
      // A seeded moment while orders flow: once a seeded share (10-70 %) of the orders still
      // on their way have arrived where they end. Chosen by progress, not by time, so that a
      // slow machine kills as surely mid-flight as a fast one.
      const before = readView(storeFile);
      const doneAtStart = before ? orders - inFlight(before, peers) : 0;
      const target =
        doneAtStart +
        Math.max(1, Math.floor((orders - doneAtStart) * (0.1 + 0.6 * seededUnit(SEED, template, 'kill', k))));
      const giveUpAt = Date.now() + 60000;
      for (;;) {
        const v = readView(storeFile);
        if ((v && orders - inFlight(v, peers) >= target) || Date.now() > giveUpAt) break;
        await sleep(5);
      }
      runtime.child.kill('SIGKILL');
      await runtime.exited;
      const v = readView(storeFile);
      inFlightAtKills.push(v ? inFlight(v, peers) : orders);
      log += `\n----- SIGKILL ${k + 1} of ${KILLS}, ${inFlightAtKills[k]} orders in flight -----\n`;
    }
    const view = await waitFor(
      `every order of template ${template} settled`,
      async () => {
        const v = readView(storeFile);
        return v && settled(v, peers, path.join(dir, 'peers', 'sftp', 'inbox')) ? v : undefined;
      },
      180000,
    ).catch((err: Error) => {
      const v = readView(storeFile);
      const open = v?.custody.filter((c) => c.kind === 'checkpoint' || c.kind === 'retry') ?? [];
      throw new Error(
        `${err.message}: ${v?.states.size ?? 0} orders known, ${v?.retries ?? '?'} retry records, ` +
          `${open.length} open custody rows (${JSON.stringify(open.slice(0, 5))})\n${log.slice(-4000)}`,
      );
    });
    await check({ view, peers, inbox: path.join(dir, 'peers', 'sftp', 'inbox'), inFlightAtKills, log });
    ok = true;
  } finally {
    if (runtime && runtime.child.exitCode === null && runtime.child.signalCode === null) {
      runtime.child.kill('SIGTERM');
      await runtime.exited;
    }
    await peers.close();
    if (ok) rmSync(dir, { recursive: true, force: true });
    else {
      writeFileSync(path.join(dir, 'node-red.log'), log);
      console.log(`      kept ${dir} (user dir, store, node-red.log) for a look`);
    }
  }
}

const refsOf = (orders: number): string[] => range(1, orders).map(refOf);

/** Fluent carried out createOrder at most once per ref (lost answers included). */
function createdTwice(fluent: FluentSandbox): string[] {
  const creates = fluent
    .log()
    .filter(
      (e) =>
        e.fields?.includes('createOrder') &&
        (e.status === 200 || e.fault === 'lost-reply') &&
        (e.codes ?? []).length === 0,
    );
  return twice(tally(creates.map((e) => String((e.variables?.input as { ref?: unknown } | undefined)?.ref))));
}

function noOpenCustody(v: View): string[] {
  return v.custody
    .filter((c) => c.kind === 'checkpoint' || c.kind === 'retry' || c.stalled !== null)
    .map((c) => c.ref);
}

describe(`crash test: templates as shipped, SIGKILLed ${KILLS} times (seed ${SEED})`, function () {
  this.timeout(420000);

  it(`order-lifecycle: ${ORDERS} orders, transient Fluent faults — none lost, stuck or created twice`, async () => {
    // Held for review is an end too (the fraud check fails to review when its provider is slow).
    const endStates = new Set(['Allocated', 'Backordered', 'OnHold']);
    const where = (v: View, ref: string): boolean =>
      endStates.has(v.states.get(ref) ?? '') || v.parked.has(ref);
    const refs = refsOf(ORDERS);
    await crashRun(
      'order-lifecycle',
      ORDERS,
      undefined,
      (v, _peers, inbox) =>
        refs.every((ref) => where(v, ref)) &&
        v.retries === 0 &&
        noOpenCustody(v).length === 0 &&
        archived(inbox).size === filesFor(ORDERS),
      (v) => refs.filter((ref) => !where(v, ref)).length,
      ({ view, peers, inbox, inFlightAtKills, log }) => {
        assert.ok(
          inFlightAtKills.some((n) => n > 0 && n < ORDERS),
          `a kill came while orders were in flight (${inFlightAtKills.join(', ')})`,
        );
        for (const ref of refs) {
          if (REFUSED.includes(ref)) {
            assert.equal(view.parked.get(ref), 'C0160E', `${ref} refused by Fluent is parked with its code`);
            continue;
          }
          assert.ok(
            endStates.has(view.states.get(ref) ?? ''),
            `${ref}: ${view.states.get(ref)} (${view.parked.get(ref)})`,
          );
        }
        assert.deepEqual(createdTwice(peers.fluent), [], 'no order created twice in Fluent');
        const fluentOrders = peers.fluent.orders();
        const allocated = refs.filter((r) => view.states.get(r) === 'Allocated');
        assert.equal(fluentOrders.size, allocated.length, 'Fluent holds exactly the allocated orders');
        // Every file archived once; every order at rest where the template ends.
        assert.equal([...archived(inbox).keys()].length, filesFor(ORDERS));
        const atRest = view.custody.filter((c) => c.kind === 'end').length;
        assert.equal(atRest + view.parked.size, refs.length, 'each order held once: at rest or parked');
        const resumed = (log.match(/resumed \d+ order\(s\)/g) ?? []).length;
        console.log(
          `      ${allocated.length} allocated, ${refs.length - allocated.length - view.parked.size} backordered, ` +
            `${view.parked.size} parked; in flight at the kills: ${inFlightAtKills.join(', ')}; ` +
            `${resumed} resumer runs sent checkpoints again; ${peers.fluent.log().length} Fluent calls`,
        );
      },
    );
  });

  // The import alone is quick: five times the orders.
  const IMPORTED = ORDERS * 5;
  it(`sftp-import: ${IMPORTED} orders from the SFTP inbox — each Validated once, every file archived`, async () => {
    const refs = refsOf(IMPORTED);
    await crashRun(
      'sftp-import',
      IMPORTED,
      undefined,
      (v, _peers, inbox) =>
        refs.every((ref) => v.states.get(ref) === 'Validated') &&
        noOpenCustody(v).length === 0 &&
        archived(inbox).size === filesFor(IMPORTED),
      (v) => refs.filter((ref) => v.states.get(ref) !== 'Validated').length,
      ({ view, inbox, inFlightAtKills }) => {
        for (const ref of refs) assert.equal(view.states.get(ref), 'Validated', ref);
        assert.equal([...archived(inbox).keys()].length, filesFor(IMPORTED), 'every file archived');
        assert.equal(view.custody.filter((c) => c.kind === 'end').length, IMPORTED);
        assert.ok(
          inFlightAtKills.some((n) => n > 0),
          'a kill came before every order was in',
        );
        console.log(`      ${IMPORTED} Validated; in flight at the kills: ${inFlightAtKills.join(', ')}`);
      },
    );
  });

  it('retry-dead-letter: its 20 orders into a failing peer outside Node-RED — each accepted once or parked', async () => {
    const demo = range(1, 20).map((n) => `DEMO-${String(n).padStart(4, '0')}`);
    const where = (v: View, peers: Peers, ref: string): boolean =>
      peers.http.stats().accepted.has(ref) || v.parked.has(ref);
    await crashRun(
      'retry-dead-letter',
      demo.length,
      async (base) => {
        // The template's button, as an analyst presses it.
        const res = await fetch(`${base}/inject/oms-tpl-retry-inject`, { method: 'POST' });
        assert.equal(res.status, 200);
      },
      (v, peers) =>
        demo.every((ref) => where(v, peers, ref)) && v.retries === 0 && noOpenCustody(v).length === 0,
      (v, peers) => demo.filter((ref) => !where(v, peers, ref)).length,
      ({ view, peers, inFlightAtKills }) => {
        const accepted = peers.http.stats().accepted;
        for (const ref of demo) {
          if (ref.endsWith('13')) {
            // Refused for good (422), or its refusals' answers lost on the way (a reset): parked either way.
            assert.ok(view.parked.get(ref), `${ref} refused by the peer is parked with a reason`);
            assert.ok(!accepted.has(ref), `${ref} was never accepted`);
          }
          // Accepted, or parked with a reason (all attempts failed, e.g. answers lost after accepting).
          else assert.ok(accepted.has(ref) || view.parked.get(ref), `${ref} accepted by the peer or parked`);
        }
        // The peer keeps one acceptance per idempotency key; a repeat is answered as a replay.
        assert.ok(!accepted.has('DEMO-0013'));
        assert.deepEqual(
          view.custody.map((c) => [c.ref, c.kind]).sort(),
          [...view.parked.keys()].sort().map((ref) => [ref, 'dead-letter']),
          'only the parked orders are still held, each by its dead letter',
        );
        console.log(
          `      ${accepted.size} accepted, ${view.parked.size} parked; in flight at the kills: ${inFlightAtKills.join(', ')}; ` +
            `${peers.http.stats().calls} peer calls, ${peers.http.stats().replays} replays`,
        );
      },
    );
  });
});
