import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from './hub-process.js';
import { RoundRobinProxy } from './round-robin-proxy.js';

/** The test proxy must behave like nginx's upstream rules, or the rolling-restart test proves nothing. */
describe('RoundRobinProxy (nginx: round robin, proxy_next_upstream error)', () => {
  const servers: Server[] = [];
  let proxy: RoundRobinProxy;

  async function backend(handler: ConstructorParameters<typeof Server>[1]): Promise<string> {
    const server = createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  afterEach(async () => {
    await proxy.close();
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test('alternates backends, passes status, headers (every Set-Cookie) and body both ways', async () => {
    const named = (name: string) => backend((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/']);
        res.writeHead(201, { 'x-backend': name }).end(`${name}:${req.method}:${body}`);
      });
    });
    proxy = new RoundRobinProxy([await named('one'), await named('two')]);
    const url = await proxy.listen();
    const seen: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      const response = await fetch(url, { method: 'POST', body: `n=${i}` });
      expect(response.status).toBe(201);
      expect(response.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
      seen.push(await response.text());
    }
    expect(seen).toEqual(['one:POST:n=0', 'two:POST:n=1', 'one:POST:n=2', 'two:POST:n=3']);
  });

  test('a refused connection goes to the other backend, for a POST too', async () => {
    const down = `127.0.0.1:${await freePort()}`;
    proxy = new RoundRobinProxy([down, await backend((_req, res) => res.end('up'))]);
    const url = await proxy.listen();
    for (let i = 0; i < 4; i += 1) {
      const response = await fetch(url, { method: i % 2 ? 'POST' : 'GET', body: i % 2 ? 'x=1' : undefined });
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('up');
    }
    expect(proxy.counts.refusedRetried).toBe(2);
    expect(proxy.counts.badGateway).toBe(0);
  });

  test('a POST cut after it was sent is not sent again: 502 (a GET is)', async () => {
    const cutting = await backend((req) => req.socket.destroy());
    proxy = new RoundRobinProxy([cutting, await backend((_req, res) => res.end('up'))]);
    const url = await proxy.listen();
    const post = await fetch(url, { method: 'POST', body: 'x=1' });
    expect(post.status).toBe(502);
    await post.arrayBuffer();
    await fetch(url).then((r) => r.arrayBuffer()); // lands on the healthy one: back to the cutting one next
    const get = await fetch(url);
    expect(get.status).toBe(200);
    expect(proxy.counts).toMatchObject({ badGateway: 1, resetRetried: 1 });
    expect(proxy.requests.map((r) => r.status)).toEqual([502, 200, 200]);
  });

  test('no backend answers: 502', async () => {
    proxy = new RoundRobinProxy([`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`]);
    const response = await fetch(await proxy.listen());
    expect(response.status).toBe(502);
  });
});
