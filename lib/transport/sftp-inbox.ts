// An SFTP inbox worked by one or more runtimes: complete files are claimed by an atomic rename
// into processing/<instance>/ (two runtimes never both win a rename), downloaded to a local
// file, and after the import moved to archive/YYYY-MM-DD/ or to error/ with a JSON report.
// A file left in processing/<instance>/ by a crash is this instance's to finish on restart.
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import {
  archiveDay,
  disposition,
  errorReport,
  freeName,
  ReadinessTracker,
  type Completeness,
  type ImportOutcome,
} from './inbox';

/** The few remote operations the inbox needs (lib/transport/sftp-client.ts provides them). */
export interface InboxClient {
  list(dir: string): Promise<Array<{ name: string; size: number; mtimeMs: number; isFile: boolean }>>;
  /** false when the source is gone or the target exists: another runtime was first. */
  rename(from: string, to: string): Promise<boolean>;
  mkdirp(dir: string): Promise<void>;
  download(remote: string, local: string): Promise<number>;
  uploadAtomic(source: string | Buffer, remote: string): Promise<unknown>;
  remove(remote: string): Promise<void>;
}

export interface InboxOptions {
  /** The remote folder producers write to; processing/, archive/ and error/ sit inside it unless given. */
  dir: string;
  pattern: RegExp;
  completeness: Completeness;
  maxPerPoll: number;
  /** This runtime's name: its claims live in processing/<instance>/. */
  instance: string;
  /** Local folder for downloads. */
  localDir: string;
  /**
   * Completeness 'stable': how long a file must have been seen unchanged (size and time) before it
   * is taken. Without it two polls decide however close together they came (a poll on demand, or
   * one right after an import finished), and a producer that paused for a moment lost its file.
   */
  stableMs?: number;
  processingDir?: string;
  archiveDir?: string;
  errorDir?: string;
  now?: () => number;
}

/** A file this instance has claimed. */
export interface Claim {
  name: string;
  /** Where it is now: processing/<instance>/<name>. */
  remotePath: string;
  /** Where it was found (the inbox, or processing/ after a restart). */
  from: string;
  size: number;
  claimedAt: number;
  localFile: string;
  /** True when the file was found in processing/ after a restart, not taken from the inbox. */
  recovered: boolean;
}

export interface Finished {
  to: 'archive' | 'error';
  remotePath: string;
  reportPath?: string;
}

const join = path.posix.join;

export class SftpInbox {
  readonly processingDir: string;
  readonly archiveDir: string;
  readonly errorDir: string;
  private readonly tracker: ReadinessTracker;
  private readonly now: () => number;
  /** Completeness 'stable': each listed file's size and time, and the listing that first saw them. */
  private readonly unchanged = new Map<string, { size: number; mtimeMs: number; since: number }>();

  constructor(
    private readonly client: InboxClient,
    private readonly o: InboxOptions,
  ) {
    this.processingDir = o.processingDir ?? join(o.dir, 'processing');
    this.archiveDir = o.archiveDir ?? join(o.dir, 'archive');
    this.errorDir = o.errorDir ?? join(o.dir, 'error');
    this.tracker = new ReadinessTracker(o.completeness);
    this.now = o.now ?? Date.now;
  }

  private get mine(): string {
    return join(this.processingDir, this.o.instance);
  }

  /** Files a crash left in this instance's processing folder: downloaded again, to be imported again. */
  async recover(): Promise<Claim[]> {
    await this.client.mkdirp(this.mine);
    const left = (await this.client.list(this.mine)).filter((e) => e.isFile);
    left.sort((a, b) => a.mtimeMs - b.mtimeMs);
    const claims: Claim[] = [];
    for (const e of left) {
      const remotePath = join(this.mine, e.name);
      claims.push(
        await this.fetch({ name: e.name, remotePath, from: remotePath, size: e.size, recovered: true }),
      );
    }
    return claims;
  }

  /** One poll: the complete files, oldest first, claimed and downloaded, at most maxPerPoll. */
  async poll(): Promise<Claim[]> {
    const listedAt = this.now();
    const listing = (await this.client.list(this.o.dir)).filter((e) => e.isFile);
    const ready = this.quietFor(listing, listedAt, this.tracker.ready(listing, this.o.pattern));
    const claims: Claim[] = [];
    for (const e of ready) {
      if (claims.length >= this.o.maxPerPoll) break;
      await this.client.mkdirp(this.mine);
      const from = join(this.o.dir, e.name);
      const remotePath = join(this.mine, e.name);
      this.tracker.forget(e.name);
      this.unchanged.delete(e.name);
      if (!(await this.client.rename(from, remotePath))) continue; // another runtime took it
      if (this.o.completeness.kind === 'marker') {
        await this.client.remove(from + this.o.completeness.suffix).catch(() => undefined);
      }
      claims.push(await this.fetch({ name: e.name, remotePath, from, size: e.size, recovered: false }));
    }
    return claims;
  }

  /** Of the ready files, those seen unchanged for stableMs (completeness 'stable'); all otherwise. */
  private quietFor<E extends { name: string; size: number; mtimeMs: number }>(
    listing: readonly E[],
    listedAt: number,
    ready: E[],
  ): E[] {
    const stableMs = this.o.stableMs ?? 0;
    if (this.o.completeness.kind !== 'stable' || stableMs <= 0) return ready;
    const listed = new Set<string>();
    for (const e of listing) {
      listed.add(e.name);
      const seen = this.unchanged.get(e.name);
      if (!seen || seen.size !== e.size || seen.mtimeMs !== e.mtimeMs) {
        this.unchanged.set(e.name, { size: e.size, mtimeMs: e.mtimeMs, since: listedAt });
      }
    }
    for (const name of [...this.unchanged.keys()]) if (!listed.has(name)) this.unchanged.delete(name);
    return ready.filter((e) => listedAt - (this.unchanged.get(e.name)?.since ?? listedAt) >= stableMs);
  }

  private async fetch(c: Omit<Claim, 'claimedAt' | 'localFile'>): Promise<Claim> {
    const localFile = path.join(this.o.localDir, `${this.o.instance}-${this.now()}-${c.name}`);
    const claim: Claim = { ...c, claimedAt: this.now(), localFile };
    claim.size = await this.client.download(c.remotePath, localFile);
    return claim;
  }

  /** After the import: archive, or error/ with a report beside the file; the local copy goes. */
  async finish(claim: Claim, outcome: ImportOutcome): Promise<Finished> {
    const to = disposition(outcome);
    const at = this.now();
    const folder = to === 'archive' ? join(this.archiveDir, archiveDay(at)) : this.errorDir;
    await this.client.mkdirp(folder);
    const taken = new Set((await this.client.list(folder)).map((e) => e.name));
    const name = freeName(claim.name, taken);
    const target = join(folder, name);
    let reportPath: string | undefined;
    if (to === 'error') {
      reportPath = `${target}.report.json`;
      const report = errorReport(
        { name: claim.name, remotePath: claim.from, size: claim.size, claimedAt: claim.claimedAt },
        outcome,
        at,
      );
      await this.client.uploadAtomic(Buffer.from(`${JSON.stringify(report, null, 2)}\n`), reportPath);
    }
    if (!(await this.client.rename(claim.remotePath, target))) {
      throw Object.assign(new Error(`Could not move ${claim.remotePath} to ${target}`), {
        code: 'OMS_SFTP_MOVE',
      });
    }
    await rm(claim.localFile, { force: true });
    return { to, remotePath: target, reportPath };
  }
}
