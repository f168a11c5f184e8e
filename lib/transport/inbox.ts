// The decisions of an inbox poller, without I/O: which remote files match, which are complete
// (not still being uploaded), in what order to take them, and where they go afterwards.
// Anchored on Apache Camel's file consumer (readLock changed / markerFile / rename, move,
// moveFailed, preMove): reliability-and-performance.md A.1.

export interface RemoteEntry {
  name: string;
  size: number;
  mtimeMs: number;
}

/**
 * How a file is known to be complete:
 * - stable: its size and modification time did not change between two polls;
 * - marker: a file `<name><suffix>` (default ".done") exists beside it; the marker goes with it;
 * - rename: the producer uploads under a temporary name and renames it when done, so every name
 *   that does not look temporary is complete.
 */
export type Completeness =
  { kind: 'stable' } | { kind: 'marker'; suffix: string } | { kind: 'rename'; temporary: RegExp };

/** Names producers use while uploading: ".name", "name.part", "name.tmp", "name.filepart". */
export const TEMPORARY_NAME = /^\.|\.(part|tmp|filepart|partial)$/i;

/** A glob for one folder level: * and ? (not across "/"), [abc], [!abc], {a,b}. Case-sensitive. */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  let inGroup = false;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) out += '\\[';
      else {
        const body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        out += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
        i = end;
      }
    } else if (c === '{' && !inGroup) {
      inGroup = true;
      out += '(?:';
    } else if (c === '}' && inGroup) {
      inGroup = false;
      out += ')';
    } else if (c === ',' && inGroup) out += '|';
    else out += c.replace(/[.+^$()|\\/]/g, (m) => `\\${m}`);
  }
  if (inGroup) throw new Error(`Unclosed { in the file pattern "${glob}"`);
  return new RegExp(`^${out}$`);
}

/**
 * Remembers what the last poll saw, to tell complete files from files still growing.
 * One tracker per inbox; `ready()` is called once per poll with the full listing.
 */
export class ReadinessTracker {
  private last = new Map<string, { size: number; mtimeMs: number }>();

  constructor(private readonly completeness: Completeness) {}

  /** The complete files among `entries` matching `pattern`, oldest first (then by name). */
  ready(entries: readonly RemoteEntry[], pattern: RegExp): RemoteEntry[] {
    const names = new Set(entries.map((e) => e.name));
    const c = this.completeness;
    const candidates = entries.filter((e) => {
      if (!pattern.test(e.name)) return false;
      if (c.kind === 'marker') return !e.name.endsWith(c.suffix) && names.has(e.name + c.suffix);
      if (c.kind === 'rename') return !c.temporary.test(e.name);
      return !TEMPORARY_NAME.test(e.name);
    });
    let chosen = candidates;
    if (c.kind === 'stable') {
      chosen = candidates.filter((e) => {
        const before = this.last.get(e.name);
        return before !== undefined && before.size === e.size && before.mtimeMs === e.mtimeMs && e.size > 0;
      });
      this.last = new Map(candidates.map((e) => [e.name, { size: e.size, mtimeMs: e.mtimeMs }]));
    }
    return [...chosen].sort(
      (a, b) => a.mtimeMs - b.mtimeMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );
  }

  /** Forget a file (taken, or gone): a file of the same name later starts afresh. */
  forget(name: string): void {
    this.last.delete(name);
  }
}

/** "2026-11-24" in UTC: the archive folder of a file finished at `at`. */
export function archiveDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

/** `name`, or `name.1`, `name.2` … — the first that is not in `taken` (a file name seen twice a day). */
export function freeName(name: string, taken: ReadonlySet<string>): string {
  if (!taken.has(name)) return name;
  for (let n = 1; ; n++) {
    const candidate = `${name}.${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}

export interface ImportOutcome {
  /** The import summary (oms-sfcc-import output 3 payload), if one came back. */
  summary?: {
    orders?: number;
    accepted?: number;
    rejected?: number;
    error?: { code: string; message: string; line?: number; column?: number };
    rejections?: Array<{ orderRef: string; errors: unknown[] }>;
  };
  /** A failure reported instead of a summary (msg.error of a Catch node). */
  error?: { code?: string; message: string };
}

/** Where a processed file goes: archive when every order was imported, error otherwise. */
export function disposition(outcome: ImportOutcome): 'archive' | 'error' {
  const s = outcome.summary;
  if (outcome.error || !s || s.error) return 'error';
  return (s.rejected ?? 0) > 0 ? 'error' : 'archive';
}

/** The JSON written beside a file moved to error/: what failed, so an analyst can act. */
export function errorReport(
  file: { name: string; remotePath: string; size: number; claimedAt: number },
  outcome: ImportOutcome,
  at: number,
): Record<string, unknown> {
  const s = outcome.summary;
  return {
    file: file.name,
    from: file.remotePath,
    size: file.size,
    claimedAt: new Date(file.claimedAt).toISOString(),
    finishedAt: new Date(at).toISOString(),
    ...(outcome.error ? { error: outcome.error } : {}),
    ...(s?.error ? { fileError: s.error } : {}),
    ...(s
      ? {
          orders: s.orders,
          accepted: s.accepted,
          rejected: s.rejected,
          rejections: s.rejections ?? [],
        }
      : { summary: 'no import summary came back' }),
  };
}
