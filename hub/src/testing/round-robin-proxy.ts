import { createServer, request, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Headers that belong to one connection, not to the message (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);
/** Methods a proxy may send again after the first try reached the server (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

export interface ProxiedRequest {
  method: string;
  path: string;
  status: number;
  /** When the proxy received the request and how long the answer took, in ms. */
  startedAt: number;
  ms: number;
  /** Which backend answered ('' when none did: the proxy's own 502). */
  backend: string;
}

export interface ProxyCounts {
  /** Connections refused by a backend, sent on to the next one. */
  refusedRetried: number;
  /** Connections cut before any answer (a request possibly sent), sent on to the next one (idempotent methods only). */
  resetRetried: number;
  /** Requests no backend answered: the proxy's own 502. */
  badGateway: number;
  /** Answers cut in the middle of their body (the client's connection is cut as well). */
  cutAnswers: number;
}

export interface ProxyOptions {
  /**
   * Poll each backend's readiness like HAProxy's `option httpchk` (`inter`, `fall 1 rise 1`):
   * a backend whose last answer was not a 200 (or refused) gets no new request while another
   * one is ready. Unset: no polling, as nginx open source.
   */
  readiness?: { path: string; intervalMs: number };
}

class UpstreamError extends Error {
  constructor(readonly connected: boolean, cause: Error) {
    super(cause.message, { cause });
  }
}

/**
 * A round-robin reverse proxy for tests, behaving like nginx with the upstream block in
 * `deploy/nginx/` (no sticky sessions, no upstream keep-alive, `proxy_next_upstream error
 * timeout`): each request goes to the next backend in turn on a fresh connection; a
 * connection that is refused or cut before the request was sent moves on to the next
 * backend, for any method; a connection cut after the request was sent moves on only for an
 * idempotent method (nginx never resends a POST it has sent); when no backend answers, 502.
 * Every answer is recorded (status, latency, backend). With `options.readiness` it also
 * polls each backend's readiness and skips the unready ones, as HAProxy or a Kubernetes
 * Service does.
 */
export class RoundRobinProxy {
  readonly server: Server;
  readonly requests: ProxiedRequest[] = [];
  readonly counts: ProxyCounts = { refusedRetried: 0, resetRetried: 0, badGateway: 0, cutAnswers: 0 };
  #next = 0;
  /** Backends whose last readiness poll failed (only with `options.readiness`). */
  readonly #unready = new Set<string>();
  #poller: NodeJS.Timeout | undefined;

  /** `backends`: `host:port` of each upstream; the list may be changed while running. */
  constructor(
    public backends: string[],
    readonly options: ProxyOptions = {},
  ) {
    this.server = createServer((req, res) => void this.#handle(req, res));
    const { readiness } = options;
    let polling = false;
    const poll = async (path: string) => {
      if (polling) return; // the last poll is still waiting for a busy backend
      polling = true;
      await this.#poll(path, 1_000).finally(() => (polling = false));
    };
    if (readiness) this.#poller = setInterval(() => void poll(readiness.path), readiness.intervalMs);
  }

  async #poll(path: string, timeoutMs: number): Promise<void> {
    await Promise.all(this.backends.map(async (backend) => {
      // A slow answer (a busy process on a loaded machine) leaves the backend as it was.
      const ready = await new Promise<boolean | undefined>((resolve) => {
        const [host, port] = backend.split(':') as [string, string];
        const check = request({ host, port: Number(port), path, agent: false, timeout: timeoutMs }, (answer) => {
          answer.resume();
          resolve(answer.statusCode === 200);
        });
        check.on('timeout', () => {
          resolve(undefined);
          check.destroy();
        });
        check.on('error', () => resolve(false));
        check.end();
      });
      if (ready === true) this.#unready.delete(backend);
      else if (ready === false) this.#unready.add(backend);
    }));
  }

  async listen(port = 0): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    clearInterval(this.#poller);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startedAt = Date.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? '127.0.0.1';
    headers['x-forwarded-proto'] = 'http';
    headers['content-length'] = String(body.length);
    // Round robin over the ready backends (all of them when none is, as a balancer does).
    const ready = this.backends.filter((backend) => !this.#unready.has(backend));
    const backends = ready.length > 0 ? ready : this.backends;
    const first = this.#next % Math.max(backends.length, 1);
    this.#next = (this.#next + 1) % Math.max(this.backends.length, 1);
    for (let attempt = 0; attempt < backends.length; attempt += 1) {
      const backend = backends[(first + attempt) % backends.length]!;
      try {
        const upstream = await this.#send(backend, method, path, headers, body);
        const answer: OutgoingHttpHeaders = {};
        for (let i = 0; i < upstream.rawHeaders.length; i += 2) {
          const name = upstream.rawHeaders[i]!.toLowerCase();
          if (HOP_BY_HOP.has(name)) continue;
          const value = upstream.rawHeaders[i + 1]!;
          const before = answer[name];
          answer[name] = before === undefined ? value : ([] as string[]).concat(before as string | string[], value);
        }
        res.writeHead(upstream.statusCode ?? 502, answer);
        try {
          for await (const chunk of upstream) res.write(chunk);
        } catch {
          // Cut in the middle of the body: nginx closes the client's connection too.
          this.counts.cutAnswers += 1;
          res.destroy();
          return;
        }
        res.end();
        this.requests.push({ method, path, status: upstream.statusCode ?? 502, startedAt, ms: Date.now() - startedAt, backend });
        return;
      } catch (error) {
        const connected = error instanceof UpstreamError && error.connected;
        if (!connected) this.counts.refusedRetried += 1;
        else if (IDEMPOTENT.has(method)) this.counts.resetRetried += 1;
        else break;
      }
    }
    this.counts.badGateway += 1;
    this.requests.push({ method, path, status: 502, startedAt, ms: Date.now() - startedAt, backend: '' });
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end('bad gateway');
  }

  /** One try on one backend: resolves with its answer's head, or rejects saying whether the connection was made. */
  #send(backend: string, method: string, path: string, headers: OutgoingHttpHeaders, body: Buffer): Promise<IncomingMessage> {
    const [host, port] = backend.split(':') as [string, string];
    return new Promise((resolve, reject) => {
      let connected = false;
      const upstream = request({ host, port: Number(port), method, path, headers, agent: false }, resolve);
      upstream.on('socket', (socket) => socket.once('connect', () => (connected = true)));
      upstream.on('error', (error) => reject(new UpstreamError(connected, error)));
      upstream.end(body);
    });
  }
}
