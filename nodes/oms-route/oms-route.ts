// oms-route: chooses the locations that fulfil an order (lib/routing, docs/routing.md) from the
// locations and inventory of Fluent (through a fluent account) or of the message.
// Outputs: 1 a fulfilment plan (complete, or partial when a strategy allows it), 2 a backorder.
import { envelopeOf, setEnvelope } from '../../lib/order/envelope';
import { OmsError } from '../../lib/errors';
import type { NodeAPI } from 'node-red';
import { fetchInventory, fetchLocations } from '../../lib/fluent/inventory';
import { checkOrder } from '../../lib/order/vouch';
import {
  explainRouting,
  InventoryPositionSchema,
  LocationSchema,
  parseRoutingConfig,
  routeOrder,
  type GeoPoint,
  type InventoryPosition,
  type Location,
  type RoutingConfig,
} from '../../lib/routing';
import { peerCodeClassifier } from '../../lib/reliability';
import type { FluentAccountNode } from '../shared/fluent-account-node';
import { defineOmsNode, type OmsNodeConfig } from '../shared/oms-node';

// A routing config error does not pass by retrying: oms-retry gives up at once.
peerCodeClassifier.register({ OMS_ROUTING_CONFIG: 'permanent' });

interface RouteNodeDef extends OmsNodeConfig {
  account?: string;
  routing: string;
  /** JSON: postcode → {lat, lon}, for distances when the order has no coordinates. */
  postcodes?: string;
  cacheMinutes?: string | number;
}

export = function register(RED: NodeAPI): void {
  defineOmsNode<RouteNodeDef>(RED, {
    type: 'oms-route',
    counters: ['planned', 'partial', 'backordered'],
    warnOn: ['backordered'],
    setup({ node, config, t, ...ctx }) {
      const account = config.account ? (RED.nodes.getNode(config.account) as FluentAccountNode | null) : null;
      const parsed = parseRoutingConfig(config.routing);
      let routing: RoutingConfig | undefined;
      let configError: string | undefined;
      if ('errors' in parsed) {
        configError = parsed.errors.map((e) => `${e.path || '(root)'}: ${e.message}`).join('; ');
        node.error(t('errors.config', { errors: configError }));
        node.status({ fill: 'red', shape: 'ring', text: t('status.badConfig') });
      } else routing = parsed.config;
      let postcodes: Record<string, GeoPoint> | undefined;
      try {
        postcodes = config.postcodes ? (JSON.parse(config.postcodes) as Record<string, GeoPoint>) : undefined;
      } catch (err) {
        node.warn(t('errors.postcodes', { message: (err as Error).message }));
      }
      const cacheMs = Math.max(0, Number(config.cacheMinutes ?? 5)) * 60_000;
      let cached: { at: number; locations: Promise<Location[]> } | undefined;

      async function locationsFor(msg: Record<string, unknown>): Promise<Location[]> {
        if (msg.locations !== undefined) {
          const result = LocationSchema.array().safeParse(msg.locations);
          if (!result.success)
            throw new OmsError(
              t('errors.locations', { issue: result.error.issues[0]?.message ?? '' }),
              'OMS_BAD_INPUT',
            );
          return result.data;
        }
        if (!account) throw new OmsError(t('errors.noSource'), 'OMS_BAD_INPUT');
        if (!cached || Date.now() - cached.at > cacheMs) {
          // One fetch for every order that arrives while it runs; a failed one is not kept.
          const fetching = fetchLocations(account.client);
          const entry = { at: Date.now(), locations: fetching };
          cached = entry;
          fetching.catch(() => {
            if (cached === entry) cached = undefined;
          });
        }
        return cached.locations;
      }

      async function inventoryFor(
        msg: Record<string, unknown>,
        skus: string[],
      ): Promise<InventoryPosition[]> {
        if (msg.inventory !== undefined) {
          const result = InventoryPositionSchema.array().safeParse(msg.inventory);
          if (!result.success)
            throw new OmsError(
              t('errors.inventory', { issue: result.error.issues[0]?.message ?? '' }),
              'OMS_BAD_INPUT',
            );
          return result.data;
        }
        if (!account) throw new OmsError(t('errors.noSource'), 'OMS_BAD_INPUT');
        return fetchInventory(account.client, skus);
      }

      ctx.onOrders((msg, send, done) => {
        const record = msg;
        if (!routing)
          return done(new OmsError(t('errors.config', { errors: configError ?? '' }), 'OMS_ROUTING_CONFIG'));
        const order = checkOrder(record.payload, node.id);
        if ('issue' in order) return done(new OmsError(t('errors.notAnOrder', order), 'OMS_BAD_INPUT'));
        record.payload = order.order;
        const oms = envelopeOf(record);
        const origin = oms.origin;
        const skus = order.order.lines.filter((l) => l.kind === 'product').map((l) => l.sku);
        const config = routing;
        Promise.all([locationsFor(record), inventoryFor(record, skus)]).then(
          ([locations, inventory]) => {
            const result = routeOrder(order.order, locations, inventory, config, { origin, postcodes });
            const routingInfo = explainRouting(result);
            if (result.kind === 'plan') {
              // A transition asked for by an earlier node is not this node's to pass on.
              setEnvelope(record, oms, {
                transition: undefined,
                routing: routingInfo,
                plan: {
                  fulfilments: result.fulfilments,
                  remainder: result.remainder,
                  complete: result.complete,
                },
              });
              send([msg, null]);
              ctx.count(result.complete ? 'planned' : 'partial');
            } else {
              setEnvelope(record, oms, { routing: routingInfo, transition: 'backorder' });
              send([null, msg]);
              ctx.count('backordered');
            }
            done();
          },
          (err: Error) => done(err),
        );
      });
    },
  });
};
