// npm run bench, third part: orders/s through the deployed template order-lifecycle as shipped (a
// real Node-RED process: SFTP inbox → import → lifecycle → address check → fraud check → route →
// Fluent allocate → Allocated, every step under custody) against a floor measured in the same run:
// a plain script making the same peer calls (address service, fraud provider, Fluent) with the
// same clients, 16 in flight (the template's allocate concurrency). Every sandbox the template
// needs runs in this (parent) process, started by the helper npm start uses (sandbox/peers.ts),
// fresh for each pass, so both passes make the same calls against the same data.
import { execFile, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  copyFileSync,
} from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { checkOrderAddresses } from '../lib/address/check';
import { AddressProviderClient } from '../lib/address/provider';
import { CREATE_CUSTOMER, CREATE_ORDER, FIND_CUSTOMER } from '../lib/fluent/allocate';
import { FraudProviderClient } from '../lib/fraud/provider';
import { screeningRequest } from '../lib/fraud/screening';
import { LOCATIONS_QUERY, POSITIONS_QUERY } from '../lib/fluent/inventory';
import { createOrderInput, customerInput } from '../lib/fluent/order';
import type { Order } from '../lib/order/model';
import { writeSampleExport } from '../lib/sfcc/export-file';
import { importFile } from '../lib/sfcc/import';
import { HttpClient } from '../lib/transport/http';
import { sandboxEnv, startSandboxPeers, type SandboxPeers } from '../sandbox/peers';
import { freePort } from '../test/helpers/started-runtime';
import { currentTemplate, templateCredentials } from '../test/helpers/templates';

const ORDERS = Number(process.env.BENCH_LIFECYCLE_ORDERS ?? 2000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
/** Delay the Fluent sandbox adds to every answer (0: our own overhead shows most). */
const LATENCY_MS = Number(process.env.BENCH_FLUENT_LATENCY_MS ?? 0);
const IN_FLIGHT = 16;
const root = path.resolve(__dirname, '..', '..');
const dir = path.join(root, '.bench');
const exportFile = path.join(dir, `lifecycle-${ORDERS}.xml`);
const ENV = 'OMS_BENCH_FLUENT';
/** What the floor calls; without address and fraud peers, Fluent alone (the fraud benchmark's floor). */
export interface FloorTarget {
  fluent: SandboxPeers['fluent'];
  fraud?: SandboxPeers['fraud'];
  address?: SandboxPeers['address'];
  file: string;
}
type Target = FloorTarget;

interface Result {
  ms: number;
  /** Orders that ended created in Fluent (the template: Allocated; backordered ones are counted apart). */
  orders: number;
  backordered: number;
  fluentCalls: number;
  maxRssMb: number;
  /** CPU time of the pass's own process (the script, or Node-RED) in the measured window. */
  cpuMs: number;
  /** CPU time of the bench process (the sandboxes) in the same window. */
  peersCpuMs: number;
}

const elapsedMs = (since: bigint): number => Number(process.hrtime.bigint() - since) / 1e6;
/** User + system CPU of this process since `since` (process.cpuUsage), in ms. */
const cpuSinceMs = (since: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Floor: a plain script, the same calls with the same HTTP client

async function floorChild(): Promise<void> {
  const target = JSON.parse(process.env[ENV] ?? '') as Target;
  const orders: Order[] = [];
  for await (const event of importFile(target.file)) if (event.type === 'accepted') orders.push(event.order);
  const fluent = target.fluent;
  const options = { retailerId: fluent.retailerId, productCatalogueRef: 'PC:MASTER:1' };
  const http = new HttpClient();
  const address =
    target.address &&
    new AddressProviderClient({ baseUrl: target.address.url, apiKey: target.address.apiKey }, http);
  const fraud =
    target.fraud &&
    new FraudProviderClient(
      {
        kind: 'generic',
        baseUrl: target.fraud.url,
        apiKey: target.fraud.apiKey,
        webhookSecret: target.fraud.webhookSecret,
      },
      http,
    );
  const started = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  const form = new URLSearchParams({
    grant_type: 'password',
    scope: 'api',
    client_id: fluent.clientId,
    client_secret: fluent.clientSecret,
    username: fluent.username,
    password: fluent.password,
  });
  const tokenAnswer = await http.request({
    method: 'POST',
    url: `${fluent.url}/oauth/token`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  const token = (JSON.parse(tokenAnswer.body) as { access_token: string }).access_token;
  let calls = 1;
  const graphql = async <T>(query: string, variables: Record<string, unknown>, operationName: string) => {
    calls++;
    const res = await http.request({
      method: 'POST',
      url: `${fluent.url}/graphql`,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: JSON.stringify({ query, variables, operationName }),
    });
    const body = JSON.parse(res.body) as { data?: T; errors?: Array<{ message: string }> };
    if (res.status !== 200 || body.errors || !body.data)
      throw new Error(`${operationName}: ${res.body.slice(0, 200)}`);
    return body.data;
  };
  await graphql(LOCATIONS_QUERY, {}, 'locations');
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < orders.length) {
      const order = orders[next++];
      if (address && fraud) {
        const checked = await checkOrderAddresses(order, address, {});
        const decision = await fraud.screen(screeningRequest(checked.order));
        if (decision.decision !== 'accept') throw new Error(`${order.orderRef}: fraud ${decision.decision}`);
      }
      const skus = [...new Set(order.lines.filter((l) => l.kind === 'product').map((l) => l.sku))];
      await graphql(POSITIONS_QUERY, { skus }, 'positions');
      const found = await graphql<{ customers: { edges: Array<{ node: { id: string } }> } | null }>(
        FIND_CUSTOMER,
        { email: [order.customer.email] },
        'findCustomer',
      );
      let customerId = found.customers?.edges[0]?.node.id;
      if (!customerId) {
        const created = await graphql<{ createCustomer: { id: string } }>(
          CREATE_CUSTOMER,
          { input: customerInput(order, options.retailerId) },
          'createCustomer',
        );
        customerId = created.createCustomer.id;
      }
      await graphql(CREATE_ORDER, { input: createOrderInput(order, customerId, options) }, 'createOrder');
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const result: Result = {
    ms: elapsedMs(started),
    orders: orders.length,
    backordered: 0,
    fluentCalls: calls,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    cpuMs: cpuSinceMs(cpuStart),
    peersCpuMs: 0, // measured by the parent
  };
  process.stdout.write(JSON.stringify(result));
}

const run = promisify(execFile);

async function floorPass(peers: SandboxPeers): Promise<Result> {
  const target: Target = {
    fluent: peers.fluent,
    fraud: peers.fraud,
    address: peers.address,
    file: exportFile,
  };
  // The peers' CPU from the child's start: parsing the export before its clock costs the parent nothing.
  const cpuStart = process.cpuUsage();
  const { stdout } = await run(process.execPath, [__filename, '--floor'], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
    env: { ...process.env, [ENV]: JSON.stringify(target) },
  });
  return { ...(JSON.parse(stdout) as Result), peersCpuMs: cpuSinceMs(cpuStart) };
}

// ---------------------------------------------------------------------------------------------
// The template in a real Node-RED process

const SETTINGS = `module.exports = {
  uiHost: '127.0.0.1',
  uiPort: Number(process.env.PORT),
  flowFile: 'flows.json',
  credentialSecret: false,
  logging: { console: { level: 'warn', metric: false, audit: false } },
  telemetry: { enabled: false, updateNotification: false },
  editorTheme: { palette: { catalogues: [] } },
};
`;

/** The current template as shipped, polling every second instead of every ten. */
function templateFlows(): unknown[] {
  return currentTemplate('order-lifecycle').map((n) =>
    n.type === 'oms-sftp-in' ? { ...n, interval: '1' } : n,
  );
}

/** User + system CPU of a live process so far, in ms (/proc/PID/stat, clock ticks of 10 ms). */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat(5) (utime, stime); the slice starts at field 3.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** VmHWM of a live process: its peak resident set so far, in MiB. */
function peakRssMb(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/**
 * Counts of settled orders in the template's store, read by one connection kept open (opening
 * the file for every look cost the machine's CPU, shared with Node-RED, a tenth of a core).
 */
class SettledCounts {
  private db: Database.Database | undefined;
  constructor(private readonly storeFile: string) {}

  read(): { allocated: number; backordered: number; parked: number } {
    const none = { allocated: 0, backordered: 0, parked: 0 };
    if (!this.db) {
      if (!existsSync(this.storeFile)) return none;
      this.db = new Database(this.storeFile, { readonly: true, fileMustExist: true });
    }
    const db = this.db;
    try {
      const count = (sql: string): number => (db.prepare(sql).get() as { n: number }).n;
      return {
        allocated: count("SELECT count(*) AS n FROM orders WHERE state = 'Allocated'"),
        backordered: count("SELECT count(*) AS n FROM orders WHERE state = 'Backordered'"),
        parked: count("SELECT count(*) AS n FROM dead_letters WHERE status = 'parked'"),
      };
    } catch {
      return none; // the tables are not there yet
    }
  }

  close(): void {
    this.db?.close();
  }
}

async function templatePass(peers: SandboxPeers, runDir: string, port: number): Promise<Result> {
  const fluent = peers.sandboxes.fluent;
  const userDir = path.join(runDir, 'user');
  const inbox = path.join(peers.sftp.root, 'inbox');
  mkdirSync(userDir, { recursive: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS script of ours, outside the TS build
  const { linkPack } = require(path.join(root, 'scripts', 'link-pack.js')) as { linkPack(dir: string): void };
  linkPack(userDir);
  writeFileSync(path.join(userDir, 'settings.js'), SETTINGS);
  writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(templateFlows()));
  // Credentials as npm start writes them (unencrypted here: credentialSecret is false).
  writeFileSync(
    path.join(userDir, 'flows_cred.json'),
    JSON.stringify(templateCredentials('order-lifecycle')),
  );
  const red = require.resolve('node-red/red.js', { paths: [root] });
  let log = '';
  const profile = process.env.BENCH_CPU_PROF; // a folder: --cpu-prof of Node-RED (slows it down)
  const flags = profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : [];
  const child = spawn(process.execPath, [...flags, red, '--userDir', userDir], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PORT: String(port),
      ...sandboxEnv(peers),
    },
  });
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const settled = new SettledCounts(path.join(userDir, 'oms', 'oms.db'));
  try {
    const until = Date.now() + 60_000;
    while (
      !(await fetch(`http://127.0.0.1:${port}/flows`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (Date.now() > until || child.exitCode !== null) throw new Error(`Node-RED did not start:\n${log}`);
      await sleep(100);
    }
    // A producer's upload: a temporary name, then the rename that makes it complete.
    const part = path.join(inbox, 'orders.xml.part');
    const final = path.join(inbox, 'orders.xml');
    copyFileSync(exportFile, part);
    renameSync(part, final);
    // The clock starts when the template claims the file (not while it waits for its next poll).
    while (existsSync(final)) {
      if (child.exitCode !== null) throw new Error(`Node-RED exited:\n${log}`);
      await sleep(2);
    }
    const started = process.hrtime.bigint();
    const cpuStart = processCpuMs(child.pid ?? 0);
    const peersCpuStart = process.cpuUsage();
    const deadline = Date.now() + 600_000;
    for (;;) {
      const c = settled.read();
      if (c.allocated + c.backordered + c.parked >= ORDERS) {
        if (c.parked > 0) throw new Error(`${c.parked} orders were parked as dead letters:\n${log}`);
        const fluentOrders = fluent.orders().size;
        if (fluentOrders !== c.allocated)
          throw new Error(`${c.allocated} Allocated in the store but ${fluentOrders} orders in Fluent`);
        return {
          ms: elapsedMs(started),
          orders: c.allocated,
          backordered: c.backordered,
          fluentCalls: fluent.log().length,
          maxRssMb: peakRssMb(child.pid ?? 0),
          cpuMs: processCpuMs(child.pid ?? 0) - cpuStart,
          peersCpuMs: cpuSinceMs(peersCpuStart),
        };
      }
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`${JSON.stringify(c)} of ${ORDERS} after 10 minutes:\n${log}`);
      await sleep(100); // a tenth of a second on a pass of ten or more
    }
  } finally {
    settled.close();
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }
}

// ---------------------------------------------------------------------------------------------

/** Every sandbox the template needs, fresh; the fraud sandbox accepts these orders (no reviews). */
function freshPeers(runDir: string, port: number): Promise<SandboxPeers> {
  return startSandboxPeers({
    dir: path.join(runDir, 'peers'),
    feedEveryMs: 0,
    fraudWebhookUrl: `http://127.0.0.1:${port}/oms/fraud/webhook`,
    fluent: { faults: { latencyMs: LATENCY_MS } },
    fraud: { reviewAbove: {} },
  });
}

const median = (runs: Result[]): Result => [...runs].sort((a, b) => a.ms - b.ms)[Math.floor(runs.length / 2)];

function row(label: string, r: Result): string {
  const s = r.ms / 1000;
  const perOrder = (ms: number): string => (ms / (r.orders + r.backordered)).toFixed(2).padStart(8);
  return `${label.padEnd(40)} ${String(Math.round(r.orders / s)).padStart(9)} ${String(r.orders).padStart(7)} ${String(r.backordered).padStart(7)} ${String(r.fluentCalls).padStart(7)} ${r.maxRssMb.toFixed(0).padStart(8)} ${s.toFixed(2).padStart(8)} ${perOrder(r.cpuMs)} ${perOrder(r.peersCpuMs)}`;
}

async function main(): Promise<void> {
  if (process.argv.includes('--floor')) return floorChild();
  if (!existsSync(exportFile)) {
    console.log(`generating ${ORDERS} orders into ${path.relative(process.cwd(), exportFile)} ...`);
    await writeSampleExport(exportFile, ORDERS, { seed: 7 });
  }
  console.log(
    `Order lifecycle template vs plain Fluent calls, ${ORDERS} orders, ${IN_FLIGHT} in flight, Fluent latency ${LATENCY_MS} ms, median of ${RUNS} runs, Node ${process.version}`,
  );
  const floors: Result[] = [];
  const templates: Result[] = [];
  const ratios: number[] = [];
  const rate = (r: Result): number => r.orders / r.ms;
  for (let i = 0; i < RUNS; i++) {
    const runDir = path.join(dir, `lifecycle-run-${process.pid}-${i}`);
    const port = await freePort();
    const floorRun = async (): Promise<Result> => {
      const peers = await freshPeers(path.join(runDir, 'floor'), port);
      try {
        return await floorPass(peers);
      } finally {
        await peers.stop();
      }
    };
    const templateRun = async (): Promise<Result> => {
      const peers = await freshPeers(path.join(runDir, 'template'), port);
      try {
        return await templatePass(peers, path.join(runDir, 'template'), port);
      } finally {
        await peers.stop();
      }
    };
    // Back to back, in turns first and second: a machine that speeds up or slows down over the
    // minutes (a shared host) moves both passes of a run alike, and favours neither.
    let f: Result;
    let t: Result;
    try {
      if (i % 2 === 0) {
        f = await floorRun();
        t = await templateRun();
      } else {
        t = await templateRun();
        f = await floorRun();
      }
    } finally {
      rmSync(runDir, { recursive: true, force: true });
    }
    floors.push(f);
    templates.push(t);
    ratios.push(rate(t) / rate(f));
    console.log(
      `run ${i + 1}: floor ${Math.round(rate(f) * 1000)}/s, template ${Math.round(rate(t) * 1000)}/s, ratio ${(rate(t) / rate(f)).toFixed(2)}; CPU ms per order: Node-RED ${(t.cpuMs / ORDERS).toFixed(2)}, sandboxes ${(t.peersCpuMs / ORDERS).toFixed(2)} (beside the floor ${(f.peersCpuMs / ORDERS).toFixed(2)})`,
    );
  }
  const floor = median(floors);
  const template = median(templates);
  console.log(
    `${'pass'.padEnd(40)} ${'orders/s'.padStart(9)} ${'created'.padStart(7)} ${'backord'.padStart(7)} ${'calls'.padStart(7)} ${'RSS MiB'.padStart(8)} ${'seconds'.padStart(8)} ${'CPU ms/o'.padStart(8)} ${'peers ms'.padStart(8)}`,
  );
  console.log(row('floor: plain script, same clients', floor));
  console.log(row('template order-lifecycle (Node-RED)', template));
  const ratio = [...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)];
  console.log(
    `ratio template/floor (orders/s) ${ratio.toFixed(2)} (target >= 0.67): the median of the ${RUNS} runs' ratios, each of two passes back to back (${ratios.map((r) => r.toFixed(2)).join(', ')}); of the medians above ${(rate(template) / rate(floor)).toFixed(2)}; Node-RED peak RSS ${template.maxRssMb.toFixed(0)} MiB`,
  );
  // CPU per order hardly moves with other load on the machine, unlike orders/s: what to compare across runs.
  const cpu = (r: Result): number => r.cpuMs / (r.orders + r.backordered);
  console.log(
    `CPU per order: Node-RED ${cpu(template).toFixed(2)} ms, the plain script ${cpu(floor).toFixed(2)} ms (x${(cpu(template) / cpu(floor)).toFixed(2)}); the sandboxes ${(template.peersCpuMs / (template.orders + template.backordered)).toFixed(2)} ms beside Node-RED, ${(floor.peersCpuMs / floor.orders).toFixed(2)} ms beside the script`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
