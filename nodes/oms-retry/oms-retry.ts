// oms-retry: a durable retry queue in front of a step that can fail. Output 1 sends to the step;
// its failures (Catch node, or a Complete node for HTTP statuses) come back into the input and
// are sent again after the policy's delay; output 2 is "exhausted". Every message is kept in
// the store from arrival until its outcome is known, so a crash or restart loses none.
import { randomUUID } from 'node:crypto';
import type { NodeAPI, NodeDef } from 'node-red';
import { codeClassifier, DurableRetry, normalizePolicy, type Classifier } from '../../lib/reliability';
import { decodeMessage } from '../../lib/store';
import {
  custodyFor,
  omsMessage,
  registerHolder,
  settleOrder,
  wiredOnlyToStoring,
  type CustodyNode,
} from '../shared/custody';
import { beating, DEAD_AFTER_MS } from '../shared/resumer';
import { throttleStatus } from '../shared/status';
import { StoreUnavailableError, type StoreLease, type StoreNode } from '../shared/store-registry';

/** Exhausted messages wait in the store only for these (they store what they receive). */
const DEAD_LETTER: ReadonlySet<string> = new Set(['oms-dead-letter']);

interface RetryNodeDef extends NodeDef {
  wires?: string[][];
  store: string;
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

const MAX_TIMER_MS = 2 ** 31 - 1;
/** How often the queue looks for records a stopped runtime left in flight. */
const SWEEP_MS = 2000;

function codes(list: string | undefined): string[] {
  return (list ?? '')
    .split(/[\s,]+/)
    .map((code) => code.trim())
    .filter(Boolean);
}

export = function register(RED: NodeAPI): void {
  const t = (key: string, params?: Record<string, string | number>): string =>
    RED._(`oms-retry.${key}`, params);

  function OmsRetry(this: CustodyNode, config: RetryNodeDef): void {
    RED.nodes.createNode(this, config);
    this.omsStoreId = config.store;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- closures below outlive `this`
    const node = this;
    const seconds = (v: unknown): number | undefined =>
      v === '' || v === undefined || v === null ? undefined : Math.round(Number(v) * 1000);
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
    for (const problem of problems) node.warn(problem);
    const ackTimeoutMs = Math.max(1000, (Number(config.ackTimeout) || 60) * 1000);
    const requireAck = config.requireAck === true;
    // The OMS nodes' own input errors never get better by waiting.
    const table: Record<string, 'retryable' | 'permanent'> = {
      OMS_NO_ORDER_REF: 'permanent',
      OMS_NO_TRANSITION: 'permanent',
      OMS_BAD_INPUT: 'permanent',
    };
    for (const code of codes(config.retryableCodes)) table[code] = 'retryable';
    for (const code of codes(config.permanentCodes)) table[code] = 'permanent';
    const classifier: Classifier = codeClassifier(table);

    const storeNode = RED.nodes.getNode(config.store) as StoreNode | null;
    const lease: StoreLease | undefined = storeNode?.lease();
    let closing = false;
    let timer: NodeJS.Timeout | undefined;
    const hand = custodyFor(RED, node, config.store);
    // Each start of the node is a new owner of its records: the last one's in flight are taken over.
    const owner = randomUUID();
    let beat: { stop(): Promise<void> } | undefined;
    const queue = lease
      ? new DurableRetry({
          queue: node.id,
          owner,
          deadAfterMs: DEAD_AFTER_MS,
          store: lease.store.retries,
          policy,
          classifier,
          ackTimeoutMs,
          requireAck,
          send: (msg) => node.send([msg, null]),
          exhaust: (msg) => node.send([null, msg]),
          exhaustedAreTaken: deadLetterDownstream,
          stored: (msg) => settleOrder(lease.store, msg),
          newMessageId: () => RED.util.generateId(),
          text: {
            notAcknowledged: (seconds) => t('errors.notAcknowledged', { seconds }),
            cutShort: (attempt, of) => t('errors.cutShort', { attempt, of }),
          },
          onGiveUp: (order, explanation) => node.warn(t('log.exhausted', { order, explanation })),
          custody: {
            take: (msg) => hand.step(msg, 0, { kind: 'retry' }),
            // The step completed and no OMS node took the order: done here, unless an OMS node
            // further on will (then it stays a checkpoint, resumed through this queue if lost).
            acknowledged: (record, token) =>
              record.orderRef === undefined
                ? undefined
                : hand.leads(0)
                  ? hand.keep(decodeMessage(record.message), 0, token)
                  : { release: { orderRef: record.orderRef, expect: token, holder: node.id } },
            givenUp: (msg) => hand.step(msg, 1),
            tokenOf: (orderRef) => lease.store.custody.tokenOf(orderRef),
          },
        })
      : undefined;
    // Start-up and timer runs one after another. Inputs run concurrently once started (each outcome
    // is a compare-and-set in the store), so one slow commit does not hold up every other order.
    let chain: Promise<void> = Promise.resolve();
    const receiving = new Set<Promise<void>>();
    const serial = (work: () => Promise<void>): Promise<void> => {
      const run = chain.then(work);
      chain = run.catch(() => undefined);
      return run;
    };

    /**
     * Exhausted messages wait in the store for the node that parks them when every node on the
     * exhausted output is an oms-dead-letter on this store.
     */
    function deadLetterDownstream(): boolean {
      return wiredOnlyToStoring(RED, config.wires?.[1], DEAD_LETTER, config.store);
    }

    const status = throttleStatus(node);
    /** The counts come from the store, so they are read only when the status is about to be sent. */
    function showStatus(): void {
      status.show(async () => {
        if (!queue || closing) return undefined;
        const { inflight, waiting } = await queue.counts();
        const exhausted = queue.exhausted;
        const fill = exhausted > 0 ? 'yellow' : waiting > 0 ? 'blue' : 'green';
        return {
          fill,
          shape: waiting + inflight > 0 ? 'ring' : 'dot',
          text: t('status.counts', { waiting, inflight, exhausted }),
        };
      });
    }

    /** Sets the one timer to the next due time. */
    /** When the timer fires; undefined when none is set. */
    let timerAt: number | undefined;

    /** Sets the one timer to `at`, unless it is set to fire earlier already. */
    function armAt(at: number): void {
      if (closing || (timer && timerAt !== undefined && timerAt <= at)) return;
      if (timer) clearTimeout(timer);
      timerAt = at;
      timer = setTimeout(
        () => {
          timer = undefined;
          timerAt = undefined;
          serial(pumpAndShow).catch((err: Error) => node.error(err.message));
        },
        Math.min(MAX_TIMER_MS, Math.max(0, at - Date.now())),
      );
    }

    /** Sets the timer to the store's next due time. */
    async function arm(): Promise<void> {
      if (!queue || closing) return;
      const next = await queue.nextDueAt();
      if (next !== undefined) armAt(next);
    }

    async function pumpAndShow(): Promise<void> {
      const resumed = (await queue?.pump(() => closing)) ?? 0;
      if (resumed > 0) node.log(t('log.resumed', { count: resumed }));
      showStatus();
      await arm();
    }

    async function receive(msg: Record<string, unknown>): Promise<void> {
      if (!queue) return;
      const fresh = queue.isNew(msg);
      const arrived = Date.now();
      await queue.receive(msg);
      showStatus();
      // A new record is due for its outcome after the timeout (no need to ask the store); after
      // an outcome the next due time is the store's (a retry may be due soon).
      if (fresh) armAt(arrived + ackTimeoutMs);
      else await arm();
    }

    let started: Promise<void> = Promise.resolve();
    let sweep: NodeJS.Timeout | undefined;
    if (!queue || !lease) {
      node.status({ fill: 'red', shape: 'ring', text: t('status.noStore') });
    } else {
      started = serial(async () => {
        beat = await beating(lease.store, owner);
        await pumpAndShow();
      }).catch((err: Error) => node.error(err.message));
      // The records of a stopped runtime (or of this node's last start) are due at once.
      sweep = setInterval(() => {
        serial(pumpAndShow).catch((err: Error) => node.error(err.message));
      }, SWEEP_MS);
    }

    // A checkpoint of this queue comes back as a new message (the step is run again).
    registerHolder(node, (_port, msg) => {
      started.then(() => receive(msg)).catch((err: Error) => node.error(err.message));
    });

    node.on('input', (msg, _send, done) => {
      if (!queue) {
        done(new StoreUnavailableError(t('status.noStore')));
        return;
      }
      // The queue beats before it takes anything: a record of an owner not beating is taken over.
      const run = started.catch(() => undefined).then(() => receive(omsMessage(msg)));
      receiving.add(run);
      run.then(
        () => {
          receiving.delete(run);
          done();
        },
        (err: Error) => {
          receiving.delete(run);
          done(err);
        },
      );
    });

    node.on('close', (removed: boolean, done: () => void) => {
      closing = true;
      status.stop();
      if (timer) clearTimeout(timer);
      if (sweep) clearInterval(sweep);
      Promise.allSettled([chain, ...receiving])
        .then(async () => {
          await beat?.stop();
          if (removed && lease) {
            const { inflight, waiting } = await lease.store.retries.counts(node.id);
            if (inflight + waiting > 0) node.warn(t('log.removedWithPending', { count: inflight + waiting }));
          }
        })
        .catch(() => undefined)
        .finally(() => {
          lease?.release();
          done();
        });
    });
  }

  RED.nodes.registerType('oms-retry', OmsRetry);
};
