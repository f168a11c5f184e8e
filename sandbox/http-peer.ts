// A stand-in for an order-taking HTTP peer (a Fluent-like "create order" endpoint) with
// deterministic fault injection, for reliability tests: POST /orders with an Idempotency-Key.
//
// - A share of calls fails (`failureRate`): 503, 500, a connection reset before the order is
//   processed, a connection reset after it was accepted (the response is lost), or 429 with
//   Retry-After. Whether call n for a key fails, and how, is a pure function of (seed, key, n):
//   runs are reproducible, and a retry (n + 1) gets a fresh draw, so retries can succeed.
// - Permanent refs are rejected with 422 {code: 'ORDER_REJECTED', message} on every call that
//   gets past the injected faults.
// - Idempotency: the first successful call for a key accepts the order (201 {id}); later ones
//   get 200 with the same id and count as replays. An order is never accepted twice.
//
// The peer keeps a read-only log for assertions (`stats()`), also served as GET /stats.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type PeerOutcome =
  | 'accepted'
  | 'replay'
  | 'rejected'
  | 'bad-request'
  | 'not-found'
  | 'http-503'
  | 'http-500'
  | 'http-429'
  | 'reset'
  | 'reset-after-accept';

export type InjectedFault = 'http-503' | 'http-500' | 'http-429' | 'reset' | 'reset-after-accept';

const FAULTS: readonly InjectedFault[] = ['http-503', 'http-500', 'http-429', 'reset', 'reset-after-accept'];

export interface HttpPeerOptions {
  /** Share of calls (0..1) that fail with an injected fault. Default 0. */
  failureRate?: number;
  /** Refs (idempotency keys) rejected for good with 422. */
  permanentRefs?: ReadonlySet<string> | ((ref: string) => boolean);
  /** Retry-After of the 429 answers, in seconds. Default 1. */
  retryAfterSeconds?: number;
  /** Seed of the fault draws. Default 1. */
  seed?: number | string;
  /** Which faults are drawn (equally likely). Default all five. */
  faults?: readonly InjectedFault[];
  /** Port to listen on (127.0.0.1); 0, the default, picks a free one. */
  port?: number;
}

export interface AcceptedOrder {
  id: string;
  /** Epoch ms. */
  at: number;
  /** The call number (1-based, per key) that was accepted. */
  call: number;
  body: unknown;
}

export interface PeerCall {
  key: string | undefined;
  /** 1-based per key; 0 for calls without a key. */
  call: number;
  outcome: PeerOutcome;
  at: number;
}

export interface HttpPeerStats {
  accepted: ReadonlyMap<string, AcceptedOrder>;
  /** Calls per idempotency key. */
  callsByKey: ReadonlyMap<string, number>;
  outcomes: Readonly<Record<PeerOutcome, number>>;
  /** Successful calls for a key already accepted. */
  replays: number;
  calls: number;
  log: readonly PeerCall[];
}

export interface HttpPeer {
  port: number;
  /** http://127.0.0.1:<port> */
  url: string;
  stats(): HttpPeerStats;
  close(): Promise<void>;
}

/** A uniform number in [0, 1) determined by the seed and the parts, and nothing else. */
export function seededUnit(seed: number | string, ...parts: Array<string | number>): number {
  const digest = createHash('sha256')
    .update(JSON.stringify([seed, ...parts]))
    .digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

/** The fault injected into call `call` for `key`, or undefined when the call goes through. */
export function injectedFault(
  options: Pick<HttpPeerOptions, 'failureRate' | 'seed' | 'faults'>,
  key: string,
  call: number,
): InjectedFault | undefined {
  const rate = options.failureRate ?? 0;
  const seed = options.seed ?? 1;
  if (!(seededUnit(seed, 'fail', key, call) < rate)) return undefined;
  const faults = options.faults && options.faults.length > 0 ? options.faults : FAULTS;
  return faults[Math.floor(seededUnit(seed, 'kind', key, call) * faults.length)];
}

const MAX_BODY = 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

export async function startHttpPeer(options: HttpPeerOptions = {}): Promise<HttpPeer> {
  const retryAfter = String(options.retryAfterSeconds ?? 1);
  const given = options.permanentRefs;
  const isPermanent = (ref: string): boolean =>
    typeof given === 'function' ? given(ref) : given ? given.has(ref) : false;

  const accepted = new Map<string, AcceptedOrder>();
  const callsByKey = new Map<string, number>();
  const outcomes = Object.fromEntries(
    (
      [
        'accepted',
        'replay',
        'rejected',
        'bad-request',
        'not-found',
        'http-503',
        'http-500',
        'http-429',
        'reset',
        'reset-after-accept',
      ] as const
    ).map((o) => [o, 0]),
  ) as Record<PeerOutcome, number>;
  const log: PeerCall[] = [];
  let calls = 0;
  let replays = 0;
  let nextId = 1;

  const note = (key: string | undefined, call: number, outcome: PeerOutcome): void => {
    outcomes[outcome] += 1;
    log.push({ key, call, outcome, at: Date.now() });
  };

  const stats = (): HttpPeerStats => ({
    accepted,
    callsByKey,
    outcomes: { ...outcomes },
    replays,
    calls,
    log,
  });

  /** Accepts the order under `key`, or finds it accepted already: the id, and whether it is new. */
  const accept = (key: string, call: number, body: unknown): { id: string; created: boolean } => {
    const known = accepted.get(key);
    if (known) return { id: known.id, created: false };
    const id = `PO-${String(nextId++).padStart(6, '0')}`;
    accepted.set(key, { id, at: Date.now(), call, body });
    return { id, created: true };
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://peer');
    if (req.method === 'GET' && url.pathname === '/stats') {
      send(res, 200, {
        accepted: [...accepted.keys()],
        calls,
        outcomes,
        replays,
      });
      return;
    }
    if (req.method !== 'POST' || url.pathname !== '/orders') {
      await readBody(req).catch(() => '');
      note(undefined, 0, 'not-found');
      send(res, 404, { code: 'NOT_FOUND', message: `No route ${req.method} ${url.pathname}` });
      return;
    }
    calls += 1;
    const text = await readBody(req);
    const header = req.headers['idempotency-key'];
    const key = typeof header === 'string' && header.trim() !== '' ? header.trim() : undefined;
    if (!key) {
      note(undefined, 0, 'bad-request');
      send(res, 400, { code: 'IDEMPOTENCY_KEY_REQUIRED', message: 'The Idempotency-Key header is required' });
      return;
    }
    const call = (callsByKey.get(key) ?? 0) + 1;
    callsByKey.set(key, call);
    let body: unknown;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      note(key, call, 'bad-request');
      send(res, 400, { code: 'INVALID_JSON', message: 'The body is not JSON' });
      return;
    }

    const fault = injectedFault(options, key, call);
    if (fault === 'reset') {
      note(key, call, 'reset');
      req.socket.destroy();
      return;
    }
    if (fault === 'http-503' || fault === 'http-500') {
      note(key, call, fault);
      send(res, fault === 'http-503' ? 503 : 500, {
        code: fault === 'http-503' ? 'UNAVAILABLE' : 'INTERNAL',
        message: 'Injected fault',
      });
      return;
    }
    if (fault === 'http-429') {
      note(key, call, 'http-429');
      send(
        res,
        429,
        { code: 'TOO_MANY_REQUESTS', message: `Slow down: retry in ${retryAfter} s` },
        { 'retry-after': retryAfter },
      );
      return;
    }
    if (isPermanent(key)) {
      if (fault === 'reset-after-accept') {
        note(key, call, 'reset'); // rejected, and the answer lost on the way
        req.socket.destroy();
        return;
      }
      note(key, call, 'rejected');
      send(res, 422, { code: 'ORDER_REJECTED', message: `Order ${key} is rejected by the peer (test rule)` });
      return;
    }
    const { id, created } = accept(key, call, body);
    if (fault === 'reset-after-accept') {
      // The order is taken, but the answer never reaches the caller: only the key prevents a twin.
      if (!created) replays += 1;
      note(key, call, 'reset-after-accept');
      req.socket.destroy();
      return;
    }
    if (created) {
      note(key, call, 'accepted');
      send(res, 201, { id });
    } else {
      replays += 1;
      note(key, call, 'replay');
      send(res, 200, { id, replay: true });
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent && !req.socket.destroyed)
        send(res, 500, { code: 'PEER_BUG', message: err.message });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    stats,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
