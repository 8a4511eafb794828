import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';

/** What the hub's server-to-server callers need of `fetch`. */
export type ServerFetch = (input: Request | URL | string, init?: RequestInit) => Promise<Response>;

/** RFC 6761 §6.3: `localhost` and every name under `.localhost` are loopback. */
export function isLoopbackName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/**
 * `dns.lookup` that answers loopback for `localhost` and `*.localhost` itself, as browsers do
 * (RFC 6761 §6.3 lets resolvers do so, and asks them not to send such names to DNS): Node
 * hands `*.localhost` to the system resolver, which says ENOTFOUND, so a subsite the admin
 * registered on `http://site1.sso.localhost:…` was reached by every browser but never by the
 * hub. Other names go to `dns.lookup` as before.
 */
export const loopbackLookup: LookupFunction = (hostname, options, callback) => {
  if (!isLoopbackName(hostname)) {
    dnsLookup(hostname, options, callback as (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void);
    return;
  }
  const family = familyOf(options);
  // IPv4 first: what a local dev server most often listens on; with `all` (Node's default
  // happy-eyeballs connect) ::1 is tried next.
  const addresses: LookupAddress[] = [
    ...(family !== 6 ? [{ address: '127.0.0.1', family: 4 }] : []),
    ...(family !== 4 ? [{ address: '::1', family: 6 }] : []),
  ];
  process.nextTick(() => {
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  });
};

function familyOf(options: LookupOptions): 0 | 4 | 6 {
  const { family } = options as { family?: number | string };
  if (family === 4 || family === 'IPv4') return 4;
  if (family === 6 || family === 'IPv6') return 6;
  return 0;
}

// Statuses whose response has no body (Fetch's "null body status"; 1xx never reach here).
const NULL_BODY_STATUS = new Set([204, 205, 304]);

/**
 * The hub's server-to-server HTTP (deliveries, UCenter notes, the sync and note checks):
 * `fetch`'s shape over node:http(s), with {@link loopbackLookup} so `*.localhost` subsites
 * are reached as browsers reach them. Node's `fetch` takes no resolver of its own (its
 * undici agent is not exposed), hence node:http, which does.
 *
 * As the callers used `fetch`: the request's `signal` bounds the whole exchange and a
 * timeout rejects with its reason (`TimeoutError`); a network failure rejects with
 * `TypeError('fetch failed')` whose `cause` carries the code (ECONNREFUSED, …), so
 * `errorSummary` and the checks report what they did. Redirects are never followed (every
 * caller asks `redirect: 'manual'`; anything else is refused): a 3xx is answered as it is.
 * One connection per request, no keep-alive: a stale pooled socket would fail a delivery or
 * a check for no fault of the subsite's.
 */
export const serverFetch: ServerFetch = async (input, init) => {
  const request = new Request(input, init);
  if (request.redirect !== 'manual') throw new TypeError("serverFetch follows no redirects: ask for redirect: 'manual'");
  const url = new URL(request.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('unsupported URL scheme');
  const { signal } = request;
  const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
  signal.throwIfAborted();
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    headers[name] = value;
  });
  if (body) headers['content-length'] = String(body.length);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<Response>((resolve, reject) => {
    const fail = (cause: unknown) => reject(signal.aborted ? signal.reason : new TypeError('fetch failed', { cause }));
    const req = send(url, { method: request.method, headers, agent: false, lookup: loopbackLookup, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', fail);
      res.on('close', () => {
        if (!res.complete) fail(new Error('the answer was cut off'));
      });
      res.on('end', () => {
        try {
          resolve(toResponse(res, request.method === 'HEAD' ? [] : chunks));
        } catch (error) {
          // A status `Response` cannot take (below 200 or above 599): not an HTTP answer.
          fail(error);
        }
      });
    });
    req.on('error', fail);
    req.end(body);
  });
};

function toResponse(res: IncomingMessage, chunks: Buffer[]): Response {
  const headers = new Headers();
  for (let i = 0; i < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
  const status = res.statusCode ?? 0;
  const payload = NULL_BODY_STATUS.has(status) || chunks.length === 0 ? null : Buffer.concat(chunks);
  return new Response(payload, { status, statusText: res.statusMessage ?? '', headers });
}
