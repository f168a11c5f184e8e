import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { generateOrder } from '../../lib/sfcc/generate';
import {
  DC_NETWORK,
  LOCATION_REFS,
  PRODUCT_CATALOGUE_REF,
  PRODUCT_REFS,
  STORE_NETWORK,
  STORE_REFS,
  WAREHOUSE_REFS,
  seedData,
} from '../../sandbox/fluent/data';
import {
  startFluentSandbox,
  type FluentSandbox,
  type FluentSandboxOptions,
} from '../../sandbox/fluent/server';

const CREDENTIALS = { clientId: 'cid', clientSecret: 'csecret', username: 'analyst', password: 'pa55' };

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

interface GraphqlError {
  message: string;
  extensions?: { code?: string };
}

interface GraphqlAnswer extends Answer {
  data: Record<string, unknown> | null | undefined;
  errors: GraphqlError[] | undefined;
}

async function answer(response: Response): Promise<Answer> {
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: JSON.parse(text) as Record<string, unknown>,
  };
}

function tokenQuery(overrides: Record<string, string> = {}): string {
  return new URLSearchParams({
    grant_type: 'password',
    client_id: CREDENTIALS.clientId,
    client_secret: CREDENTIALS.clientSecret,
    username: CREDENTIALS.username,
    password: CREDENTIALS.password,
    scope: 'api',
    ...overrides,
  }).toString();
}

async function tokenByForm(sandbox: FluentSandbox, overrides: Record<string, string> = {}): Promise<Answer> {
  return answer(
    await fetch(`${sandbox.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: tokenQuery(overrides),
    }),
  );
}

async function token(sandbox: FluentSandbox): Promise<string> {
  const got = await tokenByForm(sandbox);
  assert.equal(got.status, 200);
  return String(got.body.access_token);
}

async function gql(
  sandbox: FluentSandbox,
  bearer: string | undefined,
  query: string,
  variables?: Record<string, unknown>,
  operationName?: string,
): Promise<GraphqlAnswer> {
  const got = await answer(
    await fetch(`${sandbox.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
      },
      body: JSON.stringify({ query, variables, operationName }),
    }),
  );
  return {
    ...got,
    data: got.body.data as GraphqlAnswer['data'],
    errors: got.body.errors as GraphqlError[] | undefined,
  };
}

async function postEvent(
  sandbox: FluentSandbox,
  bearer: string,
  mode: 'async' | 'sync',
  body: unknown,
): Promise<Answer> {
  return answer(
    await fetch(`${sandbox.url}/api/v4.1/event/${mode}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );
}

/** `value` at a dotted path of nested records (arrays by index), for concise assertions. */
function at(value: unknown, dotted: string): unknown {
  let current = value;
  for (const key of dotted.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

const CREATE_CUSTOMER = `
  mutation createCustomer($input: CreateCustomerInput) {
    createCustomer(input: $input) { id ref username firstName lastName primaryEmail retailer { id } }
  }`;

const CREATE_ORDER = `
  mutation createOrder($input: CreateOrderInput) {
    createOrder(input: $input) {
      id ref type status workflowRef workflowVersion createdOn updatedOn totalPrice totalTaxPrice
      retailer { id }
      customer { id ref username firstName lastName primaryEmail }
      items(first: 50) {
        edges { node { id ref productRef productCatalogueRef quantity price paidPrice taxPrice totalPrice currency } }
        pageInfo { hasNextPage }
      }
      fulfilmentChoice {
        deliveryType fulfilmentType pickupLocationRef
        deliveryAddress { ref name street city postcode country latitude longitude }
      }
      financialTransactions(first: 10) {
        edges { node { id ref type amount currency paymentMethod cardType externalTransactionId externalTransactionCode status } }
      }
      attributes { name type value }
    }
  }`;

function customerInput(username: string, email = `${username}@example.com`): Record<string, unknown> {
  return {
    username,
    firstName: 'Jürgen',
    lastName: 'Müller',
    primaryEmail: email,
    primaryPhone: '+49 711 555 123',
    timezone: 'Europe/Berlin',
    promotionOptIn: false,
    retailer: { id: '1' },
  };
}

/** A Fluent HD order built from generated sample order `n` (its product lines become items). */
function orderInput(ref: string, customerId: string, n = 7): Record<string, unknown> {
  const sample = generateOrder(n);
  const unit = 100;
  const products = sample.lines.filter((l) => l.kind === 'product');
  const address = sample.shipments[0].address;
  assert.ok(address, 'the sample order has a shipping address');
  return {
    ref,
    type: 'HD',
    retailer: { id: '1' },
    customer: { id: customerId },
    totalPrice: sample.totals.grandTotal / unit,
    totalTaxPrice: sample.totals.tax / unit,
    items: products.map((l) => ({
      ref: l.lineRef,
      productRef: l.sku,
      productCatalogueRef: PRODUCT_CATALOGUE_REF,
      quantity: l.quantity,
      price: l.unitPrice / unit,
      paidPrice: l.netPrice / unit,
      taxPrice: l.tax / unit,
      totalPrice: l.grossPrice / unit,
      currency: sample.currency,
    })),
    fulfilmentChoice: {
      deliveryType: 'STANDARD',
      fulfilmentType: 'HD_WH',
      deliveryAddress: {
        ref: `${ref}-ship`,
        name: `${address.firstName} ${address.lastName}`,
        street: address.line1,
        city: address.city,
        postcode: address.postalCode,
        country: address.countryCode,
        latitude: 48.7784,
        longitude: 9.18,
      },
    },
    financialTransactions: [
      {
        ref: `${ref}-auth`,
        type: 'AUTHORIZATION',
        amount: sample.totals.grandTotal / unit,
        currency: sample.currency,
        paymentMethod: 'CREDITCARD',
        cardType: 'VISA',
        externalTransactionId: `txn-${ref}`,
        externalTransactionCode: '123456',
        paymentProvider: 'CYBERSOURCE',
      },
    ],
    attributes: [{ name: 'sfccOrder', type: 'JSON', value: { orderNo: sample.orderRef, channel: 'web' } }],
  };
}

describe('sandbox Fluent Commerce', () => {
  let sandbox: FluentSandbox;
  const started: FluentSandbox[] = [];
  const start = async (extra: Partial<FluentSandboxOptions> = {}): Promise<FluentSandbox> => {
    const s = await startFluentSandbox({ ...CREDENTIALS, ...extra });
    started.push(s);
    return s;
  };
  /** A customer created through the API: its id. */
  const newCustomer = async (bearer: string, username: string, email?: string): Promise<string> => {
    const got = await gql(sandbox, bearer, CREATE_CUSTOMER, { input: customerInput(username, email) });
    assert.equal(got.errors, undefined, JSON.stringify(got.errors));
    return String(at(got.data, 'createCustomer.id'));
  };

  beforeEach(async () => {
    sandbox = await start();
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.close()));
  });

  describe('OAuth', () => {
    it('grants a token for parameters in the query string, as in Fluent’s example', async () => {
      const got = await answer(await fetch(`${sandbox.url}/oauth/token?${tokenQuery()}`, { method: 'POST' }));
      assert.equal(got.status, 200);
      assert.match(String(got.body.access_token), /^[0-9a-f-]{36}$/);
      assert.equal(got.body.token_type, 'bearer');
      assert.equal(got.body.expires_in, 3600);
      assert.equal(got.body.scope, 'api');
      assert.equal(got.body.Retailer_id, 1);
      const used = await gql(
        sandbox,
        String(got.body.access_token),
        '{ locations(first: 1) { edges { node { ref } } } }',
      );
      assert.equal(used.status, 200);
      assert.equal(at(used.data, 'locations.edges.0.node.ref'), WAREHOUSE_REFS[0]);
    });

    it('grants a token for a form body and refuses bad requests and credentials', async () => {
      const ok = await tokenByForm(sandbox);
      assert.equal(ok.status, 200);
      assert.equal(ok.body.token_type, 'bearer');
      assert.notEqual(ok.body.access_token, (await tokenByForm(sandbox)).body.access_token);

      const wrongPassword = await tokenByForm(sandbox, { password: 'nope' });
      assert.equal(wrongPassword.status, 401);
      assert.equal(wrongPassword.body.error, 'invalid_grant');
      const wrongSecret = await tokenByForm(sandbox, { client_secret: 'nope' });
      assert.equal(wrongSecret.status, 401);
      assert.equal(wrongSecret.body.error, 'invalid_client');
      const missing = await answer(
        await fetch(`${sandbox.url}/oauth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=password&client_id=cid&username=analyst',
        }),
      );
      assert.equal(missing.status, 400);
      assert.equal(missing.body.error, 'invalid_request');
      assert.match(String(missing.body.error_description), /client_secret, password/);
      const grant = await tokenByForm(sandbox, { grant_type: 'client_credentials' });
      assert.equal(grant.status, 400);
      assert.equal(grant.body.error, 'unsupported_grant_type');
    });

    it('answers 401 without a token, with an unknown token and with an expired one', async () => {
      const none = await gql(sandbox, undefined, '{ locations { edges { node { ref } } } }');
      assert.equal(none.status, 401);
      assert.equal(none.body.error, 'invalid_token');
      assert.match(String(none.headers.get('www-authenticate')), /^Bearer /);
      const unknown = await gql(sandbox, 'not-a-token', '{ locations { edges { node { ref } } } }');
      assert.equal(unknown.status, 401);

      const short = await start({ tokenTtlSeconds: 1 });
      const got = await tokenByForm(short);
      assert.equal(got.body.expires_in, 1);
      const bearer = String(got.body.access_token);
      const fresh = await gql(short, bearer, '{ locations(first: 1) { edges { node { ref } } } }');
      assert.equal(fresh.status, 200);
      await new Promise((r) => setTimeout(r, 1100));
      const stale = await gql(short, bearer, '{ locations(first: 1) { edges { node { ref } } } }');
      assert.equal(stale.status, 401);
      assert.match(String(stale.body.error_description), /expired/);
      const renewed = await gql(
        short,
        await token(short),
        '{ locations(first: 1) { edges { node { ref } } } }',
      );
      assert.equal(renewed.status, 200);
    });
  });

  describe('GraphQL', () => {
    let bearer: string;
    beforeEach(async () => {
      bearer = await token(sandbox);
    });

    it('creates a customer and an order and answers in Fluent’s shapes', async () => {
      const customer = await gql(sandbox, bearer, CREATE_CUSTOMER, { input: customerInput('juergen') });
      assert.equal(customer.status, 200);
      assert.deepEqual(customer.data, {
        createCustomer: {
          id: '501',
          ref: 'juergen',
          username: 'juergen',
          firstName: 'Jürgen',
          lastName: 'Müller',
          primaryEmail: 'juergen@example.com',
          retailer: { id: '1' },
        },
      });

      const input = orderInput('SFCC-00000007', '501');
      const created = await gql(sandbox, bearer, CREATE_ORDER, { input }, 'createOrder');
      assert.equal(created.errors, undefined, JSON.stringify(created.errors));
      const order = at(created.data, 'createOrder') as Record<string, unknown>;
      assert.equal(order.id, '1001');
      assert.equal(order.ref, 'SFCC-00000007');
      assert.equal(order.type, 'HD');
      assert.equal(order.status, 'CREATED');
      assert.equal(order.workflowRef, 'ORDER::HD');
      assert.equal(order.workflowVersion, 1);
      assert.ok(!Number.isNaN(Date.parse(String(order.createdOn))));
      assert.equal(order.totalPrice, input.totalPrice);
      assert.deepEqual(order.retailer, { id: '1' });
      assert.deepEqual(order.customer, {
        id: '501',
        ref: 'juergen',
        username: 'juergen',
        firstName: 'Jürgen',
        lastName: 'Müller',
        primaryEmail: 'juergen@example.com',
      });
      const items = at(order, 'items.edges') as Array<{ node: Record<string, unknown> }>;
      const sentItems = input.items as Array<Record<string, unknown>>;
      assert.equal(items.length, sentItems.length);
      assert.ok(items.length > 0);
      items.forEach(({ node }, i) => {
        assert.match(String(node.id), /^\d+$/);
        assert.equal(node.productRef, sentItems[i].productRef);
        assert.equal(node.quantity, sentItems[i].quantity);
        assert.equal(node.price, sentItems[i].price);
        assert.equal(node.productCatalogueRef, PRODUCT_CATALOGUE_REF);
        assert.ok(PRODUCT_REFS.includes(String(node.productRef)));
      });
      assert.equal(at(order, 'items.pageInfo.hasNextPage'), false);
      assert.equal(at(order, 'fulfilmentChoice.deliveryType'), 'STANDARD');
      assert.equal(at(order, 'fulfilmentChoice.pickupLocationRef'), null);
      assert.equal(at(order, 'fulfilmentChoice.deliveryAddress.ref'), 'SFCC-00000007-ship');
      assert.equal(at(order, 'fulfilmentChoice.deliveryAddress.latitude'), 48.7784);
      const transaction = at(order, 'financialTransactions.edges.0.node') as Record<string, unknown>;
      assert.equal(transaction.type, 'AUTHORIZATION');
      assert.equal(transaction.status, 'CREATED');
      assert.equal(transaction.amount, input.totalPrice);
      assert.equal(transaction.externalTransactionCode, '123456');
      assert.deepEqual(order.attributes, [
        { name: 'sfccOrder', type: 'JSON', value: { orderNo: '00000007', channel: 'web' } },
      ]);

      const stored = sandbox.orders().get('SFCC-00000007');
      assert.equal(stored?.customerId, '501');
      assert.equal(stored?.items.length, sentItems.length);
      assert.equal(sandbox.customers().get('juergen')?.primaryEmail, 'juergen@example.com');
    });

    it('rejects a duplicate order ref (and customer username) with C0121E and keeps the first', async () => {
      const customerId = await newCustomer(bearer, 'dup');
      const first = await gql(sandbox, bearer, CREATE_ORDER, { input: orderInput('DUP-1', customerId) });
      assert.equal(first.errors, undefined);
      const again = await gql(sandbox, bearer, CREATE_ORDER, { input: orderInput('DUP-1', customerId, 9) });
      assert.equal(again.status, 200);
      assert.equal(again.errors?.[0].extensions?.code, 'C0121E');
      assert.equal(again.errors?.[0].message, 'C0121E: Order entity already exists');
      assert.deepEqual(again.data, { createOrder: null });
      assert.equal(sandbox.orders().size, 1);
      assert.equal(sandbox.orders().get('DUP-1')?.id, at(first.data, 'createOrder.id'));

      const twin = await gql(sandbox, bearer, CREATE_CUSTOMER, { input: customerInput('dup') });
      assert.equal(twin.errors?.[0].extensions?.code, 'C0121E');
      assert.equal(twin.errors?.[0].message, 'C0121E: Customer entity already exists');
      assert.equal(sandbox.customers().size, 1);
    });

    it('validates like Fluent: C0120E, C0122E, C0160E, and C0140E for requests the schema refuses', async () => {
      const customerId = await newCustomer(bearer, 'val');
      const codeOf = async (input: Record<string, unknown>): Promise<string | undefined> => {
        const got = await gql(sandbox, bearer, CREATE_ORDER, { input });
        assert.equal(got.status, 200);
        return got.errors?.[0].extensions?.code;
      };
      const base = orderInput('VAL-1', customerId);
      assert.equal(await codeOf({ ...base, customer: { id: '999999' } }), 'C0120E');
      assert.equal(await codeOf({ ...base, retailer: { id: '77' } }), 'C0120E');
      const items = base.items as Array<Record<string, unknown>>;
      assert.equal(await codeOf({ ...base, items: [{ ...items[0], quantity: 0 }] }), 'C0122E');
      assert.equal(await codeOf({ ...base, items: [{ ...items[0], quantity: -2 }] }), 'C0122E');
      assert.equal(await codeOf({ ...base, fulfilmentChoice: { deliveryType: 'STANDARD' } }), 'C0160E');
      assert.equal(await codeOf({ ...base, fulfilmentChoice: undefined }), 'C0160E');
      const cc = {
        ...base,
        type: 'CC',
        fulfilmentChoice: { deliveryType: 'STANDARD', fulfilmentType: 'CC_PFS' },
      };
      assert.equal(await codeOf(cc), 'C0160E');
      assert.equal(
        await codeOf({
          ...cc,
          fulfilmentChoice: { deliveryType: 'STANDARD', pickupLocationRef: 'LOC_NOWHERE' },
        }),
        'C0120E',
      );
      // Required field missing: graphql-js refuses the variables before any resolver runs.
      const { ref: _ref, ...noRef } = base;
      assert.equal(await codeOf(noRef), 'C0140E');
      const syntax = await gql(sandbox, bearer, 'mutation { createOrder(input: {) { id } }');
      assert.equal(syntax.status, 200);
      assert.equal(syntax.errors?.[0].extensions?.code, 'C0140E');
      const unknownField = await gql(sandbox, bearer, '{ order(ref: "x") { id colour } }');
      assert.equal(unknownField.errors?.[0].extensions?.code, 'C0140E');
      assert.match(unknownField.errors?.[0].message ?? '', /colour/);
      assert.equal(sandbox.orders().size, 0);

      const valid = await gql(sandbox, bearer, CREATE_ORDER, {
        input: { ...cc, fulfilmentChoice: { deliveryType: 'STANDARD', pickupLocationRef: 'STORE_BERLIN' } },
      });
      assert.equal(valid.errors, undefined, JSON.stringify(valid.errors));
      assert.equal(at(valid.data, 'createOrder.workflowRef'), 'ORDER::CC');
      assert.equal(at(valid.data, 'createOrder.fulfilmentChoice.pickupLocationRef'), 'STORE_BERLIN');
    });

    it('finds orders by ref and id, and customers by primaryEmail', async () => {
      const customerId = await newCustomer(bearer, 'finder', 'finder@example.org');
      await newCustomer(bearer, 'other', 'other@example.org');
      for (const ref of ['FIND-1', 'FIND-2', 'FIND-3']) {
        const got = await gql(sandbox, bearer, CREATE_ORDER, { input: orderInput(ref, customerId) });
        assert.equal(got.errors, undefined);
      }
      const byRef = await gql(
        sandbox,
        bearer,
        'query orderByRef($ref: String) { order(ref: $ref) { id ref status customer { primaryEmail } } }',
        { ref: 'FIND-2' },
      );
      assert.deepEqual(byRef.data, {
        order: {
          id: '1002',
          ref: 'FIND-2',
          status: 'CREATED',
          customer: { primaryEmail: 'finder@example.org' },
        },
      });
      const byId = await gql(sandbox, bearer, '{ order(id: "1003") { ref } }');
      assert.equal(at(byId.data, 'order.ref'), 'FIND-3');
      const missing = await gql(sandbox, bearer, '{ order(ref: "NOPE") { id } }');
      assert.deepEqual(missing.data, { order: null });
      assert.equal(missing.errors, undefined);
      const some = await gql(
        sandbox,
        bearer,
        '{ orders(ref: ["FIND-1", "FIND-3", "NOPE"]) { edges { node { ref } } pageInfo { hasNextPage } } }',
      );
      assert.deepEqual(
        (at(some.data, 'orders.edges') as Array<{ node: { ref: string } }>).map((e) => e.node.ref),
        ['FIND-1', 'FIND-3'],
      );

      const customers = await gql(
        sandbox,
        bearer,
        'query byEmail($emails: [String]) { customers(primaryEmail: $emails, first: 5) { edges { node { id username primaryEmail } } } }',
        { emails: ['finder@example.org'] },
      );
      assert.deepEqual(at(customers.data, 'customers.edges'), [
        { node: { id: customerId, username: 'finder', primaryEmail: 'finder@example.org' } },
      ]);
      const none = await gql(
        sandbox,
        bearer,
        '{ customers(primaryEmail: ["nobody@example.org"]) { edges { node { id } } } }',
      );
      assert.deepEqual(at(none.data, 'customers.edges'), []);
    });

    it('pages through the seeded locations with their networks and coordinates', async () => {
      const query = `query page($after: String) {
        locations(first: 5, after: $after) {
          edges { cursor node { id ref name type status
            primaryAddress { latitude longitude city postcode country }
            networks { edges { node { ref } } } } }
          pageInfo { hasNextPage hasPreviousPage }
        }
      }`;
      type LocationNode = {
        ref: string;
        type: string;
        status: string;
        primaryAddress: { latitude: number; longitude: number; country: string };
        networks: { edges: Array<{ node: { ref: string } }> };
      };
      const seen: LocationNode[] = [];
      const pages: boolean[] = [];
      let after: string | undefined;
      for (;;) {
        const got = await gql(sandbox, bearer, query, { after });
        assert.equal(got.errors, undefined, JSON.stringify(got.errors));
        const edges = at(got.data, 'locations.edges') as Array<{ cursor: string; node: LocationNode }>;
        seen.push(...edges.map((e) => e.node));
        const more = at(got.data, 'locations.pageInfo.hasNextPage') === true;
        pages.push(more);
        if (!more) break;
        after = edges[edges.length - 1].cursor;
      }
      assert.deepEqual(pages, [true, true, false]);
      assert.deepEqual(
        seen.map((l) => l.ref),
        [...LOCATION_REFS],
      );
      assert.equal(seen.length, 12);
      for (const l of seen) {
        assert.equal(l.status, 'ACTIVE');
        assert.ok(['DE', 'AT', 'CH'].includes(l.primaryAddress.country));
        assert.ok(l.primaryAddress.latitude > 45 && l.primaryAddress.latitude < 56, l.ref);
        assert.ok(l.primaryAddress.longitude > 5 && l.primaryAddress.longitude < 18, l.ref);
        const network = l.networks.edges.map((e) => e.node.ref);
        assert.deepEqual(network, [l.type === 'WAREHOUSE' ? DC_NETWORK : STORE_NETWORK]);
      }
      assert.equal(seen.filter((l) => l.type === 'WAREHOUSE').length, 3);
      assert.equal(seen.filter((l) => l.type === 'STORE').length, 9);

      const stores = await gql(
        sandbox,
        bearer,
        '{ locations(type: ["STORE"], first: 100) { edges { node { ref } } } }',
      );
      assert.deepEqual(
        (at(stores.data, 'locations.edges') as Array<{ node: { ref: string } }>).map((e) => e.node.ref),
        [...STORE_REFS],
      );
      const badCursor = await gql(sandbox, bearer, query, { after: 'bm9wZQ==' });
      assert.equal(badCursor.errors?.[0].extensions?.code, 'C0140E');
    });

    it('pages through inventory positions filtered by product and location', async () => {
      const product = PRODUCT_REFS[0];
      const query = `query stock($products: [String], $after: String) {
        inventoryPositions(productRef: $products, first: 4, after: $after) {
          edges { cursor node { id ref productRef locationRef onHand status catalogue { ref } } }
          pageInfo { hasNextPage }
        }
      }`;
      type Position = {
        ref: string;
        productRef: string;
        locationRef: string;
        onHand: number;
        status: string;
      };
      const seen: Position[] = [];
      let after: string | undefined;
      let pages = 0;
      for (;;) {
        const got = await gql(sandbox, bearer, query, { products: [product], after });
        assert.equal(got.errors, undefined, JSON.stringify(got.errors));
        const edges = at(got.data, 'inventoryPositions.edges') as Array<{ cursor: string; node: Position }>;
        assert.ok(edges.length <= 4);
        seen.push(...edges.map((e) => e.node));
        pages += 1;
        if (at(got.data, 'inventoryPositions.pageInfo.hasNextPage') !== true) break;
        after = edges[edges.length - 1].cursor;
      }
      const expected = [...sandbox.inventory().values()].filter((p) => p.productRef === product);
      assert.equal(seen.length, expected.length);
      assert.equal(pages, Math.ceil(expected.length / 4));
      assert.ok(seen.every((p) => p.productRef === product && p.ref === `${product}:${p.locationRef}`));
      assert.deepEqual(
        seen.map((p) => p.onHand),
        expected.map((p) => p.onHand),
      );
      for (const dc of WAREHOUSE_REFS)
        assert.ok(
          seen.some((p) => p.locationRef === dc && p.onHand > 0),
          dc,
        );

      const one = await gql(
        sandbox,
        bearer,
        `{ inventoryPositions(productRef: ["${PRODUCT_REFS[1]}"], locationRef: ["DC_WIEN"]) { edges { node { ref onHand } } } }`,
      );
      const edges = at(one.data, 'inventoryPositions.edges') as Array<{
        node: { ref: string; onHand: number };
      }>;
      assert.equal(edges.length, 1);
      assert.equal(edges[0].node.onHand, sandbox.inventory().get(`${PRODUCT_REFS[1]}:DC_WIEN`)?.onHand);

      sandbox.setOnHand(PRODUCT_REFS[1], 'DC_WIEN', 0);
      const after0 = await gql(
        sandbox,
        bearer,
        `{ inventoryPositions(productRef: ["${PRODUCT_REFS[1]}"], locationRef: ["DC_WIEN"]) { edges { node { onHand } } } }`,
      );
      assert.equal(at(after0.data, 'inventoryPositions.edges.0.node.onHand'), 0);
    });
  });

  describe('seed', () => {
    it('stocks exactly the products the sample-order generator sells', () => {
      const skus = new Set<string>();
      for (let n = 1; n <= 400; n++) {
        for (const line of generateOrder(n).lines) if (line.kind === 'product') skus.add(line.sku);
      }
      assert.deepEqual([...skus].sort(), [...PRODUCT_REFS].sort());
    });

    it('is deterministic for a seed, covers most locations and has sold-out positions', () => {
      const when = new Date('2026-01-01T00:00:00Z');
      const a = seedData(1, '1', when);
      assert.deepEqual(seedData(1, '1', when), a);
      assert.notDeepEqual(
        seedData(2, '1', when).positions.map((p) => p.onHand),
        a.positions.map((p) => p.onHand),
      );
      assert.equal(a.locations.length, 12);
      assert.deepEqual(
        a.networks.map((n) => n.ref),
        [DC_NETWORK, STORE_NETWORK],
      );
      for (const product of PRODUCT_REFS) {
        const held = a.positions.filter((p) => p.productRef === product);
        assert.ok(held.length >= 9 && held.length <= 12, `${product}: ${held.length} locations`);
      }
      const storeStock = a.positions.filter((p) => STORE_REFS.includes(p.locationRef));
      assert.ok(storeStock.some((p) => p.onHand === 0));
      assert.ok(storeStock.some((p) => p.onHand > 0));
      assert.ok(a.positions.length < PRODUCT_REFS.length * 12);
    });
  });

  describe('faults', () => {
    let bearer: string;
    beforeEach(async () => {
      bearer = await token(sandbox);
    });
    const ping = (s: FluentSandbox, b: string): Promise<GraphqlAnswer> =>
      gql(s, b, 'query ping { locations(first: 1) { edges { node { ref } } } }');

    it('answers 429 with Retry-After and C0011E at the rate-limit rate', async () => {
      sandbox.faults.setRateLimitRate(1, 7);
      const limited = await ping(sandbox, bearer);
      assert.equal(limited.status, 429);
      assert.equal(limited.headers.get('retry-after'), '7');
      assert.equal(limited.errors?.[0].extensions?.code, 'C0011E');
      const event = await postEvent(sandbox, bearer, 'async', {
        name: 'OrderCancel',
        entityType: 'ORDER',
        entityRef: 'X',
        retailerId: '1',
      });
      assert.equal(event.status, 429);
      assert.equal(sandbox.log().at(-1)?.fault, 'rate-limit');
      sandbox.faults.reset();
      assert.equal((await ping(sandbox, bearer)).status, 200);
    });

    it('answers 500/502/503 with a JSON body at the error rate, reproducibly for a seed', async () => {
      sandbox.faults.setErrorRate(1);
      const failed = await ping(sandbox, bearer);
      assert.ok([500, 502, 503].includes(failed.status), String(failed.status));
      assert.equal(failed.body.status, failed.status);
      assert.equal(failed.body.path, '/graphql');

      const run = async (): Promise<number[]> => {
        const s = await start({ faults: { errorRate: 0.5, seed: 42 } });
        const b = await token(s);
        const statuses: number[] = [];
        for (let i = 0; i < 20; i++) statuses.push((await ping(s, b)).status);
        return statuses;
      };
      const first = await run();
      assert.deepEqual(await run(), first);
      assert.ok(first.includes(200));
      assert.ok(first.some((s) => s >= 500));
      assert.ok(first.every((s) => [200, 500, 502, 503].includes(s)));
    });

    it('carries out a call whose answer it then loses (504) at the lost-reply rate', async () => {
      const s = await start({ faults: { lostReplyRate: 1 } });
      const b = await token(s);
      const customer = await gql(s, b, CREATE_CUSTOMER, { input: customerInput('lost') });
      assert.equal(customer.status, 504);
      assert.equal(s.log().at(-1)?.fault, 'lost-reply');
      assert.equal(s.customers().size, 1, 'the customer was created although the answer was lost');
      s.faults.set({ lostReplyRate: 0 });
      const again = await gql(s, b, CREATE_CUSTOMER, { input: customerInput('lost') });
      assert.equal(again.errors?.[0].extensions?.code, 'C0121E');
      assert.throws(() => s.faults.set({ errorRate: 0.5, lostReplyRate: 0.6 }), RangeError);
    });

    it('rejects createOrder for chosen refs with the chosen C code until lifted', async () => {
      const s = await start({ faults: { rejectRefs: new Map([['REJ-1', 'C0160E']]) } });
      const b = await token(s);
      const customer = await gql(s, b, CREATE_CUSTOMER, { input: customerInput('rej') });
      const customerId = String(at(customer.data, 'createCustomer.id'));
      const rejected = await gql(s, b, CREATE_ORDER, { input: orderInput('REJ-1', customerId) });
      assert.equal(rejected.status, 200);
      assert.equal(rejected.errors?.[0].extensions?.code, 'C0160E');
      assert.match(rejected.errors?.[0].message ?? '', /^C0160E: /);
      assert.equal(s.log().at(-1)?.fault, 'reject');
      const other = await gql(s, b, CREATE_ORDER, { input: orderInput('REJ-2', customerId) });
      assert.equal(other.errors, undefined);
      s.faults.rejectRef('REJ-2', 'C0120E');
      s.faults.rejectRef('REJ-1', undefined);
      assert.equal(
        (await gql(s, b, CREATE_ORDER, { input: orderInput('REJ-1', customerId) })).errors,
        undefined,
      );
      assert.deepEqual([...s.orders().keys()], ['REJ-2', 'REJ-1']);
      assert.deepEqual([...s.faults.current().rejectRefs], [['REJ-2', 'C0120E']]);
    });

    it('delays answers by the configured latency', async () => {
      sandbox.faults.setLatency(150);
      const t0 = performance.now();
      const got = await ping(sandbox, bearer);
      const elapsed = performance.now() - t0;
      assert.equal(got.status, 200);
      assert.ok(elapsed >= 145, `answered after ${elapsed.toFixed(0)} ms`);
      assert.throws(() => sandbox.faults.setErrorRate(1.5), RangeError);
    });
  });

  describe('Event API', () => {
    let bearer: string;
    let orderId: string;
    beforeEach(async () => {
      bearer = await token(sandbox);
      const customerId = await newCustomer(bearer, 'evt');
      for (const ref of ['EVT-1', 'EVT-2']) {
        const got = await gql(sandbox, bearer, CREATE_ORDER, { input: orderInput(ref, customerId) });
        assert.equal(got.errors, undefined);
      }
      orderId = String(sandbox.orders().get('EVT-1')?.id);
    });
    const cancel = (entity: Record<string, unknown>): Record<string, unknown> => ({
      name: 'OrderCancel',
      entityType: 'ORDER',
      entitySubtype: 'HD',
      rootEntityType: 'ORDER',
      retailerId: '1',
      attributes: { cancelReason: 'Stolen Credit Card' },
      ...entity,
    });

    it('runs OrderCancel synchronously and reports rules that do not match', async () => {
      const done = await postEvent(
        sandbox,
        bearer,
        'sync',
        cancel({ entityId: orderId, entityRef: 'EVT-1' }),
      );
      assert.equal(done.status, 200);
      assert.equal(done.body.entityId, orderId);
      assert.equal(done.body.eventStatus, 'COMPLETE');
      assert.match(String(done.body.eventId), /^[0-9a-f-]{36}$/);
      const order = await gql(
        sandbox,
        bearer,
        '{ order(ref: "EVT-1") { status attributes { name value } } }',
      );
      assert.equal(at(order.data, 'order.status'), 'CANCELLED');
      assert.deepEqual(at(order.data, 'order.attributes.1'), {
        name: 'cancelReason',
        value: 'Stolen Credit Card',
      });

      const twice = await postEvent(sandbox, bearer, 'sync', cancel({ entityRef: 'EVT-1' }));
      assert.equal(twice.status, 404);
      assert.equal(twice.body.message, 'No workflow rule matched this event');
      const unknownName = await postEvent(sandbox, bearer, 'sync', {
        ...cancel({ entityRef: 'EVT-2' }),
        name: 'Fly',
      });
      assert.equal(unknownName.status, 404);
      assert.equal(unknownName.body.message, 'No workflow rule matched this event');
      const unknownOrder = await postEvent(sandbox, bearer, 'sync', cancel({ entityRef: 'NOPE' }));
      assert.equal(unknownOrder.status, 400);
      assert.equal(sandbox.orders().get('EVT-2')?.status, 'CREATED');

      const appeased = await postEvent(sandbox, bearer, 'sync', {
        name: 'OrderAppeasement',
        entityType: 'ORDER',
        entityRef: 'EVT-2',
        retailerId: 1,
        attributes: { appeasementAmount: 5, appeasementReason: 'Late delivery' },
      });
      assert.equal(appeased.status, 200);
      assert.ok(
        sandbox
          .orders()
          .get('EVT-2')
          ?.attributes.some((a) => a.name === 'appeasementAmount' && a.value === 5),
      );
    });

    it('refuses bodies that are not events with 400 and requires a token', async () => {
      for (const bad of [
        'not json',
        { entityType: 'ORDER', entityRef: 'EVT-2', retailerId: '1' },
        { name: 'OrderCancel', entityRef: 'EVT-2', retailerId: '1' },
        { name: 'OrderCancel', entityType: 'ORDER', retailerId: '1' },
        { name: 'OrderCancel', entityType: 'ORDER', entityRef: 'EVT-2' },
        { name: 'OrderCancel', entityType: 'ORDER', entityRef: 'EVT-2', retailerId: '2' },
        { name: 'OrderCancel', entityType: 'ORDER', entityRef: 'EVT-2', retailerId: '1', attributes: [1] },
      ]) {
        const got = await postEvent(sandbox, bearer, 'sync', bad);
        assert.equal(got.status, 400, JSON.stringify(bad));
        assert.equal(typeof got.body.message, 'string');
      }
      const anonymous = await fetch(`${sandbox.url}/api/v4.1/event/sync`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(cancel({ entityRef: 'EVT-2' })),
      });
      assert.equal(anonymous.status, 401);
      await anonymous.arrayBuffer();
      assert.equal(sandbox.orders().get('EVT-2')?.status, 'CREATED');
    });

    it('accepts events asynchronously and applies them afterwards', async () => {
      const accepted = await postEvent(sandbox, bearer, 'async', cancel({ entityRef: 'EVT-2' }));
      assert.equal(accepted.status, 200);
      assert.equal(accepted.body.eventStatus, 'PENDING');
      const id = String(accepted.body.id);
      const deadline = Date.now() + 2000;
      while (sandbox.orders().get('EVT-2')?.status !== 'CANCELLED') {
        assert.ok(Date.now() < deadline, 'the async cancel was never applied');
        await new Promise((r) => setTimeout(r, 10));
      }
      const event = await answer(
        await fetch(`${sandbox.url}/api/v4.1/event/${id}`, {
          headers: { authorization: `Bearer ${bearer}` },
        }),
      );
      assert.equal(event.status, 200);
      assert.equal(event.body.eventStatus, 'COMPLETE');
      assert.equal(at(event.body, 'context.entityRef'), 'EVT-2');

      // Async hides failures: an unknown name is accepted and ends NO_MATCH.
      const unknown = await postEvent(sandbox, bearer, 'async', {
        ...cancel({ entityRef: 'EVT-1' }),
        name: 'Fly',
      });
      assert.equal(unknown.status, 200);
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(sandbox.events().find((e) => e.id === unknown.body.id)?.eventStatus, 'NO_MATCH');
      assert.equal(sandbox.orders().get('EVT-1')?.status, 'CREATED');
    });
  });

  describe('request log', () => {
    it('records operations, variables, event names and statuses, without credentials', async () => {
      await fetch(`${sandbox.url}/oauth/token?${tokenQuery()}`, { method: 'POST' }).then((r) =>
        r.arrayBuffer(),
      );
      const bearer = await token(sandbox);
      const customerId = await newCustomer(bearer, 'logged');
      await gql(sandbox, bearer, CREATE_ORDER, { input: orderInput('LOG-1', customerId) });
      await gql(sandbox, bearer, CREATE_ORDER, { input: orderInput('LOG-1', customerId) });
      await gql(sandbox, bearer, 'mutation { createOrder(input: null) { id } }');
      await postEvent(sandbox, bearer, 'sync', {
        name: 'OrderCancel',
        entityType: 'ORDER',
        entityRef: 'LOG-1',
        retailerId: '1',
      });

      const log = sandbox.log();
      assert.deepEqual(
        log.map((e) => [e.method, e.path, e.status]),
        [
          ['POST', '/oauth/token', 200],
          ['POST', '/oauth/token', 200],
          ['POST', '/graphql', 200],
          ['POST', '/graphql', 200],
          ['POST', '/graphql', 200],
          ['POST', '/graphql', 200],
          ['POST', '/api/v4.1/event/sync', 200],
        ],
      );
      assert.equal(log[2].operationName, 'createCustomer');
      assert.deepEqual(log[3].fields, ['createOrder']);
      assert.equal(at(log[3].variables, 'input.ref'), 'LOG-1');
      assert.equal(log[3].codes, undefined);
      assert.deepEqual(log[4].codes, ['C0121E']);
      assert.equal(log[5].operationName, undefined);
      assert.deepEqual(log[5].fields, ['createOrder']);
      assert.deepEqual(log[5].codes, ['C0140E']);
      assert.equal(log[6].eventName, 'OrderCancel');
      assert.ok(log.every((e) => typeof e.at === 'number' && e.at <= Date.now()));

      const text = JSON.stringify(log);
      assert.ok(!text.includes(CREDENTIALS.password) && !text.includes(CREDENTIALS.clientSecret));
      assert.ok(!text.includes(bearer));
      assert.throws(() => (log as FluentLogEntryArray).push(log[0]), TypeError);
      assert.throws(() => {
        (log[0] as { status: number }).status = 500;
      }, TypeError);
      assert.equal(sandbox.log()[0].status, 200);
    });
  });

  describe('command line', () => {
    it('starts with the default credentials and prints its URL', async () => {
      const script = path.resolve(__dirname, '../../sandbox/fluent/server.js');
      const child = spawn(process.execPath, [script, '--port', '0'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      try {
        const line = await new Promise<string>((resolve, reject) => {
          createInterface({ input: child.stdout }).once('line', resolve);
          child.once('error', reject);
          child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
        });
        const printed = JSON.parse(line) as { url: string; port: number; retailerId: number };
        assert.match(printed.url, /^http:\/\/127\.0\.0\.1:\d+$/);
        assert.equal(printed.retailerId, 1);
        const query = new URLSearchParams({
          grant_type: 'password',
          client_id: 'oms-sandbox',
          client_secret: 'oms-secret',
          username: 'oms-user',
          password: 'oms-pass',
          scope: 'api',
        });
        const got = await answer(await fetch(`${printed.url}/oauth/token?${query}`, { method: 'POST' }));
        assert.equal(got.status, 200);
        assert.equal(got.body.Retailer_id, 1);
      } finally {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    });
  });
});

type FluentLogEntryArray = Array<ReturnType<FluentSandbox['log']>[number]>;
