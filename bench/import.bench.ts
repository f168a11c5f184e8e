// npm run bench: SFCC XML import throughput and peak memory against a floor measured in the same
// run on the same file: a bare saxes pass (events only, no objects), the cheapest streaming read.
// Each measurement runs in a fresh process so its peak RSS is its own.
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { SaxesParser } from 'saxes';
import { writeSampleExport } from '../lib/sfcc/export-file';
import { importFile } from '../lib/sfcc/import';

const ORDERS = Number(process.env.BENCH_ORDERS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const dir = path.resolve(__dirname, '..', '..', '.bench');
const file = path.join(dir, `orders-${ORDERS}.xml`);
const CHUNK = 1 << 16; // the import's read size, used for the floor too

interface Result {
  ms: number;
  orders: number;
  bytes: number;
  maxRssMb: number;
}

async function floor(): Promise<number> {
  const parser = new SaxesParser();
  let orders = 0;
  parser.on('closetag', (tag) => {
    if (tag.name === 'order' || tag.name.endsWith(':order')) orders++;
  });
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: CHUNK }))
    parser.write(chunk as string);
  parser.close();
  return orders;
}

async function importAll(): Promise<number> {
  const events = importFile(file);
  let accepted = 0;
  for (;;) {
    const next = await events.next();
    if (next.done) {
      if (next.value.error) throw new Error(next.value.error.message);
      return accepted;
    }
    if (next.value.type === 'accepted') accepted++;
  }
}

async function child(mode: string): Promise<void> {
  const started = process.hrtime.bigint();
  const orders = mode === 'floor' ? await floor() : await importAll();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const result: Result = {
    ms,
    orders,
    bytes: statSync(file).size,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(JSON.stringify(result));
}

function measure(mode: string): Result {
  const runs: Result[] = [];
  for (let i = 0; i < RUNS; i++) {
    runs.push(
      JSON.parse(
        execFileSync(process.execPath, [__filename, '--child', mode], {
          encoding: 'utf8',
          maxBuffer: 1 << 20,
        }),
      ) as Result,
    );
  }
  runs.sort((a, b) => a.ms - b.ms);
  return runs[Math.floor(runs.length / 2)]; // median
}

function row(name: string, r: Result): string {
  const s = r.ms / 1000;
  return `${name.padEnd(26)} ${String(Math.round(r.orders / s)).padStart(9)} ${(r.bytes / 2 ** 20 / s).toFixed(1).padStart(8)} ${r.maxRssMb.toFixed(0).padStart(8)} ${(r.ms / 1000).toFixed(2).padStart(8)}`;
}

async function main(): Promise<void> {
  const mode = process.argv.indexOf('--child');
  if (mode >= 0) return child(process.argv[mode + 1]);
  if (!existsSync(file)) {
    console.log(`generating ${ORDERS} orders into ${path.relative(process.cwd(), file)} ...`);
    await writeSampleExport(file, ORDERS, { seed: 42 });
  }
  const mb = statSync(file).size / 2 ** 20;
  console.log(
    `SFCC XML import, ${ORDERS} orders, ${mb.toFixed(0)} MiB, median of ${RUNS} runs, Node ${process.version}`,
  );
  const base = measure('floor');
  const imp = measure('import');
  console.log(
    `${'pass'.padEnd(26)} ${'orders/s'.padStart(9)} ${'MiB/s'.padStart(8)} ${'RSS MiB'.padStart(8)} ${'seconds'.padStart(8)}`,
  );
  console.log(row('floor: saxes events only', base));
  console.log(row('import (validated orders)', imp));
  if (imp.orders !== ORDERS) throw new Error(`import accepted ${imp.orders} of ${ORDERS} orders`);
  const ratio = base.ms / imp.ms;
  console.log(
    `ratio import/floor: ${ratio.toFixed(2)} (target >= 0.25); import peak RSS ${imp.maxRssMb.toFixed(0)} MiB (target < 250 MiB)`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
