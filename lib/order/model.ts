// The canonical order: the one shape that flows between nodes in msg.payload. Peer formats are
// mapped to it at the edge (lib/sfcc, later lib/fluent ...). docs/data-model.md is its reference.
import { z } from 'zod';

/** Integer minor units of the order currency (10699 = 106.99 USD). */
export const Minor = z.number().int().refine(Number.isSafeInteger, 'must be a safe integer');

const text = z.string();

export const AddressSchema = z.object({
  firstName: text.optional(),
  lastName: text.optional(),
  company: text.optional(),
  line1: text.optional(),
  line2: text.optional(),
  city: text.optional(),
  postalCode: text.optional(),
  stateCode: text.optional(),
  countryCode: text.optional(),
  phone: text.optional(),
});

/** Untyped in SFCC: a text, a multi-value list, or variants by xml:lang ("default" = no lang). */
export const CustomValueSchema = z.union([
  z.string(),
  z.array(z.string()),
  z.record(z.string(), z.union([z.string(), z.array(z.string())])),
]);
export const CustomAttributesSchema = z.record(z.string(), CustomValueSchema);

const amounts = { netPrice: Minor, tax: Minor, grossPrice: Minor };

export const AdjustmentSchema = z.object({
  promotionId: text,
  campaignId: text.optional(),
  couponCode: text.optional(),
  reasonCode: text.optional(),
  text: text.optional(),
  manual: z.boolean().optional(),
  ...amounts,
});

export const OrderAdjustmentSchema = AdjustmentSchema.extend({
  scope: z.enum(['merchandise', 'shipping']),
});

export const LineSchema = z.object({
  lineRef: text,
  kind: z.enum(['product', 'option', 'giftCertificate']),
  sku: text,
  name: text.optional(),
  quantity: z.number(),
  unitPrice: Minor,
  ...amounts,
  taxRate: z.number(),
  shipmentRef: text.optional(),
  parentLineRef: text.optional(),
  gift: z.boolean().optional(),
  giftMessage: text.optional(),
  recipientEmail: text.optional(),
  adjustments: z.array(AdjustmentSchema),
  customAttributes: CustomAttributesSchema,
});

export const ShippingChargeSchema = z.object({
  chargeRef: text,
  shipmentRef: text.optional(),
  /** Set for product-level shipping surcharges. */
  lineRef: text.optional(),
  ...amounts,
  taxRate: z.number(),
  adjustments: z.array(AdjustmentSchema),
});

export const ShipmentSchema = z.object({
  shipmentRef: text,
  method: text.optional(),
  address: AddressSchema.optional(),
  status: text.optional(),
  trackingNumber: text.optional(),
  gift: z.boolean().optional(),
  giftMessage: text.optional(),
  customAttributes: CustomAttributesSchema,
});

export const CardSchema = z.object({
  brand: text.optional(),
  last4: text.optional(),
  token: text.optional(),
  expMonth: z.number().int().optional(),
  expYear: z.number().int().optional(),
  holder: text.optional(),
});

export const PaymentSchema = z.object({
  method: text,
  amount: Minor,
  processor: text.optional(),
  transactionId: text.optional(),
  transactionType: text.optional(),
  card: CardSchema.optional(),
  customAttributes: CustomAttributesSchema,
});

export const TotalsSchema = z.object({
  /** Product and option lines, tax included, before any discount. */
  merchandise: Minor,
  /** Shipping charges, tax included, before shipping discounts. */
  shipping: Minor,
  /** All discounts (line, shipping and order level), tax included, as a positive amount. */
  discount: Minor,
  /** Gift certificate lines sold (not merchandise in SFCC's terms). */
  giftCertificates: Minor,
  tax: Minor,
  /** What the customer pays: merchandise + shipping - discount + giftCertificates. */
  grandTotal: Minor,
});

export const StatusSchema = z.object({
  order: text.optional(),
  shipping: text.optional(),
  payment: text.optional(),
  confirmation: text.optional(),
  export: text.optional(),
});

export const CustomerSchema = z.object({
  customerNo: text.optional(),
  name: text.optional(),
  email: text.optional(),
  guest: z.boolean(),
  billingAddress: AddressSchema.optional(),
});

export const SourceSchema = z.object({
  system: z.literal('sfcc'),
  format: z.enum(['xml', 'ocapi', 'scapi']),
  siteId: text.optional(),
  file: text.optional(),
  /** 1-based position of the order in its file or batch. */
  position: z.number().int().optional(),
});

export const OrderSchema = z.object({
  orderRef: text,
  createdAt: text,
  currency: text,
  taxation: z.enum(['net', 'gross']).optional(),
  locale: text.optional(),
  channel: text.optional(),
  /** The shopper's IP address as SFCC recorded it (PII: fraud velocity keys hash it). */
  remoteHost: text.optional(),
  status: StatusSchema,
  customer: CustomerSchema,
  lines: z.array(LineSchema),
  shipments: z.array(ShipmentSchema),
  shippingCharges: z.array(ShippingChargeSchema),
  orderAdjustments: z.array(OrderAdjustmentSchema),
  totals: TotalsSchema,
  payments: z.array(PaymentSchema),
  customAttributes: CustomAttributesSchema,
  source: SourceSchema,
});

export type Address = z.infer<typeof AddressSchema>;
export type CustomValue = z.infer<typeof CustomValueSchema>;
export type CustomAttributes = z.infer<typeof CustomAttributesSchema>;
export type Adjustment = z.infer<typeof AdjustmentSchema>;
export type OrderAdjustment = z.infer<typeof OrderAdjustmentSchema>;
export type Line = z.infer<typeof LineSchema>;
export type ShippingCharge = z.infer<typeof ShippingChargeSchema>;
export type Shipment = z.infer<typeof ShipmentSchema>;
export type Card = z.infer<typeof CardSchema>;
export type Payment = z.infer<typeof PaymentSchema>;
export type Totals = z.infer<typeof TotalsSchema>;
export type OrderStatus = z.infer<typeof StatusSchema>;
export type Customer = z.infer<typeof CustomerSchema>;
export type OrderSource = z.infer<typeof SourceSchema>;
export type Order = z.infer<typeof OrderSchema>;

/** Net, tax and gross of one amount block as the source declared it (any may be missing). */
export interface DeclaredAmounts {
  net?: number;
  tax?: number;
  gross?: number;
}

/**
 * Order-level totals as the source file declared them, kept beside the order for
 * reconciliation. `basis` says which price the JSON APIs report (net or gross taxation).
 */
export interface DeclaredTotals {
  /** XML merchandize-total: product lines before (SFCC docs) or after item-level discounts. */
  merchandise?: DeclaredAmounts;
  /** SCAPI/OCAPI productSubTotal: after item-level discounts, before order-level ones. */
  merchandiseAfterItemDiscounts?: DeclaredAmounts;
  adjustedMerchandise?: DeclaredAmounts;
  shipping?: DeclaredAmounts;
  adjustedShipping?: DeclaredAmounts;
  order?: DeclaredAmounts;
}

/** One validation finding: where, which rule, and a sentence an analyst can act on. */
export interface OrderIssue {
  path: string;
  rule: string;
  message: string;
}

/** A rejected order: its number (or a stand-in when it has none) and every finding. */
export interface OrderRejection {
  orderRef: string;
  errors: OrderIssue[];
}

/**
 * CARD_NUMBER_MASKED: a full card number was found and masked. With a store: UPDATED, the order
 * was imported before with other content; REDELIVERED, it was read before but no durable step
 * took it (a crash came between).
 */
export type OrderFlag = 'CARD_NUMBER_MASKED' | 'UPDATED' | 'REDELIVERED';
