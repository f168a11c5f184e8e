// Realistic sample orders for demos, tests and benchmarks: several shipments, line, shipping and
// order-level discounts, options, surcharges, gift certificates, split payments, custom
// attributes (text, multi-value, xml:lang) and non-Latin names. Deterministic for a given seed.
// The orders are built in the canonical model; lib/sfcc/render.ts writes them as SFCC XML,
// OCAPI or SCAPI JSON, so one generated order can be checked through every reader.
import { canonicalTotals, orderSums } from '../order/totals';
import type {
  Address,
  Adjustment,
  Line,
  Order,
  OrderAdjustment,
  Payment,
  Shipment,
  ShippingCharge,
} from '../order/model';

/** mulberry32: small, fast, good enough for sample data. */
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

interface Market {
  currency: string;
  taxation: 'net' | 'gross';
  /** Tax rate in basis points (725 = 7.25 %), so the generator needs no float for tax. */
  taxBp: number;
  locale: string;
  /** Minor units per major unit. */
  unit: number;
  shipping: number;
  freeShippingFrom: number;
  people: Array<[string, string]>;
  addresses: Array<Omit<Address, 'firstName' | 'lastName'>>;
}

const MARKETS: Market[] = [
  {
    currency: 'USD',
    taxation: 'net',
    taxBp: 725,
    locale: 'en_US',
    unit: 100,
    shipping: 599,
    freeShippingFrom: 15000,
    people: [
      ['Max', 'Mustermann'],
      ['Emily', "O'Connor"],
      ['José', 'Núñez'],
      ['Aaliyah', 'Washington'],
      ['Nguyễn', 'Văn An'],
      ['Chloé', 'Dubois-Smith'],
    ],
    addresses: [
      {
        line1: '45 Main Rd.',
        city: 'Burlington',
        postalCode: '05408',
        stateCode: 'VT',
        countryCode: 'US',
        phone: '+1 617 555 0101',
      },
      {
        line1: '1600 Pennsylvania Ave NW',
        line2: 'Suite 4 & 5',
        city: 'Washington',
        postalCode: '20500',
        stateCode: 'DC',
        countryCode: 'US',
        phone: '(202) 555-0110',
      },
      {
        line1: '350 Fifth Avenue',
        city: 'New York',
        postalCode: '10118',
        stateCode: 'NY',
        countryCode: 'US',
        company: 'Smith & Sons <Retail>',
      },
    ],
  },
  {
    currency: 'EUR',
    taxation: 'gross',
    taxBp: 1900,
    locale: 'de_DE',
    unit: 100,
    shipping: 495,
    freeShippingFrom: 10000,
    people: [
      ['Jürgen', 'Müller'],
      ['Zoë', 'Weiß'],
      ['Αλέξανδρος', 'Παπαδόπουλος'],
      ['Дмитрий', 'Иванов'],
    ],
    addresses: [
      {
        line1: 'Königstraße 12',
        city: 'Stuttgart',
        postalCode: '70173',
        countryCode: 'DE',
        phone: '+49 711 555 123',
      },
      { line1: 'Straße des 17. Juni 135', city: 'Berlin', postalCode: '10623', countryCode: 'DE' },
    ],
  },
  {
    currency: 'JPY',
    taxation: 'gross',
    taxBp: 1000,
    locale: 'ja_JP',
    unit: 1,
    shipping: 550,
    freeShippingFrom: 8000,
    people: [
      ['太郎', '山田'],
      ['花子', '佐藤'],
      ['美咲', '高橋'],
    ],
    addresses: [
      {
        line1: '千代田区丸の内1-9-1',
        city: '東京都',
        postalCode: '100-0005',
        stateCode: '13',
        countryCode: 'JP',
        phone: '03-5555-0123',
      },
      { line1: '北区梅田3-1-1', city: '大阪市', postalCode: '530-0001', stateCode: '27', countryCode: 'JP' },
    ],
  },
  {
    currency: 'GBP',
    taxation: 'gross',
    taxBp: 2000,
    locale: 'en_GB',
    unit: 100,
    shipping: 395,
    freeShippingFrom: 7500,
    people: [
      ['Siobhán', 'Ní Bhriain'],
      ['محمد', 'الأحمد'],
      ['Oliver', 'Smith'],
    ],
    addresses: [
      {
        line1: '221B Baker Street',
        city: 'London',
        postalCode: 'NW1 6XE',
        countryCode: 'GB',
        phone: '+44 20 7946 0958',
      },
      { line1: '1 Princes Street', city: 'Edinburgh', postalCode: 'EH2 2EQ', countryCode: 'GB' },
    ],
  },
];

/** Documentation ranges (RFC 5737); every seventh order comes from the host of the one before. */
function remoteHostOf(n: number): string {
  const host = n % 7 === 0 ? n - 1 : n;
  return `${['192.0.2', '198.51.100', '203.0.113'][host % 3]}.${1 + (host % 250)}`;
}

/** Catalogue prices in major units x100 (cents); JPY prices are derived as whole yen. */
const CATALOGUE: Array<[string, string, number]> = [
  ['701643632930', 'Flat Front Pant', 9900],
  ['701644031206', 'Striped Silk Tie', 2999],
  ['799927757246', 'Classic Leather Belt', 4500],
  ['013742003307', 'Merino Crew Sweater', 12900],
  ['886736874533', 'Running Shoe "Velocity"', 14999],
  ['640188016204', 'Cotton Socks 3-Pack', 1299],
  ['793775370033', 'Rain Jacket – Navy', 18900],
  ['883360541099', 'Canvas Tote & Pouch', 3450],
];

const COLORS = ['navy', 'black', 'red', 'olive', 'ecru'];
const SIZES = ['S', 'M', 'L', 'XL', '32/34'];

/** Net, tax and gross of an amount given in the market's taxation basis. */
function priced(basis: number, market: Market): { netPrice: number; tax: number; grossPrice: number } {
  if (market.taxation === 'net') {
    const tax = Math.round((basis * market.taxBp) / 10000);
    return { netPrice: basis, tax, grossPrice: basis + tax };
  }
  const net = Math.round((basis * 10000) / (10000 + market.taxBp));
  return { netPrice: net, tax: basis - net, grossPrice: basis };
}

const taxRate = (market: Market): number => market.taxBp / 10000;

export interface GenerateOptions {
  seed?: number;
  /** First order number (default 1). */
  start?: number;
}

/** Generates order number `n` (deterministic for the same seed and n). */
export function generateOrder(n: number, seed = 42): Order {
  const rnd = seededRandom(seed * 1000003 + n);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)];
  const chance = (p: number): boolean => rnd() < p;
  const roll = rnd();
  const market = roll < 0.7 ? MARKETS[0] : roll < 0.85 ? MARKETS[1] : roll < 0.93 ? MARKETS[2] : MARKETS[3];
  const toMarket = (cents: number): number => (market.unit === 100 ? cents : Math.round(cents * 1.5));
  const orderRef = String(n).padStart(8, '0');
  const [firstName, lastName] = pick(market.people);
  const billing: Address = { firstName, lastName, ...pick(market.addresses) };
  const guest = chance(0.35);

  const shipments: Shipment[] = [
    {
      shipmentRef: 'me',
      method: 'STANDARD',
      address: { ...billing },
      status: 'NOT_SHIPPED',
      customAttributes: {},
    },
  ];
  if (chance(0.2)) {
    const [gFirst, gLast] = pick(market.people);
    shipments.push({
      shipmentRef: 'gift-1',
      method: 'EXPRESS',
      address: { firstName: gFirst, lastName: gLast, ...pick(market.addresses) },
      status: 'NOT_SHIPPED',
      gift: true,
      giftMessage: 'Happy birthday! <3 & best wishes',
      customAttributes: { deliveryWindow: 'weekday' },
    });
  }

  const lines: Line[] = [];
  const charges: ShippingCharge[] = [];
  const lineCount = 1 + Math.floor(rnd() * 4);
  for (let i = 1; i <= lineCount; i++) {
    const [sku, name, cents] = pick(CATALOGUE);
    const quantity = 1 + Math.floor(rnd() * 3);
    const unitPrice = toMarket(cents);
    const amounts = priced(unitPrice * quantity, market);
    const adjustments: Adjustment[] = [];
    if (chance(0.25)) {
      const off = -Math.round((unitPrice * quantity) / 10);
      adjustments.push({
        promotionId: 'PROMO-10-OFF',
        campaignId: 'HOLIDAY',
        text: '10% off',
        ...priced(off, market),
      });
    }
    const lineRef = String(i);
    const shipmentRef = i === lineCount && shipments.length > 1 ? 'gift-1' : 'me';
    const custom: Line['customAttributes'] = { color: pick(COLORS), size: pick(SIZES) };
    if (chance(0.3)) custom.tags = ['sale', 'new-arrival'];
    lines.push({
      lineRef,
      kind: 'product',
      sku,
      name,
      quantity,
      unitPrice,
      ...amounts,
      taxRate: taxRate(market),
      shipmentRef,
      adjustments,
      customAttributes: custom,
    });
    if (chance(0.08)) {
      const wrap = toMarket(300);
      lines.push({
        lineRef: `${lineRef}.1`,
        kind: 'option',
        sku: `giftWrap:${lineRef}`,
        name: 'Gift wrap',
        quantity,
        unitPrice: wrap,
        ...priced(wrap * quantity, market),
        taxRate: taxRate(market),
        shipmentRef,
        parentLineRef: lineRef,
        adjustments: [],
        customAttributes: {},
      });
    }
    if (chance(0.04)) {
      charges.push({
        chargeRef: `${lineRef}:surcharge`,
        shipmentRef,
        lineRef,
        ...priced(toMarket(1000), market),
        taxRate: taxRate(market),
        adjustments: [],
      });
    }
  }
  const gcLines: Line[] = [];
  if (chance(0.05)) {
    const gc = toMarket(2500);
    gcLines.push({
      lineRef: 'gc-1',
      kind: 'giftCertificate',
      sku: 'GIFT_CERTIFICATE',
      name: 'Gift certificate',
      quantity: 1,
      unitPrice: gc,
      netPrice: gc,
      tax: 0,
      grossPrice: gc,
      taxRate: 0,
      recipientEmail: 'friend@example.org',
      adjustments: [],
      customAttributes: {},
    });
  }
  const merchBasis = lines.reduce(
    (s, l) =>
      s +
      (market.taxation === 'net' ? l.netPrice : l.grossPrice) +
      l.adjustments.reduce((a, x) => a + (market.taxation === 'net' ? x.netPrice : x.grossPrice), 0),
    0,
  );
  const orderAdjustments: OrderAdjustment[] = [];
  if (chance(0.15) && merchBasis > toMarket(2000)) {
    orderAdjustments.push({
      scope: 'merchandise',
      promotionId: 'ORDER-5-OFF',
      couponCode: 'WELCOME5',
      text: '5 off your order',
      ...priced(-toMarket(500), market),
    });
  }
  for (const s of shipments) {
    const adjustments: Adjustment[] = [];
    const fee = market.shipping;
    if (merchBasis >= market.freeShippingFrom) {
      adjustments.push({ promotionId: 'FREE-SHIPPING', text: 'Free shipping', ...priced(-fee, market) });
    }
    charges.push({
      chargeRef: 'STANDARD_SHIPPING',
      shipmentRef: s.shipmentRef,
      ...priced(fee, market),
      taxRate: taxRate(market),
      adjustments,
    });
  }

  const all = [...lines, ...gcLines];
  const totals = canonicalTotals(orderSums({ lines: all, shippingCharges: charges, orderAdjustments }));
  const { grandTotal } = totals;

  const payments: Payment[] = [];
  let remaining = grandTotal;
  if (chance(0.15) && grandTotal > toMarket(2000)) {
    const gcAmount = toMarket(1000);
    payments.push({
      method: 'GIFT_CERTIFICATE',
      amount: gcAmount,
      processor: 'GIFT_CERTIFICATE',
      transactionId: `gc-${orderRef}`,
      customAttributes: {},
    });
    remaining -= gcAmount;
  }
  if (chance(0.1)) {
    payments.push({
      method: 'PayPal',
      amount: remaining,
      processor: 'PAYPAL',
      transactionId: `PAYID-${orderRef}`,
      customAttributes: { paypalPayerId: `P${Math.floor(rnd() * 1e8)}` },
    });
  } else {
    const last4 = String(1000 + Math.floor(rnd() * 9000));
    payments.push({
      method: 'CREDIT_CARD',
      amount: remaining,
      processor: 'CYBERSOURCE_CREDIT',
      transactionId: `txn-${orderRef}`,
      transactionType: 'AUTH',
      card: {
        brand: pick(['VISA', 'MASTER', 'AMEX', 'DISCOVER']),
        last4,
        token: `tok_${orderRef}_${last4}`,
        expMonth: 1 + Math.floor(rnd() * 12),
        expYear: 2027 + Math.floor(rnd() * 5),
        holder: `${firstName} ${lastName}`,
      },
      customAttributes: { authCode: String(100000 + Math.floor(rnd() * 900000)) },
    });
  }

  const created = new Date(Date.UTC(2026, 10, 1) + n * 37_000 + Math.floor(rnd() * 1000)).toISOString();
  const customAttributes: Order['customAttributes'] = {
    sourceChannel: pick(['web', 'app', 'store-kiosk']),
    fraudScore: String(Math.floor(rnd() * 100)),
  };
  if (chance(0.2))
    customAttributes.giftNote = { default: 'Thank you!', de: 'Vielen Dank!', ja: 'ありがとうございます' };
  if (chance(0.3)) customAttributes.segments = ['loyalty-gold', 'newsletter'];

  return {
    orderRef,
    createdAt: created,
    currency: market.currency,
    taxation: market.taxation,
    locale: market.locale,
    channel: 'Storefront',
    remoteHost: remoteHostOf(n),
    status: {
      order: chance(0.8) ? 'NEW' : 'OPEN',
      shipping: 'NOT_SHIPPED',
      payment: 'NOT_PAID',
      confirmation: 'CONFIRMED',
      export: 'READY',
    },
    customer: {
      customerNo: guest ? undefined : `C${String(100000 + (n % 900000))}`,
      name: `${firstName} ${lastName}`,
      email: `customer${n}@example.com`,
      guest,
      billingAddress: billing,
    },
    lines: all,
    shipments,
    shippingCharges: charges,
    orderAdjustments,
    totals,
    payments,
    customAttributes,
    source: { system: 'sfcc', format: 'xml' },
  };
}

/** Orders start..start+count-1, one at a time. */
export function* generateOrders(count: number, options: GenerateOptions = {}): Generator<Order> {
  const start = options.start ?? 1;
  for (let n = start; n < start + count; n++) yield generateOrder(n, options.seed ?? 42);
}
