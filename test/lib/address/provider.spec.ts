// The address provider client against the address sandbox (real HTTP): verdicts, changes,
// refusals, retries through injected faults, and the circuit breaker.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ADDRESS_PROVIDER_CODES,
  AddressProviderClient,
  AddressProviderError,
  diffAddresses,
  type AddressValidation,
} from '../../../lib/address/provider';
import type { Address } from '../../../lib/order/model';
import { defaultClassifier, type BreakerOptions, type RetryPolicy } from '../../../lib/reliability';
import { generateOrder } from '../../../lib/sfcc/generate';
import { startAddressSandbox, type AddressSandbox } from '../../../sandbox/address/server';

const API_KEY = 'test-key-0f3a';
const fastPolicy: RetryPolicy = {
  attempts: 8,
  initialDelayMs: 5,
  multiplier: 2,
  maxDelayMs: 50,
  deadlineMs: 20_000,
  jitter: 'none',
};

const MUNICH: Address = {
  firstName: 'Zoë',
  lastName: 'Weiß',
  line1: 'Marienplatz 8',
  city: 'Muenchen',
  postalCode: '80000',
  countryCode: 'DE',
};

type Coded = Error & { code?: string; cause?: unknown; retryable?: boolean };

describe('address provider client against the sandbox', function () {
  this.timeout(20000);
  let sandbox: AddressSandbox;
  const clients: AddressProviderClient[] = [];
  const client = (
    over: { apiKey?: string; policy?: RetryPolicy; breaker?: BreakerOptions } = {},
  ): AddressProviderClient => {
    const c = new AddressProviderClient(
      { baseUrl: `${sandbox.url}/`, apiKey: over.apiKey ?? API_KEY },
      undefined,
      over.policy ?? fastPolicy,
      over.breaker,
    );
    clients.push(c);
    return c;
  };
  const calls = (): number => sandbox.log().length;

  beforeEach(async () => {
    sandbox = await startAddressSandbox({ apiKey: API_KEY, disabledKeys: ['suspended-key'] });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await sandbox.close();
  });

  it('reports a generated order’s address as valid, unchanged, with the provider’s reference', async () => {
    const order = generateOrder(4, 8);
    const address = order.shipments[0].address;
    assert.ok(address);
    const result = await client().validate(address, { orderRef: order.orderRef });
    assert.equal(result.status, 'valid');
    assert.deepEqual(result.address, address);
    assert.deepEqual(result.changes, []);
    assert.deepEqual(result.reasons, []);
    assert.match(result.providerRef ?? '', /^AV-\d{6}$/);
    const [entry] = sandbox.log();
    assert.equal(entry.reference, order.orderRef, 'the order ref travels as the reference');
    assert.equal(entry.status, 200);
  });

  it('returns a corrected address with each changed field and the provider’s reasons', async () => {
    const result = await client().validate(MUNICH, { orderRef: 'ORD-1' });
    assert.equal(result.status, 'corrected');
    assert.deepEqual(result.changes, [
      { field: 'city', from: 'Muenchen', to: 'München' },
      { field: 'postalCode', from: '80000', to: '80331' },
    ]);
    assert.deepEqual(result.address, { ...MUNICH, city: 'München', postalCode: '80331' });
    assert.equal(result.reasons.length, 2);
    assert.match(result.reasons.join(' '), /Muenchen/);
    assert.match(result.reasons.join(' '), /80331/);
  });

  it('returns invalid with the reasons for an address that does not exist or breaks a rule', async () => {
    const nowhere = await client().validate(
      { line1: '1 Nowhere Lane', city: 'Berlin', postalCode: '99999', countryCode: 'DE' },
      { orderRef: 'ORD-2' },
    );
    assert.equal(nowhere.status, 'invalid');
    assert.match(nowhere.reasons[0], /postalCode '99999' does not exist/);
    const malformed = await client().validate(
      { line1: 'Leopoldstraße 1', city: 'München', postalCode: 'ABC', countryCode: 'DE' },
      { orderRef: 'ORD-3' },
    );
    assert.equal(malformed.status, 'invalid');
    assert.deepEqual(malformed.reasons, ["postalCode 'ABC' does not match the format of DE (5 digits)"]);
  });

  it('refuses a wrong or disabled key with OMS_ADDRESS_AUTH at once, without retrying', async () => {
    for (const [apiKey, status] of [
      ['not-the-key', 401],
      ['suspended-key', 403],
    ] as const) {
      const before = calls();
      await assert.rejects(
        client({ apiKey }).validate(MUNICH, { orderRef: 'ORD-4' }),
        (err: unknown) =>
          err instanceof AddressProviderError &&
          err.code === ADDRESS_PROVIDER_CODES.auth &&
          err.status === status &&
          err.retryable === false &&
          !err.message.includes(apiKey),
      );
      assert.equal(calls() - before, 1, `HTTP ${status} is not retried`);
    }
    assert.doesNotMatch(JSON.stringify(sandbox.log()), /not-the-key|suspended-key|test-key/);
  });

  it('reports a request the provider cannot read as OMS_ADDRESS_BAD_REQUEST, without retrying', async () => {
    // A number where the canonical model has a string: what a hand-edited msg.payload can carry.
    const broken = { ...MUNICH, postalCode: 80331 } as unknown as Address;
    await assert.rejects(
      client().validate(broken, { orderRef: 'ORD-5' }),
      (err: unknown) =>
        err instanceof AddressProviderError &&
        err.code === ADDRESS_PROVIDER_CODES.badRequest &&
        err.status === 422 &&
        err.retryable === false,
    );
    assert.equal(calls(), 1);
  });

  it('retries through injected 429s and 5xx until every address is validated', async () => {
    sandbox.faults.set({ errorRate: 0.25, rateLimitRate: 0.15, retryAfterSeconds: 0, seed: 11 });
    const c = client();
    const orders = Array.from({ length: 20 }, (_, i) => generateOrder(100 + i, 5));
    for (const order of orders) {
      const address = order.shipments[0].address;
      assert.ok(address);
      const result = await c.validate(address, { orderRef: order.orderRef });
      assert.equal(result.status, 'valid', order.orderRef);
    }
    const log = sandbox.log();
    const faults = new Set(log.map((e) => e.fault).filter((f) => f !== undefined));
    assert.deepEqual([...faults].sort(), ['error', 'rate-limit'], 'both kinds of fault were injected');
    assert.equal(log.filter((e) => e.status === 200).length, orders.length);
    assert.ok(log.length > orders.length, `faulted calls were retried: ${log.length} calls`);
    assert.equal(c.breaker.state, 'closed');
  });

  it('carries the provider’s Retry-After on a 429 that is not retried any more', async () => {
    sandbox.faults.setRateLimitRate(1, 7);
    await assert.rejects(
      client({ policy: { ...fastPolicy, attempts: 1 } }).validate(MUNICH, { orderRef: 'ORD-6' }),
      (err: Coded) => {
        const cause = err.cause;
        return (
          err.code === 'OMS_RETRY_EXHAUSTED' &&
          cause instanceof AddressProviderError &&
          cause.code === 'HTTP_429' &&
          cause.status === 429 &&
          cause.retryable === true &&
          cause.retryAfterMs === 7000
        );
      },
    );
  });

  it('stops calling a provider that keeps failing: the circuit opens', async () => {
    sandbox.faults.setErrorRate(1);
    // A short deadline: the open circuit's next trial (60 s away) is not waited for.
    const c = client({
      policy: { ...fastPolicy, attempts: 3, deadlineMs: 1000 },
      breaker: { minimumRequests: 3, openMs: 60_000 },
    });
    const outcomes: unknown[] = [];
    for (let i = 0; i < 10; i++) {
      outcomes.push(await c.validate(MUNICH, { orderRef: `ORD-${i}` }).catch((err: unknown) => err));
    }
    assert.ok(outcomes.every((o) => o instanceof Error && (o as Coded).code === 'OMS_RETRY_EXHAUSTED'));
    assert.equal(c.breaker.state, 'open');
    assert.equal(calls(), 3, 'only the calls before the circuit opened reached the provider');
    const last = outcomes[9] as Coded;
    assert.equal((last.cause as Coded).code, 'OMS_CIRCUIT_OPEN');
  });

  it('registers its permanent codes for errors that lost everything but their code', () => {
    for (const code of Object.values(ADDRESS_PROVIDER_CODES)) {
      const classification = defaultClassifier({ message: 'copied by Node-RED', code }, Date.now());
      assert.equal(classification.kind, 'permanent', code);
    }
    assert.equal(
      defaultClassifier({ message: 'x', code: 'HTTP_503', status: 503 }, Date.now()).kind,
      'retryable',
    );
  });
});

describe('address provider client with answers the sandbox does not give', function () {
  this.timeout(20000);
  // A provider that deviates from the sandbox's full answers: each test sets the body it sends.
  let server: Server;
  let answer: { status: number; body: string };
  let requests = 0;
  let url: string;

  before(async () => {
    server = createServer((req, res) => {
      requests += 1;
      req.resume();
      req.on('end', () => {
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    requests = 0;
  });

  const validate = async (address: Address): Promise<AddressValidation> => {
    const c = new AddressProviderClient({ baseUrl: url, apiKey: 'k' }, undefined, {
      ...fastPolicy,
      attempts: 3,
    });
    try {
      return await c.validate(address, { orderRef: 'ORD-X' });
    } finally {
      c.close();
    }
  };

  it('keeps fields the answer leaves out or sends as null, clears those it sends empty', async () => {
    answer = {
      status: 200,
      body: JSON.stringify({
        status: 'corrected',
        address: { city: 'München', postalCode: null, line2: '' },
        reasons: ['city spelt out'],
      }),
    };
    const result = await validate({ ...MUNICH, line2: 'Hinterhaus' });
    assert.deepEqual(result.address, { ...MUNICH, city: 'München' });
    assert.deepEqual(result.changes, [
      { field: 'line2', from: 'Hinterhaus' },
      { field: 'city', from: 'Muenchen', to: 'München' },
    ]);
    assert.equal(result.providerRef, undefined);
  });

  it('reports "valid" with a changed field as corrected', async () => {
    answer = { status: 200, body: JSON.stringify({ status: 'valid', address: { postalCode: '80331' } }) };
    const result = await validate(MUNICH);
    assert.equal(result.status, 'corrected');
    assert.deepEqual(result.changes, [{ field: 'postalCode', from: '80000', to: '80331' }]);
  });

  it('refuses an answer that is not the documented JSON as a permanent OMS_ADDRESS_BAD_RESPONSE', async () => {
    for (const body of ['<html>gateway</html>', JSON.stringify({ status: 'maybe' })]) {
      answer = { status: 200, body };
      await assert.rejects(
        validate(MUNICH),
        (err: unknown) =>
          err instanceof AddressProviderError &&
          err.code === ADDRESS_PROVIDER_CODES.badResponse &&
          err.retryable === false,
      );
    }
    assert.equal(requests, 2, 'neither answer was asked for again');
  });
});

describe('diffAddresses', () => {
  it('lists changed, added and removed fields in the canonical field order', () => {
    const before: Address = { line1: 'a', city: 'b', postalCode: '1', phone: '' };
    const after: Address = { countryCode: 'DE', postalCode: '2', city: 'b', phone: '' };
    assert.deepEqual(diffAddresses(before, after), [
      { field: 'line1', from: 'a' },
      { field: 'postalCode', from: '1', to: '2' },
      { field: 'countryCode', to: 'DE' },
    ]);
  });

  it('finds nothing between equal addresses and treats an empty string as no value', () => {
    const address = generateOrder(1).shipments[0].address ?? {};
    assert.deepEqual(diffAddresses(address, { ...address }), []);
    assert.deepEqual(diffAddresses({ line2: '' }, {}), []);
  });
});
