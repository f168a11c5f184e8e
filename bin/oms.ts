#!/usr/bin/env node
// The `oms` command line: check an SFCC export before dropping it into a flow, make sample data.
import { once } from 'node:events';
import { importFile, type ImportFormat } from '../lib/sfcc/import';
import { writeSampleExport, type SampleFormat } from '../lib/sfcc/export-file';

const USAGE = `usage:
  oms import FILE [--format auto|xml|ocapi|scapi]
      accepted orders as JSON lines on stdout, rejections as JSON lines on stderr;
      exit 0 all valid, 1 some rejected, 2 file unreadable, not XML/JSON or truncated
  oms generate-orders N FILE [--seed S] [--start K] [--format xml|ocapi|scapi]
      writes N realistic sample orders (order numbers from K, default 1)`;

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const value = args[i + 1];
  args.splice(i, 2);
  return value;
}

async function writeLine(stream: NodeJS.WriteStream, value: unknown): Promise<void> {
  if (!stream.write(`${JSON.stringify(value)}\n`)) await once(stream, 'drain');
}

async function importCommand(args: string[]): Promise<number> {
  const format = (option(args, 'format') ?? 'auto') as ImportFormat;
  if (!['auto', 'xml', 'ocapi', 'scapi'].includes(format) || args.length !== 1) {
    console.error(USAGE);
    return 2;
  }
  const [file] = args;
  const events = importFile(file, { format });
  for (;;) {
    const next = await events.next();
    if (next.done) {
      const summary = next.value;
      if (summary.error) {
        await writeLine(process.stderr, { file, error: summary.error });
        return 2;
      }
      return summary.rejected > 0 ? 1 : 0;
    }
    const event = next.value;
    if (event.type === 'accepted') await writeLine(process.stdout, event.order);
    else await writeLine(process.stderr, { orderRef: event.orderRef, errors: event.errors });
  }
}

async function generateCommand(args: string[]): Promise<number> {
  const seed = Number(option(args, 'seed') ?? 42);
  const start = Number(option(args, 'start') ?? 1);
  const format = (option(args, 'format') ?? 'xml') as SampleFormat;
  const count = Number(args[0]);
  if (
    args.length !== 2 ||
    !Number.isInteger(count) ||
    count < 0 ||
    !['xml', 'ocapi', 'scapi'].includes(format)
  ) {
    console.error(USAGE);
    return 2;
  }
  const result = await writeSampleExport(args[1], count, { seed, start, format });
  console.error(`wrote ${result.orders} orders (${result.bytes} bytes) to ${args[1]}`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'import':
      return importCommand(args);
    case 'generate-orders':
      return generateCommand(args);
    case undefined:
    case 'help':
    case '--help':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      console.error(`unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 2;
  },
);
