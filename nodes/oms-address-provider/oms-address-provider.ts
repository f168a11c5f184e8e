// oms-address-provider: an address validation service (generic JSON over HTTP) shared by the
// oms-address-check nodes that use it: one set of keep-alive connections, one circuit breaker.
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { AddressProviderClient } from '../../lib/address/provider';
import { fromEnv } from '../shared/env';
import type { AddressProviderNode } from '../shared/address-provider-node';

interface ProviderNodeDef extends NodeDef {
  baseUrl: string;
  timeout?: string | number;
}

/** As the editor stores them; `unknown` is what the Node-RED typings give credentials. */
interface ProviderCredentials {
  apiKey: unknown;
}

export = function register(RED: NodeAPI): void {
  function OmsAddressProvider(this: Node<ProviderCredentials>, config: ProviderNodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this as unknown as AddressProviderNode;
    const credentials: Partial<ProviderCredentials> = this.credentials ?? {};
    const apiKey = fromEnv(typeof credentials.apiKey === 'string' ? credentials.apiKey : undefined) ?? '';
    const baseUrl = fromEnv(config.baseUrl) ?? '';
    const timeoutMs = Math.max(1, Number(config.timeout) || 10) * 1000;
    node.label = baseUrl;
    node.client = new AddressProviderClient({ baseUrl, apiKey, timeoutMs });
    node.on('close', () => node.client.close());
  }

  RED.nodes.registerType('oms-address-provider', OmsAddressProvider, {
    credentials: { apiKey: { type: 'password' } },
  });
};
