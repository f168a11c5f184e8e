// npm run bench, second part: SFTP download + import of an SFCC XML export served by the sandbox
// SFTP server (real SSH on 127.0.0.1), against a floor measured in the same run on the same file:
// the plain importFile() of the local copy. The server runs in this (parent) process; every
// measured pass is a fresh child process, so its time and peak RSS are the client's alone.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { startSftpServer } from '../sandbox/sftp-server';
import { writeSampleExport } from '../lib/sfcc/export-file';
import { importFile, importOrders, type ImportEvent, type ImportSummary } from '../lib/sfcc/import';
import { SftpConnection } from '../lib/transport/sftp-client';

const ORDERS = Number(process.env.BENCH_ORDERS ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const dir = path.resolve(__dirname, '..', '..', '.bench');
const name = `orders-${ORDERS}.xml`;
const file = path.join(dir, name); // also the remote "/<name>": the server's root is `dir`
const downloads = path.join(dir, 'sftp-downloads');
const ENV = 'OMS_BENCH_SFTP'; // server coordinates handed to the children

type Mode = 'floor' | 'download' | 'download+import' | 'stream';

interface Server {
  port: number;
  hostFingerprint: string;
  username: string;
  password: string;
}

interface Result {
  ms: number;
  orders: number;
  bytes: number;
  maxRssMb: number;
  /** SSH handshake and authentication (part of ms), SFTP passes only. */
  connectMs?: number;
  /** Until the file was on local disk (part of ms), download passes only. */
  downloadMs?: number;
}

async function accepted(events: AsyncGenerator<ImportEvent, ImportSummary>): Promise<number> {
  let count = 0;
  for (;;) {
    const next = await events.next();
    if (next.done) {
      if (next.value.error) throw new Error(next.value.error.message);
      return count;
    }
    if (next.value.type === 'accepted') count++;
  }
}

function elapsedMs(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e6;
}

async function child(mode: Mode): Promise<void> {
  const started = process.hrtime.bigint();
  const result: Result = { ms: 0, orders: 0, bytes: statSync(file).size, maxRssMb: 0 };
  if (mode === 'floor') {
    result.orders = await accepted(importFile(file));
    result.ms = elapsedMs(started);
  } else {
    const server = JSON.parse(process.env[ENV] ?? '') as Server;
    const sftp = new SftpConnection({
      host: '127.0.0.1',
      port: server.port,
      username: server.username,
      password: server.password,
      hostFingerprint: server.hostFingerprint,
      readyTimeoutMs: 10_000,
      keepaliveIntervalMs: 0,
    });
    await sftp.connect();
    result.connectMs = elapsedMs(started);
    const local = path.join(downloads, `${process.pid}-${name}`);
    try {
      if (mode === 'stream') {
        result.orders = await accepted(importOrders(await sftp.readStream(`/${name}`), { file: name }));
      } else {
        const bytes = await sftp.download(`/${name}`, local);
        result.downloadMs = elapsedMs(started);
        if (bytes !== result.bytes) throw new Error(`downloaded ${bytes} of ${result.bytes} bytes`);
        if (mode === 'download+import') result.orders = await accepted(importFile(local));
      }
      result.ms = elapsedMs(started);
    } finally {
      await sftp.close();
      rmSync(local, { force: true });
    }
  }
  result.maxRssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify(result));
}

const run = promisify(execFile);

/** Median (by time) of RUNS fresh child processes; asynchronous, so the server here keeps serving. */
async function measure(mode: Mode, server: Server): Promise<Result> {
  const runs: Result[] = [];
  const profile = process.env.BENCH_CPU_PROF; // a folder: --cpu-prof every child (slows it down)
  const flags = profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : [];
  for (let i = 0; i < RUNS; i++) {
    const { stdout } = await run(process.execPath, [...flags, __filename, '--child', mode], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
      env: { ...process.env, [ENV]: JSON.stringify(server) },
    });
    runs.push(JSON.parse(stdout) as Result);
  }
  runs.sort((a, b) => a.ms - b.ms);
  return runs[Math.floor(runs.length / 2)]; // median
}

function row(label: string, r: Result): string {
  const s = r.ms / 1000;
  const perSecond = r.orders > 0 ? String(Math.round(r.orders / s)) : '-';
  return `${label.padEnd(34)} ${perSecond.padStart(9)} ${(r.bytes / 2 ** 20 / s).toFixed(1).padStart(8)} ${r.maxRssMb.toFixed(0).padStart(8)} ${s.toFixed(2).padStart(8)}`;
}

async function main(): Promise<void> {
  const mode = process.argv.indexOf('--child');
  if (mode >= 0) return child(process.argv[mode + 1] as Mode);
  if (!existsSync(file)) {
    console.log(`generating ${ORDERS} orders into ${path.relative(process.cwd(), file)} ...`);
    await writeSampleExport(file, ORDERS, { seed: 42 });
  }
  mkdirSync(downloads, { recursive: true });
  const password = randomBytes(12).toString('hex');
  const sandbox = await startSftpServer({ root: dir, users: [{ username: 'bench', password }] });
  const server: Server = {
    port: sandbox.port,
    hostFingerprint: sandbox.hostKeyFingerprint,
    username: 'bench',
    password,
  };
  try {
    const mb = statSync(file).size / 2 ** 20;
    console.log(
      `SFTP download + SFCC XML import, ${ORDERS} orders, ${mb.toFixed(0)} MiB, median of ${RUNS} runs, Node ${process.version}`,
    );
    const base = await measure('floor', server);
    const download = await measure('download', server);
    const viaFile = await measure('download+import', server);
    const stream = await measure('stream', server);
    console.log(
      `${'pass'.padEnd(34)} ${'orders/s'.padStart(9)} ${'MiB/s'.padStart(8)} ${'RSS MiB'.padStart(8)} ${'seconds'.padStart(8)}`,
    );
    console.log(row('floor: importFile (local file)', base));
    console.log(row('sftp download only (no import)', download));
    console.log(row('sftp: download, then importFile', viaFile));
    console.log(row('sftp: readStream into importOrders', stream));
    for (const [label, r] of [
      ['floor', base],
      ['download, then importFile', viaFile],
      ['readStream into importOrders', stream],
    ] as const) {
      if (r.orders !== ORDERS) throw new Error(`${label} accepted ${r.orders} of ${ORDERS} orders`);
    }
    const seconds = (ms: number | undefined): string => ((ms ?? 0) / 1000).toFixed(2);
    console.log(
      `ratio sftp/floor (throughput, floor seconds / sftp seconds): download, then import ${(base.ms / viaFile.ms).toFixed(2)}; streaming ${(base.ms / stream.ms).toFixed(2)}`,
    );
    console.log(
      `bare download ${seconds(download.ms)} s (SSH connect ${seconds(download.connectMs)} s); in the download-then-import pass the file was on disk after ${seconds(viaFile.downloadMs)} s`,
    );
  } finally {
    await sandbox.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
