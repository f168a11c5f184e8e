import assert from 'node:assert/strict';
import { request } from 'node:http';
import { injectedFault, startHttpPeer, type HttpPeer } from '../../sandbox/http-peer';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** One POST on a fresh connection: the answer, or the socket error when the peer resets it. */
function post(peer: HttpPeer, key: string | undefined, body: unknown): Promise<Answer | { error: string }> {
  return new Promise((resolve) => {
    const text = JSON.stringify(body);
    const req = request(
      `${peer.url}/orders`,
      {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/json',
          ...(key === undefined ? {} : { 'idempotency-key': key }),
        },
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (data += d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: JSON.parse(data) as Record<string, unknown>,
          }),
        );
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end(text);
  });
}

describe('sandbox HTTP peer', () => {
  let peer: HttpPeer | undefined;
  afterEach(async () => {
    await peer?.close();
    peer = undefined;
  });

  it('requires an Idempotency-Key and accepts an order once per key', async () => {
    peer = await startHttpPeer();
    const missing = await post(peer, undefined, { orderRef: 'A' });
    assert.equal('status' in missing && missing.status, 400);
    const first = (await post(peer, 'A', { orderRef: 'A' })) as Answer;
    const again = (await post(peer, 'A', { orderRef: 'A' })) as Answer;
    assert.equal(first.status, 201);
    assert.equal(again.status, 200);
    assert.equal(again.body.id, first.body.id);
    const stats = peer.stats();
    assert.deepEqual([...stats.accepted.keys()], ['A']);
    assert.equal(stats.replays, 1);
    assert.equal(stats.callsByKey.get('A'), 2);
    const served = (await (await fetch(`${peer.url}/stats`)).json()) as {
      accepted: string[];
      replays: number;
    };
    assert.deepEqual(served.accepted, ['A']);
  });

  it('rejects permanent refs with 422 and the reason, every time', async () => {
    peer = await startHttpPeer({ permanentRefs: new Set(['BAD']) });
    for (let i = 0; i < 3; i++) {
      const answer = (await post(peer, 'BAD', { orderRef: 'BAD' })) as Answer;
      assert.equal(answer.status, 422);
      assert.equal(answer.body.code, 'ORDER_REJECTED');
    }
    assert.equal(peer.stats().accepted.size, 0);
  });

  it('injects faults at the given rate, the same ones for the same seed, with Retry-After on 429', async () => {
    const options = { failureRate: 0.3, seed: 7 };
    const draws = Array.from({ length: 2000 }, (_, i) => injectedFault(options, `K${i}`, 1));
    const failed = draws.filter(Boolean).length / draws.length;
    assert.ok(failed > 0.26 && failed < 0.34, `failed share ${failed}`);
    assert.deepEqual(
      draws,
      Array.from({ length: 2000 }, (_, i) => injectedFault(options, `K${i}`, 1)),
    );
    for (const kind of ['http-503', 'http-500', 'http-429', 'reset', 'reset-after-accept']) {
      assert.ok(draws.includes(kind as (typeof draws)[number]), kind);
    }

    peer = await startHttpPeer({ ...options, retryAfterSeconds: 2 });
    const key429 = Array.from({ length: 2000 }, (_, i) => `K${i}`).find(
      (k) => injectedFault(options, k, 1) === 'http-429',
    ) as string;
    const limited = (await post(peer, key429, {})) as Answer;
    assert.equal(limited.status, 429);
    assert.equal(limited.headers['retry-after'], '2');

    const keyReset = Array.from({ length: 2000 }, (_, i) => `K${i}`).find(
      (k) =>
        injectedFault(options, k, 1) === 'reset-after-accept' && injectedFault(options, k, 2) === undefined,
    ) as string;
    const lost = await post(peer, keyReset, { n: 1 });
    assert.ok('error' in lost, 'the connection was reset');
    assert.ok(peer.stats().accepted.has(keyReset), 'but the order was taken');
    const retried = (await post(peer, keyReset, { n: 1 })) as Answer;
    assert.equal(retried.status, 200, 'the retry is a replay');
    assert.equal(peer.stats().replays, 1);
  });
});
