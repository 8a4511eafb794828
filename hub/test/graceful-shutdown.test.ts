/**
 * Issue 12, "Graceful shutdown": the hub process on SIGTERM stops accepting, finishes its
 * in-flight requests (bounded by SHUTDOWN_TIMEOUT_MS), lets the delivery worker finish its
 * current item (lease released) and closes the store, then exits 0. Real processes, real Redis.
 */
import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ClientRegistry } from '../src/clients/client-registry.js';
import { DeliveryQueue } from '../src/delivery/delivery-queue.js';
import { Keys } from '../src/store/keys.js';
import { connectRedis, RedisStore } from '../src/store/redis.js';
import { portRefuses as refused, startHubProcess, type HubProcess } from '../src/testing/hub-process.js';
import { TEST_REDIS_URL } from '../src/testing/test-hub.js';
import { deleteByPrefix } from '../src/store/redis-client.js';
import { SMTPServer } from 'smtp-server';
import { TestBrowser, inputValue } from '../src/testing/browser.js';

// Each test starts a hub process (tsx compiles it): slow on a loaded 2-core machine.
jest.setTimeout(120_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens a raw connection and sends a POST whose body is only partly written: a request in flight. */
async function halfSentRequest(port: number, request: { path: string; body: string; headers?: string } = { path: '/login', body: 'username=nobody&password=not-the-password' }): Promise<{ socket: Socket; finish(): void; answer: Promise<string> }> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const { body } = request;
  let received = '';
  const answer = new Promise<string>((resolve) => {
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('close', () => resolve(received));
    socket.on('error', () => undefined);
  });
  socket.write(`POST ${request.path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${request.headers ?? ''}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
  await sleep(200); // the hub has read the headers: the request is in flight
  return { socket, finish: () => socket.write(body.slice(10)), answer };
}


describe('graceful shutdown on SIGTERM (hub process, Redis)', () => {
  let store: RedisStore;
  let prefix: string;
  let hub: HubProcess | undefined;

  beforeAll(async () => {
    store = new RedisStore(await connectRedis(TEST_REDIS_URL));
  });
  beforeEach(() => {
    prefix = `test:shutdown:${randomUUID()}:`;
  });
  afterEach(async () => {
    await hub?.stop('SIGKILL');
    hub = undefined;
    await deleteByPrefix(store.client, prefix);
  });
  afterAll(async () => {
    await store.close();
  });

  const env = () => ({ REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: prefix, SHUTDOWN_TIMEOUT_MS: '5000' });

  test('a request in flight when SIGTERM arrives is answered; new connections are refused; exit code 0', async () => {
    hub = await startHubProcess(env());
    const request = await halfSentRequest(hub.port);
    const started = Date.now();
    hub.child.kill('SIGTERM');
    await sleep(400);
    expect(await refused(hub.port)).toBe(true);
    request.finish();
    const answer = await request.answer;
    // An HTTP answer (the portal's own: no CSRF token here), not a cut connection.
    expect(answer).toMatch(/^HTTP\/1\.1 [1-4]\d\d /);
    expect(answer.toLowerCase()).toContain('connection: close');
    expect(await hub.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test('a token issued by a request answered during the drain is in the audit log after exit (written before the store closes)', async () => {
    const client = await new ClientRegistry(store, new Keys(prefix)).register({ clientId: 'svc', grantTypes: ['client_credentials'] });
    hub = await startHubProcess(env());
    const authorization = `Authorization: Basic ${Buffer.from(`svc:${client.clientSecret!}`).toString('base64')}\r\n`;
    const request = await halfSentRequest(hub.port, { path: '/token', body: 'grant_type=client_credentials', headers: authorization });
    hub.child.kill('SIGTERM');
    await sleep(400);
    request.finish();
    expect(await request.answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(await hub.exited).toBe(0);
    const entries = (await store.zRevRange(new Keys(prefix).auditTokens(), 0, -1)).map((raw) => JSON.parse(raw) as { event: string; client?: string });
    expect(entries).toContainEqual(expect.objectContaining({ event: 'token.issued', client: 'svc' }));
  });

  test('SHUTDOWN_DELAY_MS: readiness says 503 at once, requests are still answered (Connection: close) until the delay is over, then refused', async () => {
    hub = await startHubProcess({ ...env(), SHUTDOWN_DELAY_MS: '1500' });
    const started = Date.now();
    hub.child.kill('SIGTERM');
    await sleep(200);
    // A balancer polling readiness takes it out; one that has not yet noticed is still answered.
    const ready = await fetch(`${hub.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.text()).toContain('shutting down');
    const page = await fetch(`${hub.url}/healthz`);
    expect(page.status).toBe(200);
    expect(page.headers.get('connection')).toBe('close');
    expect(await refused(hub.port)).toBe(false);
    expect(await hub.exited).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
    expect(await refused(hub.port)).toBe(true);
  });

  test('a request that never finishes is cut after SHUTDOWN_TIMEOUT_MS and the process still exits 0', async () => {
    hub = await startHubProcess({ ...env(), SHUTDOWN_TIMEOUT_MS: '1000' });
    const request = await halfSentRequest(hub.port);
    const started = Date.now();
    hub.child.kill('SIGTERM');
    expect(await hub.exited).toBe(0);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(3_000);
    await request.answer; // the connection was closed
  });

  test('mail the SMTP server has not taken when the deadline passes is said lost, how many and never to whom (a mail-fault review)', async () => {
    // An SMTP server that reads the message and never answers the end of DATA (a stalled relay).
    let received!: () => void;
    const gotData = new Promise<void>((resolve) => (received = resolve));
    const smtp = new SMTPServer({ authOptional: true, disabledCommands: ['STARTTLS'], logger: false, onData: (stream) => {
      stream.resume();
      stream.on('end', () => received());
    } });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
    try {
      const smtpPort = (smtp.server.address() as AddressInfo).port;
      hub = await startHubProcess({ ...env(), SHUTDOWN_TIMEOUT_MS: '1000', SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, HUB_SIGNUP: 'open' });
      const browser = new TestBrowser();
      const form = await (await browser.get(`${hub.url}/signup`)).text();
      const email = `stalled-${randomUUID().slice(0, 8)}@example.test`;
      const password = 'slithy-toves-gyre-41';
      const answer = await browser.post(`${hub.url}/signup`, { _csrf: inputValue(form, '_csrf'), username: `u${randomUUID().slice(0, 8)}`, email, name: '', password, confirm: password });
      expect(answer.status).toBe(303);
      await gotData; // the verification mail is with the SMTP server, which says nothing
      hub.child.kill('SIGTERM');
      expect(await hub.exited).toBe(0);
      const lost = hub.stderr().split('\n').find((line) => line.includes('mail not sent'));
      expect(lost).toBeDefined();
      expect(JSON.parse(lost!)).toMatchObject({ level: 'error', count: 1 });
      expect(hub.stderr() + hub.stdout()).not.toContain(email.split('@')[0]);
    } finally {
      smtp.close();
    }
  });

  test('the delivery worker finishes the item it is delivering, records it and releases its lease', async () => {
    let delivered = 0;
    let arrived!: () => void;
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    const subsite: Server = createServer((req, res) => {
      req.resume();
      arrived();
      // Slow on purpose: SIGTERM reaches the hub while this delivery is under way.
      setTimeout(() => {
        delivered += 1;
        res.writeHead(204).end();
      }, 1_000);
    });
    await new Promise<void>((resolve) => subsite.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = subsite.address() as AddressInfo;
      const keys = new Keys(prefix);
      await new ClientRegistry(store, keys).upsert({
        clientId: 'slow-site',
        redirectUris: ['http://slow.example.test/cb'],
        userdeleteUrl: `http://127.0.0.1:${port}/sso/userdelete`,
      });
      hub = await startHubProcess({ ...env(), DELIVERY_POLL_MS: '50' });
      const queue = new DeliveryQueue(store, keys, { retentionSeconds: 600, leaseSeconds: 60 });
      const item = await queue.enqueue({ kind: 'userdelete', clientId: 'slow-site', sub: 'u-1', url: `http://127.0.0.1:${port}/sso/userdelete` });
      await arrival;
      hub.child.kill('SIGTERM');
      expect(await hub.exited).toBe(0);
      expect(delivered).toBe(1);
      expect((await queue.get(item.id))?.status).toBe('delivered');
      expect(await store.get(keys.deliveryLease(item.id))).toBeNull();
    } finally {
      subsite.closeAllConnections();
      await new Promise<void>((resolve) => subsite.close(() => resolve()));
    }
  });
});
