// Locations, inventory positions and available-to-sell after safety-stock buffers.
import { z } from 'zod';
import type { Buffers } from './config';

/** A place stock ships from, as Fluent's location query or msg.locations gives it. */
export interface Location {
  ref: string;
  /** WAREHOUSE, STORE, or any type the network uses. */
  type: string;
  networks: string[];
  latitude?: number;
  longitude?: number;
  /** Lower ships first under the priority criterion. */
  priority?: number;
  dailyCapacity?: number;
  ordersToday?: number;
  /** Anything but ACTIVE (when given) takes the location out of every strategy. */
  status?: string;
}

/** On-hand and reserved units of one product at one location. */
export interface InventoryPosition {
  productRef: string;
  locationRef: string;
  onHand: number;
  reserved?: number;
}

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

/** For nodes that take locations from msg: the shape routeOrder expects. */
export const LocationSchema = z.object({
  ref: z.string().min(1),
  type: z.string(),
  networks: z.array(z.string()),
  latitude: finite.min(-90).max(90).optional(),
  longitude: finite.min(-180).max(180).optional(),
  priority: finite.optional(),
  dailyCapacity: finite.min(0).optional(),
  ordersToday: finite.min(0).optional(),
  status: z.string().optional(),
});

export const InventoryPositionSchema = z.object({
  productRef: z.string().min(1),
  locationRef: z.string().min(1),
  onHand: finite,
  reserved: finite.optional(),
});

/** How many units a buffer keeps back at a location, and why (for the explanation). */
export interface BufferRule {
  units: number;
  source: 'location' | 'network' | 'default' | 'none';
  percent: number;
}

/**
 * The unit buffer of a location: its own entry, else the largest entry among its networks, else
 * the default, else 0. A percentage of on-hand (rounded up) comes on top, see availableToSell.
 */
export function bufferRule(location: Location, buffers: Buffers | undefined): BufferRule {
  const percent = buffers?.percent ?? 0;
  const own = buffers?.locations;
  if (own && Object.hasOwn(own, location.ref))
    return { units: own[location.ref], source: 'location', percent };
  let network: number | undefined;
  const byNetwork = buffers?.networks;
  if (byNetwork) {
    for (const name of location.networks) {
      if (Object.hasOwn(byNetwork, name)) network = Math.max(network ?? 0, byNetwork[name]);
    }
  }
  if (network !== undefined) return { units: network, source: 'network', percent };
  if (buffers?.default !== undefined) return { units: buffers.default, source: 'default', percent };
  return { units: 0, source: 'none', percent };
}

/** ATS = max(0, onHand − reserved − unit buffer − ceil(percent × onHand / 100)). */
export function availableToSell(onHand: number, reserved: number, rule: BufferRule): number {
  const safeOnHand = Number.isFinite(onHand) ? onHand : 0;
  const safeReserved = Number.isFinite(reserved) ? Math.max(0, reserved) : 0;
  const percentUnits =
    rule.percent > 0 ? Math.ceil((Math.max(0, safeOnHand) * rule.percent) / 100 - 1e-9) : 0;
  return Math.max(0, Math.floor(safeOnHand - safeReserved - rule.units - percentUnits));
}
