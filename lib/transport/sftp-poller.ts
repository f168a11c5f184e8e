// The schedule of an SFTP inbox node, without Node-RED: polls on a timer or on demand, one file
// at a time, oldest first; takes up again first what a crash or a failed poll left claimed; waits
// for the import's summary (or gives up on it after a while) before the next file goes.
import { mkdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { globToRegExp, TEMPORARY_NAME, type Completeness, type ImportOutcome } from './inbox';
import type { Claim, Finished, InboxOptions, SftpInbox } from './sftp-inbox';

/** What travels in msg.sftp from the inbox node to the import and back. */
export interface FileMarker {
  node: string;
  file: string;
  remotePath: string;
  from: string;
  size: number;
  recovered: boolean;
}

/** The node's settings as the editor stores them (text or numbers). */
export interface PollerConfig {
  dir?: string;
  pattern?: string;
  completeness?: string;
  markerSuffix?: string;
  interval?: string | number;
  maxPerPoll?: string | number;
  instance?: string;
  completionTimeout?: string | number;
}

export interface PollerSettings {
  inbox: InboxOptions;
  intervalMs: number;
  completionTimeoutMs: number;
}

/** How much earlier than one interval a timer poll may come and still see a file as stable. */
const STABLE_SLACK_MS = 50;

/** The settings with their defaults; throws when the file pattern is not a valid glob. */
export function pollerSettings(config: PollerConfig, localDir: string): PollerSettings {
  const completeness: Completeness =
    config.completeness === 'marker'
      ? { kind: 'marker', suffix: config.markerSuffix || '.done' }
      : config.completeness === 'rename'
        ? { kind: 'rename', temporary: TEMPORARY_NAME }
        : { kind: 'stable' };
  const pattern = globToRegExp(config.pattern || '*');
  const intervalMs = Math.max(1, Number(config.interval) || 10) * 1000;
  const inbox: InboxOptions = {
    dir: config.dir || '/',
    pattern,
    completeness,
    maxPerPoll: Math.max(1, Number(config.maxPerPoll) || 10),
    instance: (config.instance || '').trim() || hostname(),
    localDir,
    // 'stable': unchanged for an interval, not merely across two polls (a poll on demand or after
    // an import can come moments after the last one); less a little, for timers firing early.
    stableMs: intervalMs - STABLE_SLACK_MS,
  };
  return {
    inbox,
    intervalMs,
    completionTimeoutMs: Math.max(1, Number(config.completionTimeout) || 30) * 60_000,
  };
}

/** The import's report as it comes back into the node: a summary, or msg.error from a Catch node. */
export function outcomeOf(msg: { payload?: unknown; error?: unknown }): ImportOutcome {
  const error = msg.error as { code?: string; message?: string } | undefined;
  return error
    ? { error: { code: error.code, message: String(error.message ?? 'error') } }
    : { summary: msg.payload as ImportOutcome['summary'] };
}

export interface PollerHooks {
  /** The next claimed file, to import now. */
  start(claim: Claim, marker: FileMarker): void;
  /** A file moved after its import; `marker` is the one that came back. */
  finished(claim: Claim, finished: Finished, marker: FileMarker): void;
  /** Nothing being imported: what became of the files so far. */
  idle(counts: Readonly<{ archived: number; failed: number }>): void;
  /** No summary came back in time: the file stays in processing/, imported again after a restart. */
  noCompletion(claim: Claim, minutes: number): void;
  pollFailed(code: string, message: string): void;
  /** The file could not be moved: it stays in processing/, imported again after a restart. */
  finishFailed(claim: Claim, message: string): void;
}

export class SftpPoller {
  private readonly queue: Claim[] = [];
  private current: { claim: Claim; timer: NodeJS.Timeout } | undefined;
  private busy = false;
  private closing = false;
  /** Files a crash (or a failed poll) left in processing/<instance>/ are taken up again first. */
  private needRecovery = true;
  private interval: NodeJS.Timeout | undefined;
  private readonly counts = { archived: 0, failed: 0 };

  constructor(
    private readonly nodeId: string,
    private readonly inbox: Pick<SftpInbox, 'recover' | 'poll' | 'finish'>,
    private readonly o: { localDir: string; intervalMs: number; completionTimeoutMs: number },
    private readonly hooks: PollerHooks,
  ) {}

  /** Polls now and every interval. */
  start(): void {
    this.interval = setInterval(() => void this.poll(), this.o.intervalMs);
    void this.poll();
  }

  close(): void {
    this.closing = true;
    clearInterval(this.interval);
    if (this.current) clearTimeout(this.current.timer);
  }

  /** A message into the node: this node's file coming back from the import, else a poll on demand. */
  input(msg: { sftp?: unknown; payload?: unknown; error?: unknown }): Promise<void> {
    const marker = msg.sftp as FileMarker | undefined;
    return marker?.node === this.nodeId ? this.complete(marker, outcomeOf(msg)) : this.poll();
  }

  /** Sends the next claimed file, when none is being imported. */
  private next(): void {
    if (this.current || this.closing) return;
    const claim = this.queue.shift();
    if (!claim) {
      this.hooks.idle(this.counts);
      return;
    }
    const marker: FileMarker = {
      node: this.nodeId,
      file: claim.name,
      remotePath: claim.remotePath,
      from: claim.from,
      size: claim.size,
      recovered: claim.recovered,
    };
    const timer = setTimeout(() => {
      this.hooks.noCompletion(claim, this.o.completionTimeoutMs / 60_000);
      this.current = undefined;
      this.next();
    }, this.o.completionTimeoutMs);
    this.current = { claim, timer };
    this.hooks.start(claim, marker);
  }

  /** Claims what is ready, after what was left claimed; only when nothing is queued or running. */
  async poll(): Promise<void> {
    if (this.busy || this.closing || this.current || this.queue.length > 0) return;
    this.busy = true;
    try {
      if (this.needRecovery) {
        // Nothing is queued: local copies of earlier downloads are leftovers.
        rmSync(this.o.localDir, { recursive: true, force: true });
        mkdirSync(this.o.localDir, { recursive: true });
        this.queue.push(...(await this.inbox.recover()));
        this.needRecovery = false;
      }
      this.queue.push(...(await this.inbox.poll()));
    } catch (err) {
      // Files claimed by this poll stay in processing/<instance>/: the next poll recovers them.
      this.needRecovery = true;
      this.hooks.pollFailed(String((err as { code?: unknown }).code ?? 'error'), (err as Error).message);
    } finally {
      this.busy = false;
      this.next();
    }
  }

  private async complete(marker: FileMarker, outcome: ImportOutcome): Promise<void> {
    if (!this.current || this.current.claim.remotePath !== marker.remotePath) return; // stale or second report
    const { claim, timer } = this.current;
    clearTimeout(timer);
    try {
      const finished = await this.inbox.finish(claim, outcome);
      this.counts[finished.to === 'archive' ? 'archived' : 'failed']++;
      this.hooks.finished(claim, finished, marker);
    } catch (err) {
      this.hooks.finishFailed(claim, (err as Error).message);
    }
    this.current = undefined;
    this.next();
    if (this.queue.length === 0) void this.poll();
  }
}
