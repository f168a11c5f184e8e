// oms-fraud-provider: a fraud screening service (a generic JSON API, or Signifyd's decision API)
// shared by the oms-fraud-check nodes that use it, and the endpoint its decision webhooks arrive
// at: the signature is checked (HMAC-SHA256), then the node holding the order sends it on.
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { Request, Response } from 'express';
import { FraudProviderClient, type FraudProviderKind } from '../../lib/fraud/provider';
import * as webhooks from '../../lib/fraud/webhook';
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

export = function register(RED: NodeAPI): void {
  const t = (key: string, params?: Record<string, string | number>): string =>
    RED._(`oms-fraud-provider.${key}`, params);
  /** Paths taken by a deployed provider node: two nodes on one path would decide each other's orders. */
  const taken = new Map<string, string>();
  const nodeRoot = String((RED.settings as { httpNodeRoot?: unknown }).httpNodeRoot ?? '/').replace(
    /\/+$/,
    '',
  );
  webhooks.captureRawBodies(RED.httpNode, (req) => {
    const path = webhooks.pathBelow(req, nodeRoot);
    return path !== undefined && taken.has(path);
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
    const route = webhooks.webhookRoute(config.webhookPath);
    node.webhookPath = '';
    if (route !== undefined) {
      const holder = taken.get(route);
      if (holder && holder !== node.id) node.error(t('errors.pathTaken', { path: route }));
      else {
        taken.set(route, node.id);
        node.webhookPath = route;
        RED.httpNode.post(route, webhook);
      }
    }

    async function receive(req: Request, res: Response): Promise<void> {
      const answer = await webhooks.answerWebhook(req, node.client, owners);
      if (answer.outcome === 'refused') node.warn(t('log.refused', { reason: answer.reason }));
      if (answer.outcome === 'decided' && !answer.matched)
        node.log(t('log.unmatched', { ref: answer.providerRef, order: answer.orderRef }));
      if (answer.outcome === 'failed') node.error(t('errors.webhook', { message: answer.message }));
      res.status(answer.status).json(answer.body);
    }

    node.on('close', () => {
      if (node.webhookPath) {
        webhooks.removeRoute(RED.httpNode, webhook);
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
