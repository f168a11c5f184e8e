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
  /** Releases the file; called once no sync is running any more. */
  close(): void;
}

export class GroupCommit {
  private jobs: Job[] = [];
  private scheduled = false;
  private closed = false;
  /** Committed groups waiting for the fsync after the one running now. */
  private unsynced: Committed[] = [];
  /** The groups the fsync running now covers (settled by close() if it comes first). */
  private inFlight: Committed[] = [];
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
    if (this.syncFailure) {
      for (const job of jobs) job.reject(this.syncFailure);
      return;
    }
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
    this.inFlight = groups;
    const durable = this.durable;
    durable.sync((error) => {
      this.syncing = false;
      const covered = this.inFlight;
      this.inFlight = [];
      if (this.closed) {
        // close() settled these already (with a blocking sync): only the file is left to release.
        durable.close();
        return;
      }
      this.synced(covered, error);
      this.syncNext();
    });
  }

  private synced(groups: Committed[], error: Error | null): void {
    // After a failed fsync a later one may succeed without the lost pages: nothing is trusted.
    if (error || this.syncFailure) {
      error ??= this.syncFailure ?? null;
      this.syncFailure ??= Object.assign(
        new Error(`The OMS store could not write to its disk (fsync: ${error?.message}); restart Node-RED`),
        { code: 'OMS_STORE_SYNC' },
      );
      for (const group of groups) for (const job of group.jobs) job.reject(this.syncFailure);
      return;
    }
    this.stats.syncs++;
    for (const group of groups) settle(group);
  }

  /** Commits what is queued and makes every committed group durable now, blocking; then closes. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (!this.durable) return;
    const groups = [...this.inFlight, ...this.unsynced];
    this.inFlight = [];
    this.unsynced = [];
    if (groups.length > 0) {
      let error: Error | null = null;
      try {
        this.durable.syncNow();
      } catch (err) {
        error = err as Error;
      }
      this.synced(groups, error);
    }
    // The fsync on the thread pool, if one still runs, releases the file when it returns.
    if (!this.syncing) this.durable.close();
  }
}

function settle({ jobs, outcomes }: Committed): void {
  jobs.forEach((job, i) => {
    const outcome = outcomes[i];
    if (outcome.ok) job.resolve(outcome.value);
    else job.reject(outcome.error);
  });
}
