// oms-retry: a durable retry queue in front of a step that can fail. Output 1 sends to the step;
// its failures (Catch node, or a Complete node for HTTP statuses) come back into the input and
// are sent again after the policy's delay; output 2 is "exhausted". Every message is kept in
// the store from arrival until its outcome is known, so a crash or restart loses none.
import type { NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import {
  codeClassifier,
  decideRetry,
  errorFromMessage,
  normalizePolicy,
  type Classifier,
} from '../../lib/reliability';
import { decodeMessage, encodeMessage, type RetryRecord } from '../../lib/store';
import { settleOrder, type CustodyNode } from '../shared/custody';
import { errorInfoOf } from '../shared/message-error';
import { StoreUnavailableError, type StoreLease, type StoreNode } from '../shared/store-registry';

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

/** What travels in msg.oms.retry while a message is in this node's care. */
interface RetryMarker {
  node: string;
  id: number;
  attempt: number;
  maxAttempts: number;
  firstFailureAt?: number;
  lastFailureAt?: number;
  lastError?: string;
  /** Set on the exhausted output. */
  attempts?: number;
  gaveUp?: string;
  explanation?: string;
}

const BATCH = 100;
const MAX_TIMER_MS = 2 ** 31 - 1;

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
    let exhausted = 0;
    let timer: NodeJS.Timeout | undefined;
    // Inputs and timer runs one after another, so a record is never handled twice at once.
    let chain: Promise<void> = Promise.resolve();
    const serial = (work: () => Promise<void>): Promise<void> => {
      const run = chain.then(work);
      chain = run.catch(() => undefined);
      return run;
    };

    if (!lease) {
      node.status({ fill: 'red', shape: 'ring', text: t('status.noStore') });
    } else {
      serial(async () => {
        // After a restart nothing is in flight any more: those messages are due again now.
        const released = await lease.store.retries.releaseInflight(node.id, Date.now());
        if (released > 0) node.log(t('log.resumed', { count: released }));
        await pump();
      }).catch((err: Error) => node.error(err.message));
    }

    const marker = (msg: Record<string, unknown>): RetryMarker | undefined => {
      const retry = (msg.oms as { retry?: RetryMarker } | undefined)?.retry;
      return retry && retry.node === node.id && typeof retry.id === 'number' ? retry : undefined;
    };

    function stamp(
      msg: Record<string, unknown>,
      record: Pick<RetryRecord, 'id' | 'attempt'> & Partial<RetryRecord>,
      extra: Partial<RetryMarker> = {},
    ): void {
      const oms = (msg.oms && typeof msg.oms === 'object' ? msg.oms : {}) as Record<string, unknown>;
      const retry: RetryMarker = {
        node: node.id,
        id: record.id,
        attempt: record.attempt,
        maxAttempts: policy.attempts,
        ...(record.firstFailureAt ? { firstFailureAt: record.firstFailureAt } : {}),
        ...(record.lastFailureAt ? { lastFailureAt: record.lastFailureAt } : {}),
        ...(record.lastError ? { lastError: record.lastError.message } : {}),
        ...extra,
      };
      msg.oms = { ...oms, attempts: record.attempt, retry };
    }

    /** The message as it arrived, without this node's marker or a failure. */
    function original(msg: Record<string, unknown>): string {
      const { error: _error, _msgid: _id, ...rest } = msg;
      if (rest.oms && typeof rest.oms === 'object') {
        const { retry: _retry, ...oms } = rest.oms as Record<string, unknown>;
        rest.oms = oms;
      }
      return encodeMessage(rest);
    }

    async function showStatus(): Promise<void> {
      if (!lease || closing) return;
      const { inflight, waiting } = await lease.store.retries.counts(node.id);
      const fill = exhausted > 0 ? 'yellow' : waiting > 0 ? 'blue' : 'green';
      node.status({
        fill,
        shape: waiting + inflight > 0 ? 'ring' : 'dot',
        text: t('status.counts', { waiting, inflight, exhausted }),
      });
    }

    async function arm(): Promise<void> {
      if (!lease || closing) return;
      if (timer) clearTimeout(timer);
      const next = await lease.store.retries.nextDueAt(node.id);
      if (next === undefined) return;
      timer = setTimeout(
        () => {
          serial(pump).catch((err: Error) => node.error(err.message));
        },
        Math.min(MAX_TIMER_MS, Math.max(0, next - Date.now())),
      );
    }

    async function pump(): Promise<void> {
      if (!lease) return;
      for (;;) {
        if (closing) return;
        const due = await lease.store.retries.due(node.id, Date.now(), BATCH);
        for (const record of due) {
          if (closing) return;
          if (record.state === 'waiting') {
            if (policy.attempts > 0 && record.attempt >= policy.attempts) {
              // Resumed after a restart with no attempt left: give up instead of going over the limit.
              const lastError = {
                ...(record.lastError ?? {
                  message: t('errors.notAcknowledged', { seconds: ackTimeoutMs / 1000 }),
                }),
                gaveUp: 'attempts-exhausted',
                explanation: `attempt ${record.attempt} of ${policy.attempts} was cut short by a restart; no attempts left`,
              };
              exhausted++;
              await giveUp({ ...record, lastFailureAt: Date.now(), lastError });
            } else await resend(record);
          } else if (record.state === 'exhausted') {
            await giveUp(record); // not parked yet: a crash or a slow dead-letter node
          } else if (requireAck) {
            await failed(
              record,
              {
                message: t('errors.notAcknowledged', { seconds: ackTimeoutMs / 1000 }),
                code: 'OMS_NOT_ACKNOWLEDGED',
              },
              {},
            );
          } else {
            await lease.store.retries.remove(record.id); // no failure reported in time: delivered
          }
        }
        if (due.length < BATCH) break;
      }
      await showStatus();
      await arm();
    }

    async function resend(record: RetryRecord): Promise<void> {
      if (!lease) return;
      const attempt = record.attempt + 1;
      await lease.store.retries.markSent(record.id, attempt, Date.now() + ackTimeoutMs);
      const msg = decodeMessage(record.message);
      msg._msgid = RED.util.generateId();
      stamp(msg, { ...record, attempt });
      node.send([msg as NodeMessage, null]);
    }

    /** A failed attempt: schedule the next one, or give up on the exhausted output. */
    async function failed(
      record: RetryRecord,
      error: unknown,
      failedMsg: Record<string, unknown>,
    ): Promise<void> {
      if (!lease) return;
      const now = Date.now();
      const decision = decideRetry({
        policy,
        attempt: record.attempt,
        firstFailureAt: record.firstFailureAt ?? now,
        now,
        error,
        classifier,
      });
      const info = errorInfoOf(failedMsg) ?? errorInfoOf({ error }) ?? { message: String(error) };
      if (decision.retry) {
        await lease.store.retries.scheduleRetry(record.id, { at: now, dueAt: decision.dueAt, error: info });
        node.debug(`${record.orderRef ?? record.id}: ${decision.explanation}`);
        return;
      }
      const lastError = { ...info, gaveUp: decision.reason, explanation: decision.explanation };
      exhausted++;
      node.warn(
        t('log.exhausted', {
          order: record.orderRef ?? String(record.id),
          explanation: decision.explanation,
        }),
      );
      await giveUp({
        ...record,
        firstFailureAt: record.firstFailureAt ?? now,
        lastFailureAt: now,
        lastError,
      });
    }

    /**
     * When every node on the exhausted output is an oms-dead-letter on this store, the record stays
     * (state 'exhausted') until that node has parked it, and is sent there again after the
     * acknowledgement timeout or a restart: a crash between the two nodes loses nothing.
     */
    function deadLetterDownstream(): boolean {
      const targets = config.wires?.[1] ?? [];
      return (
        targets.length > 0 &&
        targets.every((id) => {
          const target = RED.nodes.getNode(id) as CustodyNode | null;
          return target?.type === 'oms-dead-letter' && target.omsStoreId === config.store;
        })
      );
    }

    async function giveUp(record: RetryRecord): Promise<void> {
      if (!lease) return;
      const lastError = record.lastError ?? { message: 'gave up' };
      if (deadLetterDownstream()) {
        await lease.store.retries.markExhausted(record.id, {
          at: record.lastFailureAt ?? Date.now(),
          dueAt: Date.now() + ackTimeoutMs,
          error: {
            ...lastError,
            gaveUp: lastError.gaveUp ?? 'attempts-exhausted',
            explanation: lastError.explanation ?? '',
          },
        });
      } else {
        await lease.store.retries.remove(record.id);
      }
      const msg = decodeMessage(record.message);
      msg._msgid = RED.util.generateId();
      // The message as it first arrived, plus what went wrong: msg.error (as Catch would set it).
      const { gaveUp, explanation, ...error } = lastError;
      msg.error = error;
      stamp(msg, record, { attempts: record.attempt, gaveUp, explanation });
      node.send([null, msg as NodeMessage]);
    }

    async function receive(msg: NodeMessageInFlow): Promise<void> {
      if (!lease) throw new StoreUnavailableError(t('status.noStore'));
      const record = msg as unknown as Record<string, unknown>;
      const mine = marker(record);
      const error = mine ? errorFromMessage(record) : record.error ? errorFromMessage(record) : undefined;
      const now = Date.now();
      const orderRef = (record.oms as { orderRef?: unknown } | undefined)?.orderRef;
      const held = mine ? await lease.store.retries.get(mine.id) : undefined;
      // The outcome of the attempt the record is waiting for; anything else is stale or a second
      // report of the same outcome (a function node's node.error also completes; the HTTP Request
      // node both throws and sends on a network error).
      const current = held && held.state === 'inflight' && held.attempt === mine?.attempt ? held : undefined;
      if (!error) {
        if (current) {
          await lease.store.retries.remove(current.id); // acknowledged: the step completed
        } else if (!mine) {
          const id = await lease.store.retries.add(node.id, {
            message: original(record),
            orderRef: typeof orderRef === 'string' ? orderRef : undefined,
            at: now,
            dueAt: now + ackTimeoutMs,
          });
          await settleOrder(lease.store, record);
          stamp(record, { id, attempt: 1 });
          node.send([msg, null]);
        }
      } else if (current) {
        await failed(current, error, record);
      } else if (!held) {
        // A failure of a message this node does not hold (forgotten after its timeout, or never
        // sent by this node): keep it from now on and retry it like any other.
        const id = await lease.store.retries.add(node.id, {
          message: original(record),
          orderRef: typeof orderRef === 'string' ? orderRef : undefined,
          at: now,
          dueAt: now + ackTimeoutMs,
        });
        await settleOrder(lease.store, record);
        const attempt = mine?.attempt ?? 1;
        if (attempt > 1) await lease.store.retries.markSent(id, attempt, now + ackTimeoutMs);
        const stored = await lease.store.retries.get(id);
        if (stored) await failed(stored, error, record);
      }
      await showStatus();
      await arm();
    }

    node.on('input', (msg, _send, done) => {
      serial(() => receive(msg)).then(
        () => done(),
        (err: Error) => done(err),
      );
    });

    node.on('close', (removed: boolean, done: () => void) => {
      closing = true;
      if (timer) clearTimeout(timer);
      chain
        .then(async () => {
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
