// Fraud-screening provider clients: one provider-neutral `screen()` over two API shapes, every
// call through lib/reliability (retry, Retry-After, circuit breaker) as lib/fluent/client.ts does.
//
// - generic: `POST /v1/screen`, `Authorization: Bearer <apiKey>`, amounts in minor units; an async
//   review answers `pending` and is decided later by a webhook signed
//   `X-OMS-Signature: sha256=<hex HMAC-SHA256(body, webhookSecret)>`.
// - signifyd: Signifyd v3 Sale, `POST /v3/orders/events/sales`, HTTP Basic with the team API key as
//   the user name and no password (base64 of `key:`), amounts as decimal major units. HOLD is
//   decided later by a webhook signed `SIGNIFYD-SEC-HMAC-SHA256: base64(HMAC-SHA256(body, key))`.
//
// `score` in a ProviderDecision is risk on 0..1000, higher = riskier. Signifyd scores the other
// way round (higher = safer), so its score is turned round here; the provider's answer is in `raw`.
// Facts: ../shared/domain/fluent-wms-fraud-payment.md §5.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { currencyMinorUnits } from '../order/iso';
import { moneyToJsonNumber } from '../order/money';
import {
  CircuitBreaker,
  parseRetryAfter,
  peerCodeClassifier,
  withRetry,
  type BreakerOptions,
  type RetryPolicy,
} from '../reliability';
import { HttpClient, HttpTimeoutError, type HttpResponse } from '../transport/http';

export type FraudProviderKind = 'generic' | 'signifyd';
export type FraudDecision = 'accept' | 'review' | 'reject';

export interface FraudProviderSettings {
  kind: FraudProviderKind;
  /** e.g. https://api.signifyd.com (no trailing slash needed). */
  baseUrl: string;
  /** generic: the Bearer key. signifyd: the team API key (Basic user name and webhook secret). */
  apiKey: string;
  /** generic only: the secret its webhooks are signed with. */
  webhookSecret?: string;
  /** Per HTTP request (default 10 s: screening sits on the order path). */
  timeoutMs?: number;
}

export interface ScreeningItem {
  sku: string;
  name?: string;
  quantity: number;
  /** Minor units of the request's currency. */
  unitPrice: number;
}

/** What is screened, whatever the provider. */
export interface ScreeningRequest {
  orderRef: string;
  /** Order total in minor units of `currency` (10699 = 106.99 EUR). */
  amount: number;
  /** ISO 4217, e.g. 'EUR'. */
  currency: string;
  email: string;
  ip?: string;
  /** ISO 3166-1 alpha-2. */
  billingCountry?: string;
  shippingCountry?: string;
  cardToken?: string;
  cardLast4?: string;
  cardBin?: string;
  customerNo?: string;
  /** Number of units ordered; derived from `items` when absent. */
  itemCount?: number;
  items?: ScreeningItem[];
  /** The payment authorisation's id (Signifyd's Sale carries it); default the order ref. */
  transactionId?: string;
  /** generic only: where the webhook of an async review goes (else the provider's configured URL). */
  callbackUrl?: string;
  /** ISO 8601 order time; default now. */
  createdAt?: string;
}

export interface ProviderDecision {
  decision: FraudDecision;
  /** True when a webhook will bring the final decision (generic `pending`, Signifyd HOLD). */
  pending: boolean;
  /** Risk 0..1000, higher = riskier (Signifyd's own score turned round). */
  score?: number;
  reasons: string[];
  /** The provider's id of the screening (generic `id`, Signifyd `signifydId`). */
  providerRef: string;
  raw?: unknown;
}

/**
 * A failed screening call. OMS_FRAUD_AUTH (401/403), OMS_FRAUD_BAD_REQUEST (400/422, or a request
 * refused before sending) and OMS_FRAUD_RESPONSE (an answer that cannot be read) are permanent;
 * OMS_FRAUD_TIMEOUT and network codes (ECONNREFUSED …) are retryable; HTTP_<status> is retryable
 * for 408, 425, 429 and 5xx.
 */
export class FraudProviderError extends Error {
  override name = 'FraudProviderError';
  readonly status?: number;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  constructor(
    message: string,
    readonly code: string,
    options: { status?: number; retryable?: boolean; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status;
    this.retryable = options.retryable ?? fraudStatusIsRetryable(options.status);
    this.retryAfterMs = options.retryAfterMs;
  }
}

function fraudStatusIsRetryable(status: number | undefined): boolean {
  if (status === undefined) return false;
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

// Classification survives Node-RED's msg.error copy (only message and code are kept).
peerCodeClassifier.register(
  {
    OMS_FRAUD_AUTH: 'permanent',
    OMS_FRAUD_BAD_REQUEST: 'permanent',
    OMS_FRAUD_RESPONSE: 'permanent',
    OMS_FRAUD_TIMEOUT: 'retryable',
    OMS_FRAUD_NETWORK: 'retryable',
  },
  [],
  'Fraud',
);

export const DEFAULT_FRAUD_POLICY: RetryPolicy = {
  attempts: 4,
  initialDelayMs: 250,
  multiplier: 2,
  maxDelayMs: 5_000,
  deadlineMs: 30_000,
  jitter: 'full',
};

// ---------------------------------------------------------------------------------------------
// Webhooks

export type WebhookVerification =
  | {
      ok: true;
      orderRef: string;
      decision: FraudDecision;
      providerRef: string;
      score?: number;
      reasons: string[];
    }
  | { ok: false; reason: string };

/** Header names as the providers document them (HTTP header names are case-insensitive). */
export const GENERIC_SIGNATURE_HEADER = 'X-OMS-Signature';
export const SIGNIFYD_SIGNATURE_HEADER = 'SIGNIFYD-SEC-HMAC-SHA256';
export const SIGNIFYD_CHECKPOINT_HEADER = 'signifyd-checkpoint';

const hmac = (rawBody: Buffer | string, secret: string): Buffer =>
  createHmac('sha256', secret).update(rawBody).digest();

/** The signature header(s) a provider of `kind` sends with `rawBody`. */
export function signWebhook(
  kind: FraudProviderKind,
  rawBody: Buffer | string,
  secret: string,
): Record<string, string> {
  const mac = hmac(rawBody, secret);
  return kind === 'generic'
    ? { [GENERIC_SIGNATURE_HEADER]: `sha256=${mac.toString('hex')}` }
    : { [SIGNIFYD_SIGNATURE_HEADER]: mac.toString('base64') };
}

/** One header's value, any case; a repeated header is an error (which copy would be signed?). */
function singleHeader(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined | Error {
  const lower = name.toLowerCase();
  const values: string[] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== lower || value === undefined) continue;
    values.push(...(Array.isArray(value) ? value : [value]));
  }
  if (values.length > 1) return new Error(`more than one ${name} header`);
  return values[0];
}

const HEX_SHA256 = /^sha256=([0-9a-fA-F]{64})$/;
// 32 bytes in standard base64: 43 characters and one '=' (Buffer.from would accept anything).
const BASE64_SHA256 = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((v) => typeof v === 'string');

/**
 * Checks a webhook's signature against `secret` (generic: the webhook secret; signifyd: the team
 * API key) in constant time, then reads the decision from the body. Unsigned, malformed or wrong
 * signatures and bodies that are not a decision are refused with a reason.
 */
export function verifyWebhook(
  kind: FraudProviderKind,
  headers: Record<string, string | string[] | undefined>,
  rawBody: Buffer,
  secret: string,
): WebhookVerification {
  // An empty key would make the HMAC computable by anyone: refuse rather than "verify".
  if (!secret) return { ok: false, reason: 'no webhook secret is configured' };
  const name = kind === 'generic' ? GENERIC_SIGNATURE_HEADER : SIGNIFYD_SIGNATURE_HEADER;
  const header = singleHeader(headers, name);
  if (header instanceof Error) return { ok: false, reason: header.message };
  if (header === undefined || header.trim() === '')
    return { ok: false, reason: `unsigned: no ${name} header` };
  let given: Buffer;
  if (kind === 'generic') {
    const match = HEX_SHA256.exec(header.trim());
    if (!match) return { ok: false, reason: `malformed ${name}: expected sha256=<64 hex digits>` };
    given = Buffer.from(match[1], 'hex');
  } else {
    if (!BASE64_SHA256.test(header.trim())) {
      return { ok: false, reason: `malformed ${name}: expected the base64 of 32 bytes` };
    }
    given = Buffer.from(header.trim(), 'base64');
  }
  const expected = hmac(rawBody, secret);
  // Both are 32 bytes here (the patterns guarantee it), as timingSafeEqual requires.
  if (!timingSafeEqual(given, expected)) return { ok: false, reason: `wrong signature in ${name}` };

  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString('utf8')) as unknown;
  } catch {
    return { ok: false, reason: 'the body is not JSON' };
  }
  const read = kind === 'generic' ? readGenericDecision(body, false) : readSignifydDecision(body);
  if (typeof read === 'string') return { ok: false, reason: read };
  if (!read.orderRef) return { ok: false, reason: 'the body names no order' };
  const { orderRef, decision, providerRef, score, reasons } = read;
  return { ok: true, orderRef, decision, providerRef, ...(score === undefined ? {} : { score }), reasons };
}

// ---------------------------------------------------------------------------------------------
// Reading answers (shared by screen() and verifyWebhook)

type ReadDecision = ProviderDecision & { orderRef?: string };

function readGenericDecision(body: unknown, allowPending: boolean): ReadDecision | string {
  if (!isRecord(body)) return 'the body is not an object';
  const { id, orderRef, decision, score, reasons } = body;
  if (typeof id !== 'string' || id === '') return 'no screening id';
  const known = decision === 'accept' || decision === 'review' || decision === 'reject';
  if (!known && !(allowPending && decision === 'pending')) {
    return `unknown decision ${JSON.stringify(decision)}`;
  }
  if (score !== undefined && (typeof score !== 'number' || !Number.isFinite(score)))
    return 'score is not a number';
  if (reasons !== undefined && !isStringArray(reasons)) return 'reasons is not a list of strings';
  return {
    decision: decision === 'pending' ? 'review' : decision,
    pending: decision === 'pending',
    ...(score === undefined ? {} : { score }),
    reasons: reasons ?? [],
    providerRef: id,
    orderRef: typeof orderRef === 'string' ? orderRef : undefined,
    raw: body,
  };
}

const SIGNIFYD_ACTIONS: Record<string, FraudDecision> = {
  ACCEPT: 'accept',
  HOLD: 'review',
  REJECT: 'reject',
};

function readSignifydDecision(body: unknown): ReadDecision | string {
  if (!isRecord(body)) return 'the body is not an object';
  const { signifydId, orderId, decision } = body;
  if ((typeof signifydId !== 'number' && typeof signifydId !== 'string') || signifydId === '') {
    return 'no signifydId';
  }
  if (!isRecord(decision)) return 'no decision object';
  const { checkpointAction, checkpointActionReason, score } = decision;
  const mapped = typeof checkpointAction === 'string' ? SIGNIFYD_ACTIONS[checkpointAction] : undefined;
  if (!mapped) return `unknown checkpointAction ${JSON.stringify(checkpointAction)}`;
  if (score !== undefined && score !== null && (typeof score !== 'number' || !Number.isFinite(score))) {
    return 'score is not a number';
  }
  return {
    decision: mapped,
    // A HOLD is decided later by Signifyd's review or the merchant's, and announced by webhook.
    pending: mapped === 'review',
    ...(typeof score === 'number' ? { score: 1000 - score } : {}),
    reasons:
      typeof checkpointActionReason === 'string' && checkpointActionReason ? [checkpointActionReason] : [],
    providerRef: String(signifydId),
    orderRef: typeof orderId === 'string' ? orderId : undefined,
    raw: body,
  };
}

// ---------------------------------------------------------------------------------------------
// Building requests

const omitEmpty = <T extends Record<string, unknown>>(value: T): T | undefined =>
  Object.values(value).some((v) => v !== undefined) ? value : undefined;

/** The request problems worth refusing before anything is sent (they can only fail). */
function requestProblems(r: ScreeningRequest): string[] {
  const problems: string[] = [];
  if (typeof r.orderRef !== 'string' || r.orderRef.trim() === '') problems.push('orderRef is empty');
  if (!Number.isSafeInteger(r.amount) || r.amount < 0) {
    problems.push(`amount must be a whole number of minor units, 0 or more; got ${String(r.amount)}`);
  }
  if (currencyMinorUnits(r.currency) === undefined)
    problems.push(`unknown currency ${JSON.stringify(r.currency)}`);
  if (typeof r.email !== 'string' || r.email === '') problems.push('email is empty');
  for (const item of r.items ?? []) {
    if (!Number.isSafeInteger(item.unitPrice) || !Number.isSafeInteger(item.quantity)) {
      problems.push(`item ${item.sku}: unitPrice and quantity must be whole numbers`);
    }
  }
  return problems;
}

function itemCountOf(r: ScreeningRequest): number | undefined {
  return r.itemCount ?? r.items?.reduce((sum, item) => sum + item.quantity, 0);
}

function genericBody(r: ScreeningRequest): Record<string, unknown> {
  return {
    orderRef: r.orderRef,
    amount: r.amount,
    currency: r.currency,
    email: r.email,
    ip: r.ip,
    billingCountry: r.billingCountry,
    shippingCountry: r.shippingCountry,
    cardToken: r.cardToken,
    cardLast4: r.cardLast4,
    cardBin: r.cardBin,
    customerNo: r.customerNo,
    itemCount: itemCountOf(r),
    callbackUrl: r.callbackUrl,
  };
}

/** A Signifyd v3 Sale: the subset of its fields a screening request can fill. */
function signifydSale(r: ScreeningRequest, now: number): Record<string, unknown> {
  const exponent = currencyMinorUnits(r.currency) ?? 2; // checked by requestProblems
  const major = (minor: number): number => moneyToJsonNumber(minor, exponent);
  const card = omitEmpty({
    cardToken: r.cardToken,
    cardBin: r.cardBin,
    cardLast4: r.cardLast4,
    billingAddress: r.billingCountry ? { countryCode: r.billingCountry } : undefined,
  });
  return {
    orderId: r.orderRef,
    purchase: {
      createdAt: r.createdAt ?? new Date(now).toISOString(),
      orderChannel: 'WEB',
      totalPrice: major(r.amount),
      currency: r.currency,
      confirmationEmail: r.email,
      products: r.items?.map((item) => ({
        itemId: item.sku,
        itemName: item.name ?? item.sku,
        itemQuantity: item.quantity,
        itemPrice: major(item.unitPrice),
      })),
      shipments: r.shippingCountry
        ? [{ destination: { address: { countryCode: r.shippingCountry } } }]
        : undefined,
    },
    userAccount: omitEmpty({ email: r.email, accountNumber: r.customerNo }),
    device: r.ip ? { clientIpAddress: r.ip } : undefined,
    transactions: [
      {
        transactionId: r.transactionId ?? r.orderRef,
        gatewayStatusCode: 'SUCCESS',
        paymentMethod: 'CREDIT_CARD',
        amount: major(r.amount),
        currency: r.currency,
        checkoutPaymentDetails: card,
      },
    ],
    coverageRequests: ['FRAUD'],
  };
}

// ---------------------------------------------------------------------------------------------
// The client

export class FraudProviderClient {
  readonly breaker: CircuitBreaker;
  private readonly base: string;

  constructor(
    readonly settings: FraudProviderSettings,
    private readonly http: HttpClient = new HttpClient({ timeoutMs: settings.timeoutMs ?? 10_000 }),
    private readonly policy: RetryPolicy = DEFAULT_FRAUD_POLICY,
    breaker: BreakerOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.base = settings.baseUrl.replace(/\/+$/, '');
    // Opens when at least half of 10+ calls in 10 s failed transiently: the provider is down.
    this.breaker = new CircuitBreaker({
      name: `fraud:${settings.kind}:${this.base}`,
      minimumRequests: 10,
      openMs: 10_000,
      ...breaker,
    });
  }

  /** The secret this provider's webhooks are signed with. */
  get webhookSecret(): string {
    return this.settings.kind === 'signifyd' ? this.settings.apiKey : (this.settings.webhookSecret ?? '');
  }

  /** verifyWebhook with this provider's kind and secret. */
  verifyWebhook(
    headers: Record<string, string | string[] | undefined>,
    rawBody: Buffer,
  ): WebhookVerification {
    return verifyWebhook(this.settings.kind, headers, rawBody, this.webhookSecret);
  }

  /** Screens one order; a review the provider decides later comes back `pending`. */
  screen(request: ScreeningRequest, options: { signal?: AbortSignal } = {}): Promise<ProviderDecision> {
    const problems = requestProblems(request);
    if (problems.length > 0) {
      return Promise.reject(
        new FraudProviderError(
          `Screening request for ${String(request.orderRef)} not sent: ${problems.join('; ')}`,
          'OMS_FRAUD_BAD_REQUEST',
          { retryable: false },
        ),
      );
    }
    const generic = this.settings.kind === 'generic';
    const path = generic ? '/v1/screen' : '/v3/orders/events/sales';
    const what = `${generic ? 'Fraud screening' : 'Signifyd sale'} of ${request.orderRef}`;
    // Built once: a retry re-sends the same order (both APIs treat a repeat as an update).
    const body = JSON.stringify(generic ? genericBody(request) : signifydSale(request, this.now()));
    return withRetry(
      async (_attempt, signal) => {
        const res = await this.post(path, body, what, signal);
        if (res.status !== 200 && res.status !== 201) throw this.httpError(what, res);
        let parsed: unknown;
        try {
          parsed = JSON.parse(res.body) as unknown;
        } catch {
          throw new FraudProviderError(`${what}: the answer is not JSON`, 'OMS_FRAUD_RESPONSE', {
            status: res.status,
            retryable: false,
          });
        }
        const read = generic ? readGenericDecision(parsed, true) : readSignifydDecision(parsed);
        if (typeof read === 'string') {
          throw new FraudProviderError(`${what}: unreadable answer (${read})`, 'OMS_FRAUD_RESPONSE', {
            status: res.status,
            retryable: false,
          });
        }
        const { orderRef: _orderRef, ...decision } = read;
        return decision;
      },
      { policy: this.policy, breaker: this.breaker, signal: options.signal },
    );
  }

  private authorization(): string {
    const { kind, apiKey } = this.settings;
    // Signifyd: the key is the Basic user name, the password is empty (base64 of "key:").
    return kind === 'generic' ? `Bearer ${apiKey}` : `Basic ${Buffer.from(`${apiKey}:`).toString('base64')}`;
  }

  /** One POST; timeouts and socket errors become retryable FraudProviderErrors. */
  private async post(path: string, body: string, what: string, signal: AbortSignal): Promise<HttpResponse> {
    try {
      return await this.http.request({
        method: 'POST',
        url: `${this.base}${path}`,
        headers: {
          authorization: this.authorization(),
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body,
        signal,
      });
    } catch (error) {
      if (signal.aborted) throw error; // withRetry reports the cancellation itself
      if (error instanceof HttpTimeoutError) {
        throw new FraudProviderError(`${what}: ${error.message}`, 'OMS_FRAUD_TIMEOUT', {
          retryable: true,
          cause: error,
        });
      }
      const code = (error as { code?: unknown } | null)?.code;
      const message = error instanceof Error ? error.message : String(error);
      throw new FraudProviderError(
        `${what}: ${this.base} unreachable (${message})`,
        typeof code === 'string' && code !== '' ? code : 'OMS_FRAUD_NETWORK',
        { retryable: true, cause: error },
      );
    }
  }

  private httpError(what: string, res: HttpResponse): FraudProviderError {
    const detail = `${what}: HTTP ${res.status} ${res.body.slice(0, 200)}`;
    if (res.status === 401 || res.status === 403) {
      return new FraudProviderError(detail, 'OMS_FRAUD_AUTH', { status: res.status, retryable: false });
    }
    if (res.status === 400 || res.status === 422) {
      return new FraudProviderError(detail, 'OMS_FRAUD_BAD_REQUEST', {
        status: res.status,
        retryable: false,
      });
    }
    return new FraudProviderError(detail, `HTTP_${res.status}`, {
      status: res.status,
      retryAfterMs: parseRetryAfter(res.headers['retry-after'], this.now()),
    });
  }

  close(): void {
    this.http.close();
  }
}
