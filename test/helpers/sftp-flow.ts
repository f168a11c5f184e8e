// Export files for the SFTP inbox tests, written straight into the sandbox server's folder the way
// a producer on that machine would, and looks at what the inbox made of them afterwards.
import { closeSync, constants as fsConstants, existsSync, openSync, readdirSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { generateOrder } from '../../lib/sfcc/generate';
import { renderOrderXml, xmlFooter, xmlHeader } from '../../lib/sfcc/render';

/** The orderRef generateOrder(n) gives. */
export const refOf = (n: number): string => String(n).padStart(8, '0');

/** n, n+1, … (count numbers). */
export const range = (from: number, count: number): number[] =>
  Array.from({ length: count }, (_, i) => from + i);

/** One <order> element of order number n. */
export const orderXml = (n: number): string => renderOrderXml(generateOrder(n));

/** A complete SFCC export of these order numbers. */
export const exportXml = (numbers: readonly number[]): string =>
  xmlHeader() + numbers.map(orderXml).join('') + xmlFooter();

/** Names of the files (not folders) in a local folder, sorted; [] when it does not exist. */
export function filesIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name)
    .sort();
}

/** archive/<day>/<name> of an inbox folder: name → local path (every day folder). */
export function archived(inbox: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const root = path.join(inbox, 'archive');
  if (!existsSync(root)) return out;
  for (const day of readdirSync(root).sort()) {
    for (const name of filesIn(path.join(root, day))) {
      out.set(name, [...(out.get(name) ?? []), path.join(root, day, name)]);
    }
  }
  return out;
}

export interface GrowResult {
  /** When the last part was written (the file complete). */
  completeAt: number;
  /** Parts appended after the first. */
  appends: number;
  /** Set when the file was gone before it was complete: someone took it while it was growing. */
  goneAtPart?: number;
}

/**
 * A producer still writing: `parts[0]` is already in `file`; every `everyMs` the next part is
 * appended, each time opening the file without creating it, so a file taken away mid-way shows
 * up as `goneAtPart` instead of being silently written again under the same name.
 */
export function growFile(file: string, parts: readonly string[], everyMs: number): Promise<GrowResult> {
  return new Promise((resolve) => {
    let next = 1;
    const timer = setInterval(() => {
      let fd: number;
      try {
        fd = openSync(file, fsConstants.O_WRONLY | fsConstants.O_APPEND);
      } catch {
        clearInterval(timer);
        resolve({ completeAt: Date.now(), appends: next - 1, goneAtPart: next });
        return;
      }
      try {
        writeSync(fd, parts[next]);
      } finally {
        closeSync(fd);
      }
      next++;
      if (next >= parts.length) {
        clearInterval(timer);
        resolve({ completeAt: Date.now(), appends: next - 1 });
      }
    }, everyMs);
  });
}

/** How often each value occurs. */
export function tally(values: Iterable<string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const v of values) out.set(v, (out.get(v) ?? 0) + 1);
  return out;
}

/** The values seen more than once, with their counts ("00000012×2"). */
export function twice(counts: ReadonlyMap<string, number>): string[] {
  return [...counts].filter(([, n]) => n > 1).map(([v, n]) => `${v}×${n}`);
}
