// oms-fraud-provider: a fraud screening service (a generic JSON API, or Signifyd's decision API)
// shared by the oms-fraud-check nodes that use it, and the endpoint its decision webhooks arrive
// at: the signature is checked (HMAC-SHA256), then the node holding the order sends it on.
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { Request, Response } from 'express';
import { FraudProviderClient, type FraudProviderKind } from '../../lib/fraud/provider';
import { HttpClient } from '../../lib/transport/http';
import { fromEnv } from '../shared/env';
import type { FraudProviderNode, HoldOwner } from '../shared/fraud-provider-node';

interface ProviderNodeDef extends NodeDef {
  kind: string;
  baseUrl: string;
  timeout?: string | number;
  webhookPath?: string;
}

/** As the editor stores them; `unknown` is what the Node-RED typings give credentials. */
interface ProviderCredentials {
  apiKey: unknown;
  webhookSecret: unknown;
}

const MAX_BODY = 1024 * 1024;

/** The request body as it arrived: the signature is over these bytes, not a re-serialised parse. */
function rawBody(req: Request): Promise<Buffer> {
  const parsed: unknown = req.body;
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
      if (size > MAX_BODY) {
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

type Middleware = (req: Request, res: Response, next: (err?: unknown) => void) => void;

// Express 4 has _router (and throws on .router); Express 5 (Node-RED 5) has router.
const routerOf = (app: ExpressApp): Router | undefined => app._router ?? app.router;

/**
 * Keeps the webhook's body as it arrived. With the editor and the node endpoints on one root
 * (Node-RED's default), the editor's JSON parser would otherwise read it first, and a signature
 * cannot be checked against a re-serialised parse. Like Node-RED's own http-in node: a middleware
 * at the front of the root app, for the webhook paths only.
 */
function captureRawBodies(nodeApp: unknown, fullPath: (req: Request) => boolean): void {
  let root = nodeApp as ExpressApp;
  while (root.parent) root = root.parent;
  const capture: Middleware = (req, _res, next) => {
    if (req.method !== 'POST' || !fullPath(req)) return next();
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () => {
      const marked = req as Request & { _body?: boolean; skipRawBodyParser?: boolean };
      req.body = size > MAX_BODY ? undefined : Buffer.concat(chunks);
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

/** Takes our route off Node-RED's node HTTP app on redeploy (an http-in node's on the same path stays). */
function removeRoute(app: unknown, handler: unknown): void {
  const router = routerOf(app as ExpressApp);
  if (!router) return;
  router.stack = router.stack.filter((layer) => !layer.route?.stack?.some((l) => l.handle === handler));
}

export = function register(RED: NodeAPI): void {
  const t = (key: string, params?: Record<string, string | number>): string =>
    RED._(`oms-fraud-provider.${key}`, params);
  /** Paths taken by a deployed provider node: two nodes on one path would decide each other's orders. */
  const taken = new Map<string, string>();
  const nodeRoot = String((RED.settings as { httpNodeRoot?: unknown }).httpNodeRoot ?? '/').replace(
    /\/+$/,
    '',
  );
  captureRawBodies(RED.httpNode, (req) => {
    const path = (req.originalUrl ?? req.url).split('?')[0];
    return path.startsWith(nodeRoot) && taken.has(path.slice(nodeRoot.length));
  });

  function OmsFraudProvider(this: Node<ProviderCredentials>, config: ProviderNodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this as unknown as FraudProviderNode;
    const credentials: Partial<ProviderCredentials> = this.credentials ?? {};
    const secret = (value: unknown): string => fromEnv(typeof value === 'string' ? value : undefined) ?? '';
    const kind: FraudProviderKind = config.kind === 'signifyd' ? 'signifyd' : 'generic';
    const baseUrl = fromEnv(config.baseUrl) ?? '';
    const timeoutMs = Math.max(1, Number(config.timeout) || 10) * 1000;
    node.label = `${kind} at ${baseUrl}`;
    node.client = new FraudProviderClient(
      {
        kind,
        baseUrl,
        apiKey: secret(credentials.apiKey),
        webhookSecret: secret(credentials.webhookSecret),
        timeoutMs,
      },
      new HttpClient({ timeoutMs, maxSockets: 32 }),
    );
    const owners = new Set<HoldOwner>();
    node.subscribe = (owner) => {
      owners.add(owner);
      return () => owners.delete(owner);
    };

    const webhook = (req: Request, res: Response): void => void receive(req, res);
    const path = (config.webhookPath ?? '').trim();
    node.webhookPath = '';
    if (path !== '') {
      const route = path.startsWith('/') ? path : `/${path}`;
      const holder = taken.get(route);
      if (holder && holder !== node.id) node.error(t('errors.pathTaken', { path: route }));
      else {
        taken.set(route, node.id);
        node.webhookPath = route;
        RED.httpNode.post(route, webhook);
      }
    }

    async function receive(req: Request, res: Response): Promise<void> {
      let body: Buffer;
      try {
        body = await rawBody(req);
      } catch (err) {
        res.status(400).json({ error: 'OMS_WEBHOOK_BODY', message: (err as Error).message });
        return;
      }
      const verified = node.client.verifyWebhook(req.headers, body);
      if (!verified.ok) {
        node.warn(t('log.refused', { reason: verified.reason }));
        res.status(401).json({ error: 'OMS_WEBHOOK_SIGNATURE', message: verified.reason });
        return;
      }
      if (verified.decision === 'review') {
        res.status(202).json({ matched: false, message: 'still under review: nothing to decide' });
        return;
      }
      try {
        const decision = verified.decision === 'accept' ? 'accepted' : 'rejected';
        const reason = verified.reasons.join('; ');
        let matched = false;
        for (const owner of owners) {
          if (await owner.decideByProviderRef(verified.providerRef, decision, `provider:${kind}`, reason))
            matched = true;
        }
        if (!matched) node.log(t('log.unmatched', { ref: verified.providerRef, order: verified.orderRef }));
        res.status(200).json({ matched, orderRef: verified.orderRef, decision });
      } catch (err) {
        // The provider sends it again: nothing was decided.
        node.error(t('errors.webhook', { message: (err as Error).message }));
        res.status(500).json({ error: 'OMS_WEBHOOK_FAILED', message: (err as Error).message });
      }
    }

    node.on('close', () => {
      if (node.webhookPath) {
        removeRoute(RED.httpNode, webhook);
        if (taken.get(node.webhookPath) === node.id) taken.delete(node.webhookPath);
      }
      owners.clear();
      node.client.close();
    });
  }

  RED.nodes.registerType('oms-fraud-provider', OmsFraudProvider, {
    credentials: {
      apiKey: { type: 'password' },
      webhookSecret: { type: 'password' },
    },
  });
};
