import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { errorSummary } from '../delivery/delivery-worker.js';
import { isLoopbackName, loopbackLookup, serverFetch } from './server-fetch.js';

interface Seen {
  method: string | undefined;
  url: string | undefined;
  host: string | undefined;
  body: string;
  headers: IncomingMessage['headers'];
}

let server: Server;
let port: number;
const seen: Seen[] = [];

beforeAll(async () => {
  server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    seen.push({ method: req.method, url: req.url, host: req.headers.host, body, headers: req.headers });
    if (req.url === '/redirect') res.writeHead(302, { location: '/elsewhere' }).end();
    else if (req.url === '/empty') res.writeHead(204).end();
    else if (req.url === '/slow') setTimeout(() => res.end('late'), 1_000).unref();
    else res.writeHead(200, { 'content-type': 'application/json', 'retry-after': '7' }).end(JSON.stringify({ sync: 'ok' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen.length = 0;
});

describe('RFC 6761 §6.3: localhost names are loopback', () => {
  test('localhost and every name under .localhost, in any case, with or without the root dot', () => {
    for (const name of ['localhost', 'LOCALHOST', 'site1.sso.localhost', 'hub.localhost.', 'a.b.c.LocalHost']) expect(isLoopbackName(name)).toBe(true);
    for (const name of ['localhost.example', 'mylocalhost', 'example.com', 'localhostx', '127.0.0.1']) expect(isLoopbackName(name)).toBe(false);
  });

  test('the lookup answers 127.0.0.1, and ::1 where IPv6 is asked for or every address is', async () => {
    const lookup = promisify(loopbackLookup as (host: string, options: object, callback: (error: Error | null, address: unknown, family?: number) => void) => void);
    expect(await lookup('site1.sso.localhost', { all: true })).toEqual([{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }]);
    expect(await lookup('site1.sso.localhost', { all: true, family: 6 })).toEqual([{ address: '::1', family: 6 }]);
    expect(await lookup('site1.sso.localhost', { all: true, family: 4 })).toEqual([{ address: '127.0.0.1', family: 4 }]);
  });

  test('a server on 127.0.0.1 is reached through a *.localhost URL, which keeps its Host', async () => {
    const response = await serverFetch(`http://site1.sso.localhost:${port}/sso/synclogin?time=1`, { redirect: 'manual', headers: { accept: 'application/json' } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ sync: 'ok' });
    expect(seen).toMatchObject([{ method: 'GET', url: '/sso/synclogin?time=1', host: `site1.sso.localhost:${port}` }]);
  });
});

describe('fetch as the hub used it', () => {
  test('a POST Request goes out with its headers and body', async () => {
    const request = new Request(`http://localhost:${port}/sso/userdelete`, {
      method: 'POST',
      redirect: 'manual',
      headers: { authorization: 'Bearer t', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'logout_token=abc',
    });
    const response = await serverFetch(request);
    expect(response.status).toBe(200);
    expect(response.headers.get('retry-after')).toBe('7');
    expect(seen[0]).toMatchObject({ method: 'POST', body: 'logout_token=abc' });
    expect(seen[0]!.headers).toMatchObject({ authorization: 'Bearer t', 'content-type': 'application/x-www-form-urlencoded', 'content-length': '16' });
  });

  test('a redirect is answered as it is, never followed', async () => {
    const response = await serverFetch(`http://127.0.0.1:${port}/redirect`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/elsewhere');
    expect(seen).toHaveLength(1);
    await expect(serverFetch(`http://127.0.0.1:${port}/redirect`)).rejects.toThrow(/redirect: 'manual'/);
  });

  test('204 has no body', async () => {
    const response = await serverFetch(`http://127.0.0.1:${port}/empty`, { redirect: 'manual' });
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
  });

  test("errors read as fetch's: TimeoutError, TypeError with the network code as cause", async () => {
    const slow = await serverFetch(`http://127.0.0.1:${port}/slow`, { redirect: 'manual', signal: AbortSignal.timeout(100) }).catch((thrown: unknown) => thrown);
    expect(errorSummary(slow)).toBe('TimeoutError');
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await serverFetch(`http://site9.localhost:${closedPort}/`, { redirect: 'manual' }).catch((thrown: unknown) => thrown);
    expect(errorSummary(refused)).toBe('TypeError (ECONNREFUSED)');
    await expect(serverFetch('ftp://127.0.0.1/', { redirect: 'manual' })).rejects.toThrow(TypeError);
  });
});
