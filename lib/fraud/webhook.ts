// The fraud provider's decision webhook without Node-RED: the body kept as it arrived (the
// signature is over those bytes, not a re-serialised parse), the route on an Express app (4 or 5),
// and what to answer once the signature is checked and the nodes holding orders are asked.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FraudProviderKind, WebhookVerification } from './provider';

export const MAX_WEBHOOK_BODY = 1024 * 1024;

/** An HTTP request as Express hands it on: `body` when a parser (or the capture) read it. */
export interface WebhookRequest extends IncomingMessage {
  body?: unknown;
  originalUrl?: string;
}

/** The request body as it arrived. */
export function readRawBody(req: WebhookRequest): Promise<Buffer> {
  const parsed = req.body;
  if (Buffer.isBuffer(parsed)) return Promise.resolve(parsed);
  if (typeof parsed === 'string') return Promise.resolve(Buffer.from(parsed));
  if (req.readableEnded || (parsed !== undefined && parsed !== null && Object.keys(parsed).length > 0)) {
    // A body over the size limit is dropped by the capture, so the stream is over and no body set.
    return Promise.reject(new Error('the body was parsed before this endpoint (httpNodeMiddleware?)'));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_WEBHOOK_BODY) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

interface Router {
  stack: Array<{ handle?: unknown; route?: { stack?: Array<{ handle?: unknown }> } }>;
}

interface ExpressApp {
  _router?: Router;
  router?: Router;
  parent?: ExpressApp;
  use(handler: unknown): void;
}

type Middleware = (req: WebhookRequest, res: ServerResponse, next: (err?: unknown) => void) => void;

// Express 4 has _router (and throws on .router); Express 5 (Node-RED 5) has router.
const routerOf = (app: ExpressApp): Router | undefined => app._router ?? app.router;

/**
 * Keeps the webhook's body as it arrived. With the editor and the node endpoints on one root
 * (Node-RED's default), the editor's JSON parser would otherwise read it first, and a signature
 * cannot be checked against a re-serialised parse. Like Node-RED's own http-in node: a middleware
 * at the front of the root app, for the webhook paths only.
 */
export function captureRawBodies(nodeApp: unknown, isWebhook: (req: WebhookRequest) => boolean): void {
  let root = nodeApp as ExpressApp;
  while (root.parent) root = root.parent;
  const capture: Middleware = (req, _res, next) => {
    if (req.method !== 'POST' || !isWebhook(req)) return next();
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_WEBHOOK_BODY) chunks.push(chunk);
    });
    req.on('end', () => {
      const marked = req as WebhookRequest & { _body?: boolean; skipRawBodyParser?: boolean };
      req.body = size > MAX_WEBHOOK_BODY ? undefined : Buffer.concat(chunks);
      marked._body = true; // body-parser leaves a request so marked alone
      marked.skipRawBodyParser = true;
      next();
    });
    req.on('error', next);
  };
  root.use(capture);
  const stack = routerOf(root)?.stack;
  const at = stack?.findIndex((layer) => layer.handle === capture) ?? -1;
  if (stack && at > 0) stack.unshift(...stack.splice(at, 1));
}

/** Takes a route off an app on redeploy (another handler's on the same path stays). */
export function removeRoute(app: unknown, handler: unknown): void {
  const router = routerOf(app as ExpressApp);
  if (!router) return;
  router.stack = router.stack.filter((layer) => !layer.route?.stack?.some((l) => l.handle === handler));
}

/** The configured webhook path as a route ('/' in front), undefined when none is configured. */
export function webhookRoute(path: string | undefined): string | undefined {
  const trimmed = (path ?? '').trim();
  if (trimmed === '') return undefined;
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

/** The request's path below `root` (httpNodeRoot without its trailing slash), else undefined. */
export function pathBelow(req: WebhookRequest, root: string): string | undefined {
  const path = (req.originalUrl ?? req.url ?? '').split('?')[0];
  return path.startsWith(root) ? path.slice(root.length) : undefined;
}

/**
 * A node holding orders under the provider's references (an oms-fraud-check node): decides the
 * order it holds under `providerRef`; false when it holds none (another node's, decided, unknown).
 */
export interface ProviderRefHolder {
  decideByProviderRef(
    providerRef: string,
    decision: 'accepted' | 'rejected',
    by: string,
    reason: string,
  ): Promise<boolean>;
}

/** The provider as its webhook needs it (FraudProviderClient is one). */
export interface WebhookVerifier {
  readonly settings: { readonly kind: FraudProviderKind };
  verifyWebhook(headers: Record<string, string | string[] | undefined>, rawBody: Buffer): WebhookVerification;
}

/** The HTTP answer to a webhook, and what became of it (for the node's log). */
export type WebhookAnswer = { status: number; body: Record<string, unknown> } & (
  | { outcome: 'unreadable' }
  | { outcome: 'refused'; reason: string }
  | { outcome: 'pending' }
  | { outcome: 'decided'; matched: boolean; providerRef: string; orderRef: string }
  /** A holder failed: the provider sends it again, nothing was decided. */
  | { outcome: 'failed'; message: string }
);

/**
 * Reads and verifies a decision webhook, then has each holder decide the order it holds under
 * the provider's reference. A review ("still HOLD") decides nothing.
 */
export async function answerWebhook(
  req: WebhookRequest,
  provider: WebhookVerifier,
  holders: Iterable<ProviderRefHolder>,
): Promise<WebhookAnswer> {
  let body: Buffer;
  try {
    body = await readRawBody(req);
  } catch (err) {
    const message = (err as Error).message;
    return { outcome: 'unreadable', status: 400, body: { error: 'OMS_WEBHOOK_BODY', message } };
  }
  const verified = provider.verifyWebhook(req.headers, body);
  if (!verified.ok) {
    const { reason } = verified;
    return {
      outcome: 'refused',
      reason,
      status: 401,
      body: { error: 'OMS_WEBHOOK_SIGNATURE', message: reason },
    };
  }
  if (verified.decision === 'review') {
    const answer = { matched: false, message: 'still under review: nothing to decide' };
    return { outcome: 'pending', status: 202, body: answer };
  }
  const { providerRef, orderRef } = verified;
  try {
    const decision = verified.decision === 'accept' ? 'accepted' : 'rejected';
    const reason = verified.reasons.join('; ');
    let matched = false;
    for (const holder of holders) {
      if (
        await holder.decideByProviderRef(providerRef, decision, `provider:${provider.settings.kind}`, reason)
      )
        matched = true;
    }
    return {
      outcome: 'decided',
      matched,
      providerRef,
      orderRef,
      status: 200,
      body: { matched, orderRef, decision },
    };
  } catch (err) {
    const message = (err as Error).message;
    return { outcome: 'failed', message, status: 500, body: { error: 'OMS_WEBHOOK_FAILED', message } };
  }
}
