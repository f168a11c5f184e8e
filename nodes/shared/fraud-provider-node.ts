import type { Node } from 'node-red';
import type { FraudProviderClient } from '../../lib/fraud/provider';
import type { ProviderRefHolder } from '../../lib/fraud/webhook';

/** An oms-fraud-check node, as its provider's webhook sees it (decides what it holds by reference). */
export type HoldOwner = ProviderRefHolder;

/** A deployed oms-fraud-provider config node, as the nodes that use it see it. */
export interface FraudProviderNode extends Node {
  client: FraudProviderClient;
  /** The path its webhook listens on (under Node-RED's httpNodeRoot), '' when none. */
  webhookPath: string;
  /** "generic at https://…", for status and logs (never a secret). */
  label: string;
  subscribe(owner: HoldOwner): () => void;
}
