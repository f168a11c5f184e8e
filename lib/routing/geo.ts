// Distances for the distance criterion. The canonical order carries no coordinates, so the
// delivery point comes from the caller (options.origin) or a postcode table (options.postcodes).
import type { Address, Order } from '../order/model';

export interface GeoPoint {
  lat: number;
  lon: number;
}

const EARTH_RADIUS_KM = 6371.0088;
const rad = (deg: number): number => (deg * Math.PI) / 180;

/** Great-circle distance in km (haversine, mean Earth radius). */
export function haversineKm(a: GeoPoint, b: GeoPoint): number {
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

export function validPoint(p: GeoPoint | undefined): p is GeoPoint {
  return (
    p !== undefined &&
    Number.isFinite(p.lat) &&
    Number.isFinite(p.lon) &&
    Math.abs(p.lat) <= 90 &&
    Math.abs(p.lon) <= 180
  );
}

/**
 * The address the order ships to: that of the shipment of its first product line, else the
 * first shipment with an address. An order shipping to several addresses is routed as one; route
 * each shipment separately when that matters.
 */
export function deliveryAddress(order: Order): Address | undefined {
  const first = order.lines.find((l) => l.kind === 'product' && l.shipmentRef !== undefined);
  const own = first && order.shipments.find((s) => s.shipmentRef === first.shipmentRef)?.address;
  return own ?? order.shipments.find((s) => s.address !== undefined)?.address;
}

const squash = (s: string): string => s.replace(/\s+/g, '').toUpperCase();

/** Normalised indexes of the tables seen, so a big table is indexed once, not per order. */
const indexes = new WeakMap<object, Map<string, GeoPoint>>();

function indexOf(table: Readonly<Record<string, GeoPoint>>): Map<string, GeoPoint> {
  let index = indexes.get(table);
  if (!index) {
    index = new Map();
    for (const [key, point] of Object.entries(table)) index.set(squash(key), point);
    indexes.set(table, index);
  }
  return index;
}

/**
 * Looks the delivery postcode up in a table keyed "DE:10115" (country and postcode) or "10115".
 * Keys are compared without spaces and case. With a country, shorter prefixes are tried too
 * ("DE:101", "DE:1"), so a table of postcode areas is enough. The table is indexed once (per
 * object), so pass the same object for every order and do not mutate it.
 */
export function lookupPostcode(
  table: Readonly<Record<string, GeoPoint>>,
  address: Address | undefined,
): { point: GeoPoint; key: string } | undefined {
  const postcode = address?.postalCode ? squash(address.postalCode) : '';
  if (!postcode) return undefined;
  const index = indexOf(table);
  const country = address?.countryCode ? squash(address.countryCode) : '';
  if (country) {
    for (let n = postcode.length; n > 0; n--) {
      const key = `${country}:${postcode.slice(0, n)}`;
      const point = index.get(key);
      if (point) return { point, key };
    }
  }
  const point = index.get(postcode);
  return point ? { point, key: postcode } : undefined;
}
