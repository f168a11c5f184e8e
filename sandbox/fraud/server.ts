// A local stand-in for a fraud-screening provider on 127.0.0.1, speaking two real-shaped APIs:
//
// - generic JSON: `POST /v1/screen` with `Authorization: Bearer <apiKey>`, amounts in minor units.
//   Answers accept / review / reject, or `pending` for a review the provider decides itself; that
//   decision is POSTed later to the request's callbackUrl (else `webhookUrl`), signed
//   `X-OMS-Signature: sha256=<hex HMAC-SHA256(body, webhookSecret)>`.
// - Signifyd v3 Sale: `POST /v3/orders/events/sales` with HTTP Basic, the team API key as user name
//   and no password. Answers `decision.checkpointAction` ACCEPT / HOLD / REJECT; a HOLD is decided
//   later by a webhook (`signifyd-checkpoint: SALE`, `SIGNIFYD-SEC-HMAC-SHA256: base64(HMAC-SHA256(
//   body, teamApiKey))`) to `signifydWebhookUrl` (else `webhookUrl`), as Signifyd sends to the URL
//   configured for the team. Re-sending an orderId updates the order; past 100 updates it is
//   rejected, as Signifyd documents.
//
// Decisions come from `decide(input)` or else defaultRules: an email local part with `+reject`
// rejects; `+review` is reviewed and decided after `decisionDelayMs` (accept, or reject with
// `+thenreject`); an amount at or above `reviewAbove[currency]` is reviewed (generic: `review`,
// for the merchant; Signifyd: HOLD until `resolve()` plays the reviewer); anything else is
// accepted. Scores are risk 0..1000 drawn from the order ref (Signifyd's: 1000 - risk, higher =
// safer). Faults (latency; a share of calls answered 429 or 500/502/503, or never answered) are
// drawn from (seed, call number) so runs repeat. `down()` refuses connections, `up()` listens
// again on the same port with the state kept. `log()` is a read-only request log (no keys in it).
// Facts: ../shared/domain/fluent-wms-fraud-payment.md §5.
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { signWebhook, SIGNIFYD_CHECKPOINT_HEADER, type FraudDecision } from '../../lib/fraud/provider';
import { currencyMinorUnits } from '../../lib/order/iso';
import { parseJsonMoney } from '../../lib/order/money';
import { seededUnit } from '../http-peer';
import { argValue, BodyTooLarge, checkRate, numberArg, readBody, type Reply } from '../util';

export type ScreeningApi = 'generic' | 'signifyd';

/** What the decision rules see of a request, whichever API it came through. */
export interface ScreeningInput {
  api: ScreeningApi;
  orderRef: string;
  /** Minor units of `currency`. */
  amount: number;
  currency: string;
  email: string;
  ip?: string;
  billingCountry?: string;
  shippingCountry?: string;
  cardToken?: string;
  cardLast4?: string;
  cardBin?: string;
  customerNo?: string;
  itemCount?: number;
}

export interface RuleOutcome {
  decision: FraudDecision;
  /** Risk 0..1000, higher = riskier; default drawn from the order ref within the decision's band. */
  score?: number;
  reasons?: string[];
  /** Only for a review: the provider decides it itself, after decisionDelayMs, this way. */
  later?: 'accept' | 'reject';
}

export interface FraudFaults {
  /** Delay before every answer, in ms. */
  latencyMs?: number;
  /** Share (0..1) of authenticated calls answered 500, 502 or 503. */
  errorRate?: number;
  /** Share (0..1) of authenticated calls answered 429 with Retry-After. */
  rateLimitRate?: number;
  /** Share (0..1) of authenticated calls read and never answered (until the client gives up). */
  timeoutRate?: number;
  /** Retry-After of the 429 answers, in seconds (default 1). */
  retryAfterSeconds?: number;
  /** Seed of the fault draws (default 1). */
  seed?: number;
}

export interface FraudSandboxOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Bearer key of the generic API. */
  apiKey: string;
  /** Secret of the generic API's webhooks. */
  webhookSecret: string;
  /** Signifyd team API key: Basic user name and webhook secret. */
  teamApiKey: string;
  /** Where webhooks go when the request names no callbackUrl (generic) or for Signifyd. */
  webhookUrl?: string;
  /** Signifyd's webhook URL (Signifyd has one per team); default webhookUrl. */
  signifydWebhookUrl?: string;
  /** Currency -> minor units at or above which an order is reviewed (default DEFAULT_REVIEW_ABOVE). */
  reviewAbove?: Readonly<Record<string, number>>;
  /** Delay before an async review is decided (default 200 ms). */
  decisionDelayMs?: number;
  /** Custom rules; undefined from it falls back to defaultRules. */
  decide?: (input: ScreeningInput) => RuleOutcome | undefined;
  faults?: FraudFaults;
  /** Deliveries per webhook before it counts as failed (default 3). */
  webhookAttempts?: number;
  /** First pause between deliveries, doubled each time (default 100 ms). */
  webhookRetryDelayMs?: number;
}

export interface FraudFaultState {
  latencyMs: number;
  errorRate: number;
  rateLimitRate: number;
  timeoutRate: number;
  retryAfterSeconds: number;
  seed: number;
}

export interface FraudFaultControls {
  /** Merges the given settings into the current ones. */
  set(changes: FraudFaults): void;
  setLatency(ms: number): void;
  setErrorRate(rate: number): void;
  setRateLimitRate(rate: number, retryAfterSeconds?: number): void;
  setTimeoutRate(rate: number): void;
  /** No faults at all. */
  reset(): void;
  current(): FraudFaultState;
}

export type LoggedDecision = FraudDecision | 'pending';

export interface FraudLogEntry {
  /** Epoch ms when the request arrived. */
  at: number;
  method: string;
  path: string;
  /** 0 when the request was never answered (timeout fault). */
  status: number;
  api?: ScreeningApi;
  orderRef?: string;
  fault?: 'rate-limit' | 'error' | 'timeout';
  /** The decision answered; 'pending' when a webhook will bring it (generic pending, Signifyd HOLD). */
  decision?: LoggedDecision;
}

export interface FraudWebhookRecord {
  /** 1-based, in the order the decisions were made. */
  seq: number;
  api: ScreeningApi;
  orderRef: string;
  decision: 'accept' | 'reject';
  /** Undefined when no URL was known (then the delivery failed). */
  url?: string;
  /** The raw body as signed and sent. */
  body: string;
  headers: Readonly<Record<string, string>>;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  /** HTTP status of the last delivery attempt that got an answer. */
  responseStatus?: number;
  /** Why the last attempt failed. */
  error?: string;
}

export interface FraudSandbox {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  faults: FraudFaultControls;
  log(): ReadonlyArray<Readonly<FraudLogEntry>>;
  webhooks(): ReadonlyArray<Readonly<FraudWebhookRecord>>;
  /** Orders awaiting the provider's decision (async reviews and Signifyd HOLDs). */
  pending(): Array<{ api: ScreeningApi; orderRef: string }>;
  /** Decides a pending order now, as a reviewer would, and sends its webhook; false if none. */
  resolve(orderRef: string, decision: 'accept' | 'reject', api?: ScreeningApi): boolean;
  /** Resolves once no decision is scheduled and no webhook delivery is under way. */
  webhooksSettled(): Promise<void>;
  /** Stops listening and drops every connection; the state is kept. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Rules

export const DEFAULT_REVIEW_ABOVE: Readonly<Record<string, number>> = Object.freeze({
  EUR: 100_000,
  USD: 100_000,
  GBP: 100_000,
  CHF: 100_000,
});

const SCORE_BANDS: Record<FraudDecision, [low: number, width: number]> = {
  accept: [0, 300],
  review: [400, 300],
  reject: [800, 200],
};

/** A risk score (0..1000) for the order within the decision's band, the same on every run. */
export function riskScore(orderRef: string, decision: FraudDecision): number {
  const [low, width] = SCORE_BANDS[decision];
  return low + Math.floor(seededUnit('fraud-score', orderRef) * width);
}

/** The default rules (see the file comment); `reviewAbove` is per currency, in minor units. */
export function defaultRules(
  input: ScreeningInput,
  reviewAbove: Readonly<Record<string, number>> = DEFAULT_REVIEW_ABOVE,
): RuleOutcome {
  const at = input.email.lastIndexOf('@');
  const local = (at < 0 ? input.email : input.email.slice(0, at)).toLowerCase();
  if (local.includes('+reject')) return { decision: 'reject', reasons: ['EMAIL_ON_DENY_LIST'] };
  if (local.includes('+review')) {
    return {
      decision: 'review',
      reasons: ['MANUAL_REVIEW'],
      later: local.includes('+thenreject') ? 'reject' : 'accept',
    };
  }
  const threshold = Object.hasOwn(reviewAbove, input.currency) ? reviewAbove[input.currency] : undefined;
  if (threshold !== undefined && input.amount >= threshold) {
    return { decision: 'review', reasons: ['AMOUNT_ABOVE_REVIEW_THRESHOLD'] };
  }
  return { decision: 'accept', reasons: [] };
}

// ---------------------------------------------------------------------------------------------
// Requests: reading and checking the two shapes

type Rec = Record<string, unknown>;

const isRecord = (value: unknown): value is Rec =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A nested value by keys and array indexes, undefined wherever the path breaks. */
function dig(value: unknown, ...path: Array<string | number>): unknown {
  let current = value;
  for (const key of path) {
    if (typeof key === 'number') current = Array.isArray(current) ? current[key] : undefined;
    else current = isRecord(current) ? current[key] : undefined;
  }
  return current;
}

const EMAIL = /^[^@\s]+@[^@\s]+$/;
const COUNTRY = /^[A-Z]{2}$/;

/** Collects problems per field as both APIs report them. */
class Problems {
  readonly byField: Record<string, string[]> = {};
  add(field: string, message: string): void {
    (this.byField[field] ??= []).push(message);
  }
  get empty(): boolean {
    return Object.keys(this.byField).length === 0;
  }
  /** An optional string field matching `pattern` (when given). */
  optional(field: string, value: unknown, pattern?: RegExp): string | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' || value === '') this.add(field, 'must be a non-empty string');
    else if (pattern && !pattern.test(value)) this.add(field, `must match ${String(pattern)}`);
    else return value;
    return undefined;
  }
}

function readGeneric(body: unknown): { input: ScreeningInput; callbackUrl?: string } | Problems {
  const p = new Problems();
  if (!isRecord(body)) {
    p.add('body', 'must be a JSON object');
    return p;
  }
  const { orderRef, amount, currency, email } = body;
  if (typeof orderRef !== 'string' || orderRef.trim() === '') p.add('orderRef', 'is required');
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount < 0) {
    p.add('amount', 'must be a whole number of minor units, 0 or more');
  }
  if (typeof currency !== 'string' || currencyMinorUnits(currency) === undefined) {
    p.add('currency', 'must be an ISO 4217 code');
  }
  if (typeof email !== 'string' || !EMAIL.test(email)) p.add('email', 'must be an email address');
  const ip = p.optional('ip', body.ip);
  const billingCountry = p.optional('billingCountry', body.billingCountry, COUNTRY);
  const shippingCountry = p.optional('shippingCountry', body.shippingCountry, COUNTRY);
  const cardToken = p.optional('cardToken', body.cardToken);
  const cardLast4 = p.optional('cardLast4', body.cardLast4, /^\d{4}$/);
  const cardBin = p.optional('cardBin', body.cardBin, /^\d{6,8}$/);
  const customerNo = p.optional('customerNo', body.customerNo);
  const callbackUrl = p.optional('callbackUrl', body.callbackUrl, /^https?:\/\/\S+$/);
  const itemCount = body.itemCount;
  if (itemCount !== undefined && (!Number.isSafeInteger(itemCount) || (itemCount as number) < 0)) {
    p.add('itemCount', 'must be a whole number, 0 or more');
  }
  if (!p.empty) return p;
  return {
    input: {
      api: 'generic',
      orderRef: orderRef as string,
      amount: amount as number,
      currency: currency as string,
      email: email as string,
      ip,
      billingCountry,
      shippingCountry,
      cardToken,
      cardLast4,
      cardBin,
      customerNo,
      itemCount: itemCount as number | undefined,
    },
    callbackUrl,
  };
}

function readSignifydSale(body: unknown): ScreeningInput | Problems {
  const p = new Problems();
  if (!isRecord(body)) {
    p.add('body', 'must be a JSON object');
    return p;
  }
  const orderId = body.orderId;
  if (typeof orderId !== 'string' || orderId.trim() === '') p.add('orderId', 'must not be blank');
  const currency = dig(body, 'purchase', 'currency');
  const exponent = typeof currency === 'string' ? currencyMinorUnits(currency) : undefined;
  if (exponent === undefined) p.add('purchase.currency', 'must be an ISO 4217 code');
  // Signifyd carries decimal major units; exactly parsed, never rounded (lib/order/money).
  const total = parseJsonMoney(dig(body, 'purchase', 'totalPrice'), exponent ?? 2);
  if (!total.ok || total.value < 0) p.add('purchase.totalPrice', 'must be a decimal amount, 0 or more');
  const email = dig(body, 'userAccount', 'email') ?? dig(body, 'purchase', 'confirmationEmail');
  if (typeof email !== 'string' || !EMAIL.test(email)) {
    p.add('userAccount.email', 'userAccount.email or purchase.confirmationEmail must be an email address');
  }
  const payment = dig(body, 'transactions', 0, 'checkoutPaymentDetails');
  const ip = p.optional('device.clientIpAddress', dig(body, 'device', 'clientIpAddress'));
  const shippingCountry = p.optional(
    'purchase.shipments[0].destination.address.countryCode',
    dig(body, 'purchase', 'shipments', 0, 'destination', 'address', 'countryCode'),
    COUNTRY,
  );
  const billingCountry = p.optional(
    'transactions[0].checkoutPaymentDetails.billingAddress.countryCode',
    dig(payment, 'billingAddress', 'countryCode'),
    COUNTRY,
  );
  const cardToken = p.optional('transactions[0].checkoutPaymentDetails.cardToken', dig(payment, 'cardToken'));
  const cardBin = p.optional(
    'transactions[0].checkoutPaymentDetails.cardBin',
    dig(payment, 'cardBin'),
    /^\d{6,8}$/,
  );
  const cardLast4 = p.optional(
    'transactions[0].checkoutPaymentDetails.cardLast4',
    dig(payment, 'cardLast4'),
    /^\d{4}$/,
  );
  const customerNo = p.optional('userAccount.accountNumber', dig(body, 'userAccount', 'accountNumber'));
  const products = dig(body, 'purchase', 'products');
  let itemCount: number | undefined;
  if (Array.isArray(products)) {
    itemCount = 0;
    for (const [i, product] of products.entries()) {
      const quantity = dig(product, 'itemQuantity');
      if (typeof quantity === 'number' && Number.isSafeInteger(quantity) && quantity >= 0)
        itemCount += quantity;
      else p.add(`purchase.products[${i}].itemQuantity`, 'must be a whole number, 0 or more');
    }
  }
  if (!p.empty || !total.ok) return p;
  return {
    api: 'signifyd',
    orderRef: orderId as string,
    amount: total.value,
    currency: currency as string,
    email: email as string,
    ip,
    billingCountry,
    shippingCountry,
    cardToken,
    cardLast4,
    cardBin,
    customerNo,
    itemCount,
  };
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers

const MAX_BODY = 1024 * 1024;

/** Read the request and never answer it: the timeout fault. */
const HANG = Symbol('hang');

const HTTP_REASONS: Record<number, string> = {
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

const SIGNIFYD_ACTIONS: Record<FraudDecision, string> = {
  accept: 'ACCEPT',
  review: 'HOLD',
  reject: 'REJECT',
};

/** Signifyd documents that an order updated more than 100 times is rejected. */
const SIGNIFYD_MAX_UPDATES = 100;

/** POSTs one webhook; resolves with the receiver's status. */
function postWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    // agent: false, so no keep-alive socket outlives the sandbox.
    const req = send(url, { method: 'POST', headers, agent: false, signal, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
    req.end(body);
  });
}

// ---------------------------------------------------------------------------------------------
// The server

interface Screening {
  api: ScreeningApi;
  id: string;
  signifydId?: number;
  orderRef: string;
  /** Calls for this order after the first. */
  updates: number;
  callbackUrl?: string;
  /** Set while the provider has yet to decide: by timer (`later`), or by resolve(). */
  awaiting?: { timer?: NodeJS.Timeout };
}

export async function startFraudSandbox(options: FraudSandboxOptions): Promise<FraudSandbox> {
  const reviewAbove = options.reviewAbove ?? DEFAULT_REVIEW_ABOVE;
  const decisionDelayMs = options.decisionDelayMs ?? 200;
  const webhookAttempts = Math.max(1, options.webhookAttempts ?? 3);
  const webhookRetryDelayMs = options.webhookRetryDelayMs ?? 100;

  // State ------------------------------------------------------------------------------------
  const screenings = new Map<string, Screening>(); // by `${api}:${orderRef}`
  const log: FraudLogEntry[] = [];
  const webhooks: FraudWebhookRecord[] = [];
  const settledWaiters: Array<() => void> = [];
  const shutdown = new AbortController();
  let genericSeq = 0;
  let signifydSeq = 7_000_000_000;
  let faultCalls = 0;
  let deliveries = 0;
  let closed = false;
  let listening = false;

  const faults: FraudFaultState = {
    latencyMs: 0,
    errorRate: 0,
    rateLimitRate: 0,
    timeoutRate: 0,
    retryAfterSeconds: 1,
    seed: 1,
  };
  const setFaults = (changes: FraudFaults): void => {
    const next = { ...faults };
    if (changes.latencyMs !== undefined) {
      if (!(changes.latencyMs >= 0)) throw new RangeError(`latencyMs must be >= 0, got ${changes.latencyMs}`);
      next.latencyMs = changes.latencyMs;
    }
    if (changes.errorRate !== undefined) next.errorRate = checkRate('errorRate', changes.errorRate);
    if (changes.rateLimitRate !== undefined)
      next.rateLimitRate = checkRate('rateLimitRate', changes.rateLimitRate);
    if (changes.timeoutRate !== undefined) next.timeoutRate = checkRate('timeoutRate', changes.timeoutRate);
    if (next.errorRate + next.rateLimitRate + next.timeoutRate > 1) {
      throw new RangeError('errorRate + rateLimitRate + timeoutRate must not exceed 1');
    }
    if (changes.retryAfterSeconds !== undefined) next.retryAfterSeconds = changes.retryAfterSeconds;
    if (changes.seed !== undefined) next.seed = changes.seed;
    Object.assign(faults, next); // all or nothing: a rejected change leaves the faults as they were
  };
  setFaults(options.faults ?? {});
  const faultControls: FraudFaultControls = {
    set: setFaults,
    setLatency: (ms) => setFaults({ latencyMs: ms }),
    setErrorRate: (rate) => setFaults({ errorRate: rate }),
    setRateLimitRate: (rate, retryAfterSeconds) => setFaults({ rateLimitRate: rate, retryAfterSeconds }),
    setTimeoutRate: (rate) => setFaults({ timeoutRate: rate }),
    reset: () => setFaults({ latencyMs: 0, errorRate: 0, rateLimitRate: 0, timeoutRate: 0 }),
    current: () => ({ ...faults }),
  };

  // Webhooks ---------------------------------------------------------------------------------
  const busy = (): boolean =>
    deliveries > 0 || [...screenings.values()].some((s) => s.awaiting?.timer !== undefined);
  const notifySettled = (): void => {
    if (busy()) return;
    for (const wake of settledWaiters.splice(0)) wake();
  };

  const deliver = async (record: FraudWebhookRecord): Promise<void> => {
    const url = record.url;
    if (url === undefined) {
      record.status = 'failed';
      record.error = 'no callbackUrl in the request and no webhookUrl configured';
      return;
    }
    deliveries++;
    try {
      for (let attempt = 1; attempt <= webhookAttempts; attempt++) {
        record.attempts = attempt;
        try {
          const status = await postWebhook(url, record.body, { ...record.headers }, shutdown.signal);
          record.responseStatus = status;
          if (status >= 200 && status < 300) {
            record.status = 'delivered';
            record.error = undefined;
            return;
          }
          record.error = `HTTP ${status}`;
        } catch (error) {
          record.error = error instanceof Error ? error.message : String(error);
        }
        if (shutdown.signal.aborted) break;
        if (attempt < webhookAttempts) {
          await delay(webhookRetryDelayMs * 2 ** (attempt - 1), undefined, { signal: shutdown.signal }).catch(
            () => undefined,
          );
          if (shutdown.signal.aborted) break;
        }
      }
      record.status = 'failed';
    } finally {
      deliveries--;
      notifySettled();
    }
  };

  /** The provider's final decision on a screening awaiting one: record and send its webhook. */
  const decide = (screening: Screening, decision: 'accept' | 'reject', reasons: string[]): void => {
    clearTimeout(screening.awaiting?.timer);
    screening.awaiting = undefined;
    const score = riskScore(screening.orderRef, decision);
    let body: string;
    let headers: Record<string, string>;
    let url: string | undefined;
    if (screening.api === 'generic') {
      body = JSON.stringify({ id: screening.id, orderRef: screening.orderRef, decision, score, reasons });
      headers = signWebhook('generic', body, options.webhookSecret);
      url = screening.callbackUrl ?? options.webhookUrl;
    } else {
      body = JSON.stringify({
        signifydId: screening.signifydId,
        orderId: screening.orderRef,
        decision: {
          createdAt: new Date().toISOString(),
          checkpointAction: SIGNIFYD_ACTIONS[decision],
          checkpointActionReason: reasons[0],
          score: 1000 - score,
        },
      });
      headers = {
        [SIGNIFYD_CHECKPOINT_HEADER]: 'SALE',
        ...signWebhook('signifyd', body, options.teamApiKey),
      };
      url = options.signifydWebhookUrl ?? options.webhookUrl;
    }
    const record: FraudWebhookRecord = {
      seq: webhooks.length + 1,
      api: screening.api,
      orderRef: screening.orderRef,
      decision,
      url,
      body,
      headers: { 'content-type': 'application/json', ...headers },
      status: 'pending',
      attempts: 0,
    };
    webhooks.push(record);
    void deliver(record).finally(notifySettled);
  };

  // Screening --------------------------------------------------------------------------------
  const screen = (input: ScreeningInput, callbackUrl: string | undefined, entry: FraudLogEntry): Reply => {
    const key = `${input.api}:${input.orderRef}`;
    let screening = screenings.get(key);
    if (screening) {
      screening.updates++;
      // A new decision replaces one still awaited.
      clearTimeout(screening.awaiting?.timer);
      screening.awaiting = undefined;
    } else {
      screening =
        input.api === 'generic'
          ? {
              api: 'generic',
              id: `scr_${String(++genericSeq).padStart(6, '0')}`,
              orderRef: input.orderRef,
              updates: 0,
            }
          : {
              api: 'signifyd',
              id: String(++signifydSeq),
              signifydId: signifydSeq,
              orderRef: input.orderRef,
              updates: 0,
            };
      screenings.set(key, screening);
    }
    screening.callbackUrl = callbackUrl;
    let outcome = options.decide?.(input) ?? defaultRules(input, reviewAbove);
    if (input.api === 'signifyd' && screening.updates > SIGNIFYD_MAX_UPDATES) {
      outcome = { decision: 'reject', reasons: ['TOO_MANY_UPDATES'] };
    }
    const score = outcome.score ?? riskScore(input.orderRef, outcome.decision);
    const reasons = outcome.reasons ?? [];
    const later = outcome.decision === 'review' ? outcome.later : undefined;
    const current = screening;
    if (later !== undefined) {
      const timer = setTimeout(() => {
        decide(current, later, [later === 'accept' ? 'REVIEW_APPROVED' : 'REVIEW_DECLINED']);
      }, decisionDelayMs);
      current.awaiting = { timer };
    } else if (input.api === 'signifyd' && outcome.decision === 'review') {
      current.awaiting = {}; // a HOLD with no decision planned: resolve() plays the reviewer
    }
    entry.decision = current.awaiting ? 'pending' : outcome.decision;
    if (input.api === 'generic') {
      return {
        status: 200,
        body: { id: current.id, orderRef: input.orderRef, decision: entry.decision, score, reasons },
      };
    }
    return {
      status: 200,
      body: {
        signifydId: current.signifydId,
        orderId: input.orderRef,
        decision: {
          createdAt: new Date().toISOString(),
          checkpointAction: SIGNIFYD_ACTIONS[outcome.decision],
          checkpointActionReason: reasons[0],
          score: 1000 - score,
        },
      },
    };
  };

  // Requests ---------------------------------------------------------------------------------
  let traceSeq = 0;
  const errorReply = (
    api: ScreeningApi,
    status: number,
    code: string,
    message: string,
    extra?: Rec,
  ): Reply =>
    api === 'generic'
      ? { status, body: { error: { code, message, ...extra } } }
      : { status, body: { traceId: `trace-${++traceSeq}`, errors: { [code]: [message] } } };

  /** Undefined when the credentials are right; else the 401. */
  const unauthorized = (api: ScreeningApi, req: IncomingMessage): Reply | undefined => {
    const header = req.headers.authorization ?? '';
    if (api === 'generic') {
      if (header === `Bearer ${options.apiKey}`) return undefined;
      return {
        ...errorReply(api, 401, 'UNAUTHORIZED', 'A valid Bearer API key is required'),
        headers: { 'www-authenticate': 'Bearer realm="fraud-sandbox"' },
      };
    }
    const match = /^Basic\s+(\S+)$/i.exec(header);
    const decoded = match ? Buffer.from(match[1], 'base64').toString('utf8') : undefined;
    // Documented: base64("key:"); an older Signifyd guide says to encode the bare key, also taken.
    if (decoded === `${options.teamApiKey}:` || decoded === options.teamApiKey) return undefined;
    return {
      ...errorReply(api, 401, 'authorization', 'Unauthorized: unknown team API key'),
      headers: { 'www-authenticate': 'Basic realm="Signifyd"' },
    };
  };

  /** Undefined, the injected 429 / 5xx for this call, or HANG. */
  const injected = (api: ScreeningApi, entry: FraudLogEntry): Reply | typeof HANG | undefined => {
    const n = ++faultCalls;
    const draw = seededUnit(faults.seed, 'fault', n);
    if (draw < faults.rateLimitRate) {
      entry.fault = 'rate-limit';
      return {
        ...errorReply(api, 429, 'RATE_LIMITED', 'Too many requests, retry later'),
        headers: { 'retry-after': String(faults.retryAfterSeconds) },
      };
    }
    if (draw < faults.rateLimitRate + faults.errorRate) {
      entry.fault = 'error';
      const status = [500, 502, 503][Math.floor(seededUnit(faults.seed, 'status', n) * 3)];
      return errorReply(api, status, 'PROVIDER_ERROR', `${HTTP_REASONS[status]} (injected fault)`);
    }
    if (draw < faults.rateLimitRate + faults.errorRate + faults.timeoutRate) {
      entry.fault = 'timeout';
      return HANG;
    }
    return undefined;
  };

  const route = (
    req: IncomingMessage,
    path: string,
    text: string,
    entry: FraudLogEntry,
  ): Reply | typeof HANG => {
    const api: ScreeningApi | undefined =
      path === '/v1/screen' ? 'generic' : path === '/v3/orders/events/sales' ? 'signifyd' : undefined;
    if (!api)
      return {
        status: 404,
        body: { error: { code: 'NOT_FOUND', message: `No route ${entry.method} ${path}` } },
      };
    entry.api = api;
    if (entry.method !== 'POST') {
      return { ...errorReply(api, 405, 'METHOD_NOT_ALLOWED', 'Use POST'), headers: { allow: 'POST' } };
    }
    const denied = unauthorized(api, req);
    if (denied) return denied;
    const fault = injected(api, entry);
    if (fault) return fault;
    let body: unknown;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      return errorReply(api, 400, 'MALFORMED_JSON', 'The body is not JSON');
    }
    if (isRecord(body)) {
      const ref = api === 'generic' ? body.orderRef : body.orderId;
      if (typeof ref === 'string') entry.orderRef = ref;
    }
    if (api === 'generic') {
      const read = readGeneric(body);
      if (read instanceof Problems) {
        return errorReply(api, 422, 'INVALID_REQUEST', 'The screening request is invalid', {
          fields: read.byField,
        });
      }
      return screen(read.input, read.callbackUrl, entry);
    }
    const read = readSignifydSale(body);
    // Signifyd answers validation failures 400 with the problems per field.
    if (read instanceof Problems)
      return { status: 400, body: { traceId: `trace-${++traceSeq}`, errors: read.byField } };
    return screen(read, undefined, entry);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const entry: FraudLogEntry = {
      at: Date.now(),
      method: req.method ?? 'GET',
      path: url.pathname,
      status: 0,
    };
    let reply: Reply | typeof HANG;
    try {
      const text = await readBody(req, MAX_BODY);
      if (faults.latencyMs > 0) await delay(faults.latencyMs);
      // A request still in flight when the sandbox closed decides nothing.
      if (closed) {
        res.destroy();
        return;
      }
      reply = route(req, url.pathname, text, entry);
    } catch (error) {
      reply =
        error instanceof BodyTooLarge
          ? { status: 413, body: { error: { code: 'TOO_LARGE', message: 'Request body too large' } } }
          : {
              status: 500,
              body: {
                error: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) },
              },
            };
    }
    log.push(entry);
    // Never answered: the socket stays open until the client gives up, down() or close().
    if (reply === HANG || res.destroyed) return;
    entry.status = reply.status;
    const payload = JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      'content-type': 'application/json;charset=UTF-8',
      'content-length': String(Buffer.byteLength(payload)),
      ...reply.headers,
    });
    res.end(payload);
  };

  // Listening --------------------------------------------------------------------------------
  const server = createServer((req, res) => {
    void handle(req, res);
  });
  let port = options.port ?? 0;
  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        port = (server.address() as AddressInfo).port;
        listening = true;
        resolve();
      });
    });
  const stopListening = (): Promise<void> =>
    new Promise((resolve, reject) => {
      if (!listening) {
        resolve();
        return;
      }
      listening = false;
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections(); // also the requests left hanging by the timeout fault
    });
  await listen();

  const snapshot = <T>(value: T): T => structuredClone(value);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    faults: faultControls,
    log: () => Object.freeze(log.map((e) => Object.freeze(snapshot(e)))),
    webhooks: () => Object.freeze(webhooks.map((w) => Object.freeze(snapshot(w)))),
    pending: () =>
      [...screenings.values()].filter((s) => s.awaiting).map((s) => ({ api: s.api, orderRef: s.orderRef })),
    resolve: (orderRef, decision, api) => {
      const apis: ScreeningApi[] = api ? [api] : ['generic', 'signifyd'];
      for (const candidate of apis) {
        const screening = screenings.get(`${candidate}:${orderRef}`);
        if (screening?.awaiting && !closed) {
          decide(screening, decision, [decision === 'accept' ? 'REVIEW_APPROVED' : 'REVIEW_DECLINED']);
          return true;
        }
      }
      return false;
    },
    webhooksSettled: () =>
      new Promise<void>((resolve) => {
        settledWaiters.push(resolve);
        notifySettled();
      }),
    down: stopListening,
    up: async () => {
      if (closed) throw new Error('The fraud sandbox is closed');
      if (!listening) await listen();
    },
    close: async () => {
      closed = true;
      for (const s of screenings.values()) clearTimeout(s.awaiting?.timer);
      for (const s of screenings.values()) if (s.awaiting) s.awaiting.timer = undefined;
      shutdown.abort();
      await stopListening();
      notifySettled();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// CLI: node dist/sandbox/fraud/server.js [--port P] [--api-key ..] [--webhook-secret ..]
//      [--team-api-key ..] [--webhook-url ..] [--decision-delay MS]
// prints one JSON line {url, port} and serves until SIGINT/SIGTERM.

export const FRAUD_SANDBOX_DEFAULT_CREDENTIALS = {
  apiKey: 'fraud-sandbox-key',
  webhookSecret: 'fraud-sandbox-webhook-secret',
  teamApiKey: 'signifyd-sandbox-team-key',
} as const;

async function main(args: readonly string[]): Promise<void> {
  const number = (name: string): number | undefined => numberArg(args, name);
  const d = FRAUD_SANDBOX_DEFAULT_CREDENTIALS;
  const sandbox = await startFraudSandbox({
    port: number('--port') ?? 0,
    apiKey: argValue(args, '--api-key') ?? d.apiKey,
    webhookSecret: argValue(args, '--webhook-secret') ?? d.webhookSecret,
    teamApiKey: argValue(args, '--team-api-key') ?? d.teamApiKey,
    webhookUrl: argValue(args, '--webhook-url'),
    decisionDelayMs: number('--decision-delay'),
  });
  process.stdout.write(`${JSON.stringify({ url: sandbox.url, port: sandbox.port })}\n`);
  const stop = (): void => {
    void sandbox.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`fraud-sandbox: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
