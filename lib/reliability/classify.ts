// Error classification: is a failure worth retrying? Classifiers read plain data (code, status,
// headers, cause) rather than classes, because Node-RED's done(err) copies only message, code,
// stack and cause into msg.error and the oms-retry node classifies that copy.

import { parseRetryAfter } from './retry-after';

export type ErrorClass = 'retryable' | 'permanent';

export interface Classification {
  kind: ErrorClass;
  /** Short label for status text and logs: 'HTTP 503', 'ECONNRESET', 'Fluent C0121E'. */
  reason: string;
  /** A few words on why, e.g. 'server error', 'network error'. */
  detail?: string;
  code?: string;
  status?: number;
  /** The peer's own wish (Retry-After) or the breaker's next trial; overrides computed backoff. */
  retryAfterMs?: number;
}

/** Returns undefined for "no opinion, ask the next classifier". */
export type Classifier = (error: unknown, now: number) => Classification | undefined;
/** A classifier that always answers (ends with a default). */
export type TotalClassifier = (error: unknown, now: number) => Classification;

type Rec = Record<string, unknown>;

function isRecord(value: unknown): value is Rec {
  return typeof value === 'object' && value !== null;
}

const MAX_CHAIN = 16;

/** The error, then its causes (and AggregateError members), outermost first, cycle-safe. */
export function errorChain(error: unknown): Rec[] {
  const out: Rec[] = [];
  const seen = new Set<unknown>();
  const visit = (e: unknown): void => {
    if (!isRecord(e) || seen.has(e) || out.length >= MAX_CHAIN) return;
    seen.add(e);
    out.push(e);
    visit(e.cause);
    if (Array.isArray(e.errors)) for (const inner of e.errors) visit(inner);
  };
  visit(error);
  return out;
}

function codeOf(e: Rec): string | undefined {
  if (typeof e.code === 'string' && e.code !== '') return e.code;
  if (typeof e.code === 'number' && Number.isFinite(e.code)) return String(e.code); // e.g. SFTP status codes
  return undefined;
}

const NAME_PREFIX = /^([A-Za-z_$][\w$]*Error)\b/;

/** The error's name; for Node-RED's msg.error copy (no name) it is read off "Name: message". */
function nameOf(e: Rec): string | undefined {
  if (typeof e.name === 'string' && e.name !== '') return e.name;
  for (const text of [e.message, e.stack]) {
    if (typeof text === 'string') {
      const m = NAME_PREFIX.exec(text);
      if (m) return m[1];
    }
  }
  return undefined;
}

function nonNegative(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

// ---------------------------------------------------------------------------------------------
// Explicit flags and our own codes

/** Codes that only wrap another error; classification looks at their cause instead. */
const WRAPPER_CODES = new Set(['OMS_RETRY_EXHAUSTED']);

/**
 * Explicit intent: `retryable: true|false`, `permanent: true`, ValidationError / OMS_VALIDATION*
 * (bad data never gets better by waiting), OMS_CIRCUIT_OPEN and OMS_TIMEOUT (our own transient
 * errors, recognised by code because the flags do not survive Node-RED's msg.error copy).
 */
export const flagClassifier: Classifier = (error) => {
  for (const e of errorChain(error)) {
    const code = codeOf(e);
    if (code !== undefined && WRAPPER_CODES.has(code)) continue;
    const name = nameOf(e);
    const label = code ?? (name && name !== 'Error' ? name : undefined);
    if (e.retryable === false || e.permanent === true) {
      return { kind: 'permanent', reason: label ?? 'marked permanent', detail: 'marked permanent', code };
    }
    if (name === 'ValidationError' || (code !== undefined && code.startsWith('OMS_VALIDATION'))) {
      return { kind: 'permanent', reason: label ?? 'ValidationError', detail: 'invalid data', code };
    }
    const retryAfterMs = nonNegative(e.retryAfterMs);
    if (code === 'OMS_CIRCUIT_OPEN') {
      return { kind: 'retryable', reason: 'circuit open', detail: 'peer marked down', code, retryAfterMs };
    }
    if (code === 'OMS_TIMEOUT') {
      return { kind: 'retryable', reason: code, detail: 'attempt timed out', code };
    }
    if (e.retryable === true) {
      return {
        kind: 'retryable',
        reason: label ?? 'marked retryable',
        detail: 'marked retryable',
        code,
        retryAfterMs,
      };
    }
  }
  return undefined;
};

// ---------------------------------------------------------------------------------------------
// Peer-specific codes

export interface CodePattern {
  test: RegExp;
  kind: ErrorClass;
  /** Prefix for the reason, e.g. 'Fluent' gives 'Fluent C0121E'. */
  label?: string;
}

export interface CodeClassifier extends Classifier {
  /** Adds codes (exact) and patterns; later registrations win over earlier ones for the same code. */
  register(table: Record<string, ErrorClass>, patterns?: CodePattern[], label?: string): void;
}

/** Classifies by `error.code` (anywhere in the cause chain): exact table first, then patterns. */
export function codeClassifier(
  table: Record<string, ErrorClass> = {},
  patterns: CodePattern[] = [],
  options: { label?: string } = {},
): CodeClassifier {
  const exact = new Map<string, { kind: ErrorClass; label?: string }>();
  const regexps: CodePattern[] = [];
  const register = (t: Record<string, ErrorClass>, p: CodePattern[] = [], label?: string): void => {
    for (const [code, kind] of Object.entries(t)) exact.set(code, { kind, label });
    // Newest first so a later registration can refine an earlier, broader pattern.
    regexps.unshift(...p.map((x) => ({ ...x, label: x.label ?? label })));
  };
  register(table, patterns, options.label);
  const reasonFor = (code: string, label?: string): string => (label ? `${label} ${code}` : code);
  const classify: Classifier = (error) => {
    for (const e of errorChain(error)) {
      const code = codeOf(e);
      if (code === undefined) continue;
      const hit = exact.get(code);
      if (hit) return { kind: hit.kind, reason: reasonFor(code, hit.label), detail: 'peer code', code };
      for (const p of regexps) {
        p.test.lastIndex = 0; // a /g or /y pattern keeps state between calls otherwise
        if (p.test.test(code))
          return { kind: p.kind, reason: reasonFor(code, p.label), detail: 'peer code', code };
      }
    }
    return undefined;
  };
  return Object.assign(classify, { register });
}

/** Shared registry used by defaultClassifier: peer modules register their codes here at load. */
export const peerCodeClassifier: CodeClassifier = codeClassifier();

// The peer clients name an HTTP failure without a peer code HTTP_<status>. Node-RED's copy of an
// error into msg.error keeps only message and code, so the status is read back from the code, with
// the rule of httpClassifier below (newest pattern first: the retryable ones win).
peerCodeClassifier.register({}, [{ test: /^HTTP_4\d\d$/, kind: 'permanent' }], 'HTTP');
peerCodeClassifier.register({}, [{ test: /^HTTP_(?:408|425|429|5\d\d)$/, kind: 'retryable' }], 'HTTP');

// ---------------------------------------------------------------------------------------------
// HTTP

function statusOf(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d{3}$/.test(value.trim()) ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 100 && n <= 599 ? n : undefined;
}

/** Reads a header from a plain object (any case) or a Headers/AxiosHeaders-like `get()`. */
export function headerValue(headers: unknown, name: string): unknown {
  if (!isRecord(headers)) return undefined;
  const lower = name.toLowerCase();
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() === lower) return headers[key];
  }
  const get = headers.get;
  if (typeof get === 'function') {
    const v: unknown = get.call(headers, name);
    return v === null ? undefined : v;
  }
  return undefined;
}

function retryAfterOf(e: Rec, now: number): number | undefined {
  const response = isRecord(e.response) ? e.response : undefined;
  for (const raw of [
    e.retryAfter,
    headerValue(e.headers, 'retry-after'),
    headerValue(response?.headers, 'retry-after'),
  ]) {
    const ms = parseRetryAfter(raw, now);
    if (ms !== undefined) return ms;
  }
  return undefined;
}

function httpDetail(status: number): string {
  if (status === 408) return 'request timeout';
  if (status === 425) return 'too early';
  if (status === 429) return 'too many requests';
  if (status === 503) return 'service unavailable';
  if (status >= 500) return 'server error';
  return 'client error';
}

/** 408, 425, 429 and 5xx are retryable (honouring Retry-After); any other 4xx is permanent. */
export const httpClassifier: Classifier = (error, now) => {
  for (const e of errorChain(error)) {
    const response = isRecord(e.response) ? e.response : undefined;
    const status =
      statusOf(e.status) ??
      statusOf(e.statusCode) ??
      statusOf(response?.status) ??
      statusOf(response?.statusCode);
    if (status === undefined || status < 400) continue;
    const code = codeOf(e);
    const reason = `HTTP ${status}`;
    const retryable = status === 408 || status === 425 || status === 429 || status >= 500;
    if (!retryable) return { kind: 'permanent', reason, detail: httpDetail(status), status, code };
    return {
      kind: 'retryable',
      reason,
      detail: httpDetail(status),
      status,
      code,
      retryAfterMs: retryAfterOf(e, now),
    };
  }
  return undefined;
};

// ---------------------------------------------------------------------------------------------
// Network

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'EAI_AGAIN',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'ECONNABORTED',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** Socket and DNS errno codes, undici socket/timeout codes, AbortError and TimeoutError. */
export const networkClassifier: Classifier = (error) => {
  for (const e of errorChain(error)) {
    const code = codeOf(e);
    if (code !== undefined && NETWORK_CODES.has(code)) {
      return {
        kind: 'retryable',
        reason: code,
        detail: TIMEOUT_CODES.has(code) ? 'timed out' : 'network error',
        code,
      };
    }
    const name = nameOf(e);
    if (name === 'AbortError' || name === 'TimeoutError') {
      return {
        kind: 'retryable',
        reason: name,
        detail: name === 'AbortError' ? 'aborted' : 'timed out',
        code,
      };
    }
  }
  return undefined;
};

// ---------------------------------------------------------------------------------------------
// Composition and defaults

/**
 * An unknown error is retried by default: in an integration runtime a failure nobody recognised
 * is likelier a transient one (a proxy, a restart, a library's own error type) than bad data, and
 * the policy's attempt and deadline limits bound the cost of being wrong. Put
 * `unclassifiedAs('permanent')` last in composeClassifiers to choose the other way.
 */
export function unclassifiedAs(kind: ErrorClass, reason = 'unclassified error'): TotalClassifier {
  return () => ({ kind, reason, detail: 'no rule matched' });
}

const UNCLASSIFIED = unclassifiedAs('retryable');

/** First classifier with an opinion wins; if none has one, unknown errors are retryable. */
export function composeClassifiers(...classifiers: Classifier[]): TotalClassifier {
  return (error, now) => {
    for (const c of classifiers) {
      const result = c(error, now);
      if (result !== undefined) return result;
    }
    return UNCLASSIFIED(error, now);
  };
}

/** Explicit flags → registered peer codes → HTTP status → network errors → retryable default. */
export const defaultClassifier: TotalClassifier = composeClassifiers(
  flagClassifier,
  peerCodeClassifier,
  httpClassifier,
  networkClassifier,
);

/** Classifies with `classifier`, falling back to defaultClassifier when it has no opinion. */
export function classifyError(error: unknown, now: number, classifier?: Classifier): Classification {
  return classifier?.(error, now) ?? defaultClassifier(error, now);
}

// ---------------------------------------------------------------------------------------------
// Node-RED messages

const COPIED_FIELDS = [
  'name',
  'message',
  'code',
  'stack',
  'cause',
  'errors',
  'status',
  'statusCode',
  'response',
  'headers',
  'retryable',
  'permanent',
  'retryAfter',
  'retryAfterMs',
  'source',
];

/**
 * Builds the error the oms-retry node classifies from a message: `msg.error` (as Node-RED copies
 * it, or a real error), `msg.statusCode` (core http-request: the status, or the errno code when
 * the request failed) and `msg.headers` (for Retry-After). Undefined when nothing failed.
 */
export function errorFromMessage(msg: { error?: unknown; statusCode?: unknown; headers?: unknown }): unknown {
  const out: Rec = {};
  let failed = false;
  if (isRecord(msg.error)) {
    for (const key of COPIED_FIELDS) if (key in msg.error) out[key] = msg.error[key];
    failed = true;
  } else if (typeof msg.error === 'string' && msg.error !== '') {
    out.message = msg.error;
    failed = true;
  }
  const status = statusOf(msg.statusCode);
  if (status !== undefined && status >= 400) {
    if (statusOf(out.status) === undefined && statusOf(out.statusCode) === undefined) out.status = status;
    failed = true;
  } else if (typeof msg.statusCode === 'string' && /^[A-Z][A-Z0-9_]+$/.test(msg.statusCode)) {
    if (out.code === undefined) out.code = msg.statusCode; // http-request puts err.code here
    failed = true;
  }
  if (!failed) return undefined;
  if (out.headers === undefined && isRecord(msg.headers)) out.headers = msg.headers;
  if (typeof out.message !== 'string') {
    out.message = out.status !== undefined ? `HTTP ${String(out.status)}` : String(out.code ?? 'failed');
  }
  return out;
}
