// The fraud provider's webhook without Node-RED: the raw body, the capture ahead of other
// parsers, the route, and the answer (refused, still under review, decided, failed).
import assert from 'node:assert/strict';
import { IncomingMessage, type ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { FraudProviderClient, signWebhook } from '../../../lib/fraud/provider';
import {
  answerWebhook,
  captureRawBodies,
  MAX_WEBHOOK_BODY,
  pathBelow,
  readRawBody,
  removeRoute,
  webhookRoute,
  type ProviderRefHolder,
  type WebhookRequest,
} from '../../../lib/fraud/webhook';

const SECRET = 'hook-secret';

/** A POST request whose body is still to be read: `chunks` arrive, then the end. */
function request(chunks: Array<string | Buffer> = [], fields: Partial<WebhookRequest> = {}): WebhookRequest {
  const req: WebhookRequest = Object.assign(new IncomingMessage(new Socket()), { method: 'POST' }, fields);
  setImmediate(() => {
    for (const chunk of chunks) req.push(chunk);
    req.push(null);
  });
  return req;
}

/** A request a body parser has already read (`body`), signed or not. */
function parsed(body: unknown, headers: Record<string, string> = {}): WebhookRequest {
  const req = request([], { body });
  req.headers = headers;
  return req;
}

const signed = (payload: unknown): WebhookRequest => {
  const raw = Buffer.from(JSON.stringify(payload));
  return parsed(raw, signWebhook('generic', raw, SECRET));
};

/** Holders that record what they are asked and answer `matches` (or throw). */
function holder(matches: boolean | Error): ProviderRefHolder & { calls: unknown[][] } {
  const calls: unknown[][] = [];
  return {
    calls,
    decideByProviderRef: async (...args) => {
      calls.push(args);
      if (matches instanceof Error) throw matches;
      return matches;
    },
  };
}

describe('fraud provider webhook', () => {
  describe('the raw body', () => {
    it('takes what the capture kept, or reads the stream', async () => {
      assert.equal((await readRawBody(parsed(Buffer.from('{"a":1}')))).toString(), '{"a":1}');
      assert.equal((await readRawBody(parsed('{"b":2}'))).toString(), '{"b":2}');
      assert.equal((await readRawBody(request(['{"c"', ':3}']))).toString(), '{"c":3}');
      // An empty object: a parser that found nothing to parse, the stream still unread.
      assert.equal((await readRawBody(request(['x'], { body: {} }))).toString(), 'x');
    });

    it('refuses a body a parser read before, and one over the limit', async () => {
      await assert.rejects(readRawBody(parsed({ id: 'x' })), /parsed before this endpoint/);
      const big = Buffer.alloc(MAX_WEBHOOK_BODY + 1, 'a');
      await assert.rejects(readRawBody(request([big])), /body too large/);
    });
  });

  describe('the route', () => {
    it('is the configured path with a slash in front, or none', () => {
      assert.equal(webhookRoute(undefined), undefined);
      assert.equal(webhookRoute('   '), undefined);
      assert.equal(webhookRoute('oms/fraud'), '/oms/fraud');
      assert.equal(webhookRoute(' /oms/fraud '), '/oms/fraud');
    });

    it("finds a request's path below httpNodeRoot, without the query", () => {
      const at = (originalUrl: string | undefined, url: string): WebhookRequest =>
        Object.assign(new IncomingMessage(new Socket()), { originalUrl, url });
      assert.equal(pathBelow(at('/api/hook?x=1', '/hook'), '/api'), '/hook');
      assert.equal(pathBelow(at(undefined, '/hook?x=1'), ''), '/hook');
      assert.equal(pathBelow(at('/other/hook', '/hook'), '/api'), undefined);
    });

    it('puts the capture first on the root app, for the webhook paths only', async () => {
      const existing: { handle: unknown } = { handle: 'json parser' };
      const root = {
        router: { stack: [existing] },
        use(h: unknown) {
          this.router.stack.push({ handle: h });
        },
      };
      const nodeApp = { parent: root, use: () => assert.fail('the capture goes on the root app') };
      captureRawBodies(nodeApp, (req) => req.url === '/hook');
      assert.equal(root.router.stack.length, 2);
      assert.equal(root.router.stack[1], existing, 'the capture runs before the parser');
      const capture = root.router.stack[0].handle as (
        req: WebhookRequest,
        res: ServerResponse,
        next: (err?: unknown) => void,
      ) => void;

      const hook = request(['{"id":', '"s1"}'], { url: '/hook' });
      await new Promise<void>((resolve) => capture(hook, {} as ServerResponse, () => resolve()));
      assert.equal(Buffer.isBuffer(hook.body) && hook.body.toString(), '{"id":"s1"}');
      assert.equal((hook as { _body?: boolean })._body, true, 'body-parser leaves it alone');

      const other = request(['{}'], { url: '/elsewhere' });
      let passed = false;
      capture(other, {} as ServerResponse, () => (passed = true));
      assert.equal(passed, true, 'another path goes on at once');
      assert.equal(other.body, undefined);
      const get = request([], { url: '/hook', method: 'GET' });
      capture(get, {} as ServerResponse, () => (passed = false));
      assert.equal(passed, false);
    });

    it('drops the body of a webhook over the limit (the endpoint then refuses it)', async () => {
      const root = {
        _router: { stack: [] as Array<{ handle?: unknown }> },
        use(h: unknown) {
          this._router.stack.push({ handle: h });
        },
      };
      captureRawBodies(root, () => true);
      const capture = root._router.stack[0].handle as (
        req: WebhookRequest,
        res: ServerResponse,
        next: () => void,
      ) => void;
      const big = request([Buffer.alloc(MAX_WEBHOOK_BODY + 1)], { url: '/hook' });
      await new Promise<void>((resolve) => capture(big, {} as ServerResponse, resolve));
      assert.equal(big.body, undefined);
      await assert.rejects(readRawBody(big), /parsed before this endpoint/);
    });

    it('takes only its own route off on redeploy', () => {
      const mine = (): void => undefined;
      const theirs = (): void => undefined;
      const app = {
        _router: {
          stack: [
            { route: { stack: [{ handle: mine }] } },
            { route: { stack: [{ handle: theirs }] } },
            { handle: 'middleware' },
          ],
        },
      };
      removeRoute(app, mine);
      assert.deepEqual(app._router.stack, [
        { route: { stack: [{ handle: theirs }] } },
        { handle: 'middleware' },
      ]);
      removeRoute({}, mine); // an app without a router: nothing to do
    });
  });

  describe('the answer', () => {
    let client: FraudProviderClient;
    beforeEach(() => {
      client = new FraudProviderClient({
        kind: 'generic',
        baseUrl: 'http://127.0.0.1:9',
        apiKey: 'k',
        webhookSecret: SECRET,
      });
    });
    afterEach(() => client.close());

    it('refuses a body it cannot read (400) and a wrong signature (401), asking no one', async () => {
      const h = holder(true);
      const unreadable = await answerWebhook(parsed({ id: 'x' }), client, [h]);
      assert.equal(unreadable.status, 400);
      assert.equal(unreadable.body.error, 'OMS_WEBHOOK_BODY');
      const body = Buffer.from(JSON.stringify({ id: 's1', orderRef: 'A1', decision: 'accept' }));
      const forged = await answerWebhook(
        parsed(body, signWebhook('generic', body, 'not-the-secret')),
        client,
        [h],
      );
      assert.deepEqual(forged, {
        outcome: 'refused',
        reason: 'wrong signature in X-OMS-Signature',
        status: 401,
        body: { error: 'OMS_WEBHOOK_SIGNATURE', message: 'wrong signature in X-OMS-Signature' },
      });
      const unsigned = await answerWebhook(parsed(body), client, [h]);
      assert.equal(unsigned.status, 401);
      assert.equal(h.calls.length, 0);
    });

    it('decides nothing while the provider still reviews (202)', async () => {
      const h = holder(true);
      const answer = await answerWebhook(signed({ id: 's1', orderRef: 'A1', decision: 'review' }), client, [
        h,
      ]);
      assert.deepEqual(answer, {
        outcome: 'pending',
        status: 202,
        body: { matched: false, message: 'still under review: nothing to decide' },
      });
      assert.equal(h.calls.length, 0);
    });

    it('has every holder decide by the reference; matched when one held it', async () => {
      const none = holder(false);
      const one = holder(true);
      const payload = { id: 's1', orderRef: 'A1', decision: 'reject', reasons: ['stolen card', 'proxy'] };
      const answer = await answerWebhook(signed(payload), client, new Set([none, one]));
      assert.deepEqual(answer, {
        outcome: 'decided',
        matched: true,
        providerRef: 's1',
        orderRef: 'A1',
        status: 200,
        body: { matched: true, orderRef: 'A1', decision: 'rejected' },
      });
      for (const h of [none, one])
        assert.deepEqual(h.calls, [['s1', 'rejected', 'provider:generic', 'stolen card; proxy']]);

      const unmatched = await answerWebhook(signed({ ...payload, decision: 'accept', reasons: [] }), client, [
        none,
      ]);
      assert.equal(unmatched.outcome === 'decided' && unmatched.matched, false);
      assert.deepEqual(unmatched.body, { matched: false, orderRef: 'A1', decision: 'accepted' });
      assert.deepEqual(none.calls[1], ['s1', 'accepted', 'provider:generic', '']);
    });

    it('answers 500 when a holder fails, for the provider to send it again', async () => {
      const broken = holder(new Error('store closed'));
      const answer = await answerWebhook(signed({ id: 's1', orderRef: 'A1', decision: 'accept' }), client, [
        broken,
      ]);
      assert.deepEqual(answer, {
        outcome: 'failed',
        message: 'store closed',
        status: 500,
        body: { error: 'OMS_WEBHOOK_FAILED', message: 'store closed' },
      });
    });
  });
});
