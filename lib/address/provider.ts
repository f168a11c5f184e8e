// Client for an address validation service speaking plain JSON over HTTP:
//
//   POST {baseUrl}/v1/addresses/validate   Authorization: Bearer <apiKey>
//   { "address": <canonical Address>, "reference": "<orderRef>" }
//   200 { "status": "valid" | "corrected" | "invalid", "address": {…}, "reasons": ["…"],
//         "providerRef": "…" }
//
// Fields the answer leaves out (or sends as null) keep the value sent; an empty string clears one.
// The changes are worked out here (diffAddresses) rather than taken from the provider, so they
// always describe exactly what differs. Every call goes through lib/reliability (retry, Retry-After,
// circuit breaker), like the Fluent client. sandbox/address/server.ts is a local stand-in.
import { z } from 'zod';
import type { Address } from '../order/model';
import {
  CircuitBreaker,
  parseRetryAfter,
  peerCodeClassifier,
  withRetry,
  type BreakerOptions,
  type RetryPolicy,
} from '../reliability';
import { HttpClient, type HttpResponse } from '../transport/http';
import { ADDRESS_FIELDS, type AddressField } from './rules';

export interface AddressProviderSettings {
  /** e.g. https://address.example.com (no trailing slash needed). */
  baseUrl: string;
  apiKey: string;
  /** Per HTTP request (default 10 s). */
  timeoutMs?: number;
}

export type AddressVerdict = 'valid' | 'corrected' | 'invalid';

export interface AddressChange {
  field: AddressField;
  /** Absent when the field was added. */
  from?: string;
  /** Absent when the field was removed. */
  to?: string;
}

export interface AddressValidation {
  /** 'corrected' also when the provider said 'valid' but changed a field. */
  status: AddressVerdict;
  /** The address as the provider would ship to it (for 'invalid': its best attempt). */
  address: Address;
  changes: AddressChange[];
  /** The provider's sentences: why it corrected or refused the address. */
  reasons: string[];
  /** The provider's id of this validation, for support requests. */
  providerRef?: string;
}

export const ADDRESS_PROVIDER_CODES = {
  /** 401 or 403: the API key is wrong, expired or lacks the right. */
  auth: 'OMS_ADDRESS_AUTH',
  /** 400 or 422: the provider cannot read the request. */
  badRequest: 'OMS_ADDRESS_BAD_REQUEST',
  /** A 2xx answer that is not the documented JSON: a contract mismatch, waiting does not fix it. */
  badResponse: 'OMS_ADDRESS_BAD_RESPONSE',
} as const;

// Classification survives Node-RED's msg.error copy (only message and code are kept).
peerCodeClassifier.register(
  {
    [ADDRESS_PROVIDER_CODES.auth]: 'permanent',
    [ADDRESS_PROVIDER_CODES.badRequest]: 'permanent',
    [ADDRESS_PROVIDER_CODES.badResponse]: 'permanent',
  },
  [],
  'Address provider',
);

/** 408, 425, 429 and 5xx pass with time; any other status will be answered the same way again. */
function statusIsRetryable(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/** A failed call to the address provider: `code` is one of ADDRESS_PROVIDER_CODES or HTTP_<status>. */
export class AddressProviderError extends Error {
  override name = 'AddressProviderError';
  readonly retryable: boolean;
  constructor(
    message: string,
    readonly code: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    // Without a status (a malformed answer) nothing suggests a second try would go better.
    this.retryable = status !== undefined && statusIsRetryable(status);
  }
}

export const DEFAULT_ADDRESS_POLICY: RetryPolicy = {
  attempts: 4,
  initialDelayMs: 250,
  multiplier: 2,
  maxDelayMs: 5_000,
  deadlineMs: 30_000,
  jitter: 'full',
};

// null is read as "not given": many JSON services send it for fields they have no opinion on.
const wireText = z.string().nullish();
const WireAddressSchema = z.object({
  firstName: wireText,
  lastName: wireText,
  company: wireText,
  line1: wireText,
  line2: wireText,
  city: wireText,
  postalCode: wireText,
  stateCode: wireText,
  countryCode: wireText,
  phone: wireText,
});
const AnswerSchema = z.object({
  status: z.enum(['valid', 'corrected', 'invalid']),
  address: WireAddressSchema.optional(),
  reasons: z.array(z.string()).optional(),
  providerRef: z.string().optional(),
});

/** Blank and absent are the same: no value. */
const valueOf = (address: Address, field: AddressField): string | undefined =>
  address[field] === '' ? undefined : address[field];

/** The fields whose values differ, in the canonical field order ('' counts as absent). */
export function diffAddresses(before: Address, after: Address): AddressChange[] {
  const changes: AddressChange[] = [];
  for (const field of ADDRESS_FIELDS) {
    const from = valueOf(before, field);
    const to = valueOf(after, field);
    if (from === to) continue;
    const change: AddressChange = { field };
    if (from !== undefined) change.from = from;
    if (to !== undefined) change.to = to;
    changes.push(change);
  }
  return changes;
}

/** The sent address with the provider's answer laid over it. */
function merge(sent: Address, answered: z.infer<typeof WireAddressSchema> | undefined): Address {
  const out: Address = {};
  for (const field of ADDRESS_FIELDS) {
    const given = answered?.[field];
    const value = given === undefined || given === null ? sent[field] : given;
    if (value !== undefined && value !== '') out[field] = value;
  }
  return out;
}

function short(body: string): string {
  const text = body.replace(/\s+/g, ' ').trim();
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

export class AddressProviderClient {
  readonly breaker: CircuitBreaker;
  private readonly base: string;
  private readonly ownsHttp: boolean;
  private readonly http: HttpClient;

  constructor(
    readonly settings: AddressProviderSettings,
    http?: HttpClient,
    private readonly policy: RetryPolicy = DEFAULT_ADDRESS_POLICY,
    breaker: BreakerOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.base = settings.baseUrl.replace(/\/+$/, '');
    this.ownsHttp = http === undefined;
    this.http = http ?? new HttpClient({ timeoutMs: settings.timeoutMs ?? 10_000 });
    // Opens when at least half of 10+ calls in 10 s failed transiently: the provider is down.
    this.breaker = new CircuitBreaker({
      name: `address:${this.base}`,
      minimumRequests: 10,
      openMs: 10_000,
      ...breaker,
    });
  }

  /** Asks the provider about `address`; `orderRef` travels as the request's reference. */
  validate(
    address: Address,
    context: { orderRef: string; signal?: AbortSignal },
  ): Promise<AddressValidation> {
    const body = JSON.stringify({ address, reference: context.orderRef });
    return withRetry(
      async (_attempt, signal) => {
        const res = await this.http.request({
          method: 'POST',
          url: `${this.base}/v1/addresses/validate`,
          headers: {
            authorization: `Bearer ${this.settings.apiKey}`,
            'content-type': 'application/json',
            accept: 'application/json',
          },
          body,
          signal,
        });
        if (res.status < 200 || res.status > 299) throw this.httpError(res, context.orderRef);
        return this.readAnswer(res, address, context.orderRef);
      },
      { policy: this.policy, breaker: this.breaker, signal: context.signal },
    );
  }

  private httpError(res: HttpResponse, orderRef: string): AddressProviderError {
    const what = `Address provider answered HTTP ${res.status} to the validation for order ${orderRef}`;
    const detail = short(res.body);
    const message = detail ? `${what}: ${detail}` : what;
    if (res.status === 401 || res.status === 403) {
      return new AddressProviderError(message, ADDRESS_PROVIDER_CODES.auth, res.status);
    }
    if (res.status === 400 || res.status === 422) {
      return new AddressProviderError(message, ADDRESS_PROVIDER_CODES.badRequest, res.status);
    }
    const retryAfterMs = parseRetryAfter(res.headers['retry-after'], this.now());
    return new AddressProviderError(message, `HTTP_${res.status}`, res.status, retryAfterMs);
  }

  private readAnswer(res: HttpResponse, sent: Address, orderRef: string): AddressValidation {
    const fail = (why: string): AddressProviderError =>
      new AddressProviderError(
        `Address provider's answer for order ${orderRef} ${why}`,
        ADDRESS_PROVIDER_CODES.badResponse,
      );
    let json: unknown;
    try {
      json = JSON.parse(res.body);
    } catch {
      throw fail(`is not JSON: ${short(res.body)}`);
    }
    const parsed = AnswerSchema.safeParse(json);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw fail(`does not have the documented shape: ${first.path.join('.') || '(body)'} ${first.message}`);
    }
    const answer = parsed.data;
    const address = merge(sent, answer.address);
    const changes = diffAddresses(sent, address);
    // A caller reading 'valid' as "ship as sent" must not miss a change the provider made.
    const status = answer.status === 'valid' && changes.length > 0 ? 'corrected' : answer.status;
    const result: AddressValidation = { status, address, changes, reasons: answer.reasons ?? [] };
    if (answer.providerRef !== undefined) result.providerRef = answer.providerRef;
    return result;
  }

  /** Closes the HTTP client if this client made it (one passed in belongs to the caller). */
  close(): void {
    if (this.ownsHttp) this.http.close();
  }
}
