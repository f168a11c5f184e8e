// The fraud provider clients against the fraud sandbox (real HTTP): both API shapes, decisions,
// webhooks received by a plain node:http server and verified, errors, retries, the breaker.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  FraudProviderClient,
  FraudProviderError,
  signWebhook,
  verifyWebhook,
  type FraudProviderKind,
  type FraudProviderSettings,
  type ScreeningRequest,
} from '../../../lib/fraud/provider';
import { classifyError, type RetryPolicy } from '../../../lib/reliability';
import {
  riskScore,
  startFraudSandbox,
  type FraudSandbox,
  type ScreeningInput,
} from '../../../sandbox/fraud/server';

const KEYS = { apiKey: 'gen-key-2b71', webhookSecret: 'whsec-e04d', teamApiKey: 'team-key-c6a8' };
const KINDS: FraudProviderKind[] = ['generic', 'signifyd'];

const fastPolicy: RetryPolicy = {
  attempts: 10,
  initialDelayMs: 5,
  multiplier: 2,
  maxDelayMs: 50,
  deadlineMs: 15_000,
  jitter: 'none',
};

interface Delivery {
  path: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
}

/** A webhook receiver as an OMS would run one: keeps the raw bodies for signature checks. */
interface Receiver {
  url: string;
  deliveries: Delivery[];
  /** The next delivery to `path` (already received or still to come). */
  next(path: string): Promise<Delivery>;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const waiters: Array<{ path: string; resolve: (d: Delivery) => void }> = [];
  const taken = new Set<Delivery>();
  const receiver: Receiver = {
    url: '',
    deliveries: [],
    next: (path) => {
      const found = receiver.deliveries.find((d) => d.path === path && !taken.has(d));
      if (found) {
        taken.add(found);
        return Promise.resolve(found);
      }
      return new Promise((resolve) => waiters.push({ path, resolve }));
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const d: Delivery = { path: req.url ?? '/', headers: req.headers, raw: Buffer.concat(chunks) };
      receiver.deliveries.push(d);
      const waiter = waiters.find((w) => w.path === d.path);
      if (waiter) {
        waiters.splice(waiters.indexOf(waiter), 1);
        taken.add(d);
        waiter.resolve(d);
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}

function order(orderRef: string, over: Partial<ScreeningRequest> = {}): ScreeningRequest {
  return { orderRef, amount: 4999, currency: 'EUR', email: 'ann@example.com', ...over };
}

/** Walks an error's causes to the first FraudProviderError. */
function providerErrorOf(error: unknown): FraudProviderError | undefined {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e instanceof FraudProviderError) return e;
  }
  return undefined;
}

describe('fraud provider clients against the sandbox', function () {
  this.timeout(20000);
  let sandbox: FraudSandbox;
  let receiver: Receiver;
  let inputs: ScreeningInput[];
  const clients: FraudProviderClient[] = [];
  const client = (
    kind: FraudProviderKind,
    over: Partial<FraudProviderSettings> = {},
    policy: RetryPolicy = fastPolicy,
    failureRatio?: number,
  ): FraudProviderClient => {
    const c = new FraudProviderClient(
      {
        kind,
        baseUrl: `${sandbox.url}/`,
        apiKey: kind === 'generic' ? KEYS.apiKey : KEYS.teamApiKey,
        webhookSecret: KEYS.webhookSecret,
        ...over,
      },
      undefined,
      policy,
      failureRatio === undefined ? {} : { failureRatio },
    );
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    receiver = await startReceiver();
    inputs = [];
    sandbox = await startFraudSandbox({
      ...KEYS,
      signifydWebhookUrl: `${receiver.url}/signifyd`,
      decisionDelayMs: 30,
      reviewAbove: { EUR: 100_000, JPY: 150_000, KWD: 1_234_567 },
      decide: (input) => (inputs.push(input), undefined),
    });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await sandbox.close();
    await receiver.close();
  });

  for (const kind of KINDS) {
    describe(`${kind} API`, () => {
      it('accepts an ordinary order with the risk score the provider drew', async () => {
        const got = await client(kind).screen(order('A-1'));
        assert.equal(got.decision, 'accept');
        assert.equal(got.pending, false);
        assert.equal(got.score, riskScore('A-1', 'accept'), 'risk, whichever way the provider scores');
        assert.deepEqual(got.reasons, []);
        assert.ok(got.providerRef.length > 0);
        assert.ok(got.raw !== undefined);
      });

      it('rejects +reject', async () => {
        const got = await client(kind).screen(order('A-2', { email: 'eve+reject@example.com' }));
        assert.equal(got.decision, 'reject');
        assert.equal(got.pending, false);
        assert.deepEqual(got.reasons, ['EMAIL_ON_DENY_LIST']);
        assert.equal(got.score, riskScore('A-2', 'reject'));
      });

      it('reviews amounts at the threshold of their currency, exactly in minor units', async () => {
        const c = client(kind);
        const cases: Array<[string, number, string]> = [
          ['EUR', 100_000, 'review'],
          ['EUR', 99_999, 'accept'],
          ['JPY', 150_000, 'review'],
          ['JPY', 149_999, 'accept'],
          ['KWD', 1_234_567, 'review'],
          ['KWD', 1_234_566, 'accept'],
        ];
        for (const [currency, amount, expected] of cases) {
          const got = await c.screen(order(`T-${currency}-${amount}`, { currency, amount }));
          assert.equal(got.decision, expected, `${amount} ${currency}`);
          if (expected === 'review') {
            // A Signifyd HOLD is decided later; a generic review is the merchant's to decide.
            assert.equal(got.pending, kind === 'signifyd');
            assert.deepEqual(got.reasons, ['AMOUNT_ABOVE_REVIEW_THRESHOLD']);
          }
        }
        assert.deepEqual(
          inputs.map((i) => i.amount),
          cases.map(([, amount]) => amount),
        );
      });

      it('sends what the request says, in the API’s own shape', async () => {
        await client(kind).screen(
          order('A-3', {
            amount: 12_345,
            email: 'ann@example.com',
            ip: '198.51.100.7',
            billingCountry: 'AT',
            shippingCountry: 'DE',
            cardToken: 'tok_9',
            cardBin: '552233',
            cardLast4: '4444',
            customerNo: 'C-1',
            items: [
              { sku: 'S1', quantity: 2, unitPrice: 5000 },
              { sku: 'S2', name: 'Cap', quantity: 1, unitPrice: 2345 },
            ],
          }),
        );
        assert.deepEqual(inputs, [
          {
            api: kind,
            orderRef: 'A-3',
            amount: 12_345,
            currency: 'EUR',
            email: 'ann@example.com',
            ip: '198.51.100.7',
            billingCountry: 'AT',
            shippingCountry: 'DE',
            cardToken: 'tok_9',
            cardLast4: '4444',
            cardBin: '552233',
            customerNo: 'C-1',
            itemCount: 3,
          },
        ]);
      });

      it('answers an async review pending; the signed webhook brings the decision', async () => {
        const c = client(kind);
        const callbackUrl = `${receiver.url}/generic`;
        const accept = await c.screen(order('R-1', { email: 'bo+review@example.com', callbackUrl }));
        assert.equal(accept.decision, 'review');
        assert.equal(accept.pending, true);
        const first = await receiver.next(`/${kind}`);
        const verified = c.verifyWebhook(first.headers, first.raw);
        assert.deepEqual(verified, {
          ok: true,
          orderRef: 'R-1',
          decision: 'accept',
          providerRef: accept.providerRef,
          score: riskScore('R-1', 'accept'),
          reasons: ['REVIEW_APPROVED'],
        });
        const reject = await c.screen(
          order('R-2', { email: 'bo+review+thenreject@example.com', callbackUrl }),
        );
        assert.equal(reject.pending, true);
        const second = await receiver.next(`/${kind}`);
        const decided = c.verifyWebhook(second.headers, second.raw);
        assert.ok(decided.ok && decided.decision === 'reject' && decided.orderRef === 'R-2');
      });

      it('refuses wrong credentials with OMS_FRAUD_AUTH at once, without retrying', async () => {
        const c = client(kind, { apiKey: 'not-the-key' });
        const error = await c.screen(order('E-1')).then(
          () => assert.fail('screened with a wrong key'),
          (e: unknown) => e,
        );
        assert.ok(error instanceof FraudProviderError);
        assert.equal(error.code, 'OMS_FRAUD_AUTH');
        assert.equal(error.status, 401);
        assert.equal(error.retryable, false);
        assert.ok(!error.message.includes('not-the-key'), 'the key is not in the message');
        assert.equal(sandbox.log().length, 1);
        // As Node-RED copies it (message and code only), still permanent.
        assert.equal(
          classifyError({ message: error.message, code: error.code }, Date.now()).kind,
          'permanent',
        );
      });

      it('reports a request the provider refuses as OMS_FRAUD_BAD_REQUEST, without retrying', async () => {
        await assert.rejects(
          client(kind).screen(order('E-2', { email: 'not-an-email' })),
          (e: unknown) =>
            e instanceof FraudProviderError &&
            e.code === 'OMS_FRAUD_BAD_REQUEST' &&
            e.status === (kind === 'generic' ? 422 : 400) &&
            !e.retryable,
        );
        assert.equal(sandbox.log().length, 1);
      });

      it('retries through 5xx and 429 answers, honouring Retry-After', async () => {
        sandbox.faults.set({ errorRate: 0.2, rateLimitRate: 0.1, retryAfterSeconds: 0, seed: 3 });
        const c = client(kind, {}, fastPolicy, 0.95); // 30 % faults on purpose: keep the breaker out
        const orders = Array.from({ length: 20 }, (_, i) =>
          order(`F-${i}`, { email: i % 4 === 0 ? 'x+reject@example.com' : 'ann@example.com' }),
        );
        const results = await Promise.all(orders.map((o) => c.screen(o)));
        results.forEach((r, i) => assert.equal(r.decision, i % 4 === 0 ? 'reject' : 'accept'));
        const log = sandbox.log();
        assert.ok(
          log.some((e) => e.fault === 'rate-limit'),
          'some calls were rate-limited',
        );
        assert.ok(
          log.some((e) => e.fault === 'error'),
          'some calls failed',
        );
        assert.equal(log.filter((e) => e.status === 200).length, 20);
      });

      it('gives up on a provider that keeps answering 429 with the wait it asked for', async () => {
        sandbox.faults.setRateLimitRate(1, 7);
        const error = await client(kind, {}, { ...fastPolicy, attempts: 1 })
          .screen(order('E-3'))
          .then(
            () => assert.fail('answered'),
            (e: unknown) => e,
          );
        const cause = providerErrorOf(error);
        assert.equal(cause?.code, 'HTTP_429');
        assert.equal(cause?.retryable, true);
        assert.equal(cause?.retryAfterMs, 7000);
        assert.equal(classifyError(error, Date.now()).kind, 'retryable');
      });

      it('surfaces a call the provider never answers as a retryable OMS_FRAUD_TIMEOUT', async () => {
        sandbox.faults.setTimeoutRate(1);
        const c = client(kind, { timeoutMs: 150 }, { ...fastPolicy, attempts: 2 });
        const error = await c.screen(order('E-4')).then(
          () => assert.fail('answered'),
          (e: unknown) => e,
        );
        assert.equal((error as { code?: string }).code, 'OMS_RETRY_EXHAUSTED');
        const cause = providerErrorOf(error);
        assert.equal(cause?.code, 'OMS_FRAUD_TIMEOUT');
        assert.equal(cause?.retryable, true);
        assert.match(cause?.message ?? '', /within 150 ms/);
        assert.equal(classifyError(error, Date.now()).kind, 'retryable');
        assert.equal(
          classifyError({ message: 'x', code: 'OMS_FRAUD_TIMEOUT' }, Date.now()).kind,
          'retryable',
        );
        await until(() => sandbox.log().filter((e) => e.fault === 'timeout').length === 2, 'both calls read');
        assert.ok(sandbox.log().every((e) => e.status === 0));
      });

      it('cancels a screening through its signal', async () => {
        sandbox.faults.setTimeoutRate(1);
        const controller = new AbortController();
        const pending = client(kind).screen(order('E-5'), { signal: controller.signal });
        await until(() => sandbox.log().length === 1, 'the call was read');
        controller.abort();
        await assert.rejects(pending, (e: unknown) => (e as { name?: string }).name === 'AbortError');
      });

      it('fails retryably while the provider is down and carries on once it is up', async () => {
        const c = client(kind, {}, { ...fastPolicy, attempts: 3 });
        const before = await c.screen(order('D-1'));
        await sandbox.down();
        const error = await c.screen(order('D-1')).then(
          () => assert.fail('answered while down'),
          (e: unknown) => e,
        );
        const cause = providerErrorOf(error);
        assert.equal(cause?.code, 'ECONNREFUSED');
        assert.equal(cause?.retryable, true);
        // Up again while a screening is retrying: it goes through.
        const retrying = client(
          kind,
          {},
          { ...fastPolicy, initialDelayMs: 50, multiplier: 1, attempts: 40 },
        ).screen(order('D-1'));
        setTimeout(() => void sandbox.up(), 150);
        const after = await retrying;
        assert.equal(after.providerRef, before.providerRef, 'the sandbox kept its state');
        assert.equal(after.decision, 'accept');
      });

      it('opens the circuit when the provider keeps failing, and stops calling it', async () => {
        sandbox.faults.setErrorRate(1);
        // A short deadline: an open circuit is not waited out here (its next trial is 10 s away).
        const c = client(kind, {}, { ...fastPolicy, attempts: 4, deadlineMs: 1000 });
        const outcomes = await Promise.allSettled(
          Array.from({ length: 12 }, (_, i) => c.screen(order(`B-${i}`))),
        );
        assert.ok(outcomes.every((o) => o.status === 'rejected'));
        assert.equal(c.breaker.snapshot().state, 'open');
        const calls = sandbox.log().length;
        assert.ok(calls < 12 * 4, `the open circuit spared the provider calls: ${calls}`);
        const later = await c.screen(order('B-99')).then(
          () => assert.fail('called through an open circuit'),
          (e: unknown) => e,
        );
        assert.equal(((later as Error).cause as { code?: string }).code, 'OMS_CIRCUIT_OPEN');
        assert.equal(sandbox.log().length, calls);
      });
    });
  }

  it('refuses a request that cannot succeed before sending it', async () => {
    for (const bad of [
      order('V-1', { amount: 10.5 }),
      order('V-2', { amount: -1 }),
      order('V-3', { currency: 'EURO' }),
      order('', {}),
    ]) {
      await assert.rejects(
        client('generic').screen(bad),
        (e: unknown) => e instanceof FraudProviderError && e.code === 'OMS_FRAUD_BAD_REQUEST' && !e.retryable,
      );
    }
    assert.equal(sandbox.log().length, 0);
  });

  it('authenticates to Signifyd with the documented Basic header: base64 of "key:"', async () => {
    // The sandbox also takes the bare key; check the client sends the documented form.
    let header: string | undefined;
    const spy = createServer((req, res) => {
      header = req.headers.authorization;
      res.writeHead(401).end('{}');
    });
    await new Promise<void>((resolve) => spy.listen(0, '127.0.0.1', resolve));
    const c = client('signifyd', { baseUrl: `http://127.0.0.1:${(spy.address() as AddressInfo).port}` });
    await assert.rejects(c.screen(order('H-1')));
    await new Promise((resolve) => spy.close(resolve));
    assert.equal(header, `Basic ${Buffer.from(`${KEYS.teamApiKey}:`).toString('base64')}`);
  });
});

describe('webhook signatures', () => {
  const genericBody = Buffer.from(
    JSON.stringify({ id: 'scr_000001', orderRef: 'O-1', decision: 'reject', score: 912, reasons: ['X'] }),
  );
  const signifydBody = Buffer.from(
    JSON.stringify({
      signifydId: 7000000001,
      orderId: 'O-2',
      decision: { checkpointAction: 'ACCEPT', checkpointActionReason: 'REVIEW_APPROVED', score: 880 },
    }),
  );
  const secret = 'shh-1';
  const bodies: Record<FraudProviderKind, Buffer> = { generic: genericBody, signifyd: signifydBody };

  it('signs as each provider documents', () => {
    const hex = createHmac('sha256', secret).update(genericBody).digest('hex');
    assert.deepEqual(signWebhook('generic', genericBody, secret), { 'X-OMS-Signature': `sha256=${hex}` });
    const b64 = createHmac('sha256', secret).update(signifydBody).digest('base64');
    assert.deepEqual(signWebhook('signifyd', signifydBody, secret), { 'SIGNIFYD-SEC-HMAC-SHA256': b64 });
  });

  it('accepts a good signature in any header case and reads the decision', () => {
    const generic = verifyWebhook(
      'generic',
      { 'x-oms-signature': signWebhook('generic', genericBody, secret)['X-OMS-Signature'] },
      genericBody,
      secret,
    );
    assert.deepEqual(generic, {
      ok: true,
      orderRef: 'O-1',
      decision: 'reject',
      providerRef: 'scr_000001',
      score: 912,
      reasons: ['X'],
    });
    const signifyd = verifyWebhook(
      'signifyd',
      { 'signifyd-checkpoint': 'SALE', ...signWebhook('signifyd', signifydBody, secret) },
      signifydBody,
      secret,
    );
    assert.deepEqual(signifyd, {
      ok: true,
      orderRef: 'O-2',
      decision: 'accept',
      providerRef: '7000000001',
      score: 120,
      reasons: ['REVIEW_APPROVED'],
    });
  });

  for (const kind of KINDS) {
    const body = bodies[kind];
    const headerName = kind === 'generic' ? 'x-oms-signature' : 'signifyd-sec-hmac-sha256';
    const good = Object.values(signWebhook(kind, body, secret))[0];
    const refused = (
      headers: Record<string, string | string[] | undefined>,
      raw = body,
      key = secret,
    ): string => {
      const result = verifyWebhook(kind, headers, raw, key);
      assert.equal(result.ok, false, JSON.stringify(result));
      return result.ok ? '' : result.reason;
    };

    it(`${kind}: refuses unsigned, malformed, wrong and repeated signatures`, () => {
      assert.match(refused({}), /unsigned/);
      assert.match(refused({ [headerName]: '' }), /unsigned/);
      assert.match(refused({ [headerName]: 'sha1=abc' }), /malformed/);
      assert.match(refused({ [headerName]: `${good}x` }), /malformed/);
      assert.match(refused({ [headerName]: good }, body, 'other-secret'), /wrong signature/);
      assert.match(refused({ [headerName]: [good, good] }), /more than one/);
      assert.match(refused({ [headerName]: good }, body, ''), /no webhook secret/);
      // The other provider's format is not accepted either.
      const otherKind: FraudProviderKind = kind === 'generic' ? 'signifyd' : 'generic';
      assert.match(
        refused({ [headerName]: Object.values(signWebhook(otherKind, body, secret))[0] }),
        /malformed/,
      );
    });

    it(`${kind}: refuses a tampered body`, () => {
      const tampered = Buffer.from(body);
      tampered[tampered.indexOf('O-')] = 'Q'.charCodeAt(0);
      assert.match(refused({ [headerName]: good }, tampered), /wrong signature/);
      const swapped = Buffer.from(
        body
          .toString('utf8')
          .replace(/(reject|ACCEPT)/, (m) => (m.toUpperCase() === 'REJECT' ? 'accept' : 'REJECT')),
      );
      assert.notDeepEqual(swapped, body);
      assert.match(refused({ [headerName]: good }, swapped), /wrong signature/);
    });

    it(`${kind}: refuses a correctly signed body that is not a decision`, () => {
      const sign = (raw: Buffer): Record<string, string> => ({
        [headerName]: Object.values(signWebhook(kind, raw, secret))[0],
      });
      const notJson = Buffer.from('not json');
      assert.match(refused(sign(notJson), notJson), /not JSON/);
      const noDecision = Buffer.from(JSON.stringify({ id: 'x', signifydId: 1, orderRef: 'o', orderId: 'o' }));
      assert.match(refused(sign(noDecision), noDecision), /decision/);
      const pending = Buffer.from(
        JSON.stringify({ id: 'x', orderRef: 'o', decision: 'pending', signifydId: 1, orderId: 'o' }),
      );
      assert.equal(
        verifyWebhook(kind, sign(pending), pending, secret).ok,
        false,
        'pending is no final answer',
      );
    });
  }
});

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`never happened: ${what}`);
}
