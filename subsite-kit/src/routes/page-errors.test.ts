import { createHmac } from 'node:crypto';
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
