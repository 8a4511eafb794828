import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createHubServer } from './hub-server.js';

/**
 * A request body sent a byte at a time: before, the hub's server (Node's defaults) waited 300 s
 * for it (an outside review held `POST /token` open for five minutes); now it answers 408 once
 * the request is older than the limit, and closes the connection.
 */
describe('the hub server\'s request time limit', () => {
  test('a body that trickles in past the limit gets 408 and the connection is closed', async () => {
    // As the token endpoint does: the answer waits for the whole body.
    const server = createHubServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    }, 1_500);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.write('POST /token HTTP/1.1\r\nHost: hub.test\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n');
    const drip = setInterval(() => socket.write('a'), 300);
    await new Promise<void>((resolve) => socket.on('close', () => resolve()));
    clearInterval(drip);
    const took = Date.now() - started;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(took).toBeGreaterThanOrEqual(1_400);
    expect(took).toBeLessThan(10_000);
  });

  test('a request whose headers pass 16 KB (a 20,000-character query) gets a 431 page that says so, not a bare status line', async () => {
    const server = createHubServer((_req, res) => res.end('ok'), 1_500);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/login?next=${'a'.repeat(20_000)}`);
    const page = await response.text();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(response.status).toBe(431);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(page).toContain('This address is too long');
    expect(page).toContain('此地址过长');
  });

  test('malformed bytes get a 400 page; nothing of the request is echoed', async () => {
    const server = createHubServer((_req, res) => res.end('ok'), 1_500);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.write('GET /<secret-cookie> HTTP/1.1\r\nHost: hub.test\r\nBad Header Name: x\r\n\r\n');
    await new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(answer).toContain('The request could not be understood.');
    expect(answer).not.toContain('secret-cookie');
  });

  test('a request that arrives whole in time is served', async () => {
    const server = createHubServer((_req, res) => res.end('ok'), 1_500);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/`);
    expect(await response.text()).toBe('ok');
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
