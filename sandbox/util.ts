// What the HTTP sandboxes (Fluent, fraud provider, address service) share: reading a bounded
// request body, the reply shape, fault-rate checks and their small command lines.
import type { IncomingMessage } from 'node:http';

export class BodyTooLarge extends Error {}

/** The request body as text; rejects with BodyTooLarge past `maxBytes` (the rest is drained). */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new BodyTooLarge('body too large'));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A share from 0 to 1, or a RangeError naming the setting. */
export function checkRate(name: string, rate: number): number {
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`${name} must be between 0 and 1, got ${rate}`);
  return rate;
}

/** `--name value` or `--name=value` of a command line. */
export function argValue(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i >= 0 && i + 1 < args.length) return args[i + 1];
  const inline = args.find((a) => a.startsWith(`${name}=`));
  return inline?.slice(name.length + 1);
}

/** A numeric command-line option, undefined when absent, an error when not a number. */
export function numberArg(args: readonly string[], name: string): number | undefined {
  const raw = argValue(args, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name} needs a number, got ${raw}`);
  return value;
}
