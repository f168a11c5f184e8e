// The fraud-screening sandbox over real HTTP: both API shapes, the decision rules, webhooks
// (signatures checked here with node:crypto, not with the code under test), faults, down()/up().
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  riskScore,
  startFraudSandbox,
  type FraudSandbox,
  type FraudSandboxOptions,
  type ScreeningInput,
} from '../../sandbox/fraud/server';

const KEYS = { apiKey: 'gen-key-7f3a', webhookSecret: 'whsec-51c2', teamApiKey: 'team-key-9d0e' };

type Answer =
  { status: number; headers: IncomingHttpHeaders; body: Record<string, unknown> } | { error: string };

/** One request on a fresh connection: the answer, or the socket error code. */
function call(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  method = 'POST',
): Promise<Answer> {
  return new Promise((resolve) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const req = request(
      url,
      { method, agent: false, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (data += d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: data ? (JSON.parse(data) as Record<string, unknown>) : {},
          }),
        );
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end(text);
  });
}

/** The answer, asserting there was one. */
function answered(a: Answer): {
  status: number;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
} {
  if ('error' in a) assert.fail(`no answer: ${a.error}`);
  return a;
}

const bearer = (key = KEYS.apiKey): Record<string, string> => ({ authorization: `Bearer ${key}` });
const basic = (userPass: string): Record<string, string> => ({
  authorization: `Basic ${Buffer.from(userPass).toString('base64')}`,
});

function screening(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { orderRef: 'ORD-1', amount: 4999, currency: 'EUR', email: 'ann@example.com', ...over };
}

/** A Signifyd v3 Sale, a realistic subset. */
function sale(orderId: string, email: string, totalPrice: number, currency = 'EUR'): Record<string, unknown> {
  return {
    orderId,
    purchase: {
      createdAt: '2025-03-01T10:00:00Z',
      orderChannel: 'WEB',
      totalPrice,
      currency,
      confirmationEmail: email,
      products: [
        { itemId: 'SKU-1', itemName: 'Shirt', itemQuantity: 2, itemPrice: 10 },
        { itemId: 'SKU-2', itemName: 'Cap', itemQuantity: 1, itemPrice: 5 },
      ],
      shipments: [{ destination: { fullName: 'Ann Lee', address: { countryCode: 'DE' } } }],
    },
    userAccount: { email, accountNumber: 'C-77' },
    device: { clientIpAddress: '203.0.113.9' },
    transactions: [
      {
        transactionId: `${orderId}-auth`,
        gatewayStatusCode: 'SUCCESS',
        paymentMethod: 'CREDIT_CARD',
        amount: totalPrice,
        currency,
        checkoutPaymentDetails: {
          cardToken: 'tok_s',
          cardBin: '411111',
          cardLast4: '1111',
          billingAddress: { countryCode: 'AT' },
        },
      },
    ],
    coverageRequests: ['FRAUD'],
  };
}

interface Delivery {
  path: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  json: Record<string, unknown>;
}

interface Receiver {
  url: string;
  /** Status the receiver answers with. */
  status: number;
  deliveries: Delivery[];
  /** The first delivery for `orderRef` (already received or still to come). */
  next(orderRef: string): Promise<Delivery>;
  close(): Promise<void>;
}

const orderOf = (d: Delivery): unknown => d.json.orderRef ?? d.json.orderId;

async function startReceiver(): Promise<Receiver> {
  const waiters: Array<{ ref: string; resolve: (d: Delivery) => void }> = [];
  const receiver: Receiver = {
    url: '',
    status: 204,
    deliveries: [],
    next: (ref) => {
      const found = receiver.deliveries.find((d) => orderOf(d) === ref);
      return found ? Promise.resolve(found) : new Promise((resolve) => waiters.push({ ref, resolve }));
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const d: Delivery = {
        path: req.url ?? '/',
        headers: req.headers,
        raw,
        json: JSON.parse(raw.toString('utf8')) as Record<string, unknown>,
      };
      receiver.deliveries.push(d);
      for (const w of waiters.filter((x) => x.ref === orderOf(d))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(d);
      }
      res.writeHead(receiver.status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`never happened: ${what}`);
}

const hexHmac = (raw: Buffer, secret: string): string =>
  createHmac('sha256', secret).update(raw).digest('hex');
const base64Hmac = (raw: Buffer, secret: string): string =>
  createHmac('sha256', secret).update(raw).digest('base64');

describe('fraud sandbox', function () {
  this.timeout(20000);
  let sandbox: FraudSandbox;
  let receiver: Receiver;
  const start = async (over: Partial<FraudSandboxOptions> = {}): Promise<FraudSandbox> => {
    await sandbox?.close();
    sandbox = await startFraudSandbox({
      ...KEYS,
      webhookUrl: `${receiver.url}/generic`,
      signifydWebhookUrl: `${receiver.url}/signifyd`,
      decisionDelayMs: 50,
      ...over,
    });
    return sandbox;
  };
  const screen = (body: unknown, headers = bearer()): Promise<Answer> =>
    call(`${sandbox.url}/v1/screen`, body, headers);
  const sell = (body: unknown, headers = basic(`${KEYS.teamApiKey}:`)): Promise<Answer> =>
    call(`${sandbox.url}/v3/orders/events/sales`, body, headers);

  beforeEach(async () => {
    receiver = await startReceiver();
    await start();
  });
  afterEach(async () => {
    await sandbox.close();
    await receiver.close();
  });

  describe('generic API', () => {
    it('accepts an ordinary order with a score drawn from its ref, the same on every call', async () => {
      const first = answered(await screen(screening({ orderRef: 'ORD-A' })));
      const again = answered(await screen(screening({ orderRef: 'ORD-A' })));
      assert.equal(first.status, 200);
      assert.equal(first.body.decision, 'accept');
      assert.equal(first.body.orderRef, 'ORD-A');
      assert.deepEqual(first.body.reasons, []);
      assert.equal(first.body.score, riskScore('ORD-A', 'accept'));
      assert.ok(first.body.score >= 0 && first.body.score < 300);
      assert.deepEqual(again.body, first.body, 'a repeated screening is an update: same id, same answer');
      const other = answered(await screen(screening({ orderRef: 'ORD-B' })));
      assert.notEqual(other.body.id, first.body.id);
    });

    it('rejects an email whose local part contains +reject', async () => {
      const got = answered(await screen(screening({ email: 'Ann+Reject@example.com' })));
      assert.equal(got.body.decision, 'reject');
      assert.deepEqual(got.body.reasons, ['EMAIL_ON_DENY_LIST']);
      assert.ok((got.body.score as number) >= 800);
      // The domain does not count, only the local part.
      const domain = answered(await screen(screening({ orderRef: 'ORD-2', email: 'ann@x+reject.example' })));
      assert.equal(domain.body.decision, 'accept');
    });

    it('reviews amounts at or above the threshold of their currency, in minor units', async () => {
      await start({ reviewAbove: { EUR: 50_000, JPY: 70_000 } });
      const at = answered(await screen(screening({ orderRef: 'E1', amount: 50_000 })));
      const below = answered(await screen(screening({ orderRef: 'E2', amount: 49_999 })));
      const yen = answered(await screen(screening({ orderRef: 'J1', amount: 70_000, currency: 'JPY' })));
      const noThreshold = answered(
        await screen(screening({ orderRef: 'U1', amount: 9_999_999, currency: 'USD' })),
      );
      assert.equal(at.body.decision, 'review');
      assert.deepEqual(at.body.reasons, ['AMOUNT_ABOVE_REVIEW_THRESHOLD']);
      assert.equal(below.body.decision, 'accept');
      assert.equal(yen.body.decision, 'review');
      assert.equal(noThreshold.body.decision, 'accept');
      await sandbox.webhooksSettled();
      assert.equal(sandbox.webhooks().length, 0, 'a synchronous review is the merchant’s: no webhook');
      assert.deepEqual(sandbox.pending(), []);
    });

    it('answers +review pending and decides it later by a signed webhook to the callbackUrl', async () => {
      const got = answered(
        await screen(
          screening({
            orderRef: 'R1',
            email: 'bo+review@example.com',
            callbackUrl: `${receiver.url}/cb?x=1`,
          }),
        ),
      );
      assert.equal(got.body.decision, 'pending');
      assert.deepEqual(sandbox.pending(), [{ api: 'generic', orderRef: 'R1' }]);
      const hook = await receiver.next('R1');
      assert.equal(hook.path, '/cb?x=1');
      assert.equal(hook.headers['x-oms-signature'], `sha256=${hexHmac(hook.raw, KEYS.webhookSecret)}`);
      assert.deepEqual(hook.json, {
        id: got.body.id,
        orderRef: 'R1',
        decision: 'accept',
        score: riskScore('R1', 'accept'),
        reasons: ['REVIEW_APPROVED'],
      });
      await sandbox.webhooksSettled();
      const [record] = sandbox.webhooks();
      assert.equal(record.status, 'delivered');
      assert.equal(record.attempts, 1);
      assert.equal(record.responseStatus, 204);
      assert.equal(record.body, hook.raw.toString('utf8'));
      assert.deepEqual(sandbox.pending(), []);
    });

    it('decides +review+thenreject to reject, sent to the sandbox-wide webhookUrl', async () => {
      const got = answered(
        await screen(screening({ orderRef: 'R2', email: 'bo+review+thenreject@example.com' })),
      );
      assert.equal(got.body.decision, 'pending');
      const hook = await receiver.next('R2');
      assert.equal(hook.path, '/generic');
      assert.equal(hook.json.decision, 'reject');
      assert.deepEqual(hook.json.reasons, ['REVIEW_DECLINED']);
      assert.equal(hook.headers['x-oms-signature'], `sha256=${hexHmac(hook.raw, KEYS.webhookSecret)}`);
      assert.notEqual(hook.headers['x-oms-signature'], `sha256=${hexHmac(hook.raw, 'another secret')}`);
    });

    it('waits the default 200 ms before deciding a review', async () => {
      await start({ decisionDelayMs: undefined });
      answered(await screen(screening({ orderRef: 'R3', email: 'c+review@example.com' })));
      const started = Date.now();
      await receiver.next('R3');
      assert.ok(Date.now() - started >= 150, 'not decided at once'); // 200 ms minus timer slack
    });

    it('takes custom rules, falling back to the default rules where they have no opinion', async () => {
      const seen: ScreeningInput[] = [];
      await start({
        decide: (input) => {
          seen.push(input);
          return input.billingCountry !== input.shippingCountry
            ? { decision: 'review', score: 650, reasons: ['COUNTRY_MISMATCH'] }
            : undefined;
        },
      });
      const mismatch = answered(
        await screen(
          screening({ orderRef: 'C1', billingCountry: 'DE', shippingCountry: 'NG', cardToken: 'tok_1' }),
        ),
      );
      const same = answered(
        await screen(screening({ orderRef: 'C2', billingCountry: 'DE', shippingCountry: 'DE' })),
      );
      assert.deepEqual(mismatch.body, {
        id: mismatch.body.id,
        orderRef: 'C1',
        decision: 'review',
        score: 650,
        reasons: ['COUNTRY_MISMATCH'],
      });
      assert.equal(same.body.decision, 'accept');
      assert.equal(seen[0].cardToken, 'tok_1');
      assert.equal(seen[0].api, 'generic');
    });

    it('refuses requests without the right Bearer key', async () => {
      const none = answered(await screen(screening(), {}));
      const wrong = answered(await screen(screening(), bearer('gen-key-other')));
      const basicAuth = answered(await screen(screening(), basic(`${KEYS.apiKey}:`)));
      for (const got of [none, wrong, basicAuth]) {
        assert.equal(got.status, 401);
        assert.match(String(got.headers['www-authenticate']), /^Bearer/);
      }
      const text = JSON.stringify(sandbox.log());
      for (const key of Object.values(KEYS)) assert.ok(!text.includes(key), 'no credential in the log');
    });

    it('answers 400 to a body that is not JSON and 422 with the fields to an invalid one', async () => {
      const notJson = answered(await screen('{"orderRef":'));
      assert.equal(notJson.status, 400);
      const invalid = answered(await screen(screening({ amount: 12.5, currency: 'EURO', email: 'nobody' })));
      assert.equal(invalid.status, 422);
      const fields = (invalid.body.error as { fields: Record<string, string[]> }).fields;
      assert.deepEqual(Object.keys(fields).sort(), ['amount', 'currency', 'email']);
      assert.equal(sandbox.log().at(-1)?.decision, undefined);
    });

    it('answers 404 to unknown paths and 405 to other methods', async () => {
      assert.equal(answered(await call(`${sandbox.url}/v2/screen`, screening(), bearer())).status, 404);
      const get = answered(await call(`${sandbox.url}/v1/screen`, '', bearer(), 'GET'));
      assert.equal(get.status, 405);
      assert.equal(get.headers.allow, 'POST');
    });

    it('logs method, path, status, order ref and decision of every request', async () => {
      await screen(screening({ orderRef: 'L1' }));
      await screen(screening({ orderRef: 'L2', email: 'x+reject@example.com' }));
      await screen(screening({ orderRef: 'L3' }), bearer('wrong'));
      const log = sandbox.log();
      assert.deepEqual(
        log.map(({ method, path, status, api, orderRef, decision }) => ({
          method,
          path,
          status,
          api,
          orderRef,
          decision,
        })),
        [
          {
            method: 'POST',
            path: '/v1/screen',
            status: 200,
            api: 'generic',
            orderRef: 'L1',
            decision: 'accept',
          },
          {
            method: 'POST',
            path: '/v1/screen',
            status: 200,
            api: 'generic',
            orderRef: 'L2',
            decision: 'reject',
          },
          {
            method: 'POST',
            path: '/v1/screen',
            status: 401,
            api: 'generic',
            orderRef: undefined,
            decision: undefined,
          },
        ],
      );
      assert.ok(Object.isFrozen(log) && Object.isFrozen(log[0]));
    });
  });

  describe('Signifyd-shaped API', () => {
    it('authenticates with the team API key as Basic user name and no password', async () => {
      const documented = answered(await sell(sale('S0', 'ann@example.com', 49.99)));
      assert.equal(documented.status, 200);
      const wrongKey = answered(await sell(sale('S0', 'ann@example.com', 49.99), basic('other-key:')));
      const bearerAuth = answered(await sell(sale('S0', 'ann@example.com', 49.99), bearer(KEYS.teamApiKey)));
      const none = answered(await sell(sale('S0', 'ann@example.com', 49.99), {}));
      for (const got of [wrongKey, bearerAuth, none]) {
        assert.equal(got.status, 401);
        assert.match(String(got.headers['www-authenticate']), /^Basic/);
      }
    });

    it('answers ACCEPT with Signifyd’s score (higher = safer) and a numeric signifydId', async () => {
      const got = answered(await sell(sale('S1', 'ann@example.com', 49.99)));
      assert.equal(got.body.orderId, 'S1');
      assert.equal(typeof got.body.signifydId, 'number');
      const decision = got.body.decision as Record<string, unknown>;
      assert.equal(decision.checkpointAction, 'ACCEPT');
      assert.equal(decision.score, 1000 - riskScore('S1', 'accept'));
      assert.equal(typeof decision.createdAt, 'string');
    });

    it('REJECTs +reject and HOLDs a +review, decided by a webhook signed with the team key', async () => {
      const rejected = answered(await sell(sale('S2', 'x+reject@example.com', 10)));
      assert.equal((rejected.body.decision as Record<string, unknown>).checkpointAction, 'REJECT');
      const held = answered(await sell(sale('S3', 'x+review+thenreject@example.com', 10)));
      assert.equal((held.body.decision as Record<string, unknown>).checkpointAction, 'HOLD');
      assert.equal(sandbox.log().at(-1)?.decision, 'pending');
      const hook = await receiver.next('S3');
      assert.equal(hook.path, '/signifyd');
      assert.equal(hook.headers['signifyd-checkpoint'], 'SALE');
      assert.equal(hook.headers['signifyd-sec-hmac-sha256'], base64Hmac(hook.raw, KEYS.teamApiKey));
      assert.equal(hook.headers['x-oms-signature'], undefined);
      assert.deepEqual(hook.json, {
        signifydId: held.body.signifydId,
        orderId: 'S3',
        decision: {
          createdAt: (hook.json.decision as Record<string, unknown>).createdAt,
          checkpointAction: 'REJECT',
          checkpointActionReason: 'REVIEW_DECLINED',
          score: 1000 - riskScore('S3', 'reject'),
        },
      });
    });

    it('reads decimal major units exactly against the minor-unit threshold', async () => {
      await start({ reviewAbove: { EUR: 100_000, KWD: 1_234_567 } });
      const at = answered(await sell(sale('S4', 'a@example.com', 1000.0)));
      const below = answered(await sell(sale('S5', 'a@example.com', 999.99)));
      const dinar = answered(await sell(sale('S6', 'a@example.com', 1234.567, 'KWD')));
      const action = (a: typeof at): unknown => (a.body.decision as Record<string, unknown>).checkpointAction;
      assert.equal(action(at), 'HOLD');
      assert.equal(action(below), 'ACCEPT');
      assert.equal(action(dinar), 'HOLD');
    });

    it('keeps a HOLD without a planned decision until resolve() plays the reviewer', async () => {
      await start({ reviewAbove: { EUR: 100 } });
      answered(await sell(sale('S7', 'a@example.com', 5)));
      await sandbox.webhooksSettled();
      assert.equal(sandbox.webhooks().length, 0);
      assert.deepEqual(sandbox.pending(), [{ api: 'signifyd', orderRef: 'S7' }]);
      assert.equal(sandbox.resolve('S7', 'accept', 'generic'), false, 'no such generic screening');
      assert.equal(sandbox.resolve('S7', 'accept'), true);
      const hook = await receiver.next('S7');
      assert.equal((hook.json.decision as Record<string, unknown>).checkpointAction, 'ACCEPT');
      assert.equal(sandbox.resolve('S7', 'reject'), false, 'already decided');
    });

    it('maps the sale onto the rules’ input (amounts in minor units, countries, card, device)', async () => {
      const seen: ScreeningInput[] = [];
      await start({ decide: (input) => (seen.push(input), undefined) });
      answered(await sell(sale('S8', 'ann@example.com', 25.5)));
      assert.deepEqual(seen, [
        {
          api: 'signifyd',
          orderRef: 'S8',
          amount: 2550,
          currency: 'EUR',
          email: 'ann@example.com',
          ip: '203.0.113.9',
          billingCountry: 'AT',
          shippingCountry: 'DE',
          cardToken: 'tok_s',
          cardLast4: '1111',
          cardBin: '411111',
          customerNo: 'C-77',
          itemCount: 3,
        },
      ]);
    });

    it('answers 400 with the problems per field to an invalid sale', async () => {
      const got = answered(await sell({ purchase: { totalPrice: 'lots', currency: 'EUR' } }));
      assert.equal(got.status, 400);
      const errors = got.body.errors as Record<string, string[]>;
      assert.ok(errors.orderId && errors['purchase.totalPrice'] && errors['userAccount.email']);
    });

    it('rejects an order updated more than 100 times, as Signifyd documents', async () => {
      const actions: unknown[] = [];
      for (let i = 0; i < 102; i++) {
        const got = answered(await sell(sale('S9', 'a@example.com', 10)));
        actions.push((got.body.decision as Record<string, unknown>).checkpointAction);
      }
      assert.deepEqual(actions.slice(0, 101), Array(101).fill('ACCEPT'));
      assert.equal(actions[101], 'REJECT');
    });
  });

  describe('webhook delivery', () => {
    it('retries a webhook the receiver refuses and records it as failed in the end', async () => {
      await start({ webhookAttempts: 3, webhookRetryDelayMs: 5 });
      receiver.status = 500;
      answered(await screen(screening({ orderRef: 'W1', email: 'w+review@example.com' })));
      await until(() => sandbox.webhooks()[0]?.status === 'failed', 'the webhook failed');
      const [record] = sandbox.webhooks();
      assert.equal(record.attempts, 3);
      assert.equal(record.responseStatus, 500);
      const copies = receiver.deliveries.filter((d) => orderOf(d) === 'W1');
      assert.equal(copies.length, 3);
      assert.ok(
        copies.every((d) => d.raw.equals(copies[0].raw)),
        'the same signed body each time',
      );
    });

    it('records a webhook with nowhere to go as failed', async () => {
      await start({ webhookUrl: undefined });
      answered(await screen(screening({ orderRef: 'W2', email: 'w+review@example.com' })));
      await sandbox.webhooksSettled();
      const [record] = sandbox.webhooks();
      assert.equal(record.status, 'failed');
      assert.equal(record.url, undefined);
    });
  });

  describe('faults', () => {
    const statuses = async (seed: number): Promise<number[]> => {
      await start({ faults: { errorRate: 0.3, rateLimitRate: 0.2, retryAfterSeconds: 3, seed } });
      const out: number[] = [];
      for (let i = 0; i < 30; i++) out.push(answered(await screen(screening({ orderRef: `F${i}` }))).status);
      return out;
    };

    it('injects 429 and 5xx answers reproducibly from (seed, call number)', async () => {
      const first = await statuses(7);
      const again = await statuses(7);
      assert.deepEqual(again, first);
      assert.ok(first.includes(200) && first.includes(429), `statuses ${first.join(' ')}`);
      assert.ok(first.some((s) => s >= 500));
      assert.ok(first.every((s) => [200, 429, 500, 502, 503].includes(s)));
      const log = sandbox.log();
      assert.ok(log.every((e) => (e.status === 200) === (e.fault === undefined)));
      const limited = log.findIndex((e) => e.status === 429);
      assert.equal(log[limited].fault, 'rate-limit');
      assert.notDeepEqual(await statuses(8), first, 'another seed draws otherwise');
    });

    it('sends Retry-After with a 429 and can be changed at run time', async () => {
      sandbox.faults.setRateLimitRate(1, 4);
      const got = answered(await screen(screening()));
      assert.equal(got.status, 429);
      assert.equal(got.headers['retry-after'], '4');
      assert.throws(() => sandbox.faults.setErrorRate(0.5), RangeError, 'rates may not add up past 1');
      assert.equal(sandbox.faults.current().errorRate, 0, 'a refused change changes nothing');
      sandbox.faults.reset();
      assert.equal(answered(await screen(screening())).status, 200);
    });

    it('delays answers by latencyMs', async () => {
      sandbox.faults.setLatency(120);
      const started = Date.now();
      answered(await screen(screening()));
      assert.ok(Date.now() - started >= 100); // 120 ms minus timer slack
    });

    it('never answers a timed-out call, and close() still ends it', async () => {
      sandbox.faults.setTimeoutRate(1);
      const hanging = screen(screening({ orderRef: 'T1' }));
      await until(() => sandbox.log().some((e) => e.fault === 'timeout'), 'the call was read');
      const entry = sandbox.log().find((e) => e.fault === 'timeout');
      assert.equal(entry?.status, 0);
      assert.equal(entry?.orderRef, undefined, 'a hung call is not processed');
      await sandbox.close();
      const got = await hanging;
      assert.ok('error' in got, 'the hung call ended without an answer');
    });
  });

  describe('down() and up()', () => {
    it('refuses connections while down and keeps the state when up again on the same port', async () => {
      const before = answered(await screen(screening({ orderRef: 'D1' })));
      const { url, port } = sandbox;
      await sandbox.down();
      const refused = await screen(screening({ orderRef: 'D1' }));
      assert.deepEqual(refused, { error: 'ECONNREFUSED' });
      await sandbox.down(); // twice is harmless
      await sandbox.up();
      assert.equal(sandbox.url, url);
      assert.equal(sandbox.port, port);
      const after = answered(await screen(screening({ orderRef: 'D1' })));
      assert.equal(after.body.id, before.body.id, 'same screening: the state was kept');
      assert.equal(sandbox.log().length, 2);
    });

    it('drops hung calls when going down', async () => {
      sandbox.faults.setTimeoutRate(1);
      const hanging = screen(screening({ orderRef: 'D2' }));
      await until(() => sandbox.log().length === 1, 'the call was read');
      await sandbox.down();
      assert.ok('error' in (await hanging));
      await sandbox.up();
      sandbox.faults.reset();
      assert.equal(answered(await screen(screening({ orderRef: 'D2' }))).status, 200);
    });
  });
});
