// The Fluent sandbox's seed: one retailer, a location network in Germany, Austria and Switzerland
// (3 distribution centres in DC_NETWORK, 9 stores in STORE_NETWORK), the product catalogue of the
// sample-order generator (lib/sfcc/generate.ts: the product refs ARE its SKUs, so generated orders
// source against this stock) and inventory positions for every product at most locations.
// Deterministic for a given seed; nothing here reads the clock except the timestamps.

export const SANDBOX_RETAILER = { id: '1', ref: 'OMS_SANDBOX', tradingName: 'OMS Sandbox Retail' } as const;

/** The product catalogue orders name in `productCatalogueRef`. */
export const PRODUCT_CATALOGUE_REF = 'PC:MASTER:1';
/** The inventory catalogue the positions belong to. */
export const INVENTORY_CATALOGUE_REF = 'DEFAULT:1';

export interface SandboxProduct {
  ref: string;
  name: string;
}

/**
 * The generator's catalogue (SKU and name, as in lib/sfcc/generate.ts). The generator's
 * non-stock lines (`giftWrap:<line>` options, `GIFT_CERTIFICATE`) are not products.
 */
export const SANDBOX_PRODUCTS: readonly SandboxProduct[] = [
  { ref: '701643632930', name: 'Flat Front Pant' },
  { ref: '701644031206', name: 'Striped Silk Tie' },
  { ref: '799927757246', name: 'Classic Leather Belt' },
  { ref: '013742003307', name: 'Merino Crew Sweater' },
  { ref: '886736874533', name: 'Running Shoe "Velocity"' },
  { ref: '640188016204', name: 'Cotton Socks 3-Pack' },
  { ref: '793775370033', name: 'Rain Jacket – Navy' },
  { ref: '883360541099', name: 'Canvas Tote & Pouch' },
];

export const PRODUCT_REFS: readonly string[] = SANDBOX_PRODUCTS.map((p) => p.ref);

export interface FluentAttribute {
  name: string;
  type: string;
  value: unknown;
}

export interface FluentLocationAddress {
  id: string;
  ref: string;
  name: string;
  companyName?: string;
  street: string;
  city: string;
  state?: string;
  postcode: string;
  region?: string;
  country: string;
  latitude: number;
  longitude: number;
  timeZone: string;
}

export interface FluentNetwork {
  id: string;
  ref: string;
  type: string;
  status: string;
}

export interface FluentLocation {
  id: string;
  ref: string;
  name: string;
  type: 'WAREHOUSE' | 'STORE';
  status: string;
  supportPhoneNumber?: string;
  retailerId: string;
  primaryAddress: FluentLocationAddress;
  /** Refs of the networks the location belongs to. */
  networkRefs: string[];
  attributes: FluentAttribute[];
}

export interface FluentInventoryPosition {
  id: string;
  ref: string;
  productRef: string;
  locationRef: string;
  onHand: number;
  status: string;
  catalogueRef: string;
  createdOn: string;
  updatedOn: string;
}

export const DC_NETWORK = 'DC_NETWORK';
export const STORE_NETWORK = 'STORE_NETWORK';

export const SANDBOX_NETWORKS: readonly FluentNetwork[] = [
  { id: '1', ref: DC_NETWORK, type: 'DISTRIBUTION', status: 'ACTIVE' },
  { id: '2', ref: STORE_NETWORK, type: 'STORE', status: 'ACTIVE' },
];

type Site = [ref: string, name: string, street: string, postcode: string, city: string, country: string];
type Geo = [latitude: number, longitude: number, timeZone: string, phone: string];

const WAREHOUSES: Array<[Site, Geo]> = [
  [
    ['DC_ERFURT', 'Distribution Centre Erfurt', 'Am Herrenberg 22', '99091', 'Erfurt', 'DE'],
    [50.9921, 10.9745, 'Europe/Berlin', '+49 361 555 0100'],
  ],
  [
    ['DC_WIEN', 'Distribution Centre Wien-Inzersdorf', 'Draschestraße 101', '1230', 'Wien', 'AT'],
    [48.1426, 16.3257, 'Europe/Vienna', '+43 1 555 0200'],
  ],
  [
    ['DC_EGERKINGEN', 'Distribution Centre Egerkingen', 'Industriestrasse 18', '4622', 'Egerkingen', 'CH'],
    [47.3197, 7.7942, 'Europe/Zurich', '+41 62 555 0300'],
  ],
];

const STORES: Array<[Site, Geo]> = [
  [
    ['STORE_BERLIN', 'OMS Store Berlin Alexanderplatz', 'Alexanderplatz 9', '10178', 'Berlin', 'DE'],
    [52.5219, 13.4132, 'Europe/Berlin', '+49 30 555 0101'],
  ],
  [
    ['STORE_HAMBURG', 'OMS Store Hamburg Mönckebergstraße', 'Mönckebergstraße 7', '20095', 'Hamburg', 'DE'],
    [53.5504, 10.0006, 'Europe/Berlin', '+49 40 555 0102'],
  ],
  [
    ['STORE_MUENCHEN', 'OMS Store München Kaufingerstraße', 'Kaufingerstraße 14', '80331', 'München', 'DE'],
    [48.1374, 11.5718, 'Europe/Berlin', '+49 89 555 0103'],
  ],
  [
    ['STORE_KOELN', 'OMS Store Köln Schildergasse', 'Schildergasse 32', '50667', 'Köln', 'DE'],
    [50.9364, 6.9528, 'Europe/Berlin', '+49 221 555 0104'],
  ],
  [
    ['STORE_FRANKFURT', 'OMS Store Frankfurt Zeil', 'Zeil 106', '60313', 'Frankfurt am Main', 'DE'],
    [50.1145, 8.6837, 'Europe/Berlin', '+49 69 555 0105'],
  ],
  [
    ['STORE_STUTTGART', 'OMS Store Stuttgart Königstraße', 'Königstraße 27', '70173', 'Stuttgart', 'DE'],
    [48.7784, 9.18, 'Europe/Berlin', '+49 711 555 0106'],
  ],
  [
    ['STORE_WIEN', 'OMS Store Wien Mariahilfer Straße', 'Mariahilfer Straße 77', '1060', 'Wien', 'AT'],
    [48.1986, 16.3479, 'Europe/Vienna', '+43 1 555 0107'],
  ],
  [
    ['STORE_GRAZ', 'OMS Store Graz Herrengasse', 'Herrengasse 3', '8010', 'Graz', 'AT'],
    [47.0707, 15.4395, 'Europe/Vienna', '+43 316 555 0108'],
  ],
  [
    ['STORE_ZUERICH', 'OMS Store Zürich Bahnhofstrasse', 'Bahnhofstrasse 55', '8001', 'Zürich', 'CH'],
    [47.3717, 8.539, 'Europe/Zurich', '+41 44 555 0109'],
  ],
];

export const WAREHOUSE_REFS: readonly string[] = WAREHOUSES.map(([site]) => site[0]);
export const STORE_REFS: readonly string[] = STORES.map(([site]) => site[0]);
export const LOCATION_REFS: readonly string[] = [...WAREHOUSE_REFS, ...STORE_REFS];

/** mulberry32, as the order generator uses: small, fast, deterministic. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SandboxSeed {
  retailer: { id: string; ref: string; tradingName: string };
  networks: FluentNetwork[];
  locations: FluentLocation[];
  positions: FluentInventoryPosition[];
}

/**
 * The seed data. Distribution centres stock every product (40..499 on hand); a store carries a
 * product with probability 0.85, and a quarter of what it carries is sold out (onHand 0).
 */
export function seedData(seed = 1, retailerId: string = SANDBOX_RETAILER.id, now = new Date()): SandboxSeed {
  const rnd = seededRandom(seed);
  const stamp = now.toISOString();
  const locations: FluentLocation[] = [];
  const sites: Array<[Site, Geo, 'WAREHOUSE' | 'STORE']> = [
    ...WAREHOUSES.map(([s, g]): [Site, Geo, 'WAREHOUSE'] => [s, g, 'WAREHOUSE']),
    ...STORES.map(([s, g]): [Site, Geo, 'STORE'] => [s, g, 'STORE']),
  ];
  sites.forEach(
    ([[ref, name, street, postcode, city, country], [latitude, longitude, timeZone, phone], type]) => {
      const id = String(locations.length + 1);
      locations.push({
        id,
        ref,
        name,
        type,
        status: 'ACTIVE',
        supportPhoneNumber: phone,
        retailerId: String(retailerId),
        primaryAddress: {
          id,
          ref: `${ref}_ADDRESS`,
          name,
          companyName: SANDBOX_RETAILER.tradingName,
          street,
          city,
          postcode,
          country,
          latitude,
          longitude,
          timeZone,
        },
        networkRefs: [type === 'WAREHOUSE' ? DC_NETWORK : STORE_NETWORK],
        attributes: [
          {
            name: 'openingHours',
            type: 'STRING',
            value: type === 'WAREHOUSE' ? '00:00-24:00' : '10:00-20:00',
          },
        ],
      });
    },
  );

  const positions: FluentInventoryPosition[] = [];
  for (const product of SANDBOX_PRODUCTS) {
    for (const location of locations) {
      let onHand: number;
      if (location.type === 'WAREHOUSE') {
        onHand = 40 + Math.floor(rnd() * 460);
      } else {
        if (rnd() < 0.15) continue; // not ranged in this store
        onHand = rnd() < 0.25 ? 0 : 1 + Math.floor(rnd() * 24);
      }
      positions.push({
        id: String(positions.length + 1),
        ref: `${product.ref}:${location.ref}`,
        productRef: product.ref,
        locationRef: location.ref,
        onHand,
        status: 'ACTIVE',
        catalogueRef: INVENTORY_CATALOGUE_REF,
        createdOn: stamp,
        updatedOn: stamp,
      });
    }
  }
  return {
    retailer: { ...SANDBOX_RETAILER, id: String(retailerId) },
    networks: SANDBOX_NETWORKS.map((n) => ({ ...n })),
    locations,
    positions,
  };
}
