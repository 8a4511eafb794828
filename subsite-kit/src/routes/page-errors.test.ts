import { createHmac } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { createClient } from 'redis';
import type { RedisClientType } from 'redis';
import { makeSite } from '../test-support/site.js';
import { SESSION_SECRET } from '../test-support/stub-hub.js';

/** A session cookie signed as express-session signs it, so the store is really asked. */
function signedSessionCookie(id: string): string {
  const signature = createHmac('sha256', SESSION_SECRET).update(id).digest('base64').replace(/=+$/, '');
  return `sso.sid=${encodeURIComponent(`s:${id}.${signature}`)}`;
}

describe('page error handler (store down: fail closed, no stack trace)', () => {
  test('a page view while Redis is unreachable gets a 503 page that leaks nothing', async () => {
    const redis = createClient({ url: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', disableOfflineQueue: true }) as RedisClientType;
    redis.on('error', () => {});
    await redis.connect();
    const { app, sso } = await makeSite(undefined, { redis, redisPrefix: `test:page-errors:${Date.now()}:` });
    app.use(sso.errorHandler);
    await redis.disconnect();

    const answer = await request(app)
      .get('/')
      .set('Accept', 'text/html')
      .set('Cookie', signedSessionCookie('a-session-id'));
    expect(answer.status).toBe(503);
    expect(answer.headers['content-type']).toMatch(/text\/html/);
    expect(answer.text).toContain('Temporarily unavailable');
    expect(answer.text).not.toMatch(/at |node_modules|redis/i);
  });
});

describe("sso.errorHandler and the site's own errors (an outside review: a site bug became a 503 \"try again\" logged as `page failed: Error`)", () => {
  function capture(): { lines: string[]; logger: { warn(message: string): void } } {
    const lines: string[] = [];
    return { lines, logger: { warn: (message: string) => lines.push(message) } };
  }

  test("a site's own error goes on to the site's handlers, unlogged, not the kit's 503", async () => {
    const log = capture();
    const { app, sso } = await makeSite(undefined, { logger: log.logger });
    // next(error) rather than an async throw, so the test means the same on Express 4 and 5.
    app.get('/boom', (_req, _res, next) => { next(new Error('site bug')); });
    app.use(sso.errorHandler);
    const seen: unknown[] = [];
    app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      seen.push(error);
      res.status(500).type('text').send('site error page');
    });

    const answer = await request(app).get('/boom').set('Accept', 'text/html');
    expect(answer.status).toBe(500);
    expect(answer.text).toBe('site error page');
    expect(answer.headers['retry-after']).toBeUndefined();
    expect((seen[0] as Error).message).toBe('site bug');
    expect(log.lines).toEqual([]);
  });

  test("without a handler of the site's, Express's default answers (500), not the kit's 503", async () => {
    const { app, sso } = await makeSite(undefined);
    app.get('/boom', (_req, _res, next) => { next(new Error('site bug')); });
    app.get('/too-large', (_req, _res, next) => { next(Object.assign(new Error('request entity too large'), { status: 413 })); });
    app.use(sso.errorHandler);
    const boom = await request(app).get('/boom').set('Accept', 'text/html');
    expect(boom.status).toBe(500);
    expect(boom.headers['retry-after']).toBeUndefined();
    expect(boom.text).not.toContain('Temporarily unavailable');
    const tooLarge = await request(app).get('/too-large').set('Accept', 'application/json');
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).not.toEqual({ error: 'invalid_request', error_description: 'malformed request body' });
  });

  test('a store failure is still the kit\'s: a typed StoreFailure, a 503, logged by names and codes only', async () => {
    const log = capture();
    const redis = createClient({ url: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', disableOfflineQueue: true }) as RedisClientType;
    redis.on('error', () => {});
    await redis.connect();
    const { app, sso } = await makeSite(undefined, { redis, redisPrefix: `test:page-errors:${Date.now()}:`, logger: log.logger });
    app.use(sso.errorHandler);
    await redis.disconnect();

    const answer = await request(app).get('/').set('Accept', 'application/json').set('Cookie', signedSessionCookie('a-session-id'));
    expect(answer.status).toBe(503);
    expect(answer.body).toEqual({ error: 'temporarily_unavailable' });
    expect(answer.headers['retry-after']).toBe('5');
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatch(/^subsite-kit: page failed: store session get failed: the Redis client given as `redis` is closed \(ClientClosedError\)/);
  });

  test('a node-redis client closed for good is named, with what to do, not as "…: Error" (a first-day review: a socket timeout had closed the README site\'s client, and every page logged "(is Redis down or unreachable?): Error" while Redis was fine)', async () => {
    const log = capture();
    const redis = createClient({ url: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' }) as RedisClientType;
    redis.on('error', () => {});
    await redis.connect();
    const { app, sso } = await makeSite(undefined, { redis, redisPrefix: `test:page-errors:${Date.now()}:`, logger: log.logger });
    app.use(sso.errorHandler);
    redis.destroy(); // as node-redis leaves a client whose reconnectStrategy gave up

    const answer = await request(app).get('/').set('Accept', 'text/html').set('Cookie', signedSessionCookie('a-session-id'));
    expect(answer.status).toBe(503);
    expect(log.lines).toEqual([
      'subsite-kit: page failed: store session get failed: the Redis client given as `redis` is closed (ClientClosedError) and node-redis will not open it again:'
        + ' restart this site, and give the client a socket.reconnectStrategy (node-redis gives up for good after a socket timeout;'
        + ' the kit\'s README, "Redis client and store deadlines")',
    ]);
    // A kit route's JSON answer (a sync beacon, an API caller) says the same, not "temporarily_unavailable: Error".
    log.lines.length = 0;
    const beacon = await request(app).get('/sso/login?next=/').set('Accept', 'application/json').set('Cookie', signedSessionCookie('a-session-id'));
    expect(beacon.status).toBe(503);
    expect(log.lines).toEqual([expect.stringMatching(/^subsite-kit: temporarily_unavailable: store session get failed: the Redis client given as `redis` is closed \(ClientClosedError\)/)]);
  });
});
