// Locations and inventory positions read from Fluent for the sourcing engine (lib/routing).
import type { InventoryPosition, Location } from '../routing';
import type { FluentClient } from './client';

export const LOCATIONS_QUERY = `query locations($after: String) {
  locations(status: ["ACTIVE"], first: 100, after: $after) {
    edges { cursor node { ref type status primaryAddress { latitude longitude }
      networks(first: 20) { edges { node { ref } } } } }
    pageInfo { hasNextPage }
  }
}`;

export const POSITIONS_QUERY = `query positions($skus: [String], $after: String) {
  inventoryPositions(productRef: $skus, first: 500, after: $after) {
    edges { cursor node { productRef locationRef onHand status } }
    pageInfo { hasNextPage }
  }
}`;

interface Page<T> {
  edges: Array<{ cursor: string; node: T } | null> | null;
  pageInfo: { hasNextPage: boolean } | null;
}

async function allPages<T>(
  client: FluentClient,
  query: string,
  variables: Record<string, unknown>,
  field: string,
  operationName: string,
): Promise<T[]> {
  const out: T[] = [];
  let after: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const data = await client.graphql<Record<string, Page<T> | null>>(
      query,
      { ...variables, after },
      operationName,
    );
    const page = data[field];
    const edges = (page?.edges ?? []).filter((e): e is { cursor: string; node: T } => e !== null);
    out.push(...edges.map((e) => e.node));
    if (!page?.pageInfo?.hasNextPage || edges.length === 0) break;
    after = edges[edges.length - 1].cursor;
  }
  return out;
}

interface FluentLocation {
  ref: string | null;
  type: string | null;
  primaryAddress: { latitude: number | null; longitude: number | null } | null;
  networks: Page<{ ref: string | null }> | null;
}

export async function fetchLocations(client: FluentClient): Promise<Location[]> {
  const nodes = await allPages<FluentLocation>(client, LOCATIONS_QUERY, {}, 'locations', 'locations');
  return nodes
    .filter((l): l is FluentLocation & { ref: string } => typeof l.ref === 'string' && l.ref !== '')
    .map((l) => ({
      ref: l.ref,
      type: l.type ?? '',
      networks: (l.networks?.edges ?? []).flatMap((e) => (e?.node.ref ? [e.node.ref] : [])),
      ...(typeof l.primaryAddress?.latitude === 'number' ? { latitude: l.primaryAddress.latitude } : {}),
      ...(typeof l.primaryAddress?.longitude === 'number' ? { longitude: l.primaryAddress.longitude } : {}),
    }));
}

interface FluentPosition {
  productRef: string | null;
  locationRef: string | null;
  onHand: number | null;
  status: string | null;
}

/** Active positions of the given products at every location. */
export async function fetchInventory(
  client: FluentClient,
  skus: readonly string[],
): Promise<InventoryPosition[]> {
  if (skus.length === 0) return [];
  const nodes = await allPages<FluentPosition>(
    client,
    POSITIONS_QUERY,
    { skus: [...new Set(skus)] },
    'inventoryPositions',
    'positions',
  );
  return nodes
    .filter((p) => p.productRef && p.locationRef && (p.status ?? 'ACTIVE') === 'ACTIVE')
    .map((p) => ({
      productRef: p.productRef as string,
      locationRef: p.locationRef as string,
      onHand: p.onHand ?? 0,
    }));
}
