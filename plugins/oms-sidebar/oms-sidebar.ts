// oms-sidebar (runtime part): registers the plugin whose editor part (oms-sidebar.html) adds the
// "OMS" sidebar tab, where analysts find, inspect, replay and discard dead letters, accept or
// reject orders held for a fraud review, and look up an order's audit trail. The HTTP API it calls lives with the store (nodes/shared/admin-api.ts),
// registered when the oms-store module loads; this part only makes the plugin known.
import type { NodeAPI } from 'node-red';

export = function register(RED: NodeAPI): void {
  RED.plugins.registerPlugin('oms-sidebar', { type: 'oms-sidebar' });
};
