/**
 * The graceful stop of one HTTP server: requests in flight are finished, idle keep-alive
 * connections are closed, a connection accepted before the stop whose request was not read
 * yet is answered, not cut (a proxy may not resend a POST it has sent), and with a delay the
 * server keeps answering until a balancer polling readiness has moved away.
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { GracefulServer } from './graceful-shutdown.js';

function rawConnection(port: number): Promise<{ socket: Socket; answer: Promise<string> }> {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  const answer = new Promise<string>((resolve) => {
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('close', () => resolve(received));
    socket.on('error', () => undefined);
  });
  return new Promise((resolve, reject) => socket.once('connect', () => resolve({ socket, answer })).once('error', reject));
}

const post = (port: number) => `POST /sign-in HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\nlogin=a`;

describe('GracefulServer', () => {
  let server: Server;
  let graceful: GracefulServer;
  let port: number;
  let accepted: Promise<void>;

  beforeEach(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end(`answered ${req.method} ${req.url}`));
    });
    graceful = new GracefulServer(server);
    let onAccept: () => void = () => undefined;
    accepted = new Promise((resolve) => (onAccept = resolve));
    server.on('connection', () => onAccept());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(() => {
    server.closeAllConnections();
    server.close();
  });

  test('a connection accepted before the stop gets its request answered, with Connection: close', async () => {
    const { socket, answer } = await rawConnection(port);
    await accepted; // the hub accepted it; the request is on its way
    const stopped = graceful.stop({ timeoutMs: 5_000 });
    socket.write(post(port));
    const text = await answer;
    expect(text).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(text).toMatch(/\r\nconnection: close\r\n/i);
    expect(text).toMatch(/answered POST \/sign-in$/);
    await stopped;
  });

  test('a keep-alive connection serving request after request keeps one close listener, and nothing is left in flight', async () => {
    // A review under load: each request on a reused connection added another 'close' listener
    // (MaxListenersExceededWarning at eleven; one per request on an nginx upstream connection).
    let socketSeen: Socket | undefined;
    server.on('request', (req) => (socketSeen = req.socket as Socket));
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    const { socket } = await rawConnection(port);
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    for (let i = 1; i <= 30; i += 1) {
      socket.write(`GET /page-${i} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      while (!received.includes(`answered GET /page-${i}`)) await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    expect(socketSeen!.listenerCount('close')).toBeLessThan(5);
    expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual([]);
    expect(graceful.inFlight).toBe(0);
    socket.destroy();
  });

  test('an idle keep-alive connection is closed at once', async () => {
    const idle = await rawConnection(port);
    idle.socket.write(`GET /first HTTP/1.1\r\nHost: x\r\n\r\n`);
    await new Promise<void>((resolve) => idle.socket.once('data', () => resolve()));
    const stopped = graceful.stop({ timeoutMs: 5_000 });
    expect(await idle.answer).toMatch(/answered GET \/first$/);
    await stopped;
  });

  test('with a delay, the server still answers new connections (Connection: close) until the delay is over, then refuses them', async () => {
    const started = Date.now();
    const stopped = graceful.stop({ timeoutMs: 5_000, delayMs: 400 });
    const during = await rawConnection(port);
    during.socket.write(post(port));
    const text = await during.answer;
    expect(text).toMatch(/\r\nconnection: close\r\n/i);
    expect(text).toMatch(/answered POST \/sign-in$/);
    await stopped;
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    await expect(rawConnection(port)).rejects.toThrow(/ECONNREFUSED/);
  });

  test('a request already running when a delayed stop begins, answered during the delay, says Connection: close', async () => {
    const { socket, answer } = await rawConnection(port);
    socket.write(post(port).slice(0, -3)); // the body is not complete: the request is running
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stopped = graceful.stop({ timeoutMs: 5_000, delayMs: 1_000 });
    socket.write('n=a');
    const text = await answer;
    expect(text).toMatch(/answered POST \/sign-in$/);
    expect(text).toMatch(/\r\nconnection: close\r\n/i);
    await stopped;
  });

  test('during the delay a route that answers at once (as /healthz) is answered with Connection: close, and nothing throws', async () => {
    // The application's listener is registered first, as createServer(app) does in main.
    const quick = createServer((_req, res) => res.end('at once'));
    const quickGraceful = new GracefulServer(quick);
    await new Promise<void>((resolve) => quick.listen(0, '127.0.0.1', resolve));
    const quickPort = (quick.address() as AddressInfo).port;
    const thrown: unknown[] = [];
    const onError = (error: unknown) => thrown.push(error);
    process.on('uncaughtException', onError);
    try {
      const stopped = quickGraceful.stop({ timeoutMs: 5_000, delayMs: 300 });
      const { socket, answer } = await rawConnection(quickPort);
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      const text = await answer;
      expect(text).toMatch(/^HTTP\/1\.1 200 OK/);
      expect(text).toMatch(/\r\nconnection: close\r\n/i);
      expect(text).toMatch(/at once$/);
      await stopped;
      expect(thrown).toEqual([]);
    } finally {
      process.off('uncaughtException', onError);
      quick.closeAllConnections();
    }
  });

  test('a request in flight at the stop is finished; new connections are refused', async () => {
    const { socket, answer } = await rawConnection(port);
    socket.write(post(port).slice(0, -3)); // the body is not complete: the request is running
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stopped = graceful.stop({ timeoutMs: 5_000 });
    await expect(rawConnection(port)).rejects.toThrow(/ECONNREFUSED/);
    socket.write('n=a');
    expect(await answer).toMatch(/answered POST \/sign-in$/);
    await stopped;
  });
});
