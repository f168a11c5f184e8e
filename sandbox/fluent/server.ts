// A local stand-in for Fluent Commerce, speaking its real shapes over HTTP on 127.0.0.1:
//
// - `POST /oauth/token`: the password grant, parameters in the query string (Fluent's documented
//   example) or a form body (what Fluent recommends); tokens expire after `tokenTtlSeconds`.
// - `POST /graphql` (Bearer): graphql-js serving FLUENT_SDL (schema.graphql.ts). Errors come back
//   with HTTP 200 in `errors[]`, the Fluent code in `extensions.code` and as the message prefix:
//   C0121E duplicate ref, C0120E unknown retailer/customer/location, C0122E quantity <= 0,
//   C0160E HD without deliveryAddress or CC without pickupLocationRef; a request the schema
//   rejects (syntax, unknown field, bad variables) gets C0140E (Fluent's request-format range).
// - `POST /api/v4.1/event/async|sync` and `GET /api/v4.1/event/{id}`: OrderCancel,
//   OrderAppeasement and OrderAddressChange against orders; other names match no rule.
//
// State (customers, orders, locations, inventory) lives in memory, seeded by data.ts; ids are
// sequential numbers, so a run is reproducible. Faults: latency before every answer; a share of
// the authenticated API calls answered 429 (Retry-After, C0011E) or 500/502/503, or carried out
// with the answer lost (504), drawn from (seed, call number) so runs repeat; C-code rejections of
// createOrder for chosen refs.
// `log()` is a read-only request log (no credentials or tokens in it).
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  buildSchema,
  execute,
  GraphQLError,
  Kind,
  parse,
  validate,
  type DocumentNode,
  type GraphQLFormattedError,
  type OperationDefinitionNode,
} from 'graphql';
import { seededUnit } from '../http-peer';
import { argValue, BodyTooLarge, checkRate, numberArg, readBody, sleep, type Reply } from '../util';
import {
  seedData,
  type FluentAttribute,
  type FluentInventoryPosition,
  type FluentLocation,
  type FluentNetwork,
} from './data';
import { FLUENT_SDL } from './schema.graphql';

export type { FluentAttribute, FluentInventoryPosition, FluentLocation, FluentNetwork } from './data';

// ---------------------------------------------------------------------------------------------
// Entities

export interface FluentAddress {
  id: string;
  ref: string;
  name?: string;
  companyName?: string;
  street?: string;
  city?: string;
  state?: string;
  postcode?: string;
  region?: string;
  country?: string;
  latitude?: number;
  longitude?: number;
  timeZone?: string;
}

export interface FluentOrderItem {
  id: string;
  ref: string;
  status: string;
  productRef: string;
  productCatalogueRef?: string;
  quantity: number;
  price?: number;
  paidPrice?: number;
  taxPrice?: number;
  taxType?: string;
  totalPrice?: number;
  totalTaxPrice?: number;
  currency?: string;
  attributes: FluentAttribute[];
}

export interface FluentFulfilmentChoice {
  id: string;
  deliveryType: string;
  currency?: string;
  deliveryInstruction?: string;
  fulfilmentPrice?: number;
  fulfilmentTaxPrice?: number;
  fulfilmentType?: string;
  pickupLocationRef?: string;
  deliveryAddress?: FluentAddress;
}

export interface FluentFinancialTransaction {
  id: string;
  ref: string;
  type: string;
  /** Always CREATED on creation (there is no status input); the workflow moves it on. */
  status: string;
  amount: number;
  currency: string;
  paymentMethod: string;
  cardType?: string;
  paymentProvider?: string;
  externalTransactionCode?: string;
  externalTransactionId?: string;
  createdOn: string;
}

export interface FluentOrder {
  id: string;
  ref: string;
  type: string;
  status: string;
  workflowRef: string;
  workflowVersion: number;
  createdOn: string;
  updatedOn: string;
  totalPrice?: number;
  totalTaxPrice?: number;
  retailerId: string;
  customerId: string;
  items: FluentOrderItem[];
  fulfilmentChoice?: FluentFulfilmentChoice;
  financialTransactions: FluentFinancialTransaction[];
  attributes: FluentAttribute[];
}

export interface FluentCustomer {
  id: string;
  ref: string;
  username: string;
  firstName: string;
  lastName?: string;
  primaryEmail: string;
  primaryPhone?: string;
  timezone: string;
  promotionOptIn: boolean;
  country?: string;
  retailerId: string;
  attributes: FluentAttribute[];
  createdOn: string;
  updatedOn: string;
}

export type FluentEventStatus = 'PENDING' | 'COMPLETE' | 'NO_MATCH' | 'FAILED';

export interface FluentEvent {
  id: string;
  name: string;
  mode: 'async' | 'sync';
  entityType: string;
  entityRef?: string;
  entityId?: string;
  retailerId: string;
  attributes: Record<string, unknown>;
  eventStatus: FluentEventStatus;
  /** Why the event failed or matched no rule. */
  message?: string;
  generatedOn: string;
}

// ---------------------------------------------------------------------------------------------
// Options, faults, log

export interface FluentFaults {
  /** Delay before every answer, in ms. */
  latencyMs?: number;
  /** Share (0..1) of authenticated API calls answered 500, 502 or 503. */
  errorRate?: number;
  /** Share (0..1) of authenticated API calls answered 429 with Retry-After and C0011E. */
  rateLimitRate?: number;
  /**
   * Share (0..1) of authenticated API calls that are carried out and whose answer is then lost:
   * the caller gets 504 as from a gateway that gave up, though the mutation took effect.
   */
  lostReplyRate?: number;
  /** Retry-After of the 429 answers, in seconds (default 1). */
  retryAfterSeconds?: number;
  /** Order ref -> Fluent code (e.g. 'C0160E') with which createOrder rejects that ref. */
  rejectRefs?: Map<string, string>;
  /** Seed of the fault draws (default 1). */
  seed?: number;
}

export interface FluentSandboxOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  clientId: string;
  clientSecret: string;
  username: string;
  password: string;
  /** Default 1. */
  retailerId?: number;
  /** Default 3600. */
  tokenTtlSeconds?: number;
  faults?: FluentFaults;
  /** Seed of the inventory data (default 1). */
  dataSeed?: number;
}

export interface FluentFaultState {
  latencyMs: number;
  errorRate: number;
  rateLimitRate: number;
  lostReplyRate: number;
  retryAfterSeconds: number;
  rejectRefs: ReadonlyMap<string, string>;
  seed: number;
}

export interface FluentFaultControls {
  /** Merges the given settings into the current ones. */
  set(changes: FluentFaults): void;
  setLatency(ms: number): void;
  setErrorRate(rate: number): void;
  setRateLimitRate(rate: number, retryAfterSeconds?: number): void;
  setLostReplyRate(rate: number): void;
  /** createOrder for `ref` fails with `code`; undefined lifts the rejection. */
  rejectRef(ref: string, code: string | undefined): void;
  /** No faults at all. */
  reset(): void;
  current(): FluentFaultState;
}

export interface FluentLogEntry {
  /** Epoch ms when the request arrived. */
  at: number;
  method: string;
  /** The path without the query string (which may carry credentials). */
  path: string;
  status: number;
  operationName?: string;
  /** Top-level fields of the executed GraphQL operation, e.g. ['createOrder']. */
  fields?: string[];
  variables?: Record<string, unknown>;
  /** Codes of the GraphQL errors in the answer. */
  codes?: string[];
  eventName?: string;
  /** The fault injected into this answer, if any. */
  fault?: 'rate-limit' | 'error' | 'reject' | 'lost-reply';
}

export interface FluentSandbox {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  retailerId: number;
  faults: FluentFaultControls;
  log(): ReadonlyArray<Readonly<FluentLogEntry>>;
  /** Snapshots (copies), keyed by ref. */
  orders(): Map<string, FluentOrder>;
  customers(): Map<string, FluentCustomer>;
  locations(): Map<string, FluentLocation>;
  /** Keyed by position ref `<productRef>:<locationRef>`. */
  inventory(): Map<string, FluentInventoryPosition>;
  events(): FluentEvent[];
  /** Sets a position's on-hand (creating the position if needed), e.g. to force a backorder. */
  setOnHand(productRef: string, locationRef: string, onHand: number): void;
  /** Moves an order to a status, as a workflow would (e.g. SHIPPED); false if unknown. */
  setOrderStatus(ref: string, status: string): boolean;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// GraphQL: schema, errors, paging

const schema = buildSchema(FLUENT_SDL);

export const FLUENT_CODES = {
  rateLimited: 'C0011E',
  notFound: 'C0120E',
  alreadyExists: 'C0121E',
  invalidValue: 'C0122E',
  requestFormat: 'C0140E',
  customValidation: 'C0160E',
} as const;

function fluentError(code: string, message: string): GraphQLError {
  return new GraphQLError(`${code}: ${message}`, { extensions: { code } });
}

const REJECT_MESSAGES: Record<string, string> = {
  C0120E: 'Entity not found',
  C0121E: 'Order entity already exists',
  C0122E: 'Invalid field value',
  C0140E: 'Invalid request format',
  C0160E: 'Custom validation failed',
  C0020E: 'Missing permissions',
};

/** What a resolver may see of the request: its log entry (to mark injected rejections). */
interface RequestContext {
  entry: FluentLogEntry;
}

interface PageArgs {
  first?: number | null;
  after?: string | null;
}

interface Connection<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean };
}

const DEFAULT_PAGE = 100;
const MAX_PAGE = 5000;

const cursorOf = (kind: string, id: string): string => Buffer.from(`${kind}:${id}`).toString('base64');

/** A Relay page of `items` (ordered by numeric id), the nodes mapped by `view`. */
function connection<T extends { id: string }, V>(
  kind: string,
  items: readonly T[],
  args: PageArgs,
  view: (item: T) => V,
): Connection<V> {
  const first = args.first ?? DEFAULT_PAGE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE) {
    throw fluentError(FLUENT_CODES.invalidValue, `first must be between 0 and ${MAX_PAGE}`);
  }
  let start = 0;
  if (args.after !== null && args.after !== undefined) {
    const decoded = Buffer.from(args.after, 'base64').toString('utf8');
    const [prefix, id] = decoded.split(':');
    if (prefix !== kind || !/^\d+$/.test(id ?? '')) {
      throw fluentError(FLUENT_CODES.requestFormat, `Invalid cursor for ${kind}: ${args.after}`);
    }
    const after = Number(id);
    start = items.findIndex((item) => Number(item.id) > after);
    if (start < 0) start = items.length;
  }
  const slice = items.slice(start, start + first);
  return {
    edges: slice.map((item) => ({ cursor: cursorOf(kind, item.id), node: view(item) })),
    pageInfo: { hasNextPage: start + slice.length < items.length, hasPreviousPage: start > 0 },
  };
}

/** Keeps items whose `value` is in `wanted`; no filter when `wanted` is absent or empty. */
function matches(
  wanted: ReadonlyArray<string | null> | null | undefined,
  value: string | undefined,
): boolean {
  if (!wanted || wanted.length === 0) return true;
  return value !== undefined && wanted.includes(value);
}

const opt = <T>(value: T | null | undefined): T | undefined => (value === null ? undefined : value);

// Coerced GraphQL inputs: graphql-js has checked them against FLUENT_SDL, nullable fields may be null.
type Nullable<T> = { [K in keyof T]?: T[K] | null };

interface AttributeInput {
  name: string;
  type: string;
  value: unknown;
}

type AddressInput = Nullable<Omit<FluentAddress, 'id' | 'ref'>> & { ref: string };

type ItemInput = Nullable<Omit<FluentOrderItem, 'id' | 'status' | 'attributes'>> & {
  ref: string;
  productRef: string;
  quantity: number;
  attributes?: Array<AttributeInput | null> | null;
};

type FulfilmentChoiceInput = Nullable<Omit<FluentFulfilmentChoice, 'id' | 'deliveryAddress'>> & {
  deliveryType: string;
  deliveryAddress?: AddressInput | null;
};

type FinancialTransactionInput = Nullable<Omit<FluentFinancialTransaction, 'id' | 'status' | 'createdOn'>> & {
  ref: string;
  type: string;
  amount: number;
  currency: string;
  paymentMethod: string;
};

interface CreateOrderInput {
  ref: string;
  type: string;
  retailer: { id: string };
  customer: { id: string };
  items: Array<ItemInput | null>;
  totalPrice?: number | null;
  totalTaxPrice?: number | null;
  fulfilmentChoice?: FulfilmentChoiceInput | null;
  financialTransactions?: Array<FinancialTransactionInput | null> | null;
  attributes?: Array<AttributeInput | null> | null;
}

interface CreateCustomerInput {
  username: string;
  firstName: string;
  lastName?: string | null;
  primaryEmail: string;
  primaryPhone?: string | null;
  timezone: string;
  promotionOptIn: boolean;
  country?: string | null;
  retailer: { id: string };
  attributes?: Array<AttributeInput | null> | null;
}

const attributesOf = (input: Array<AttributeInput | null> | null | undefined): FluentAttribute[] =>
  (input ?? [])
    .filter((a): a is AttributeInput => a !== null)
    .map((a) => ({ name: a.name, type: a.type, value: a.value }));

/** The C-code rejection of createOrder that a fault rule injects for a ref. */
function rejection(code: string, ref: string): GraphQLError {
  const what = REJECT_MESSAGES[code] ?? 'Request rejected';
  return fluentError(code, `${what} (order ${ref}, sandbox rejection rule)`);
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers

const MAX_BODY = 4 * 1024 * 1024;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const HTTP_REASONS: Record<number, string> = {
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

const FINAL_STATUSES = new Set(['CANCELLED', 'COMPLETE', 'SHIPPED', 'DELIVERED', 'FULFILLED']);

/** Deterministic event ids in UUID form. */
const eventId = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

// ---------------------------------------------------------------------------------------------
// The server

export async function startFluentSandbox(options: FluentSandboxOptions): Promise<FluentSandbox> {
  const retailerNumber = options.retailerId ?? 1;
  const retailerId = String(retailerNumber);
  const ttlMs = (options.tokenTtlSeconds ?? 3600) * 1000;
  const seed = seedData(options.dataSeed ?? 1, retailerId);
  const retailer = seed.retailer;

  // State ------------------------------------------------------------------------------------
  const orders = new Map<string, FluentOrder>();
  const customers = new Map<string, FluentCustomer>(); // by id
  const locations = new Map<string, FluentLocation>(seed.locations.map((l) => [l.ref, l]));
  const networks = new Map<string, FluentNetwork>(seed.networks.map((n) => [n.ref, n]));
  const positions = new Map<string, FluentInventoryPosition>(seed.positions.map((p) => [p.ref, p]));
  const events = new Map<string, FluentEvent>();
  const tokens = new Map<string, number>(); // access token -> expiry (epoch ms)
  const log: FluentLogEntry[] = [];
  const ids = { order: 1000, customer: 500, item: 10000, choice: 3000, address: 4000, transaction: 6000 };
  let positionId = seed.positions.length;
  let eventCount = 0;
  let faultCalls = 0;

  const faults: FluentFaultState & { rejectRefs: Map<string, string> } = {
    latencyMs: 0,
    errorRate: 0,
    rateLimitRate: 0,
    lostReplyRate: 0,
    retryAfterSeconds: 1,
    rejectRefs: new Map(),
    seed: 1,
  };
  const setFaults = (changes: FluentFaults): void => {
    if (changes.latencyMs !== undefined) {
      if (!(changes.latencyMs >= 0)) throw new RangeError(`latencyMs must be >= 0, got ${changes.latencyMs}`);
      faults.latencyMs = changes.latencyMs;
    }
    if (changes.errorRate !== undefined) faults.errorRate = checkRate('errorRate', changes.errorRate);
    if (changes.rateLimitRate !== undefined)
      faults.rateLimitRate = checkRate('rateLimitRate', changes.rateLimitRate);
    if (changes.lostReplyRate !== undefined)
      faults.lostReplyRate = checkRate('lostReplyRate', changes.lostReplyRate);
    if (faults.errorRate + faults.rateLimitRate + faults.lostReplyRate > 1) {
      throw new RangeError('errorRate + rateLimitRate + lostReplyRate must not exceed 1');
    }
    if (changes.retryAfterSeconds !== undefined) faults.retryAfterSeconds = changes.retryAfterSeconds;
    if (changes.rejectRefs !== undefined) faults.rejectRefs = new Map(changes.rejectRefs);
    if (changes.seed !== undefined) faults.seed = changes.seed;
  };
  setFaults(options.faults ?? {});
  const faultControls: FluentFaultControls = {
    set: setFaults,
    setLatency: (ms) => setFaults({ latencyMs: ms }),
    setErrorRate: (rate) => setFaults({ errorRate: rate }),
    setRateLimitRate: (rate, retryAfterSeconds) => setFaults({ rateLimitRate: rate, retryAfterSeconds }),
    setLostReplyRate: (rate) => setFaults({ lostReplyRate: rate }),
    rejectRef: (ref, code) => {
      if (code === undefined) faults.rejectRefs.delete(ref);
      else faults.rejectRefs.set(ref, code);
    },
    reset: () => {
      faults.latencyMs = 0;
      faults.errorRate = 0;
      faults.rateLimitRate = 0;
      faults.lostReplyRate = 0;
      faults.rejectRefs = new Map();
    },
    current: () => ({ ...faults, rejectRefs: new Map(faults.rejectRefs) }),
  };

  const now = (): string => new Date().toISOString();
  const customerById = (id: string): FluentCustomer | undefined => customers.get(id);
  const orderById = (id: string): FluentOrder | undefined => {
    for (const order of orders.values()) if (order.id === id) return order;
    return undefined;
  };

  // Views: records as GraphQL objects (connections are functions of their arguments) ----------
  const retailerView = { id: retailer.id, ref: retailer.ref, tradingName: retailer.tradingName };
  const customerView = (c: FluentCustomer) => ({ ...c, retailer: retailerView });
  const orderView = (o: FluentOrder) => ({
    ...o,
    retailer: retailerView,
    customer: () => {
      const c = customerById(o.customerId);
      return c ? customerView(c) : null;
    },
    items: (args: PageArgs) => connection('OrderItem', o.items, args, (i) => i),
    financialTransactions: (args: PageArgs) =>
      connection('FinancialTransaction', o.financialTransactions, args, (t) => t),
  });
  const locationView = (l: FluentLocation) => ({
    ...l,
    retailer: retailerView,
    networks: (args: PageArgs) =>
      connection(
        'Network',
        l.networkRefs.flatMap((ref) => networks.get(ref) ?? []),
        args,
        (n) => n,
      ),
  });
  const positionView = (p: FluentInventoryPosition) => ({ ...p, catalogue: { ref: p.catalogueRef } });

  // Mutations ----------------------------------------------------------------------------------
  const requireRetailer = (id: string): void => {
    if (id !== retailer.id) throw fluentError(FLUENT_CODES.notFound, `Retailer entity not found (id ${id})`);
  };

  const createCustomer = (input: CreateCustomerInput | null | undefined): FluentCustomer => {
    if (!input) throw fluentError(FLUENT_CODES.requestFormat, 'input is required');
    requireRetailer(input.retailer.id);
    for (const c of customers.values()) {
      if (c.username === input.username) {
        throw fluentError(FLUENT_CODES.alreadyExists, 'Customer entity already exists');
      }
    }
    const stamp = now();
    const customer: FluentCustomer = {
      id: String(++ids.customer),
      ref: input.username,
      username: input.username,
      firstName: input.firstName,
      lastName: opt(input.lastName),
      primaryEmail: input.primaryEmail,
      primaryPhone: opt(input.primaryPhone),
      timezone: input.timezone,
      promotionOptIn: input.promotionOptIn,
      country: opt(input.country),
      retailerId: retailer.id,
      attributes: attributesOf(input.attributes),
      createdOn: stamp,
      updatedOn: stamp,
    };
    customers.set(customer.id, customer);
    return customer;
  };

  const addressOf = (input: AddressInput): FluentAddress => ({
    id: String(++ids.address),
    ref: input.ref,
    name: opt(input.name),
    companyName: opt(input.companyName),
    street: opt(input.street),
    city: opt(input.city),
    state: opt(input.state),
    postcode: opt(input.postcode),
    region: opt(input.region),
    country: opt(input.country),
    latitude: opt(input.latitude),
    longitude: opt(input.longitude),
    timeZone: opt(input.timeZone),
  });

  const createOrder = (input: CreateOrderInput | null | undefined, context: RequestContext): FluentOrder => {
    if (!input) throw fluentError(FLUENT_CODES.requestFormat, 'input is required');
    const rejectCode = faults.rejectRefs.get(input.ref);
    if (rejectCode) {
      context.entry.fault = 'reject';
      throw rejection(rejectCode, input.ref);
    }
    requireRetailer(input.retailer.id);
    if (orders.has(input.ref)) throw fluentError(FLUENT_CODES.alreadyExists, 'Order entity already exists');
    const customer = customerById(input.customer.id);
    if (!customer) {
      throw fluentError(FLUENT_CODES.notFound, `Customer entity not found (id ${input.customer.id})`);
    }
    const items = input.items.filter((i): i is ItemInput => i !== null);
    for (const item of items) {
      if (!(item.quantity > 0)) {
        throw fluentError(
          FLUENT_CODES.invalidValue,
          `quantity must be greater than 0 (item ${item.ref}: ${item.quantity})`,
        );
      }
    }
    const choice = opt(input.fulfilmentChoice);
    const kind = (choice?.fulfilmentType ?? input.type).toUpperCase();
    if ((input.type === 'HD' || kind.startsWith('HD')) && !choice?.deliveryAddress) {
      throw fluentError(
        FLUENT_CODES.customValidation,
        'deliveryAddress is required for a home delivery order',
      );
    }
    if (input.type === 'CC' || kind.startsWith('CC')) {
      if (!choice?.pickupLocationRef) {
        throw fluentError(
          FLUENT_CODES.customValidation,
          'pickupLocationRef is required for a click & collect order',
        );
      }
      if (!locations.has(choice.pickupLocationRef)) {
        throw fluentError(
          FLUENT_CODES.notFound,
          `Location entity not found (ref ${choice.pickupLocationRef})`,
        );
      }
    }

    const stamp = now();
    const order: FluentOrder = {
      id: String(++ids.order),
      ref: input.ref,
      type: input.type,
      status: 'CREATED',
      workflowRef: `ORDER::${input.type}`,
      workflowVersion: 1,
      createdOn: stamp,
      updatedOn: stamp,
      totalPrice: opt(input.totalPrice),
      totalTaxPrice: opt(input.totalTaxPrice),
      retailerId: retailer.id,
      customerId: customer.id,
      items: items.map((i) => ({
        id: String(++ids.item),
        ref: i.ref,
        status: 'CREATED',
        productRef: i.productRef,
        productCatalogueRef: opt(i.productCatalogueRef),
        quantity: i.quantity,
        price: opt(i.price),
        paidPrice: opt(i.paidPrice),
        taxPrice: opt(i.taxPrice),
        taxType: opt(i.taxType),
        totalPrice: opt(i.totalPrice),
        totalTaxPrice: opt(i.totalTaxPrice),
        currency: opt(i.currency),
        attributes: attributesOf(i.attributes),
      })),
      fulfilmentChoice: choice
        ? {
            id: String(++ids.choice),
            deliveryType: choice.deliveryType,
            currency: opt(choice.currency),
            deliveryInstruction: opt(choice.deliveryInstruction),
            fulfilmentPrice: opt(choice.fulfilmentPrice),
            fulfilmentTaxPrice: opt(choice.fulfilmentTaxPrice),
            fulfilmentType: opt(choice.fulfilmentType),
            pickupLocationRef: opt(choice.pickupLocationRef),
            deliveryAddress: choice.deliveryAddress ? addressOf(choice.deliveryAddress) : undefined,
          }
        : undefined,
      financialTransactions: (input.financialTransactions ?? [])
        .filter((t): t is FinancialTransactionInput => t !== null)
        .map((t) => ({
          id: String(++ids.transaction),
          ref: t.ref,
          type: t.type,
          status: 'CREATED',
          amount: t.amount,
          currency: t.currency,
          paymentMethod: t.paymentMethod,
          cardType: opt(t.cardType),
          paymentProvider: opt(t.paymentProvider),
          externalTransactionCode: opt(t.externalTransactionCode),
          externalTransactionId: opt(t.externalTransactionId),
          createdOn: stamp,
        })),
      attributes: attributesOf(input.attributes),
    };
    orders.set(order.ref, order);
    return order;
  };

  // Root resolvers: graphql-js calls rootValue[field](args, contextValue); args are schema-checked.
  const rootValue = {
    order: (args: { id?: string | null; ref?: string | null }) => {
      const found = args.ref ? orders.get(args.ref) : args.id ? orderById(args.id) : undefined;
      if (found && args.id && found.id !== args.id) return null;
      return found ? orderView(found) : null;
    },
    orderById: (args: { id: string }) => {
      const found = orderById(args.id);
      return found ? orderView(found) : null;
    },
    orders: (
      args: PageArgs & {
        ref?: Array<string | null> | null;
        type?: string[] | null;
        status?: Array<string | null> | null;
      },
    ) =>
      connection(
        'Order',
        [...orders.values()].filter(
          (o) => matches(args.ref, o.ref) && matches(args.type, o.type) && matches(args.status, o.status),
        ),
        args,
        orderView,
      ),
    customerById: (args: { id: string }) => {
      const found = customerById(args.id);
      return found ? customerView(found) : null;
    },
    customers: (
      args: PageArgs & {
        ref?: Array<string | null> | null;
        username?: Array<string | null> | null;
        primaryEmail?: Array<string | null> | null;
      },
    ) =>
      connection(
        'Customer',
        [...customers.values()].filter(
          (c) =>
            matches(args.ref, c.ref) &&
            matches(args.username, c.username) &&
            matches(args.primaryEmail, c.primaryEmail),
        ),
        args,
        customerView,
      ),
    location: (args: { ref: string }) => {
      const found = locations.get(args.ref);
      return found ? locationView(found) : null;
    },
    locations: (
      args: PageArgs & {
        ref?: Array<string | null> | null;
        type?: Array<string | null> | null;
        status?: Array<string | null> | null;
      },
    ) =>
      connection(
        'Location',
        [...locations.values()].filter(
          (l) => matches(args.ref, l.ref) && matches(args.type, l.type) && matches(args.status, l.status),
        ),
        args,
        locationView,
      ),
    inventoryPositions: (
      args: PageArgs & {
        ref?: Array<string | null> | null;
        productRef?: Array<string | null> | null;
        locationRef?: Array<string | null> | null;
        status?: Array<string | null> | null;
      },
    ) =>
      connection(
        'InventoryPosition',
        [...positions.values()]
          .filter(
            (p) =>
              matches(args.ref, p.ref) &&
              matches(args.productRef, p.productRef) &&
              matches(args.locationRef, p.locationRef) &&
              matches(args.status, p.status),
          )
          .sort((a, b) => Number(a.id) - Number(b.id)),
        args,
        positionView,
      ),
    createCustomer: (args: { input?: CreateCustomerInput | null }) =>
      customerView(createCustomer(args.input)),
    createOrder: (args: { input?: CreateOrderInput | null }, context: RequestContext) =>
      orderView(createOrder(args.input, context)),
  };

  // Events -------------------------------------------------------------------------------------
  type EventOutcome =
    { status: 'COMPLETE'; order: FluentOrder } | { status: 'NO_MATCH' | 'FAILED'; message: string };
  const NO_RULE = 'No workflow rule matched this event';

  /** Runs an event's rule against its order: the outcome, the order changed on COMPLETE. */
  const runEvent = (event: FluentEvent): EventOutcome => {
    const rules = ['OrderCancel', 'OrderAppeasement', 'OrderAddressChange'];
    if (!rules.includes(event.name) || event.entityType !== 'ORDER')
      return { status: 'NO_MATCH', message: NO_RULE };
    const order =
      (event.entityId ? orderById(event.entityId) : undefined) ??
      (event.entityRef ? orders.get(event.entityRef) : undefined);
    if (!order) {
      return {
        status: 'FAILED',
        message: `${FLUENT_CODES.notFound}: ORDER entity not found (${event.entityRef ?? event.entityId})`,
      };
    }
    if (FINAL_STATUSES.has(order.status)) return { status: 'NO_MATCH', message: NO_RULE };
    const attrs = event.attributes;
    const stamp = now();
    if (event.name === 'OrderCancel') {
      order.status = 'CANCELLED';
      if (typeof attrs.cancelReason === 'string') {
        order.attributes.push({ name: 'cancelReason', type: 'STRING', value: attrs.cancelReason });
      }
    } else if (event.name === 'OrderAppeasement') {
      const amount = Number(attrs.appeasementAmount);
      if (attrs.appeasementAmount === undefined || !Number.isFinite(amount) || amount <= 0) {
        return { status: 'FAILED', message: 'appeasementAmount must be a positive number' };
      }
      order.attributes.push({ name: 'appeasementAmount', type: 'FLOAT', value: amount });
      if (typeof attrs.appeasementReason === 'string') {
        order.attributes.push({ name: 'appeasementReason', type: 'STRING', value: attrs.appeasementReason });
      }
    } else {
      const address = attrs.deliveryAddress;
      const current = order.fulfilmentChoice?.deliveryAddress;
      if (!current || !order.fulfilmentChoice) return { status: 'NO_MATCH', message: NO_RULE };
      if (!isRecord(address)) return { status: 'FAILED', message: 'deliveryAddress must be an object' };
      const next: FluentAddress = { ...current };
      for (const key of [
        'name',
        'companyName',
        'street',
        'city',
        'state',
        'postcode',
        'region',
        'country',
      ] as const) {
        const value = address[key];
        if (typeof value === 'string') next[key] = value;
      }
      order.fulfilmentChoice.deliveryAddress = next;
    }
    order.updatedOn = stamp;
    return { status: 'COMPLETE', order };
  };

  const settle = (event: FluentEvent, outcome: EventOutcome): void => {
    event.eventStatus = outcome.status;
    if (outcome.status !== 'COMPLETE') event.message = outcome.message;
  };

  /** The event in a body, or why the body is not one. */
  const eventOf = (body: unknown, mode: 'async' | 'sync'): FluentEvent | string => {
    if (!isRecord(body)) return 'The body must be a JSON object';
    const { name, entityType, entityRef, entityId, retailerId: rid, attributes } = body;
    if (typeof name !== 'string' || name === '') return 'name is required';
    if (typeof entityType !== 'string' || entityType === '') return 'entityType is required';
    if (entityRef !== undefined && typeof entityRef !== 'string') return 'entityRef must be a string';
    if (entityId !== undefined && typeof entityId !== 'string' && typeof entityId !== 'number') {
      return 'entityId must be a string';
    }
    if (!entityRef && (entityId === undefined || entityId === '')) return 'entityRef or entityId is required';
    if (typeof rid !== 'string' && typeof rid !== 'number') return 'retailerId is required';
    if (String(rid) !== retailer.id) return `Unknown retailerId ${String(rid)}`;
    if (attributes !== undefined && attributes !== null && !isRecord(attributes)) {
      return 'attributes must be an object';
    }
    return {
      id: eventId(++eventCount),
      name,
      mode,
      entityType,
      entityRef: entityRef || undefined,
      entityId: entityId === undefined ? undefined : String(entityId),
      retailerId: retailer.id,
      attributes: isRecord(attributes) ? attributes : {},
      eventStatus: 'PENDING',
      generatedOn: now(),
    };
  };

  // HTTP routes --------------------------------------------------------------------------------
  const graphqlErrorBody = (code: string, message: string) => ({
    errors: [{ message: `${code}: ${message}`, extensions: { code } }],
  });

  const token = (req: IncomingMessage, url: URL, text: string): Reply => {
    const params = new URLSearchParams(url.search);
    const type = String(req.headers['content-type'] ?? '');
    if (text !== '' && (type === '' || type.startsWith('application/x-www-form-urlencoded'))) {
      for (const [key, value] of new URLSearchParams(text)) params.set(key, value);
    }
    const grant = params.get('grant_type');
    if (!grant)
      return { status: 400, body: { error: 'invalid_request', error_description: 'Missing grant type' } };
    if (grant !== 'password') {
      return {
        status: 400,
        body: { error: 'unsupported_grant_type', error_description: `Unsupported grant type: ${grant}` },
      };
    }
    const missing = ['client_id', 'client_secret', 'username', 'password'].filter((k) => !params.get(k));
    if (missing.length > 0) {
      return {
        status: 400,
        body: { error: 'invalid_request', error_description: `Missing ${missing.join(', ')}` },
      };
    }
    if (
      params.get('client_id') !== options.clientId ||
      params.get('client_secret') !== options.clientSecret
    ) {
      return { status: 401, body: { error: 'invalid_client', error_description: 'Bad client credentials' } };
    }
    if (params.get('username') !== options.username || params.get('password') !== options.password) {
      return { status: 401, body: { error: 'invalid_grant', error_description: 'Bad credentials' } };
    }
    const scope = params.get('scope') ?? 'api';
    const accessToken = randomUUID();
    tokens.set(accessToken, Date.now() + ttlMs);
    return {
      status: 200,
      body: {
        access_token: accessToken,
        token_type: 'bearer',
        expires_in: Math.round(ttlMs / 1000),
        scope,
        Retailer_id: retailerNumber,
        FirstName: options.username,
        LastName: 'Sandbox',
      },
      headers: { 'cache-control': 'no-store', pragma: 'no-cache' },
    };
  };

  /** Undefined when the bearer token is valid; else the 401. */
  const unauthorized = (req: IncomingMessage): Reply | undefined => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const reply = (description: string): Reply => ({
      status: 401,
      body: { error: 'invalid_token', error_description: description },
      headers: { 'www-authenticate': `Bearer error="invalid_token", error_description="${description}"` },
    });
    if (!match) return reply('Full authentication is required to access this resource');
    const expires = tokens.get(match[1]);
    if (expires === undefined) return reply('Invalid access token');
    if (Date.now() >= expires) {
      tokens.delete(match[1]);
      return reply('Access token expired');
    }
    return undefined;
  };

  /** Undefined, the injected 429 / 5xx for this call, or 'lose' to carry it out and lose the answer. */
  const injected = (path: string, entry: FluentLogEntry): Reply | 'lose' | undefined => {
    const n = ++faultCalls;
    const draw = seededUnit(faults.seed, 'fault', n);
    if (draw < faults.rateLimitRate) {
      entry.fault = 'rate-limit';
      return {
        status: 429,
        body: graphqlErrorBody(FLUENT_CODES.rateLimited, 'Rate limit exceeded, retry later'),
        headers: { 'retry-after': String(faults.retryAfterSeconds) },
      };
    }
    if (draw < faults.rateLimitRate + faults.errorRate) {
      entry.fault = 'error';
      const status = [500, 502, 503][Math.floor(seededUnit(faults.seed, 'status', n) * 3)];
      return {
        status,
        body: { timestamp: now(), status, error: HTTP_REASONS[status], message: 'Injected fault', path },
      };
    }
    if (draw < faults.rateLimitRate + faults.errorRate + faults.lostReplyRate) return 'lose';
    return undefined;
  };

  const runGraphql = async (text: string, entry: FluentLogEntry): Promise<Reply> => {
    let body: unknown;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      return { status: 400, body: graphqlErrorBody(FLUENT_CODES.requestFormat, 'The body is not JSON') };
    }
    if (!isRecord(body) || typeof body.query !== 'string') {
      return { status: 400, body: graphqlErrorBody(FLUENT_CODES.requestFormat, 'query is required') };
    }
    const { variables, operationName } = body;
    if (variables !== undefined && variables !== null && !isRecord(variables)) {
      return {
        status: 400,
        body: graphqlErrorBody(FLUENT_CODES.requestFormat, 'variables must be an object'),
      };
    }
    if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') {
      return {
        status: 400,
        body: graphqlErrorBody(FLUENT_CODES.requestFormat, 'operationName must be a string'),
      };
    }
    if (isRecord(variables)) entry.variables = structuredClone(variables);
    if (typeof operationName === 'string') entry.operationName = operationName;

    const requestErrors = (errors: readonly GraphQLError[]): Reply => {
      const formatted = errors.map((e): GraphQLFormattedError => ({
        ...e.toJSON(),
        extensions: { classification: 'ValidationError', code: FLUENT_CODES.requestFormat },
      }));
      entry.codes = formatted.map(() => FLUENT_CODES.requestFormat);
      return { status: 200, body: { errors: formatted } };
    };

    let document: DocumentNode;
    try {
      document = parse(body.query);
    } catch (error) {
      if (error instanceof GraphQLError) return requestErrors([error]);
      throw error;
    }
    const operations = document.definitions.filter(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
    );
    const operation =
      typeof operationName === 'string'
        ? operations.find((o) => o.name?.value === operationName)
        : operations.length === 1
          ? operations[0]
          : undefined;
    if (operation) {
      if (entry.operationName === undefined && operation.name) entry.operationName = operation.name.value;
      entry.fields = operation.selectionSet.selections.flatMap((s) =>
        s.kind === Kind.FIELD ? [s.name.value] : [],
      );
    }
    const invalid = validate(schema, document);
    if (invalid.length > 0) return requestErrors(invalid);

    const result = await execute({
      schema,
      document,
      rootValue,
      contextValue: { entry } satisfies RequestContext,
      variableValues: isRecord(variables) ? variables : undefined,
      operationName: typeof operationName === 'string' ? operationName : undefined,
    });
    if (!result.data && result.errors) return requestErrors(result.errors);
    const out: { data?: unknown; errors?: GraphQLFormattedError[] } = {};
    if (result.errors) {
      out.errors = result.errors.map((e) => e.toJSON());
      entry.codes = out.errors.map((e) => {
        const code = e.extensions?.code;
        return typeof code === 'string' ? code : 'UNKNOWN';
      });
    }
    out.data = result.data;
    return { status: 200, body: out };
  };

  const postEvent = (text: string, mode: 'async' | 'sync', entry: FluentLogEntry): Reply => {
    let body: unknown;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      return { status: 400, body: { message: 'The body is not JSON' } };
    }
    if (isRecord(body) && typeof body.name === 'string') entry.eventName = body.name;
    const event = eventOf(body, mode);
    if (typeof event === 'string') return { status: 400, body: { message: event } };
    events.set(event.id, event);
    if (mode === 'async') {
      setImmediate(() => settle(event, runEvent(event)));
      return { status: 200, body: { id: event.id, eventStatus: 'PENDING' } };
    }
    const outcome = runEvent(event);
    settle(event, outcome);
    if (outcome.status === 'COMPLETE') {
      return {
        status: 200,
        body: { eventId: event.id, entityId: outcome.order.id, eventStatus: 'COMPLETE' },
      };
    }
    return {
      status: outcome.status === 'NO_MATCH' ? 404 : 400,
      body: { message: outcome.message, eventId: event.id, eventStatus: outcome.status },
    };
  };

  const getEvent = (id: string): Reply => {
    const event = events.get(id);
    if (!event) return { status: 404, body: { message: `Event ${id} not found` } };
    return {
      status: 200,
      body: {
        id: event.id,
        name: event.name,
        type: 'NORMAL',
        retailerId: event.retailerId,
        eventStatus: event.eventStatus,
        context: { entityType: event.entityType, entityId: event.entityId, entityRef: event.entityRef },
        attributes: event.attributes,
        message: event.message,
        generatedOn: event.generatedOn,
      },
    };
  };

  const route = async (
    req: IncomingMessage,
    url: URL,
    text: string,
    entry: FluentLogEntry,
  ): Promise<Reply> => {
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const known = path === '/oauth/token' || path === '/graphql' || path.startsWith('/api/v4.1/event');
    if (!known) return { status: 404, body: { message: `No route ${method} ${path}` } };
    if (path === '/oauth/token') {
      return method === 'POST'
        ? token(req, url, text)
        : { status: 405, body: { error: 'method_not_allowed' } };
    }
    const denied = unauthorized(req);
    if (denied) return denied;
    const eventMatch = /^\/api\/v4\.1\/event(?:\/([^/]+))?$/.exec(path);
    if (path !== '/graphql' && !eventMatch)
      return { status: 404, body: { message: `No route ${method} ${path}` } };
    const fault = injected(path, entry);
    if (fault && fault !== 'lose') return fault;
    const reply = await serve(method, path, eventMatch?.[1], text, entry);
    if (fault !== 'lose') return reply;
    entry.fault = 'lost-reply';
    return {
      status: 504,
      body: { timestamp: now(), status: 504, error: HTTP_REASONS[504], message: 'Injected lost reply', path },
    };
  };

  const serve = async (
    method: string,
    path: string,
    tail: string | undefined,
    text: string,
    entry: FluentLogEntry,
  ): Promise<Reply> => {
    if (path === '/graphql') {
      return method === 'POST' ? runGraphql(text, entry) : { status: 405, body: { message: 'Use POST' } };
    }
    if (method === 'POST' && (tail === 'async' || tail === 'sync')) return postEvent(text, tail, entry);
    if (method === 'GET' && tail !== undefined && tail !== 'async' && tail !== 'sync') return getEvent(tail);
    return { status: 405, body: { message: `${method} is not supported on ${path}` } };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const entry: FluentLogEntry = {
      at: Date.now(),
      method: req.method ?? 'GET',
      path: url.pathname,
      status: 0,
    };
    let reply: Reply;
    try {
      const text = await readBody(req, MAX_BODY);
      if (faults.latencyMs > 0) await sleep(faults.latencyMs);
      reply = await route(req, url, text, entry);
    } catch (error) {
      reply =
        error instanceof BodyTooLarge
          ? { status: 413, body: { message: 'Request body too large' } }
          : { status: 500, body: { message: error instanceof Error ? error.message : String(error) } };
    }
    entry.status = reply.status;
    log.push(entry);
    if (res.destroyed) return;
    const payload = JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      'content-type': 'application/json;charset=UTF-8',
      'content-length': String(Buffer.byteLength(payload)),
      ...reply.headers,
    });
    res.end(payload);
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  const snapshot = <T>(value: T): T => structuredClone(value);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    retailerId: retailerNumber,
    faults: faultControls,
    log: () => Object.freeze(log.map((e) => Object.freeze(snapshot(e)))),
    orders: () => new Map([...orders].map(([ref, o]) => [ref, snapshot(o)])),
    customers: () => new Map([...customers.values()].map((c) => [c.ref, snapshot(c)])),
    locations: () => new Map([...locations].map(([ref, l]) => [ref, snapshot(l)])),
    inventory: () => new Map([...positions].map(([ref, p]) => [ref, snapshot(p)])),
    events: () => [...events.values()].map(snapshot),
    setOnHand: (productRef, locationRef, onHand) => {
      if (!locations.has(locationRef)) throw new Error(`Unknown location ${locationRef}`);
      const ref = `${productRef}:${locationRef}`;
      const stamp = now();
      const known = positions.get(ref);
      if (known) {
        known.onHand = onHand;
        known.updatedOn = stamp;
        return;
      }
      positions.set(ref, {
        id: String(++positionId),
        ref,
        productRef,
        locationRef,
        onHand,
        status: 'ACTIVE',
        catalogueRef: seed.positions[0]?.catalogueRef ?? 'DEFAULT:1',
        createdOn: stamp,
        updatedOn: stamp,
      });
    },
    setOrderStatus: (ref, status) => {
      const order = orders.get(ref);
      if (!order) return false;
      order.status = status;
      order.updatedOn = now();
      return true;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// CLI: node dist/sandbox/fluent/server.js [--port P] [--client-id ..] [--client-secret ..]
//      [--username ..] [--password ..] [--retailer-id N] [--token-ttl S]
// prints one JSON line {url, port, retailerId, clientId, username} and serves until SIGINT/SIGTERM.

export const SANDBOX_DEFAULT_CREDENTIALS = {
  clientId: 'oms-sandbox',
  clientSecret: 'oms-secret',
  username: 'oms-user',
  password: 'oms-pass',
} as const;

async function main(args: readonly string[]): Promise<void> {
  const number = (name: string): number | undefined => numberArg(args, name);
  const d = SANDBOX_DEFAULT_CREDENTIALS;
  const sandbox = await startFluentSandbox({
    port: number('--port') ?? 0,
    clientId: argValue(args, '--client-id') ?? d.clientId,
    clientSecret: argValue(args, '--client-secret') ?? d.clientSecret,
    username: argValue(args, '--username') ?? d.username,
    password: argValue(args, '--password') ?? d.password,
    retailerId: number('--retailer-id'),
    tokenTtlSeconds: number('--token-ttl'),
  });
  process.stdout.write(
    `${JSON.stringify({
      url: sandbox.url,
      port: sandbox.port,
      retailerId: sandbox.retailerId,
      clientId: argValue(args, '--client-id') ?? d.clientId,
      username: argValue(args, '--username') ?? d.username,
    })}\n`,
  );
  const stop = (): void => {
    void sandbox.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`fluent-sandbox: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
