// The Fluent client and the idempotent allocation against the Fluent sandbox (real HTTP).
import assert from 'node:assert/strict';
import { allocateOrder } from '../../../lib/fluent/allocate';
import { fetchInventory, fetchLocations } from '../../../lib/fluent/inventory';
import { FluentClient, FluentError, type FluentSettings } from '../../../lib/fluent/client';
import { generateOrder } from '../../../lib/sfcc/generate';
import { startFluentSandbox, type FluentSandbox } from '../../../sandbox/fluent/server';

const credentials = { clientId: 'oms', clientSecret: 'secret', username: 'api', password: 'pass' };
const options = { retailerId: '1', productCatalogueRef: 'PC:MASTER:1' };
const fastPolicy = {
  attempts: 8,
  initialDelayMs: 5,
  multiplier: 2,
  maxDelayMs: 50,
  deadlineMs: 20_000,
  jitter: 'none' as const,
};

describe('Fluent client and allocation against the sandbox', function () {
  this.timeout(20000);
  let fluent: FluentSandbox;
  const clients: FluentClient[] = [];
  const client = (over: Partial<FluentSettings> = {}, failureRatio?: number): FluentClient => {
    const c = new FluentClient(
      { baseUrl: fluent.url, retailerId: '1', ...credentials, ...over },
      undefined,
      fastPolicy,
      failureRatio === undefined ? {} : { failureRatio },
    );
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    fluent = await startFluentSandbox({ ...credentials });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await fluent.close();
  });

  it('fetches one token however many callers wait for it', async () => {
    const c = client();
    const tokens = await Promise.all(Array.from({ length: 30 }, () => c.accessToken()));
    assert.equal(new Set(tokens).size, 1);
    assert.equal(c.tokenRequests, 1);
    assert.equal(fluent.log().filter((e) => e.path === '/oauth/token').length, 1);
  });

  it('refuses wrong credentials with OMS_FLUENT_AUTH, without retrying them', async () => {
    await assert.rejects(
      client({ password: 'wrong' }).graphql('{ __typename }', {}),
      (err: Error & { code?: string }) => err.code === 'OMS_FLUENT_AUTH',
    );
    assert.equal(fluent.log().filter((e) => e.path === '/oauth/token').length, 1);
  });

  it('fetches a new token once when Fluent no longer knows the cached one', async () => {
    const c = client();
    await c.graphql('{ __typename }', {});
    // A new sandbox on the same port: every earlier token is unknown there.
    const port = fluent.port;
    await fluent.close();
    fluent = await startFluentSandbox({ ...credentials, port });
    await c.graphql('{ __typename }', {});
    assert.equal(c.tokenRequests, 2);
  });

  it('creates the customer and the order once; a second run finds it and creates nothing', async () => {
    const order = generateOrder(42, 9);
    const c = client();
    const first = await allocateOrder(c, order, options);
    assert.equal(first.created, true);
    const again = await allocateOrder(c, order, options);
    assert.deepEqual(again, { ...first, created: false });
    assert.equal(fluent.orders().size, 1);
    assert.equal(fluent.customers().size, 1);
    const stored = fluent.orders().get(order.orderRef);
    assert.equal(stored?.type, 'HD');
    const codes = fluent.log().flatMap((e) => e.codes ?? []);
    assert.ok(codes.includes('C0121E'), 'the second createOrder met the duplicate ref');
  });

  it('creates every order exactly once through 5xx and 429 faults', async () => {
    fluent.faults.setErrorRate(0.3);
    fluent.faults.setRateLimitRate(0.1, 0);
    const c = client({}, 0.95); // 40 % faults on purpose: keep the breaker out of this test
    const orders = Array.from({ length: 20 }, (_, i) => generateOrder(100 + i, 4));
    const results = await Promise.all(orders.map((o) => allocateOrder(c, o, options)));
    assert.equal(fluent.orders().size, 20);
    assert.deepEqual(new Set(results.map((r) => r.fluentId)).size, 20);
    const faults = fluent.log().filter((e) => e.status === 429 || e.status >= 500).length;
    assert.ok(faults > 0, 'faults were injected');
  });

  it('never creates an order twice when Fluent carried out a call whose answer was lost', async () => {
    fluent.faults.setLostReplyRate(0.3);
    const c = client({}, 0.95);
    const orders = Array.from({ length: 30 }, (_, i) => generateOrder(200 + i, 4));
    const results = await Promise.all(orders.map((o) => allocateOrder(c, o, options)));
    const lostCreates = fluent
      .log()
      .filter((e) => e.fault === 'lost-reply' && e.fields?.includes('createOrder')).length;
    assert.ok(lostCreates > 0, 'some createOrder answers were lost');
    assert.equal(fluent.orders().size, 30);
    const found = results.filter((r) => !r.created);
    assert.ok(found.length > 0, 'orders whose creation answer was lost were found by ref');
    results.forEach((r, i) => assert.equal(fluent.orders().get(orders[i].orderRef)?.id, r.fluentId));
    const customers = [...fluent.customers().values()].map((cu) => cu.username);
    assert.equal(new Set(customers).size, customers.length, 'no customer created twice');
  });

  it('stops calling a Fluent that keeps failing: the circuit opens', async () => {
    fluent.faults.setErrorRate(1);
    // A short deadline: an open circuit is not waited out here (its next trial is 10 s away).
    const c = new FluentClient({ baseUrl: fluent.url, retailerId: '1', ...credentials }, undefined, {
      ...fastPolicy,
      deadlineMs: 1000,
    });
    clients.push(c);
    const orders = Array.from({ length: 12 }, (_, i) => generateOrder(200 + i, 4));
    const outcomes = await Promise.allSettled(orders.map((o) => allocateOrder(c, o, options)));
    assert.ok(outcomes.every((o) => o.status === 'rejected'));
    assert.equal(c.breaker.snapshot().state, 'open');
    const calls = fluent.log().filter((e) => e.path === '/graphql').length;
    assert.ok(calls < 12 * fastPolicy.attempts, `the open circuit spared Fluent calls: ${calls}`);
  });

  it('reads the active locations with their networks and the positions of the given products', async () => {
    const c = client();
    const locations = await fetchLocations(c);
    assert.equal(locations.length, fluent.locations().size);
    const erfurt = locations.find((l) => l.ref === 'DC_ERFURT');
    assert.deepEqual(erfurt?.networks, ['DC_NETWORK']);
    assert.equal(typeof erfurt?.latitude, 'number');
    const sku = '701643632930';
    const positions = await fetchInventory(c, [sku, sku]);
    const expected = [...fluent.inventory().values()].filter((p) => p.productRef === sku);
    assert.equal(positions.length, expected.length);
    assert.ok(positions.every((p) => p.productRef === sku));
    assert.deepEqual(await fetchInventory(c, []), []);
  });

  it('reports a Fluent refusal as a permanent FluentError with its code', async () => {
    const order = generateOrder(7, 9);
    fluent.faults.rejectRef(order.orderRef, 'C0160E');
    await assert.rejects(
      allocateOrder(client(), order, options),
      (err: unknown) => err instanceof FluentError && err.code === 'C0160E' && err.retryable === false,
    );
    assert.equal(fluent.orders().size, 0);
  });
});
