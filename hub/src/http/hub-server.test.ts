import { connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { request as httpRequest, Agent, type RequestListener, type Server } from 'node:http';
import { createHubServer, MAX_PIPELINED_REQUESTS } from './hub-server.js';
import { GracefulServer } from './graceful-shutdown.js';

/** A hub server listening on a free loopback port. */
async function listening(listener: RequestListener, requestTimeoutMs = 1_500): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  const server = createHubServer(listener, requestTimeoutMs);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A raw connection to `port`: what it has received so far, and a promise of its close. */
function rawConnection(port: number): { socket: Socket; received: () => string; closed: Promise<void> } {
  const socket = connect(port, '127.0.0.1');
  let answer = '';
  socket.on('data', (chunk) => (answer += chunk.toString()));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return { socket, received: () => answer, closed };
}

/**
 * A request body sent a byte at a time: before, the hub's server (Node's defaults) waited 300 s
 * for it (an outside review held `POST /token` open for five minutes); now it answers 408 once
 * the request is older than the limit, and closes the connection.
 */
describe('the hub server\'s request time limit', () => {
  test('a body that trickles in past the limit gets 408 and the connection is closed', async () => {
    // As the token endpoint does: the answer waits for the whole body.
    const { port, close } = await listening((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    const started = Date.now();
    const { socket, received, closed } = rawConnection(port);
    socket.write('POST /token HTTP/1.1\r\nHost: hub.test\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n');
    const drip = setInterval(() => socket.write('a'), 300);
    await closed;
    clearInterval(drip);
    const took = Date.now() - started;
    await close();
    const answer = received();
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(took).toBeGreaterThanOrEqual(1_400);
    expect(took).toBeLessThan(10_000);
  });

  test('a request whose headers pass 16 KB (a 20,000-character query) gets a 431 page that says so, not a bare status line', async () => {
    const { port, close } = await listening((_req, res) => res.end('ok'));
    const response = await fetch(`http://127.0.0.1:${port}/login?next=${'a'.repeat(20_000)}`);
    const page = await response.text();
    await close();
    expect(response.status).toBe(431);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(page).toContain('This address is too long');
    expect(page).toContain('此地址过长');
  });

  test('on a keep-alive connection whose first answer is done, a second request past 16 KB gets the 431 page too', async () => {
    const { port, close } = await listening((_req, res) => res.end('ok'));
    const { socket, received, closed } = rawConnection(port);
    socket.write('GET / HTTP/1.1\r\nHost: hub.test\r\n\r\n');
    while (!received().includes('ok')) await new Promise((resolve) => setTimeout(resolve, 10));
    socket.write(`GET /login?next=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: hub.test\r\n\r\n`);
    await closed;
    await close();
    expect(received()).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*ok[\s\S]*HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(received()).toContain('This address is too long');
  });

  test('malformed bytes get a 400 page; nothing of the request is echoed', async () => {
    const { port, close } = await listening((_req, res) => res.end('ok'));
    const { socket, received, closed } = rawConnection(port);
    socket.write('GET /<secret-cookie> HTTP/1.1\r\nHost: hub.test\r\nBad Header Name: x\r\n\r\n');
    await closed;
    await close();
    expect(received()).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(received()).toContain('The request could not be understood.');
    expect(received()).not.toContain('secret-cookie');
  });

  test('a request that arrives whole in time is served', async () => {
    const { port, close } = await listening((_req, res) => res.end('ok'));
    const response = await fetch(`http://127.0.0.1:${port}/`);
    expect(await response.text()).toBe('ok');
    await close();
  });
});

/**
 * Pipelined requests: Node hands the app every request a client has already sent on a
 * connection, read or not, there or not. An outside review pipelined 3,000 discovery requests on
 * each of 200 connections without reading: the hub's heap passed 2 GB, nothing else was answered
 * within 10 s for about 90 s, and the answers to the closed connections went on for 30 s after.
 */
describe('the hub server and pipelined requests', () => {
  test('a connection with more than MAX_PIPELINED_REQUESTS unanswered is closed, the requests after them reach no one, and none is kept as in flight', async () => {
    let served = 0;
    const server = createHubServer((_req, res) => {
      served += 1;
      setTimeout(() => res.end('x'.repeat(3_000)), 5);
    }, 30_000);
    const graceful = new GracefulServer(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    socket.pause(); // a client that never reads its answers
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('GET /.well-known/openid-configuration HTTP/1.1\r\nHost: hub.test\r\n\r\n'.repeat(3_000));
    // The server closes the connection itself (the client is still there, not reading).
    const connections = () => new Promise<number>((resolve) => server.getConnections((_error, count) => resolve(count)));
    const deadline = Date.now() + 3_000;
    while ((await connections()) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const openAfter = await connections();
    socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(served).toBeLessThanOrEqual(MAX_PIPELINED_REQUESTS);
    expect(openAfter).toBe(0);
    expect(graceful.inFlight).toBe(0);

    // A keep-alive client that waits for each answer is served on one connection throughout.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    for (let i = 0; i < 40; i += 1) {
      const status = await new Promise<number>((resolve, reject) => {
        httpRequest({ port, host: '127.0.0.1', path: '/', agent }, (res) => {
          sockets.add(res.socket);
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        }).on('error', reject).end();
      });
      expect(status).toBe(200);
    }
    expect(sockets.size).toBe(1);
    agent.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
