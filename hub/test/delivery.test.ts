/**
 * DESIGN flow 7: the userdelete / back-channel logout delivery queue loses nothing. A
 * subsite stub on an ephemeral loopback port answers as told; the hub's worker delivers
 * with millisecond backoff so the suite stays fast.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { RedisStore, connectRedis } from '../src/store/redis.js';
import type { Store } from '../src/store/store.js';
import { TestBrowser } from '../src/testing/browser.js';
import { startTestHub, STORE_KINDS, TEST_REDIS_URL, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, codeRequest, signOut, walk } from './support.js';

const FAST = { DELIVERY_BACKOFF_BASE_MS: '20', DELIVERY_BACKOFF_MAX_MS: '60', DELIVERY_POLL_MS: '10', DELIVERY_TIMEOUT_MS: '2000' };

interface Received {
  sub: string;
  jti: string;
  typ: string | undefined;
  token: string;
  status: number;
  at: number;
}

/** A subsite's userdelete endpoint: `answer(n, sub)` gives the status for the n-th request (1-based) about `sub`. */
async function startStub(answer: (n: number, sub: string) => number, delayMs = 0) {
  const received: Received[] = [];
  const perSub = new Map<string, number>();
  const inFlight = new Map<string, number>();
  let overlapped = 0;
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const token = bearer ?? new URLSearchParams(body).get('logout_token') ?? '';
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString() || '{}') as { sub: string; jti: string };
    inFlight.set(payload.sub, (inFlight.get(payload.sub) ?? 0) + 1);
    if (inFlight.get(payload.sub)! > 1) overlapped += 1;
    const n = (perSub.get(payload.sub) ?? 0) + 1;
    perSub.set(payload.sub, n);
    if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const status = answer(n, payload.sub);
    received.push({ sub: payload.sub, jti: payload.jti, typ: decodeProtectedHeader(token).typ, token, status, at: Date.now() });
    inFlight.set(payload.sub, inFlight.get(payload.sub)! - 1);
    res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    overlapped: () => overlapped,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 8_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function registerSite(hub: RunningHub, clientId: string, url: string): Promise<void> {
  await hub.services.clients.register({
    clientId,
    redirectUris: [`${url}/sso/callback`],
    userdeleteUrl: `${url}/sso/userdelete`,
    backchannelLogoutUri: `${url}/sso/backchannel-logout`,
  });
}

async function deleteKeys(prefix: string): Promise<void> {
  const client = await connectRedis(TEST_REDIS_URL);
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length) await client.del(keys);
  await client.quit();
}

describe.each(STORE_KINDS)('delivery queue on %s', (kind) => {
  let hub: RunningHub;
  afterEach(async () => {
    await hub?.deliveryWorker.stop();
    await hub?.close();
  });

  test('a subsite that fails 3 times then succeeds receives exactly one accepted userdelete', async () => {
    const stub = await startStub((n) => (n <= 3 ? 503 : 200));
    hub = await startTestHub(kind, FAST);
    await registerSite(hub, 'bbs', stub.url);
    const user = await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: 'wonderland-123' });
    hub.deliveryWorker.start();
    await hub.services.lifecycle.delete(user.id, { actor: 'test' });

    await waitFor(async () => (await hub.services.deliveries.counts()).delivered === 1, 'the delivery');
    await sleep(100); // nothing more arrives after the 2xx
    expect(stub.received.map((r) => r.status)).toEqual([503, 503, 503, 200]);
    // A fresh token per attempt: four jtis, each verifying against the hub's JWKS.
    expect(new Set(stub.received.map((r) => r.jti)).size).toBe(4);
    const jwks = createLocalJWKSet((await (await fetch(`${hub.url}/jwks`)).json()) as JSONWebKeySet);
    for (const { token } of stub.received) {
      const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: hub.url, audience: 'bbs', typ: 'userdelete+jwt' });
      expect(payload.sub).toBe(user.id);
      expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(120);
      expect(protectedHeader.alg).toBe('RS256');
    }
    const [item] = await hub.services.deliveries.list('delivered');
    expect(item).toMatchObject({ kind: 'userdelete', clientId: 'bbs', sub: user.id, attempts: 4, lastStatus: 200 });
    expect(item!.lastError).toBeUndefined();
    expect(await hub.services.deliveries.list('pending')).toEqual([]);
    const audit = await hub.services.audit.search({ event: 'delivery' });
    expect(audit.map((e) => e.event)).toEqual(['delivery.delivered', 'delivery.retry', 'delivery.retry', 'delivery.retry']);
    await stub.close();
  });

  test('OIDC Back-Channel Logout 1.0: a hub sign-out enqueues a logout token (sid, sub, events, no nonce) for the client, retried', async () => {
    const stub = await startStub((n) => (n === 1 ? 500 : 200));
    hub = await startTestHub(kind, FAST);
    await registerSite(hub, 'bbs', stub.url);
    await hub.services.clients.update('bbs', { trusted: true, userdeleteUrl: '' });
    const user = await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: 'wonderland-123' });
    hub.deliveryWorker.start();
    const browser = new TestBrowser();
    const { params } = codeRequest('bbs', `${stub.url}/sso/callback`);
    await walk(browser, hub.url, authUrl(hub.url, params), { login: 'alice', password: 'wonderland-123' });
    const [session] = await hub.services.lifecycle.sessionsOf(user.id);
    const sid = session!.clients.find((c) => c.clientId === 'bbs')!.sid;
    expect((await signOut(browser, hub.url)).status).toBe(200);

    await waitFor(async () => (await hub.services.deliveries.counts()).delivered === 1, 'the logout token');
    expect(stub.received.map((r) => r.status)).toEqual([500, 200]);
    const jwks = createLocalJWKSet((await (await fetch(`${hub.url}/jwks`)).json()) as JSONWebKeySet);
    const { payload } = await jwtVerify(stub.received[1]!.token, jwks, { issuer: hub.url, audience: 'bbs', typ: 'logout+jwt' });
    expect(payload).toMatchObject({ sub: user.id, sid, events: { 'http://schemas.openid.net/event/backchannel-logout': {} } });
    expect(payload.nonce).toBeUndefined();
    expect((await hub.services.audit.search({ event: 'logout' }))[0]).toMatchObject({ subject: user.id });
    await stub.close();
  });

  test('a 4xx is a permanent failure, kept for the admin; retry delivers it; 408 and 429 are retried', async () => {
    let refuse = true;
    const stub = await startStub((n, sub) => (sub === 'flaky' ? (n === 1 ? 429 : n === 2 ? 408 : 204) : refuse ? 404 : 200));
    hub = await startTestHub(kind, FAST);
    await registerSite(hub, 'wiki', stub.url);
    hub.deliveryWorker.start();
    const { deliveries } = hub.services;
    const gone = await deliveries.enqueue({ kind: 'userdelete', clientId: 'wiki', sub: 'gone', url: `${stub.url}/sso/userdelete` });
    await deliveries.enqueue({ kind: 'userdelete', clientId: 'wiki', sub: 'flaky', url: `${stub.url}/sso/userdelete` });
    await waitFor(async () => (await deliveries.counts()).failed === 1 && (await deliveries.counts()).delivered === 1, 'one failed, one delivered');
    expect((await deliveries.get(gone.id))).toMatchObject({ status: 'failed', attempts: 1, lastStatus: 404, lastError: 'HTTP 404' });

    refuse = false;
    expect(await deliveries.retryNow(gone.id)).toBe(true);
    await waitFor(async () => (await deliveries.get(gone.id))?.status === 'delivered', 'the retried delivery');
    expect(await deliveries.get(gone.id)).toMatchObject({ attempts: 2, lastStatus: 200 });
    expect(await deliveries.counts()).toEqual({ pending: 0, failed: 0, delivered: 2 });
    await stub.close();
  });

  test('a subsite that does not answer is retried, and the item waits in the store meanwhile', async () => {
    // A port nobody listens on: connection refused.
    const dead = await startStub(() => 200);
    await dead.close();
    hub = await startTestHub(kind, FAST);
    await registerSite(hub, 'shop', dead.url);
    hub.deliveryWorker.start();
    const item = await hub.services.deliveries.enqueue({ kind: 'userdelete', clientId: 'shop', sub: 'u1', url: `${dead.url}/sso/userdelete` });
    await waitFor(async () => ((await hub.services.deliveries.get(item.id))?.attempts ?? 0) >= 3, 'three attempts');
    const pending = await hub.services.deliveries.get(item.id);
    expect(pending).toMatchObject({ status: 'pending' });
    expect(pending!.lastStatus).toBeUndefined();
    expect(pending!.lastError).toMatch(/fetch failed|ECONNREFUSED|TypeError/);
  });
});

describe('delivery queue across hub processes on one Redis', () => {
  const prefix = `test:delivery:${randomUUID()}:`;
  const stores: Store[] = [];
  const hubs: RunningHub[] = [];

  /** A hub process on its own Redis connection under the shared prefix. */
  async function hubProcess(env: Record<string, string> = {}): Promise<RunningHub> {
    const store = new RedisStore(await connectRedis(TEST_REDIS_URL));
    stores.push(store);
    const hub = await startTestHub('redis', { ...FAST, ...env, KEY_PREFIX: prefix }, store);
    hubs.push(hub);
    return hub;
  }

  async function stop(hub: RunningHub): Promise<void> {
    await hub.deliveryWorker.stop();
    await hub.close();
  }

  afterAll(async () => {
    for (const hub of hubs) await stop(hub);
    await deleteKeys(prefix);
    for (const store of stores) await store.close();
  });

  test('a hub restart between attempts loses nothing', async () => {
    const stub = await startStub((n) => (n === 1 ? 503 : 200));
    // The first process retries only after 0.3-0.6 s, so it is gone before its retry is due.
    const first = await hubProcess({ DELIVERY_BACKOFF_BASE_MS: '600', DELIVERY_BACKOFF_MAX_MS: '600' });
    await registerSite(first, 'bbs', stub.url);
    const user = await first.services.users.create({ username: 'alice', email: 'alice@example.test', password: 'wonderland-123' });
    first.deliveryWorker.start();
    await first.services.lifecycle.delete(user.id, { actor: 'test' });
    await waitFor(() => stub.received.length === 1, 'the first attempt');
    await stop(first);

    // Another process on the same store (a restart) finds the pending item and delivers it.
    const second = await hubProcess({ DELIVERY_BACKOFF_BASE_MS: '600', DELIVERY_BACKOFF_MAX_MS: '600' });
    const [pending] = await second.services.deliveries.list('pending');
    expect(pending).toMatchObject({ sub: user.id, attempts: 1, lastStatus: 503 });
    second.deliveryWorker.start();
    await waitFor(async () => (await second.services.deliveries.counts()).delivered === 1, 'the delivery after the restart', 10_000);
    expect(stub.received.map((r) => r.status)).toEqual([503, 200]);
    await stop(second);
    await stub.close();
  });

  test('an item enqueued while no worker runs is delivered by the next process to start', async () => {
    const stub = await startStub(() => 200);
    const cli = await hubProcess(); // like the admin CLI: enqueues, never delivers
    await registerSite(cli, 'wiki', stub.url);
    const user = await cli.services.users.create({ username: 'bob', email: 'bob@example.test', password: 'builder-1234' });
    await cli.services.lifecycle.disable(user.id, { actor: 'cli' });
    await sleep(50);
    expect(stub.received).toEqual([]);
    const server = await hubProcess();
    server.deliveryWorker.start();
    await waitFor(() => stub.received.length === 1, 'the delivery');
    expect(stub.received[0]).toMatchObject({ sub: user.id, typ: 'userdelete+jwt', status: 200 });
    await stop(server);
    await stop(cli);
    await stub.close();
  });

  test('two hub instances on one Redis deliver each item once', async () => {
    // Every subject fails once, then succeeds after a delay: many chances for a double delivery.
    const stub = await startStub((n) => (n === 1 ? 503 : 200), 15);
    const a = await hubProcess();
    const b = await hubProcess();
    await registerSite(a, 'forum', stub.url);
    const subs = Array.from({ length: 40 }, (_, i) => `user-${i}`);
    a.deliveryWorker.start();
    b.deliveryWorker.start();
    await Promise.all(
      subs.map((sub, i) => (i % 2 ? a : b).services.deliveries.enqueue({ kind: 'userdelete', clientId: 'forum', sub, url: `${stub.url}/sso/userdelete` })),
    );
    await waitFor(async () => (await a.services.deliveries.counts()).delivered >= subs.length, 'every delivery', 15_000);
    await sleep(100);
    for (const sub of subs) {
      const mine = stub.received.filter((r) => r.sub === sub);
      expect(mine.map((r) => r.status)).toEqual([503, 200]);
    }
    expect(stub.overlapped()).toBe(0);
    const deliveredBy = await a.services.audit.search({ event: 'delivery.delivered', client: 'forum' }, 100);
    expect(deliveredBy).toHaveLength(subs.length);
    await stop(a);
    await stop(b);
    await stub.close();
  });
});
