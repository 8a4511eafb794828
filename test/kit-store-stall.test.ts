/**
 * Issue 10 "Store stalls hang the site": with Redis paused a page with a session cookie got no
 * answer for 90 s, with Redis down 5 s (node-redis's offline queue). Every kit store call now
 * has a deadline (storeTimeoutMs, 1 s): the page gets the kit's 503 page within it.
 * Each test runs a redis-server of its own, paused (SIGSTOP) or killed by PID.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createClient } from 'redis';
import { SignJWT } from 'jose';
import { createSubsiteKit, type RedisClient } from '@sso-hub/subsite-kit';
import { startOwnRedis, type OwnRedis } from '../hub/src/testing/redis-server.js';

const SESSION_SECRET = 'a-session-secret-for-tests-0123456789abcdef';
const SYNC_KEY = 'sync-key-for-bbs-0123456789abcdef0123456789';
const DEADLINE_MS = 1_000; // the kit's default storeTimeoutMs
const WITHIN_MS = DEADLINE_MS + 1_000; // and room for a loaded machine
const HANG_MS = 6_000; // a request still open by then is a hang

/** A session cookie signed as express-session signs it, so the store is really asked. */
function sessionCookie(id: string): string {
  const signature = createHmac('sha256', SESSION_SECRET).update(id).digest('base64').replace(/=+$/, '');
  return `sso.sid=${encodeURIComponent(`s:${id}.${signature}`)}`;
}

describe.each([
  ['the README\'s client (disableOfflineQueue, connectTimeout)', { disableOfflineQueue: true, socket: { connectTimeout: 1_000 } }],
  ['a plain createClient({ url })', {}],
])('kit store deadline with %s', (_name, clientOptions) => {
  let redis: OwnRedis;
  let client: RedisClient;
  let server: Server;
  let url: string;

  beforeEach(async () => {
    redis = await startOwnRedis();
    client = createClient({ url: redis.url, ...clientOptions }) as RedisClient;
    client.on('error', () => {}); // as the README shows: a listener, so a lost connection is not a crash
    await client.connect();
    const sso = await createSubsiteKit({
      hubUrl: 'http://127.0.0.1:9',
      clientId: 'bbs',
      clientSecret: 'bbs-secret',
      redirectUri: 'http://bbs.test/sso/callback',
      syncKey: SYNC_KEY,
      sessionSecret: SESSION_SECRET,
      redis: client,
      logger: { warn: () => {} },
    });
    const app = express();
    app.use(sso.router);
    app.use(sso.lazyLogin);
    app.get('/', (_req, res) => { res.type('html').send('home'); });
    app.use(sso.errorHandler);
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    client.destroy();
    await redis.stop();
  });

  async function page(path = '/') {
    const started = Date.now();
    const response = await fetch(`${url}${path}`, {
      headers: { accept: 'text/html', cookie: sessionCookie('some-session-id') },
      signal: AbortSignal.timeout(HANG_MS),
    });
    return { status: response.status, text: await response.text(), ms: Date.now() - started };
  }

  test('Redis paused (SIGSTOP): a page with a session cookie gets the 503 page within the deadline', async () => {
    // The store answers: an unknown session is anonymous (retried: a loaded machine may miss the deadline once).
    let healthy = 0;
    for (let attempt = 0; attempt < 5 && healthy !== 200; attempt += 1) healthy = (await page()).status;
    expect(healthy).toBe(200);
    redis.pause();
    const answer = await page();
    expect(answer.status).toBe(503);
    expect(answer.text).toContain('Temporarily unavailable');
    expect(answer.ms).toBeLessThan(WITHIN_MS);
  });

  test('Redis killed: a page with a session cookie gets the 503 page within the deadline', async () => {
    await redis.stop();
    const answer = await page();
    expect(answer.status).toBe(503);
    expect(answer.ms).toBeLessThan(WITHIN_MS);
  });

  test('Redis paused: a sync beacon (the kit store\'s single-use claim) fails within the deadline too', async () => {
    redis.pause();
    const iat = Math.floor(Date.now() / 1000);
    const code = await new SignJWT({ iss: 'http://127.0.0.1:9', aud: 'bbs', act: 'login', sid: 'hub-sid', iat, exp: iat + 60, jti: randomUUID() })
      .setProtectedHeader({ alg: 'HS256', typ: 'sync+jwt' })
      .sign(new TextEncoder().encode(SYNC_KEY));
    const started = Date.now();
    const response = await fetch(`${url}/sso/synclogin?time=${iat}&code=${code}`, { signal: AbortSignal.timeout(HANG_MS) });
    expect(response.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(WITHIN_MS);
  });
});
