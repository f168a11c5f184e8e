import type { Node } from 'node-red';
import type { FluentClient } from '../../lib/fluent/client';

/** A deployed oms-fluent-account config node, as the nodes that use it see it. */
export interface FluentAccountNode extends Node {
  client: FluentClient;
  retailerId: string;
  productCatalogueRef: string;
  /** "user@base url", for status and logs (never a secret). */
  label: string;
}
