// Fluent Commerce API client: OAuth password grant (token cached, renewed before expiry, one
// request in flight however many callers wait, fetched again once on a 401), GraphQL and the
// Event API, every call through lib/reliability (retry, Retry-After, circuit breaker).
// Facts: ../shared/domain/fluent-wms-fraud-payment.md §1.
import {
  CircuitBreaker,
  peerCodeClassifier,
  withRetry,
  type BreakerOptions,
  type RetryPolicy,
} from '../reliability';
import { HttpClient, type HttpResponse } from '../transport/http';

export interface FluentSettings {
  /** e.g. https://ACCOUNT.sandbox.api.fluentretail.com (no trailing slash needed). */
  baseUrl: string;
  retailerId: string;
  clientId: string;
  clientSecret: string;
  username: string;
  password: string;
  /** Per HTTP request (default 30 s). */
  timeoutMs?: number;
}

/** A Fluent GraphQL error: `code` is the Fluent code (C0121E …) when the answer carried one. */
export class FluentError extends Error {
  readonly retryable: boolean;
  constructor(
    message: string,
    readonly code: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'FluentError';
    this.retryable = fluentCodeIsRetryable(code, status);
  }
}

/**
 * C codes are the client's to fix, except the API-limit ones; S and T codes are the platform's
 * or a third party's and mostly pass (the SDK's table: S0001E and S0030E do not).
 */
export function fluentCodeIsRetryable(code: string, status?: number): boolean {
  if (status === 429 || (status !== undefined && status >= 500)) return true;
  if (/^C00(0[0-9]|1[0-9])[EW]$/.test(code)) return code !== 'C0001E'; // limits; "too complex" is not
  if (/^C\d{4}[EW]$/.test(code)) return false;
  if (code === 'S0001E' || code === 'S0030E') return false;
  return /^[ST]\d{4}[EW]$/.test(code);
}

// Classification survives Node-RED's msg.error copy (only message and code are kept).
peerCodeClassifier.register(
  {
    OMS_FLUENT_AUTH: 'permanent',
    OMS_FLUENT_CONFIG: 'permanent',
    OMS_FLUENT_GRAPHQL: 'permanent',
  },
  [
    { test: /^C00(0[02-9]|1[0-9])[EW]$/, kind: 'retryable', label: 'Fluent API limit' }, // as fluentCodeIsRetryable
    { test: /^C\d{4}[EW]$/, kind: 'permanent', label: 'Fluent client error' },
    { test: /^S00(01|30)E$/, kind: 'permanent', label: 'Fluent settings error' },
    { test: /^[ST]\d{4}[EW]$/, kind: 'retryable', label: 'Fluent platform error' },
  ],
  'Fluent',
);

interface Token {
  value: string;
  expiresAt: number;
}

/** Renew this long before the token expires (the SDK does 60 s). */
const EARLY_MS = 60_000;

export const DEFAULT_FLUENT_POLICY: RetryPolicy = {
  attempts: 4,
  initialDelayMs: 500,
  multiplier: 2,
  maxDelayMs: 10_000,
  deadlineMs: 60_000,
  jitter: 'full',
};

export interface GraphqlResult<T> {
  data?: T;
  errors?: Array<{ message: string; extensions?: { code?: string }; path?: unknown }>;
}

export class FluentClient {
  private token?: Token;
  private fetching?: Promise<Token>;
  /** Token requests made (tests check there is one however many callers wait). */
  tokenRequests = 0;
  readonly breaker: CircuitBreaker;
  private readonly base: string;

  constructor(
    readonly settings: FluentSettings,
    private readonly http: HttpClient = new HttpClient({ timeoutMs: settings.timeoutMs }),
    private readonly policy: RetryPolicy = DEFAULT_FLUENT_POLICY,
    breaker: BreakerOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.base = settings.baseUrl.replace(/\/+$/, '');
    // Opens when at least half of 10+ calls in 10 s failed transiently: Fluent is down, stop asking.
    this.breaker = new CircuitBreaker({
      name: `fluent:${this.base}`,
      minimumRequests: 10,
      openMs: 10_000,
      ...breaker,
    });
  }

  /** A valid token: the cached one, or one shared fetch. */
  async accessToken(): Promise<string> {
    if (this.token && this.token.expiresAt - EARLY_MS > this.now()) return this.token.value;
    if (!this.fetching) {
      this.fetching = this.fetchToken().finally(() => (this.fetching = undefined));
    }
    return (await this.fetching).value;
  }

  private async fetchToken(): Promise<Token> {
    const s = this.settings;
    this.tokenRequests++;
    const form = new URLSearchParams({
      grant_type: 'password',
      client_id: s.clientId,
      client_secret: s.clientSecret,
      username: s.username,
      password: s.password,
      scope: 'api',
    });
    const res = await this.http.request({
      method: 'POST',
      url: `${this.base}/oauth/token`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
    });
    if (res.status !== 200) {
      const code = res.status === 401 || res.status === 400 ? 'OMS_FLUENT_AUTH' : `HTTP_${res.status}`;
      throw new FluentError(
        `Fluent refused the token request for ${s.username} at ${this.base}: HTTP ${res.status} ${res.body.slice(0, 200)}`,
        code,
        res.status === 401 || res.status === 400 ? undefined : res.status,
      );
    }
    const body = JSON.parse(res.body) as { access_token?: string; expires_in?: number };
    if (!body.access_token)
      throw new FluentError('Fluent token response has no access_token', 'OMS_FLUENT_AUTH');
    this.token = { value: body.access_token, expiresAt: this.now() + (body.expires_in ?? 3600) * 1000 };
    return this.token;
  }

  /** One authenticated POST, with one token refresh on 401. */
  private async post(path: string, body: unknown): Promise<HttpResponse> {
    for (let refreshed = false; ; refreshed = true) {
      const token = await this.accessToken();
      const res = await this.http.request({
        method: 'POST',
        url: `${this.base}${path}`,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body: JSON.stringify(body),
      });
      if (res.status === 401 && !refreshed) {
        this.token = undefined;
        continue;
      }
      return res;
    }
  }

  private static httpError(what: string, res: HttpResponse, now: number): FluentError {
    const retryAfter = res.headers['retry-after'];
    const seconds = typeof retryAfter === 'string' ? Number(retryAfter) : NaN;
    const date = typeof retryAfter === 'string' && Number.isNaN(seconds) ? Date.parse(retryAfter) : NaN;
    const retryAfterMs = Number.isFinite(seconds)
      ? seconds * 1000
      : Number.isFinite(date)
        ? Math.max(0, date - now)
        : undefined;
    let code = `HTTP_${res.status}`;
    try {
      const body = JSON.parse(res.body) as { errors?: Array<{ extensions?: { code?: string } }> };
      code = body.errors?.[0]?.extensions?.code ?? code;
    } catch {
      // not JSON: the status says it
    }
    return new FluentError(
      `${what}: HTTP ${res.status} ${res.body.slice(0, 200)}`,
      code,
      res.status,
      retryAfterMs,
    );
  }

  /** Runs `attempt` with the retry policy and the breaker; permanent errors come back at once. */
  private retry<T>(attempt: () => Promise<T>): Promise<T> {
    // FluentError says retryable or not (and Retry-After); network errors classify themselves.
    return withRetry(() => attempt(), { policy: this.policy, breaker: this.breaker });
  }

  /** A GraphQL call; the first error in `errors[]` becomes a FluentError with its Fluent code. */
  graphql<T>(query: string, variables: Record<string, unknown>, operationName?: string): Promise<T> {
    return this.retry(async () => {
      const res = await this.post('/graphql', { query, variables, operationName });
      if (res.status !== 200)
        throw FluentClient.httpError(`Fluent GraphQL ${operationName ?? ''}`.trim(), res, this.now());
      const body = JSON.parse(res.body) as GraphqlResult<T>;
      const first = body.errors?.[0];
      if (first) {
        const code =
          first.extensions?.code ?? /^([CST]\d{4}[EW])\b/.exec(first.message)?.[1] ?? 'OMS_FLUENT_GRAPHQL';
        throw new FluentError(
          `Fluent ${operationName ?? 'GraphQL'}: ${first.message}`,
          code,
          undefined,
          undefined,
          body.errors,
        );
      }
      if (body.data === undefined)
        throw new FluentError('Fluent GraphQL answer without data', 'OMS_FLUENT_GRAPHQL');
      return body.data;
    });
  }

  /** Sends an event (`mode` sync waits for the workflow, async does not). */
  event(mode: 'sync' | 'async', event: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.retry(async () => {
      const res = await this.post(`/api/v4.1/event/${mode}`, {
        retailerId: this.settings.retailerId,
        ...event,
      });
      if (res.status !== 200)
        throw FluentClient.httpError(`Fluent event ${String(event.name)}`, res, this.now());
      return JSON.parse(res.body) as Record<string, unknown>;
    });
  }

  close(): void {
    this.http.close();
  }
}
