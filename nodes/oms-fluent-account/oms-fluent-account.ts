// oms-fluent-account: one Fluent Commerce account (API base URL, retailer, catalogue) and the
// client the nodes that use it share: one token for all of them, keep-alive connections.
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { FluentClient } from '../../lib/fluent/client';
import { HttpClient } from '../../lib/transport/http';
import { fromEnv } from '../shared/env';
import type { FluentAccountNode } from '../shared/fluent-account-node';

interface AccountNodeDef extends NodeDef {
  baseUrl: string;
  retailerId: string;
  productCatalogueRef?: string;
  timeout?: string | number;
}

/** As the editor stores them; `unknown` is what the Node-RED typings give credentials. */
interface AccountCredentials {
  clientId: unknown;
  clientSecret: unknown;
  username: unknown;
  password: unknown;
}

export = function register(RED: NodeAPI): void {
  function OmsFluentAccount(this: Node<AccountCredentials>, config: AccountNodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this as unknown as FluentAccountNode;
    const credentials: Partial<AccountCredentials> = this.credentials ?? {};
    const secret = (value: unknown): string => fromEnv(typeof value === 'string' ? value : undefined) ?? '';
    const baseUrl = fromEnv(config.baseUrl) ?? '';
    node.retailerId = fromEnv(config.retailerId) ?? '';
    node.productCatalogueRef = fromEnv(config.productCatalogueRef) || 'DEFAULT:1';
    const timeoutMs = (Number(config.timeout) || 30) * 1000;
    const username = secret(credentials.username);
    node.label = `${username}@${baseUrl}`;
    node.client = new FluentClient(
      {
        baseUrl,
        retailerId: node.retailerId,
        clientId: secret(credentials.clientId),
        clientSecret: secret(credentials.clientSecret),
        username,
        password: secret(credentials.password),
        timeoutMs,
      },
      new HttpClient({ timeoutMs, maxSockets: 32 }),
    );
    node.on('close', () => node.client.close());
  }

  RED.nodes.registerType('oms-fluent-account', OmsFluentAccount, {
    credentials: {
      clientId: { type: 'text' },
      clientSecret: { type: 'password' },
      username: { type: 'text' },
      password: { type: 'password' },
    },
  });
};
