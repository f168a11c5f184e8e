// npm run bench, fourth part: fraud rule evaluation, orders/s with 20 rules against a store whose
// velocity history holds 100,000 events inside the rules' windows — what oms-fraud-check does per
// order (evaluate, then record the order), in a fresh child process. The comparison is the
// allocate floor of the same run: a plain script making the Fluent calls of allocation against
// the Fluent sandbox (dist/bench/lifecycle.bench.js --floor). Target: rules never the
// bottleneck, at least 10× that.
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { evaluateFraud, historyKey, recordOrder, type FraudConfig } from '../lib/fraud';
import type { Order } from '../lib/order/model';
import { writeSampleExport } from '../lib/sfcc/export-file';
import { generateOrder } from '../lib/sfcc/generate';
import { openSqliteStore, type VelocityEvent } from '../lib/store';
import { startFluentSandbox } from '../sandbox/fluent/server';
import type { FloorTarget } from './lifecycle.bench';

const ORDERS = Number(process.env.BENCH_FRAUD_ORDERS ?? 5000);
const EVENTS = Number(process.env.BENCH_FRAUD_EVENTS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ALLOCATE_ORDERS = 1000;
const IN_FLIGHT = Number(process.env.BENCH_FRAUD_IN_FLIGHT ?? 16);
const root = path.resolve(__dirname, '..', '..');
const dir = path.join(root, '.bench');

/** 20 rules: every kind, velocity on all four keys (orders and value), conditions. */
export const BENCH_RULES: FraudConfig = {
  version: 1,
  reviewAt: 50,
  rejectAt: 100,
  rules: [
    {
      name: 'High value',
      type: 'orderValue',
      thresholds: { EUR: 100000, USD: 120000, GBP: 90000, JPY: 15000000 },
      score: 30,
    },
    {
      name: 'Very high value',
      type: 'orderValue',
      thresholds: { EUR: 500000, USD: 600000, GBP: 450000, JPY: 75000000 },
      decision: 'review',
    },
    { name: 'Countries differ', type: 'addressMismatch', compare: 'country', score: 25 },
    { name: 'Postcodes differ', type: 'addressMismatch', compare: 'postcode', score: 5 },
    {
      name: 'E-mail orders / h',
      type: 'velocity',
      key: 'email',
      measure: 'orders',
      windowMinutes: 60,
      limit: 3,
      score: 40,
    },
    {
      name: 'E-mail value / day',
      type: 'velocity',
      key: 'email',
      measure: 'value',
      windowMinutes: 1440,
      limits: { EUR: 300000, USD: 350000, GBP: 250000 },
      score: 30,
    },
    {
      name: 'Card orders / h',
      type: 'velocity',
      key: 'cardToken',
      measure: 'orders',
      windowMinutes: 60,
      limit: 4,
      score: 40,
    },
    {
      name: 'Card value / day',
      type: 'velocity',
      key: 'cardToken',
      measure: 'value',
      windowMinutes: 1440,
      limits: { EUR: 300000, USD: 350000, GBP: 250000 },
      score: 40,
    },
    {
      name: 'IP orders / h',
      type: 'velocity',
      key: 'ip',
      measure: 'orders',
      windowMinutes: 60,
      limit: 10,
      score: 20,
    },
    {
      name: 'Address orders / day',
      type: 'velocity',
      key: 'address',
      measure: 'orders',
      windowMinutes: 1440,
      limit: 5,
      score: 20,
    },
    { name: 'Disposable e-mail', type: 'emailDomain', disposable: true, score: 35 },
    {
      name: 'Blocked domains',
      type: 'emailDomain',
      domains: ['fraud.example', 'stolen.example'],
      decision: 'reject',
    },
    { name: 'AVS or CVV mismatch', type: 'avsCvv', avsCodes: ['N', 'A', 'Z'], cvvCodes: ['N'], score: 30 },
    {
      name: 'First order, express',
      type: 'firstTimeCustomer',
      shippingMethods: 'express|overnight',
      score: 15,
    },
    {
      name: 'Sanctioned',
      type: 'country',
      address: 'either',
      deny: ['KP', 'IR', 'SY', 'CU'],
      decision: 'reject',
    },
    {
      name: 'Ship-to markets',
      type: 'country',
      address: 'shipping',
      allow: ['US', 'CA', 'GB', 'DE', 'AT', 'CH', 'FR', 'JP'],
      score: 20,
    },
    {
      name: 'Guest, big basket',
      type: 'condition',
      when: [
        { path: 'customer.guest', op: 'eq', value: true },
        { path: 'totals.grandTotal', op: 'gte', value: 80000 },
      ],
      score: 15,
    },
    {
      name: 'Gift to another country',
      type: 'condition',
      when: [{ path: 'shipments[*].gift', op: 'eq', value: true }],
      score: 5,
    },
    { name: 'Many lines', type: 'condition', when: [{ path: 'lines[20]', op: 'exists' }], score: 10 },
    {
      name: 'Trusted B2B',
      type: 'condition',
      when: [{ path: 'customer.email', op: 'contains', value: '@trusted-b2b.example' }],
      decision: 'accept',
    },
  ],
};

interface Result {
  ms: number;
  orders: number;
  decisions: Record<string, number>;
  maxRssMb: number;
  seedMs: number;
}

const elapsedMs = (since: bigint): number => Number(process.hrtime.bigint() - since) / 1e6;

async function child(): Promise<void> {
  const file = path.join(dir, `fraud-${process.pid}.db`);
  rmSync(file, { force: true });
  const store = openSqliteStore({ file });
  try {
    const seedStart = process.hrtime.bigint();
    // 100,000 earlier orders of 20,000 shoppers within the last 23 h: each key a few events deep.
    const now = Date.now();
    const kinds = ['email', 'cardToken', 'ip', 'address'] as const;
    let batch: VelocityEvent[] = [];
    for (let i = 0; i < EVENTS; i++) {
      const who = i % 20_000;
      batch.push({
        key: historyKey(kinds[i % 4], `seed-${who}`),
        orderRef: `SEED-${i}`,
        at: now - Math.floor((i / EVENTS) * 23 * 3_600_000),
        amount: 1000 + (i % 50_000),
        currency: 'EUR',
      });
      if (batch.length === 5000) {
        await store.fraud.record(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await store.fraud.record(batch);
    const seedMs = elapsedMs(seedStart);
    const orders: Order[] = Array.from({ length: ORDERS }, (_, i) => generateOrder(1_000_000 + i));
    const decisions: Record<string, number> = {};
    const started = process.hrtime.bigint();
    // As oms-fraud-check sees a burst: IN_FLIGHT orders screened at once (Node-RED hands the node
    // every message it receives; each waits only for its own reads and its commit).
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < orders.length) {
        const order = orders[next++];
        const at = Date.now();
        const result = await evaluateFraud(order, BENCH_RULES, store.fraud, at);
        await recordOrder(order, store.fraud, at);
        decisions[result.decision] = (decisions[result.decision] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    const result: Result = {
      ms: elapsedMs(started),
      orders: ORDERS,
      decisions,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
      seedMs,
    };
    process.stdout.write(JSON.stringify(result));
  } finally {
    await store.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
  }
}

const run = promisify(execFile);

async function allocateFloor(): Promise<number> {
  const exportFile = path.join(dir, `allocate-${ALLOCATE_ORDERS}.xml`);
  await writeSampleExport(exportFile, ALLOCATE_ORDERS, { seed: 7 });
  const credentials = {
    clientId: 'bench',
    clientSecret: 'bench-secret',
    username: 'bench',
    password: 'bench-pass',
  };
  const fluent = await startFluentSandbox(credentials);
  try {
    const { stdout } = await run(process.execPath, [path.join(__dirname, 'lifecycle.bench.js'), '--floor'], {
      encoding: 'utf8',
      env: {
        ...process.env,
        OMS_BENCH_FLUENT: JSON.stringify({
          fluent: { url: fluent.url, retailerId: String(fluent.retailerId), ...credentials },
          file: exportFile,
        } satisfies FloorTarget),
      },
    });
    const r = JSON.parse(stdout) as { ms: number; orders: number };
    return r.orders / (r.ms / 1000);
  } finally {
    await fluent.close();
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--child')) return child();
  mkdirSync(dir, { recursive: true });
  console.log(
    `Fraud rules: ${BENCH_RULES.rules.length} rules, ${EVENTS} velocity events in the window, ${ORDERS} orders (evaluate + record, ${IN_FLIGHT} at once), median of ${RUNS} runs, Node ${process.version}`,
  );
  const runs: Result[] = [];
  for (let i = 0; i < RUNS; i++) {
    const { stdout } = await run(process.execPath, [__filename, '--child'], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    runs.push(JSON.parse(stdout) as Result);
  }
  runs.sort((a, b) => a.ms - b.ms);
  const median = runs[Math.floor(runs.length / 2)];
  const rate = median.orders / (median.ms / 1000);
  const floor = await allocateFloor();
  console.log(
    `rules: ${Math.round(rate)} orders/s (${(median.ms / median.orders).toFixed(3)} ms per order), peak RSS ${median.maxRssMb.toFixed(0)} MiB, decisions ${JSON.stringify(median.decisions)}; history seeded in ${(median.seedMs / 1000).toFixed(1)} s`,
  );
  console.log(
    `allocate floor (plain script, Fluent sandbox, 16 in flight): ${Math.round(floor)} orders/s; ratio rules/allocate ${(rate / floor).toFixed(1)} (target >= 10)`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
