// Group commit: the writes asked for in one turn of the event loop share one transaction. Each
// write runs in its own savepoint, so one that throws is undone alone; every caller's promise
// settles only once the group is durable, so a write that resolved survives a crash or a power
// loss. Durable means one of two things (docs/store.md):
// - without a `sync`, SQLite's own fsync inside COMMIT (synchronous=FULL), on the event loop;
// - with a `sync` (the store's WAL file, synchronous=NORMAL), an fsync of the WAL on libuv's
//   thread pool after COMMIT: the event loop goes on with the next group meanwhile, and groups
//   committed while one fsync runs share the next.
import type { SqlDatabase } from './driver';

interface Job {
  work: () => unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Committed work whose callers hear of it once it is on disk. */
interface Committed {
  jobs: Job[];
  outcomes: Outcome[];
}

export type Write = <T>(work: () => T) => Promise<T>;

/** Flushes what the database has committed to stable storage, off the event loop. */
export interface DurableSync {
  sync(done: (error: Error | null) => void): void;
  /** The same, blocking (when the store closes). */
  syncNow(): void;
}

export class GroupCommit {
  private jobs: Job[] = [];
  private scheduled = false;
  private closed = false;
  /** Committed groups waiting for the fsync after the one running now. */
  private unsynced: Committed[] = [];
  private syncing = false;
  /** An fsync failed: the kernel may have dropped the pages, so nothing written since is trusted. */
  private syncFailure: Error | undefined;
  /** Commits so far, the writes they carried and the fsyncs that made them durable. */
  readonly stats = { commits: 0, writes: 0, syncs: 0 };

  constructor(
    private readonly db: SqlDatabase,
    private readonly durable?: DurableSync,
  ) {}

  /** Runs `work` (synchronous SQL) in the next group transaction; resolves once it is durable. */
  readonly write: Write = <T>(work: () => T): Promise<T> => {
    if (this.closed) return Promise.reject(new Error('The OMS store is closed'));
    if (this.syncFailure) return Promise.reject(this.syncFailure);
    return new Promise<T>((resolve, reject) => {
      this.jobs.push({ work, resolve: resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  };

  /** Commits what is queued now (also called before the file is closed). */
  flush(): void {
    this.scheduled = false;
    const jobs = this.jobs;
    this.jobs = [];
    if (jobs.length === 0) return;
    const outcomes: Outcome[] = [];
    try {
      this.db.transaction(() => {
        for (const job of jobs) {
          try {
            outcomes.push({ ok: true, value: this.db.savepoint(job.work) });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      // The COMMIT itself failed (disk full, I/O error): nothing of this group is stored.
      for (const job of jobs) job.reject(error);
      return;
    }
    this.stats.commits++;
    this.stats.writes += jobs.length;
    if (!this.durable) return settle({ jobs, outcomes });
    this.unsynced.push({ jobs, outcomes });
    if (!this.syncing) this.syncNext();
  }

  private syncNext(): void {
    const groups = this.unsynced;
    this.unsynced = [];
    if (groups.length === 0 || !this.durable) return;
    this.syncing = true;
    this.durable.sync((error) => {
      this.syncing = false;
      this.synced(groups, error);
      this.syncNext();
    });
  }

  private synced(groups: Committed[], error: Error | null): void {
    if (error) {
      this.syncFailure ??= Object.assign(
        new Error(`The OMS store could not write to its disk (fsync: ${error.message}); restart Node-RED`),
        { code: 'OMS_STORE_SYNC' },
      );
      for (const group of groups) for (const job of group.jobs) job.reject(this.syncFailure);
      return;
    }
    this.stats.syncs++;
    for (const group of groups) settle(group);
  }

  close(): void {
    this.flush();
    this.closed = true;
    if (!this.durable || this.unsynced.length === 0) return;
    // The fsync running now covers earlier groups; this one covers the rest before the file closes.
    const groups = this.unsynced;
    this.unsynced = [];
    let error: Error | null = null;
    try {
      this.durable.syncNow();
    } catch (err) {
      error = err as Error;
    }
    this.synced(groups, error);
  }
}

function settle({ jobs, outcomes }: Committed): void {
  jobs.forEach((job, i) => {
    const outcome = outcomes[i];
    if (outcome.ok) job.resolve(outcome.value);
    else job.reject(outcome.error);
  });
}
