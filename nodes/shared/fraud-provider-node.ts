import type { Node } from 'node-red';
import type { FraudProviderClient } from '../../lib/fraud/provider';

/** An oms-fraud-check node, as its provider's webhook sees it. */
export interface HoldOwner {
  /**
   * Decides the order this node holds under the provider's reference; false when it holds none
   * (another node's, already decided, or unknown).
   */
  decideByProviderRef(
    providerRef: string,
    decision: 'accepted' | 'rejected',
    by: string,
    reason: string,
  ): Promise<boolean>;
}

/** A deployed oms-fraud-provider config node, as the nodes that use it see it. */
export interface FraudProviderNode extends Node {
  client: FraudProviderClient;
  /** The path its webhook listens on (under Node-RED's httpNodeRoot), '' when none. */
  webhookPath: string;
  /** "generic at https://…", for status and logs (never a secret). */
  label: string;
  subscribe(owner: HoldOwner): () => void;
}
