// When an oms-retry queue works (the timers of lib/reliability/durable-retry): start-up, the due
// timer and the sweep run one after another; inputs run concurrently with them (each outcome is
// a compare-and-set in the store), so one slow commit does not hold up every other order.
import { codeClassifier, type Classifier } from './classify';
import type { DurableRetry } from './durable-retry';
import { normalizePolicy, type RetryPolicy } from './policy';

const MAX_TIMER_MS = 2 ** 31 - 1;
/** How often the queue looks for records a stopped runtime left in flight. */
export const SWEEP_MS = 2000;

/** The oms-retry node's settings as its dialog stores them. */
export interface RetrySettingsInput {
  attempts: string | number;
  initialDelay: string | number;
  multiplier: string | number;
  maxDelay: string | number;
  deadline: string | number;
  jitter: boolean;
  ackTimeout: string | number;
  requireAck: boolean;
  permanentCodes?: string;
  retryableCodes?: string;
}

export interface RetrySettings {
  policy: RetryPolicy;
  problems: string[];
  ackTimeoutMs: number;
  requireAck: boolean;
  classifier: Classifier;
}

const seconds = (v: unknown): number | undefined =>
  v === '' || v === undefined || v === null ? undefined : Math.round(Number(v) * 1000);

function codes(list: string | undefined): string[] {
  return (list ?? '')
    .split(/[\s,]+/)
    .map((code) => code.trim())
    .filter(Boolean);
}

export function retrySettings(config: RetrySettingsInput): RetrySettings {
  const { policy, problems } = normalizePolicy({
    attempts: config.attempts,
    initialDelayMs: seconds(config.initialDelay),
    multiplier: config.multiplier,
    maxDelayMs: seconds(config.maxDelay),
    deadlineMs:
      config.deadline === '' || config.deadline === undefined
        ? undefined
        : Math.round(Number(config.deadline) * 60_000),
    jitter: config.jitter === false ? 'none' : 'full',
  });
  // The OMS nodes' own input errors never get better by waiting.
  const table: Record<string, 'retryable' | 'permanent'> = {
    OMS_NO_ORDER_REF: 'permanent',
    OMS_NO_TRANSITION: 'permanent',
    OMS_BAD_INPUT: 'permanent',
    OMS_BAD_ENVELOPE: 'permanent',
  };
  for (const code of codes(config.retryableCodes)) table[code] = 'retryable';
  for (const code of codes(config.permanentCodes)) table[code] = 'permanent';
  return {
    policy,
    problems,
    ackTimeoutMs: Math.max(1000, (Number(config.ackTimeout) || 60) * 1000),
    requireAck: config.requireAck === true,
    classifier: codeClassifier(table),
  };
}

export interface RetryScheduleOptions {
  queue: DurableRetry;
  ackTimeoutMs: number;
  /** Before anything is taken: the queue beats as a live owner. */
  begin(): Promise<void>;
  /** After each run of the queue and each message: the status. */
  changed(): void;
  resumed(count: number): void;
  failed(err: Error): void;
}

export class RetrySchedule {
  private chain: Promise<void> = Promise.resolve();
  private readonly receiving = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt: number | undefined;
  private readonly sweep: NodeJS.Timeout;
  private closing = false;
  private readonly started: Promise<void>;

  constructor(private readonly o: RetryScheduleOptions) {
    this.started = this.serial(async () => {
      await o.begin();
      await this.pump();
    }).catch((err: Error) => o.failed(err));
    // The records of a stopped runtime (or of this node's last start) are due at once.
    this.sweep = setInterval(() => this.run(), SWEEP_MS);
  }

  /** A message at the input, once the queue has started; resolves when it is handled. */
  receive(msg: Record<string, unknown>): Promise<void> {
    const work = this.started.then(async () => {
      const fresh = this.o.queue.isNew(msg);
      const arrived = Date.now();
      await this.o.queue.receive(msg);
      this.o.changed();
      // A new record is due for its outcome after the timeout (no need to ask the store); after
      // an outcome the next due time is the store's (a retry may be due soon).
      if (fresh) this.armAt(arrived + this.o.ackTimeoutMs);
      else await this.arm();
    });
    this.receiving.add(work);
    const forget = (): void => void this.receiving.delete(work);
    work.then(forget, forget);
    return work;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  /** Stops the timers and waits for the work under way. */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.sweep);
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([this.chain, ...this.receiving]);
  }

  private serial(work: () => Promise<void>): Promise<void> {
    const run = this.chain.then(work);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private run(): void {
    this.serial(() => this.pump()).catch((err: Error) => this.o.failed(err));
  }

  private async pump(): Promise<void> {
    const resumed = await this.o.queue.pump(() => this.closing);
    if (resumed > 0) this.o.resumed(resumed);
    this.o.changed();
    await this.arm();
  }

  /** Sets the one timer to `at`, unless it is set to fire earlier already. */
  private armAt(at: number): void {
    if (this.closing || (this.timer && this.timerAt !== undefined && this.timerAt <= at)) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = undefined;
        this.run();
      },
      Math.min(MAX_TIMER_MS, Math.max(0, at - Date.now())),
    );
  }

  /** Sets the timer to the store's next due time. */
  private async arm(): Promise<void> {
    if (this.closing) return;
    const next = await this.o.queue.nextDueAt();
    if (next !== undefined) this.armAt(next);
  }
}
