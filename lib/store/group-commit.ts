// Group commit: the writes asked for in one turn of the event loop share one transaction, so one
// fsync (synchronous=FULL) serves them all. Each write runs in its own savepoint, so one that
// throws is undone alone; every caller's promise settles only after the COMMIT, so a write that
// resolved is on disk, as before. With many orders in flight this divides the commits per second
// by the number of writes per turn (docs/store.md, bench/README.md).
import type { SqlDatabase } from './driver';

interface Job {
  work: () => unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export type Write = <T>(work: () => T) => Promise<T>;

export class GroupCommit {
  private jobs: Job[] = [];
  private scheduled = false;
  private closed = false;
  /** Commits so far and the writes they carried (tests and the benchmark read them). */
  readonly stats = { commits: 0, writes: 0 };

  constructor(private readonly db: SqlDatabase) {}

  /** Runs `work` (synchronous SQL) in the next group transaction; resolves after its COMMIT. */
  readonly write: Write = <T>(work: () => T): Promise<T> => {
    if (this.closed) return Promise.reject(new Error('The OMS store is closed'));
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
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
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
    jobs.forEach((job, i) => {
      const outcome = outcomes[i];
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(outcome.error);
    });
  }

  close(): void {
    this.flush();
    this.closed = true;
  }
}
