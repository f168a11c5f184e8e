// The resumer of one oms-store node: it beats for this runtime and, every scan, claims the
// checkpoints whose lease lapsed (or whose runtime stopped beating) and sends each again through
// the node that wrote it. An order resumed too often without moving on is marked stalled, for
// the operator (GET /oms/custody?stalled=true), and is not resumed again until retried.
import { envelopeOf, setEnvelope } from '../../lib/order/envelope';
import { decodeMessage, type OmsStore } from '../../lib/store';
import { holderOf } from './custody';

export interface ResumerOptions {
  store: OmsStore;
  owner: string;
  leaseMs: number;
  scanMs: number;
  /** A runtime whose last beat is older than this is gone: its checkpoints are resumed at once. */
  deadAfterMs: number;
  /** Resumptions without progress before an order counts as stalled. */
  maxResumes: number;
  newMessageId(): string;
  log(text: string): void;
  warn(text: string): void;
}

const BATCH = 200;

export class Resumer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Orders sent again since the start (the store node's status). */
  resumed = 0;

  constructor(private readonly o: ResumerOptions) {}

  start(): void {
    this.stopped = false;
    const tick = (): void => {
      this.running = this.scan()
        .then(() => undefined)
        .catch((err: Error) => this.o.warn(err.message))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.o.scanMs);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    await this.o.store.custody.leave(this.o.owner).catch(() => undefined);
  }

  /** One scan: beat, then resume what is due. */
  async scan(): Promise<number> {
    const { store, owner } = this.o;
    const now = Date.now();
    await store.custody.heartbeat(owner, now);
    let count = 0;
    for (;;) {
      if (this.stopped) return count;
      const due = await store.custody.claimDue(owner, Date.now(), this.o.leaseMs, this.o.deadAfterMs, BATCH);
      for (const row of due) {
        const resume = holderOf(row.holder);
        if (row.resumes > this.o.maxResumes) {
          const reason = resume
            ? `resumed ${row.resumes - 1} times from node ${row.holder} without moving on`
            : `node ${row.holder}, which holds its checkpoint, is not deployed`;
          if (await store.custody.markStalled(row.orderRef, row.token, Date.now(), reason)) {
            this.o.warn(`order ${row.orderRef} stalled: ${reason}`);
          }
          continue;
        }
        // A holder not deployed right now (a partial deploy) is asked again after the lease.
        if (!resume) continue;
        let msg: Record<string, unknown>;
        try {
          msg = decodeMessage(row.message ?? '{}');
          // Resent as it left, carrying the row's token (a kept retry message is stored without it).
          setEnvelope(msg, envelopeOf(msg), {
            custody: { token: row.token, holder: row.holder },
            resumed: { count: row.resumes, at: new Date().toISOString() },
          });
        } catch (err) {
          // Not one to resend: the operator sees it stalled with the reason; the others go on.
          const reason = `its checkpoint from node ${row.holder} cannot be read: ${(err as Error).message}`;
          if (await store.custody.markStalled(row.orderRef, row.token, Date.now(), reason)) {
            this.o.warn(`order ${row.orderRef} stalled: ${reason}`);
          }
          continue;
        }
        msg._msgid = this.o.newMessageId();
        resume(row.port ?? 0, msg);
        count++;
        this.resumed++;
      }
      if (due.length < BATCH) break;
    }
    if (count > 0) this.o.log(`resumed ${count} order(s) from their checkpoints`);
    return count;
  }
}

/** A runtime (or queue instance) whose last beat is older than this has stopped. */
export const DEAD_AFTER_MS = 10_000;

/**
 * Beats for `owner` now and every second until stopped, then leaves (its claims are taken over
 * at once). For a part that claims work of its own under its own name (an oms-retry queue).
 */
export async function beating(store: OmsStore, owner: string): Promise<{ stop(): Promise<void> }> {
  await store.custody.heartbeat(owner, Date.now());
  const timer = setInterval(() => {
    store.custody.heartbeat(owner, Date.now()).catch(() => undefined); // the next beat tries again
  }, 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await store.custody.leave(owner).catch(() => undefined);
    },
  };
}
