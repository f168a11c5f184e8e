// The HTTP client on real sockets: keep-alive, timeouts, and proxies (a CONNECT tunnel to an
// HTTPS server with a throwaway certificate, absolute-form requests for plain HTTP, NO_PROXY).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bypassesProxy, HttpClient } from '../../../lib/transport/http';

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
  );
}

describe('HttpClient', function () {
  this.timeout(20000);
  let dir: string;
  const servers: net.Server[] = [];
  const clients: HttpClient[] = [];
  const track = <T extends net.Server>(s: T): T => (servers.push(s), s);
  const client = (...args: ConstructorParameters<typeof HttpClient>): HttpClient => {
    const c = new HttpClient(...args);
    clients.push(c);
    return c;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'oms-http-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  it('keeps connections alive between requests and returns status, headers and body', async () => {
    const sockets = new Set<net.Socket>();
    const server = track(
      http.createServer((req, res) => {
        sockets.add(req.socket);
        res.setHeader('x-path', req.url ?? '');
        res.end(JSON.stringify({ method: req.method }));
      }),
    );
    const port = await listen(server);
    const c = client({ env: {} });
    for (let i = 0; i < 3; i++) {
      const res = await c.request({ method: 'POST', url: `http://127.0.0.1:${port}/a?b=${i}`, body: '{}' });
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-path'], `/a?b=${i}`);
      assert.deepEqual(JSON.parse(res.body), { method: 'POST' });
    }
    assert.equal(sockets.size, 1, 'one kept-alive connection');
  });

  it('gives up on a peer that does not answer in time, with a retryable ETIMEDOUT', async () => {
    const server = track(http.createServer(() => undefined)); // never answers
    const port = await listen(server);
    await assert.rejects(
      client({ env: {} }).request({ method: 'GET', url: `http://127.0.0.1:${port}/`, timeoutMs: 200 }),
      (err: Error & { code?: string }) => err.code === 'ETIMEDOUT',
    );
  });

  it('tunnels HTTPS through the proxy in HTTPS_PROXY with CONNECT', async function () {
    if (!existsSync('/usr/bin/openssl')) {
      console.log('      skipped: /usr/bin/openssl is missing (it makes the test certificate)');
      this.skip();
    }
    // A throwaway certificate for "peer.test", trusted through the client's ca option. The name is
    // never resolved here: the client connects to the proxy, which connects to the target.
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=peer.test',
        '-addext',
        'subjectAltName=DNS:peer.test',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const target = track(
      https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (_req, res) =>
        res.end('secure hello'),
      ),
    );
    const targetPort = await listen(target);
    const connects: string[] = [];
    const proxy = track(http.createServer());
    proxy.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      connects.push(req.url ?? '');
      const upstream = net.connect(targetPort, '127.0.0.1', () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
    });
    const proxyPort = await listen(proxy);
    const c = client({ env: { HTTPS_PROXY: `http://127.0.0.1:${proxyPort}` }, ca: cert });
    const res = await c.request({ method: 'GET', url: `https://peer.test:${targetPort}/` });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'secure hello');
    assert.deepEqual(connects, [`peer.test:${targetPort}`]);
  });

  it('sends plain HTTP to the proxy in HTTP_PROXY in absolute form, and bypasses it for NO_PROXY', async () => {
    const seen: string[] = [];
    const proxy = track(
      http.createServer((req, res) => {
        seen.push(req.url ?? '');
        res.end('via proxy');
      }),
    );
    const proxyPort = await listen(proxy);
    const env = { HTTP_PROXY: `http://127.0.0.1:${proxyPort}`, NO_PROXY: 'internal.example' };
    const res = await client({ env }).request({ method: 'GET', url: 'http://peer.example:8080/orders?x=1' });
    assert.equal(res.body, 'via proxy');
    assert.deepEqual(seen, ['http://peer.example:8080/orders?x=1']);
    assert.equal(bypassesProxy('api.internal.example', env.NO_PROXY), true);
    assert.equal(bypassesProxy('peer.example', env.NO_PROXY), false);
    assert.equal(bypassesProxy('127.0.0.1', undefined), true);
    assert.equal(bypassesProxy('anything', '*'), true);
  });
});
