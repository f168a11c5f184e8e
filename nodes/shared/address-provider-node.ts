import type { Node } from 'node-red';
import type { AddressProviderClient } from '../../lib/address/provider';

/** A deployed oms-address-provider config node, as the nodes that use it see it. */
export interface AddressProviderNode extends Node {
  client: AddressProviderClient;
  /** The base URL, for status and logs (never a secret). */
  label: string;
}
