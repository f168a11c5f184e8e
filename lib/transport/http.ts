// A small HTTP client for peer APIs on node:http/https: keep-alive agents, a timeout per request,
// and the proxy from HTTPS_PROXY / HTTP_PROXY (NO_PROXY honoured; loopback always direct).
// node:http is the fastest client measured on this machine (reliability-and-performance.md B.3).
import * as http from 'node:http';
import * as https from 'node:https';
import { PassThrough, type Duplex } from 'node:stream';
import * as tls from 'node:tls';

export interface HttpRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Whole request, connect to last byte; default the client's. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface HttpClientOptions {
  /** Sockets per host (default 32). */
  maxSockets?: number;
  timeoutMs?: number;
  /** Environment to read proxy settings from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Extra trusted CA certificates (PEM), for peers behind a private CA. */
  ca?: string;
}

/** A request that ran out of time: retryable, like a network timeout. */
export class HttpTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(url: string, ms: number) {
    super(`No complete answer from ${url} within ${ms} ms`);
  }
}

/** Whether `host` bypasses the proxy: loopback, or listed in NO_PROXY (exact or domain suffix, * = all). */
export function bypassesProxy(host: string, noProxy: string | undefined): boolean {
  if (host === 'localhost' || host === '::1' || host.startsWith('127.')) return true;
  for (const raw of (noProxy ?? '').split(',')) {
    const entry = raw.trim().toLowerCase().replace(/:\d+$/, '');
    if (!entry) continue;
    if (entry === '*') return true;
    const bare = entry.replace(/^\*?\./, '');
    if (host === bare || host.endsWith(`.${bare}`)) return true;
  }
  return false;
}

/** An https agent that opens each connection through an HTTP CONNECT tunnel of `proxy`. */
class TunnelAgent extends https.Agent {
  constructor(
    private readonly proxy: URL,
    options: https.AgentOptions,
  ) {
    super(options);
  }

  override createConnection(
    options: https.RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const target = `${options.host ?? options.hostname}:${options.port ?? 443}`;
    const auth = this.proxy.username
      ? {
          'proxy-authorization': `Basic ${Buffer.from(`${decodeURIComponent(this.proxy.username)}:${decodeURIComponent(this.proxy.password)}`).toString('base64')}`,
        }
      : {};
    const connect = http.request({
      host: this.proxy.hostname,
      port: Number(this.proxy.port) || 80,
      method: 'CONNECT',
      path: target,
      headers: { host: target, ...auth },
    });
    connect.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        const refused = new Error(
          `Proxy ${this.proxy.host} refused CONNECT ${target}: HTTP ${res.statusCode}`,
        );
        callback?.(Object.assign(refused, { code: 'EPROXY' }), socket);
        return;
      }
      const secure = tls.connect({
        ...(options as tls.ConnectionOptions),
        socket,
        servername: String(options.host ?? options.hostname),
      });
      callback?.(null, secure);
    });
    connect.once('error', (err) => callback?.(err, new PassThrough()));
    connect.end();
    return undefined; // the socket arrives through the callback
  }
}

export class HttpClient {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly tunnel?: https.Agent;
  private readonly httpProxy?: URL;
  private readonly noProxy?: string;
  private readonly timeoutMs: number;

  constructor(options: HttpClientOptions = {}) {
    const env = options.env ?? process.env;
    const agentOptions = {
      keepAlive: true,
      maxSockets: options.maxSockets ?? 32,
      ...(options.ca ? { ca: [...tls.rootCertificates, options.ca] } : {}),
    };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent(agentOptions);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.noProxy = env.NO_PROXY ?? env.no_proxy;
    const httpsProxy = env.HTTPS_PROXY ?? env.https_proxy;
    const httpProxy = env.HTTP_PROXY ?? env.http_proxy;
    if (httpsProxy) this.tunnel = new TunnelAgent(new URL(httpsProxy), agentOptions);
    if (httpProxy) this.httpProxy = new URL(httpProxy);
  }

  request(req: HttpRequest): Promise<HttpResponse> {
    const url = new URL(req.url);
    const secure = url.protocol === 'https:';
    const direct = bypassesProxy(url.hostname, this.noProxy);
    const body = typeof req.body === 'string' ? Buffer.from(req.body) : req.body;
    const headers: Record<string, string> = { ...req.headers };
    if (body) headers['content-length'] = String(body.length);
    let options: http.RequestOptions;
    if (!secure && this.httpProxy && !direct) {
      // Plain HTTP through a proxy: absolute-form request line to the proxy.
      options = {
        host: this.httpProxy.hostname,
        port: Number(this.httpProxy.port) || 80,
        path: url.href,
        headers: { ...headers, host: url.host },
        agent: this.httpAgent,
      };
    } else {
      options = {
        host: url.hostname,
        port: url.port || (secure ? 443 : 80),
        path: `${url.pathname}${url.search}`,
        headers,
        agent: secure ? (this.tunnel && !direct ? this.tunnel : this.httpsAgent) : this.httpAgent,
      };
    }
    const timeoutMs = req.timeoutMs ?? this.timeoutMs;
    return new Promise<HttpResponse>((resolve, reject) => {
      const send = secure ? https.request : http.request;
      const request = send({ ...options, method: req.method, signal: req.signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
      });
      const timer = setTimeout(() => request.destroy(new HttpTimeoutError(req.url, timeoutMs)), timeoutMs);
      request.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      request.end(body);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
    this.tunnel?.destroy();
  }
}
